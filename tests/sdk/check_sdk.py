#!/usr/bin/env python3
"""Drives the official Genesys Cloud Python SDK (PureCloudPlatformClientV2) against a base URL.

Usage: check_sdk.py BASE_URL CLIENT_ID CLIENT_SECRET

Only the SDK's host is changed; everything else is the SDK used as its README shows:
client-credentials login, routing queues (paged, filtered, one by id), the queue observations
and conversation aggregates queries, a notification channel with its subscriptions, and the
channel's WebSocket (the SDK has no WebSocket client, so `websocket-client` reads it). Every
response is deserialised into the SDK's own models. Exits 0 when all checks pass, 1 with a
"FAIL:" line otherwise, 3 with a "MISSING:" line when the SDK or websocket-client is not
installed. tests/it/sdk_compat.rs runs it against the embedded simulator.
"""

import datetime
import json
import re
import signal
import socket
import sys
import time
import traceback

# The metric names a response or event may carry (docs/genesys-api.md#analytics-metrics).
OBSERVATION_METRICS = [
    "oWaiting", "oInteracting", "oAlerting", "oLongestWaiting", "oLongestInteracting",
    "oOnQueueUsers", "oOffQueueUsers", "oActiveUsers", "oMemberUsers",
    "oUserRoutingStatuses", "oUserPresences",
]
USER_METRICS = {
    "oOnQueueUsers", "oOffQueueUsers", "oActiveUsers", "oMemberUsers",
    "oUserRoutingStatuses", "oUserPresences",
}
AGGREGATE_METRICS = [
    "nOffered", "nConnected", "nTransferred", "tAbandon", "tAnswered", "tHandle", "tWait",
    "tTalk", "tHeld", "tAcw", "nOverSla",
]
ROUTING_STATUSES = {"IDLE", "INTERACTING", "COMMUNICATING", "NOT_RESPONDING", "OFF_QUEUE"}
HEARTBEAT = "WebSocket Heartbeat"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")

# Every wait has a deadline: each HTTP request (urllib3 falls back to the socket default),
# the WebSocket phase, and the whole script.
REQUEST_TIMEOUT_S = 20
WEBSOCKET_DEADLINE_S = 10
SCRIPT_DEADLINE_S = 100
# The exit status when the SDK or websocket-client cannot be imported.
MISSING = 3


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def ok(message):
    print(f"ok: {message}", flush=True)


def expect_api_error(status, what, call):
    """Runs `call`, which must raise the SDK's ApiException with `status`."""
    from PureCloudPlatformClientV2.rest import ApiException

    try:
        call()
    except ApiException as error:
        check(error.status == status, f"{what}: expected HTTP {status}, got {error.status}: {error}")
        if error.body and not what.startswith("login"):
            body = json.loads(error.body)
            strict(body, "ErrorBody", what)
            check(body.get("status") == status and body.get("code") and body.get("message"),
                  f"{what}: error body {error.body}")
        return error
    raise CheckFailed(f"{what}: expected the SDK to raise ApiException({status}), it returned")


def strict(value, kind, path):
    """Checks raw JSON against the SDK's declared `kind` as strictly as a typed SDK (Go, Java,
    .NET) decodes it: Python's SDK would turn 1.0 into an int, Go's rejects it."""
    import PureCloudPlatformClientV2 as gc
    from dateutil.parser import isoparse

    if value is None:
        return
    if kind == "int":
        check(type(value) is int, f"{path}: {value!r} is not a JSON integer (the SDK says int)")
    elif kind == "float":
        check(type(value) in (int, float), f"{path}: {value!r} is not a number")
    elif kind == "str":
        check(isinstance(value, str), f"{path}: {value!r} is not a string")
    elif kind == "bool":
        check(type(value) is bool, f"{path}: {value!r} is not a boolean")
    elif kind == "datetime":
        # RFC 3339 with a zone, as Go's time.Time insists.
        check(isinstance(value, str) and RFC3339.match(value), f"{path}: {value!r} is not RFC 3339")
        isoparse(value)
    elif kind == "date":
        check(isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value),
              f"{path}: {value!r} is not a date")
    elif kind == "object":
        pass
    elif kind.startswith("list["):
        check(isinstance(value, list), f"{path}: {value!r} is not a list")
        for i, item in enumerate(value):
            strict(item, kind[5:-1], f"{path}[{i}]")
    elif kind.startswith("dict("):
        check(isinstance(value, dict), f"{path}: {value!r} is not an object")
        inner = re.match(r"dict\(([^,]*), (.*)\)", kind).group(2)
        for key, item in value.items():
            strict(item, inner, f"{path}.{key}")
    else:
        model = getattr(gc, kind)()
        check(isinstance(value, dict), f"{path}: {value!r} is not a {kind} object")
        for attr, attr_kind in model.swagger_types.items():
            key = model.attribute_map[attr]
            if key in value:
                strict(value[key], attr_kind, f"{path}.{key}")


def typed(api_client, result, kind, what):
    """The last response's raw body matches `kind` strictly, and the SDK mapped no enum value
    to its "outdated_sdk_version" placeholder."""
    import PureCloudPlatformClientV2 as gc

    check(isinstance(result, getattr(gc, kind)), f"{what}: the SDK returned {type(result)}")
    strict(json.loads(api_client.last_response.data), kind, what)
    check("outdated_sdk_version" not in json.dumps(result.to_dict(), default=str),
          f"{what}: a value outside the SDK's enum: {result}")
    return result


class JsonBody:
    """A response-shaped wrapper, so ApiClient.deserialize can read a WebSocket frame's body."""

    def __init__(self, value):
        self.data = json.dumps(value)

    def getheader(self, name, default=None):
        return "application/json" if name.lower() == "content-type" else default


def all_pages(api_client, fetch, kind, what):
    """Every entity of a paged listing, `fetch(page_number)` one page at a time, each page
    strictly a `kind`; with the last page."""
    entities, page_number = [], 1
    while True:
        listing = fetch(page_number)
        typed(api_client, listing, kind, f"{what} page {page_number}")
        entities.extend(listing.entities or [])
        if page_number >= listing.page_count:
            return entities, listing
        page_number += 1
        check(page_number <= 100, f"{what}: paging did not end within 100 pages")


def login(gc, client_id, client_secret):
    api_client = gc.api_client.ApiClient().get_client_credentials_token(client_id, client_secret)
    check(api_client.access_token, "login returned no access token")
    return api_client


def check_login(gc, base_url, client_id, client_secret):
    from PureCloudPlatformClientV2.rest import ApiException

    probe = gc.api_client.ApiClient()
    login_base = probe.get_conf_url("login", probe.host)
    check(login_base == base_url,
          f"the SDK sends login to {login_base}, not the API base {base_url}")
    api_client = login(gc, client_id, client_secret)
    ok(f"client-credentials login at {login_base}/oauth/token")

    error = expect_api_error(401, "login with a wrong secret",
                             lambda: login(gc, client_id, client_secret + "-wrong"))
    body = json.loads(error.body)
    check(body.get("error") == "invalid_client", f"wrong secret: body {error.body}")
    check(client_secret not in error.body, "wrong secret: the error body echoes the secret")
    ok("a wrong secret raises ApiException(401) with error=invalid_client")

    anonymous = gc.api_client.ApiClient()
    anonymous.access_token = "not-a-token"
    error = expect_api_error(401, "a REST call with an unknown token",
                             lambda: gc.RoutingApi(anonymous).get_routing_queues())
    check(isinstance(error, ApiException), "unknown token")
    ok("an unknown bearer token raises ApiException(401)")
    return api_client


def check_headers(api_client, what):
    headers = api_client.last_response.getheaders()
    for name in ("ININ-Correlation-Id", "inin-ratelimit-allowed", "inin-ratelimit-count",
                 "inin-ratelimit-reset"):
        check(headers.get(name), f"{what}: response header {name} missing")


def check_queues(gc, api_client):
    routing = gc.RoutingApi(api_client)
    def page(page_number):
        listing = routing.get_routing_queues(page_size=2, page_number=page_number)
        check(listing.page_number == page_number and listing.page_size == 2,
              f"page {page_number}: pageNumber {listing.page_number}, pageSize {listing.page_size}")
        return listing

    queues, listing = all_pages(api_client, page, "QueueEntityListing", "GET queues")
    page_count = listing.page_count
    check_headers(api_client, "GET /api/v2/routing/queues")
    check(queues, "no queues listed")
    check(len(queues) == listing.total, f"paged {len(queues)} queues, total says {listing.total}")
    check(page_count == -(-listing.total // 2), f"pageCount {page_count} for {listing.total}")
    ids = [queue.id for queue in queues]
    check(len(set(ids)) == len(ids), f"duplicate queue ids across pages: {ids}")
    for queue in queues:
        check(isinstance(queue, gc.Queue), f"entity is {type(queue)}")
        check(queue.id and queue.name, f"queue without id or name: {queue}")
        check(queue.division and queue.division.id, f"queue {queue.name} has no division")
        check(queue.self_uri == f"/api/v2/routing/queues/{queue.id}", f"selfUri {queue.self_uri}")
    ok(f"{len(queues)} queues over {page_count} pages: {', '.join(q.name for q in queues)}")

    everything = routing.get_routing_queues(page_size=100, page_number=1)
    check(sorted(q.id for q in everything.entities) == sorted(ids),
          "pageSize=100 lists other queues than the paged walk")

    for queue in queues:
        one = typed(api_client, routing.get_routing_queue(queue.id), "Queue", "GET queue")
        check(one.id == queue.id and one.name == queue.name,
              f"GET queue {queue.id}: {one}")
    expect_api_error(404, "GET an unknown queue",
                     lambda: routing.get_routing_queue("00000000-0000-0000-0000-000000000000"))
    ok("each queue by id; an unknown id raises ApiException(404)")

    named = routing.get_routing_queues(name=queues[0].name, page_size=100)
    check([q.id for q in named.entities] == [queues[0].id],
          f"name={queues[0].name!r} found {[q.name for q in named.entities]}")
    divisions = sorted({q.division.id for q in queues})
    in_first = routing.get_routing_queues(division_id=[divisions[0]], page_size=100)
    expected = sorted(q.id for q in queues if q.division.id == divisions[0])
    check(sorted(q.id for q in in_first.entities) == expected,
          f"divisionId={divisions[0]} found {[q.name for q in in_first.entities]}")
    # NB: the SDK joins a list parameter with commas: divisionId=a,b.
    in_all = routing.get_routing_queues(division_id=divisions, page_size=100)
    check(in_all.total == len(queues),
          f"divisionId={','.join(divisions)} found {in_all.total} of {len(queues)} queues")
    by_id = routing.get_routing_queues(id=ids[:2], page_size=100)
    check(sorted(q.id for q in by_id.entities) == sorted(ids[:2]),
          f"id={','.join(ids[:2])} found {[q.name for q in by_id.entities]}")
    ok("name, divisionId and id filters (lists as the SDK sends them)")

    # The simulator's own control endpoint (docs/simulator.md#control-endpoints) arms one 429;
    # the SDK's HTTP layer (urllib3) must wait out its Retry-After and succeed.
    sim_post(api_client.host + "/sim/faults",
             {"kind": "rate_limit", "count": 1, "retryAfterSeconds": 1})
    started = time.monotonic()
    again = typed(api_client, routing.get_routing_queues(page_size=100), "QueueEntityListing",
                  "GET queues after a 429")
    waited = time.monotonic() - started
    check(again.total == len(queues) and waited >= 0.9,
          f"after a 429 with Retry-After: 1 the SDK answered in {waited:.2f} s")
    ok(f"a 429 with Retry-After: 1 is retried by the SDK after {waited:.1f} s")
    return queues


def check_presence_definitions(gc, api_client):
    """The org's presence definitions as the SDK reads them: the ten system presences and the
    org's own Lunch, mapped to Meal (docs/genesys-api.md#presence-definitions)."""
    listing = gc.PresenceApi(api_client).get_presence_definitions(deactivated="FALSE")
    typed(api_client, listing, "OrganizationPresenceDefinitionEntityListing",
          "GET /api/v2/presence/definitions")
    check_headers(api_client, "GET /api/v2/presence/definitions")
    definitions = listing.entities or []
    check(listing.total == len(definitions), f"total {listing.total}, {len(definitions)} listed")
    systems = {d.system_presence for d in definitions if d.type == "System"}
    check(len(systems) == 10, f"the ten system presences, each once: {sorted(systems)}")
    lunch = [d for d in definitions if (d.language_labels or {}).get("en_US") == "Lunch"]
    check(len(lunch) == 1 and lunch[0].type == "User" and lunch[0].system_presence == "Meal",
          f"Lunch, the org's own, maps to Meal: {lunch}")
    ok(f"GET /api/v2/presence/definitions: {len(definitions)} definitions")


def check_users(gc, api_client, base_url):
    """The agents as users with their presence and routing status (docs/genesys-api.md#users),
    paged, equal to the simulator's ground truth while its traffic is paused."""
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        users_api = gc.UsersApi(api_client)
        users, listing = all_pages(
            api_client,
            lambda page_number: users_api.get_users(page_size=5, page_number=page_number,
                                                    expand=["presence", "routingStatus"]),
            "UserEntityListing", "GET users")
        check_headers(api_client, "GET /api/v2/users")
        check(users and len(users) == listing.total,
              f"paged {len(users)} users, total says {listing.total}")
        truth = {agent["id"]: agent for agent in sim_get(f"{base_url}/sim/truth")["agents"]}
        for user in users:
            agent = truth.get(user.id)
            check(agent is not None, f"user {user.id} is no agent of the truth")
            check(user.routing_status.status == agent["routingStatus"],
                  f"{user.id}: routing status {user.routing_status.status}, truth {agent['routingStatus']}")
            check(user.presence.presence_definition.id == agent["presenceId"],
                  f"{user.id}: presence {user.presence.presence_definition.id}, truth {agent['presenceId']}")
            started = user.routing_status.start_time
            check(started is not None and started.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                  == agent["routingStatusSince"],
                  f"{user.id}: routing status since {started}, truth {agent['routingStatusSince']}")
        some = sorted(truth)[:2]
        by_id = users_api.get_users(id=some, expand=["presence", "routingStatus"])
        check(sorted(user.id for user in by_id.entities) == some,
              f"GET users?id={some} listed {[user.id for user in by_id.entities]}")
        bare = users_api.get_users(page_size=1)
        check(bare.entities[0].presence is None and bare.entities[0].routing_status is None,
              "without expand, a user comes without presence and routing status")
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})
    ok(f"GET /api/v2/users?expand=presence,routingStatus: {len(users)} agents equal the truth")


def sim_get(url):
    from urllib.request import urlopen

    with urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:
        return json.loads(response.read())


def sim_post(url, body):
    from urllib.request import Request, urlopen

    request = Request(url, data=json.dumps(body).encode(), method="POST",
                      headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
        check(200 <= response.status < 300, f"POST {url}: {response.status}")


def queue_predicates(gc, model, queues):
    return id_predicates(model, "queueId", queues)


def id_predicates(model, dimension, entities):
    """One `model` predicate per entity: its `dimension` matches the entity's id."""
    predicates = []
    for entity in entities:
        predicate = model()
        predicate.type = "dimension"
        predicate.dimension = dimension
        predicate.operator = "matches"
        predicate.value = entity.id
        predicates.append(predicate)
    return predicates


def user_counts_by_queue(containers, metrics, group_of):
    """(queue, metric, qualifier) → count of the user metrics `metrics` in `containers`."""
    counts = {}
    for container in containers:
        for data in container.data or []:
            if data.metric in metrics:
                count = data.stats.count if hasattr(data, "stats") else data.count
                counts[(group_of(container), data.metric, data.qualifier)] = count or 0
    return counts


def check_routing_activity(gc, api_client, base_url, queues):
    """The routing activity query (docs/genesys-api.md#routing-activity-query) as the SDK
    sends it: each queue's members by routing status and presence, with their state, agreeing
    with the queue observations query while the traffic is paused."""
    analytics = gc.AnalyticsApi(api_client)
    activity_query = gc.RoutingActivityQuery()
    activity_query.group_by = ["queueId"]
    activity_query.filter = gc.RoutingActivityQueryFilter()
    activity_query.filter.type = "or"
    activity_query.filter.predicates = queue_predicates(gc, gc.RoutingActivityQueryPredicate,
                                                        queues)
    activity_query.metrics = []
    for name in ("oUserRoutingStatuses", "oUserPresences", "oMemberUsers"):
        metric = gc.RoutingActivityQueryMetric()
        metric.metric, metric.details = name, True
        activity_query.metrics.append(metric)
    observations_query = gc.QueueObservationQuery()
    observations_query.filter = gc.QueueObservationQueryFilter()
    observations_query.filter.type = "or"
    observations_query.filter.predicates = queue_predicates(
        gc, gc.QueueObservationQueryPredicate, queues)
    observations_query.metrics = ["oUserRoutingStatuses", "oUserPresences", "oMemberUsers"]
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        activity = analytics.post_analytics_routing_activity_query(activity_query)
        typed(api_client, activity, "RoutingActivityResponse", "POST routing activity query")
        check_headers(api_client, "POST routing activity query")
        observed = analytics.post_analytics_queues_observations_query(observations_query)
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})
    metrics = set(observations_query.metrics)
    ours = user_counts_by_queue(activity.results, metrics, lambda c: c.group["queueId"])
    theirs = user_counts_by_queue(observed.results, metrics, lambda c: c.group["queueId"])
    check(ours == theirs, f"routing activity {ours} differs from observations {theirs}")
    for result in activity.results:
        members = [d for d in result.data if d.metric == "oMemberUsers"][0]
        check(len(result.entities or []) == members.count == len(members.entity_ids or []),
              f"{result.group}: {members.count} members, {len(result.entities or [])} entities")
        for entity in result.entities or []:
            check(entity.routing_status in ROUTING_STATUSES and entity.routing_status_date,
                  f"{entity.user_id}: routing status {entity.routing_status} since "
                  f"{entity.routing_status_date}")
    ok(f"routing activity query: {len(ours)} counts of {len(activity.results)} queues agree "
       "with the observations query")


def check_observations(gc, api_client, queues):
    analytics = gc.AnalyticsApi(api_client)
    query = gc.QueueObservationQuery()
    query.filter = gc.QueueObservationQueryFilter()
    query.filter.type = "or"
    query.filter.predicates = queue_predicates(gc, gc.QueueObservationQueryPredicate, queues)
    query.metrics = OBSERVATION_METRICS
    query.detail_metrics = ["oWaiting"]
    response = analytics.post_analytics_queues_observations_query(query)
    check_headers(api_client, "POST observations query")
    typed(api_client, response, "QueueObservationQueryResponse", "observations")
    check(response.results, "observations query returned no results")
    ids = {queue.id for queue in queues}
    seen_queues, names, user_groups = set(), set(), 0
    for container in response.results:
        check(isinstance(container, gc.QueueObservationDataContainer), f"{type(container)}")
        group = container.group or {}
        check(group.get("queueId") in ids, f"result for an unknown group {group}")
        seen_queues.add(group["queueId"])
        media = group.get("mediaType")
        for data in container.data or []:
            check(isinstance(data, gc.ObservationMetricData), f"{type(data)}")
            check(data.metric in OBSERVATION_METRICS, f"unknown metric {data.metric}")
            check(isinstance(data.stats, gc.StatisticalSummary), f"{data.metric}: stats {data.stats}")
            names.add(data.metric)
            if data.metric in USER_METRICS:
                check(media is None, f"user metric {data.metric} in a media group {group}")
            else:
                check(media, f"conversation metric {data.metric} without mediaType: {group}")
            if data.metric in ("oOnQueueUsers", "oUserRoutingStatuses"):
                check(data.qualifier in ROUTING_STATUSES, f"{data.metric} qualifier {data.qualifier}")
            if data.metric in ("oLongestWaiting", "oLongestInteracting"):
                value = data.stats.calculated_metric_value
                check(isinstance(value, int) and value > 1_000_000_000_000,
                      f"{data.metric} calculatedMetricValue {value!r} is not epoch ms")
            if data.metric == "oWaiting" and data.observations:
                dates = [o.observation_date for o in data.observations]
                check(all(isinstance(d, datetime.datetime) for d in dates),
                      f"oWaiting observationDate not parsed: {dates}")
                check(dates == sorted(dates), "oWaiting observations are not oldest first")
        if media is None:
            user_groups += 1
    check(seen_queues == ids, f"results cover {len(seen_queues)} of {len(ids)} queues")
    check(user_groups >= len(ids), "no user-metric group (without mediaType) for some queue")
    check("oMemberUsers" in names, f"oMemberUsers missing; metrics seen: {sorted(names)}")
    ok(f"observations: {len(response.results)} groups, metrics {sorted(names)}")


def current_bucket():
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now.replace(minute=now.minute - now.minute % 30, second=0, microsecond=0)
    return start, start + datetime.timedelta(minutes=30)


def check_aggregates(gc, api_client, queues):
    analytics = gc.AnalyticsApi(api_client)
    ids = {queue.id for queue in queues}

    def query(interval):
        body = gc.ConversationAggregationQuery()
        body.interval = interval
        body.granularity = "PT30M"
        body.group_by = ["queueId", "mediaType"]
        body.filter = gc.ConversationAggregateQueryFilter()
        body.filter.type = "or"
        body.filter.predicates = queue_predicates(
            gc, gc.ConversationAggregateQueryPredicate, queues)
        body.metrics = AGGREGATE_METRICS
        return analytics.post_analytics_conversations_aggregates_query(body)

    start, end = current_bucket()
    millis = "%Y-%m-%dT%H:%M:%S.000Z"
    interval = f"{start.strftime(millis)}/{end.strftime(millis)}"
    deadline = time.monotonic() + 5
    while True:
        response = query(interval)
        check_headers(api_client, "POST aggregates query")
        typed(api_client, response, "ConversationAggregateQueryResponse", "aggregates")
        if response.results or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    metrics = set()
    for container in response.results or []:
        check(isinstance(container, gc.ConversationAggregateDataContainer), f"{type(container)}")
        group = container.group or {}
        check(group.get("queueId") in ids and group.get("mediaType"), f"group {group}")
        for bucket in container.data or []:
            check(isinstance(bucket, gc.StatisticalResponse), f"{type(bucket)}")
            check(bucket.interval == interval, f"bucket {bucket.interval}, asked {interval}")
            for metric in bucket.metrics or []:
                check(isinstance(metric, gc.AggregateMetricData), f"{type(metric)}")
                check(metric.metric in AGGREGATE_METRICS, f"unasked metric {metric.metric}")
                stats = metric.stats
                check(isinstance(stats.count, int) and stats.count > 0, f"{metric.metric}: {stats}")
                if metric.metric.startswith("t"):
                    check(stats.sum is not None and stats.min is not None and stats.max is not None,
                          f"timer {metric.metric} lacks sum/min/max: {stats}")
                metrics.add(metric.metric)
    if response.results:
        ok(f"aggregates {interval} at PT30M: {len(response.results)} groups, {sorted(metrics)}")
    else:
        ok(f"aggregates {interval} at PT30M: no data yet ({{}})")

    # The interval form the SDK documents (no zone: UTC) names the same bucket.
    plain = "%Y-%m-%dT%H:%M:%S"
    documented = query(f"{start.strftime(plain)}/{end.strftime(plain)}")
    typed(api_client, documented, "ConversationAggregateQueryResponse", "aggregates (no zone)")
    for container in documented.results or []:
        for bucket in container.data or []:
            check(bucket.interval == interval, f"zone-less interval gave bucket {bucket.interval}")
    ok("aggregates accept the SDK's documented interval form YYYY-MM-DDThh:mm:ss/…")


def check_user_aggregates(gc, api_client, base_url):
    """The users aggregates query (docs/genesys-api.md#users-aggregates-query) as the SDK
    sends it: every agent's time in each routing status, system presence and org presence,
    summed over the buckets, equal to the ground truth once the traffic is paused and nothing is
    inside the reporting lag."""
    analytics = gc.AnalyticsApi(api_client)
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        deadline = time.monotonic() + WEBSOCKET_DEADLINE_S
        truth = sim_get(f"{base_url}/sim/truth")
        while truth["pendingRecords"] and time.monotonic() < deadline:
            time.sleep(0.1)
            truth = sim_get(f"{base_url}/sim/truth")
        check(truth["pendingRecords"] == 0, "records still inside the reporting lag")
        now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0,
                                                                   microsecond=0)
        start, end = now - datetime.timedelta(hours=24), now + datetime.timedelta(hours=1)
        agents = {agent["id"]: agent for agent in truth["agents"]}
        query = gc.UserAggregationQuery()
        query.interval = f"{start.isoformat().replace('+00:00', 'Z')}/{end.isoformat().replace('+00:00', 'Z')}"
        query.granularity = "PT1H"
        query.group_by = ["userId"]
        query.filter = gc.UserAggregateQueryFilter()
        query.filter.type = "or"
        query.filter.predicates = []
        for user_id in sorted(agents)[:100]:
            predicate = gc.UserAggregateQueryPredicate()
            predicate.dimension, predicate.value = "userId", user_id
            query.filter.predicates.append(predicate)
        query.metrics = ["tAgentRoutingStatus", "tSystemPresence", "tOrganizationPresence"]
        response = analytics.post_analytics_users_aggregates_query(query)
        typed(api_client, response, "UserAggregateQueryResponse", "POST users aggregates query")
        check_headers(api_client, "POST users aggregates query")
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})
    sums = {}
    for result in response.results or []:
        user_id = result.group["userId"]
        for bucket in result.data or []:
            for metric in bucket.metrics or []:
                key = (user_id, metric.metric, metric.qualifier)
                sums[key] = sums.get(key, 0) + metric.stats.sum
    wanted = {(user_id, metric, qualifier): ms
              for user_id in sorted(agents)[:100]
              for metric, by_qualifier in agents[user_id]["timeInStatus"].items()
              for qualifier, ms in by_qualifier.items()}
    check(wanted, "the truth has no time in any status")
    check(sums == wanted, f"users aggregates differ from the truth: {len(sums)} sums, "
                          f"{len(wanted)} in the truth, first difference "
                          f"{next((k for k in wanted if sums.get(k) != wanted[k]), None)}")
    ok(f"users aggregates query: {len(sums)} sums of time in status of {len(agents)} agents equal the truth")


def topic_ids(listing):
    return sorted(topic.id for topic in listing.entities or [])


def typed_list(api_client, result, kind, what):
    """A response that is a JSON array of `kind`, each strictly one."""
    import PureCloudPlatformClientV2 as gc

    check(isinstance(result, list), f"{what}: the SDK returned {type(result)}")
    for item in result:
        check(isinstance(item, getattr(gc, kind)), f"{what}: an item is {type(item)}")
    strict(json.loads(api_client.last_response.data), f"list[{kind}]", what)
    return result


def without(value, keys):
    """`value` with `keys` left out at every depth (what moves with the clock), and each
    instant read as one, so the SDK's and the simulator's spellings of it compare."""
    from dateutil.parser import isoparse

    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    if isinstance(value, str) and RFC3339.match(value):
        return isoparse(value)
    return value


def check_telephony(gc, api_client, base_url):
    """Trunks and Edges (docs/genesys-api.md#trunks-and-edges) as the SDK reads them: both
    listings paged and filtered, and both metrics endpoints, strictly typed and equal to the
    ground truth while the traffic is paused (the calls up on each trunk are its voice
    conversations); more than 100 ids a metrics request is refused."""
    edges_api = gc.TelephonyProvidersEdgeApi(api_client)
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        truth = sim_get(f"{base_url}/sim/truth")["telephony"]
        trunks, _ = all_pages(
            api_client,
            lambda page_number: edges_api.get_telephony_providers_edges_trunks(
                page_size=2, page_number=page_number),
            "TrunkEntityListing", "GET trunks")
        check_headers(api_client, "GET trunks")
        raw_trunks = [api_client.sanitize_for_serialization(t) for t in trunks]
        check(without(raw_trunks, set()) == without([t["trunk"] for t in truth["trunks"]], set()),
              f"trunks {raw_trunks} are not the truth's {truth['trunks']}")
        types = sorted({t.trunk_type for t in trunks})
        check(types == ["EDGE", "EXTERNAL", "PHONE"], f"trunk types {types}")
        external = edges_api.get_telephony_providers_edges_trunks(trunk_type="EXTERNAL")
        typed(api_client, external, "TrunkEntityListing", "GET trunks by type")
        check({t.trunk_type for t in external.entities} == {"EXTERNAL"}, "the type filter holds")
        ids = ",".join(t.id for t in trunks)
        metrics = edges_api.get_telephony_providers_edges_trunks_metrics(ids)
        typed_list(api_client, metrics, "TrunkMetrics", "GET trunk metrics")
        raw = json.loads(api_client.last_response.data)
        wanted = [t["metrics"] for t in truth["trunks"]]
        check(without(raw, {"eventTime"}) == without(wanted, {"eventTime"}),
              f"trunk metrics {raw} are not the truth's {wanted}")
        calls = sum(m["calls"]["inboundCallCount"] + m["calls"]["outboundCallCount"] for m in raw)
        ok(f"trunks: {len(trunks)} of three types, {calls} calls up on them, as the truth")

        edges, _ = all_pages(
            api_client,
            lambda page_number: edges_api.get_telephony_providers_edges(
                page_size=1, page_number=page_number),
            "EdgeEntityListing", "GET edges")
        raw_edges = [api_client.sanitize_for_serialization(e) for e in edges]
        check(without(raw_edges, set()) == without([e["edge"] for e in truth["edges"]], set()),
              f"edges {raw_edges} are not the truth's")
        site = edges[0].site.id
        by_site = edges_api.get_telephony_providers_edges(site_id=site)
        typed(api_client, by_site, "EdgeEntityListing", "GET edges by site")
        check([e.id for e in by_site.entities] == [edges[0].id], "the site filter holds")
        edge_metrics = edges_api.get_telephony_providers_edges_metrics(
            ",".join(e.id for e in edges))
        typed_list(api_client, edge_metrics, "EdgeMetrics", "GET edge metrics")
        raw = json.loads(api_client.last_response.data)
        moving = {"eventTime", "upTimeMsec"}
        wanted = [e["metrics"] for e in truth["edges"]]
        check(without(raw, moving) == without(wanted, moving),
              f"edge metrics {raw} are not the truth's {wanted}")
        check(all(m["upTimeMsec"] >= w["upTimeMsec"] for m, w in zip(raw, wanted)),
              "an Edge's uptime only grows")
        many = ",".join(f"e{i}" for i in range(101))
        expect_api_error(400, "101 Edge ids",
                         lambda: edges_api.get_telephony_providers_edges_metrics(many))
        ok(f"edges: {len(edges)}, with their metrics, as the truth; 101 ids refused")
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})


def flow_counts(containers, dimensions):
    """(group, metric) -> count over every bucket, the group its `dimensions` only."""
    counts = {}
    for container in containers:
        group = tuple(sorted((k, v) for k, v in (container["group"] or {}).items()
                             if k in dimensions))
        for bucket in container["data"]:
            for metric in bucket["metrics"]:
                key = (group, metric["metric"])
                counts[key] = counts.get(key, 0) + metric["stats"]["count"]
    return counts


def check_flows(gc, api_client, base_url):
    """IVR flows (docs/genesys-api.md#ivr-flows) as the SDK reads them: the flows listing
    filtered by type, the outcomes and milestones listings, and the flow aggregates query by
    exit, outcome and milestone, strictly typed and equal to the ground truth while the traffic
    is paused and nothing is left inside the reporting lag."""
    architect = gc.ArchitectApi(api_client)
    analytics = gc.AnalyticsApi(api_client)
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        truth = settled_truth(base_url)["flows"]
        flows, _ = all_pages(
            api_client,
            lambda page_number: architect.get_flows(
                type=["inboundcall", "inboundchat"], page_size=2, page_number=page_number),
            "FlowEntityListing", "GET flows")
        check_headers(api_client, "GET flows")
        inbound = [f["flow"] for f in truth["flows"]
                   if f["flow"]["type"] in ("INBOUNDCALL", "INBOUNDCHAT")]
        raw = [api_client.sanitize_for_serialization(f) for f in flows]
        check(without(raw, set()) == without(inbound, set()), f"flows {raw} are not {inbound}")
        outcomes = architect.get_flows_outcomes(page_size=100)
        typed(api_client, outcomes, "FlowOutcomeListing", "GET flow outcomes")
        milestones = architect.get_flows_milestones(page_size=100)
        typed(api_client, milestones, "FlowMilestoneListing", "GET flow milestones")
        for listing, name in ((outcomes, "outcomes"), (milestones, "milestones")):
            raw = [api_client.sanitize_for_serialization(e) for e in listing.entities]
            check(without(raw, set()) == without(truth[name], set()),
                  f"{name} {raw} are not the truth's")
        ok(f"flows: {len(flows)} inbound by type, {len(outcomes.entities)} outcomes, "
           f"{len(milestones.entities)} milestones, as the truth")

        now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0,
                                                                   microsecond=0)
        millis = "%Y-%m-%dT%H:%M:%S.000Z"
        interval = (f"{(now - datetime.timedelta(hours=1)).strftime(millis)}/"
                    f"{(now + datetime.timedelta(hours=1)).strftime(millis)}")
        cases = [
            (["flowId", "exitReason", "transferType"],
             ["nFlow", "tFlow", "tFlowExit", "tFlowDisconnect"]),
            (["flowId", "flowOutcomeId", "flowOutcomeValue"],
             ["nFlowOutcome", "nFlowOutcomeFailed", "tFlowOutcome"]),
            (["flowId", "flowMilestoneId"], ["nFlowMilestone"]),
        ]
        for group_by, metrics in cases:
            body = gc.FlowAggregationQuery()
            body.interval = interval
            body.group_by = group_by
            body.metrics = metrics
            body.filter = gc.FlowAggregateQueryFilter()
            body.filter.type = "or"
            body.filter.predicates = id_predicates(gc.FlowAggregateQueryPredicate, "flowId", flows)
            response = analytics.post_analytics_flows_aggregates_query(body)
            typed(api_client, response, "FlowAggregateQueryResponse", f"flow aggregates {group_by}")
            got = flow_counts(json.loads(api_client.last_response.data)["results"], group_by)
            wanted = {}
            for entry in truth["flows"]:
                if entry["flow"]["id"] not in {f.id for f in flows}:
                    continue
                for group in entry["groups"]:
                    dims = dict(group["group"], flowId=entry["flow"]["id"])
                    key = tuple(sorted((k, v) for k, v in dims.items() if k in group_by))
                    for metric in metrics:
                        if metric in group["metrics"]:
                            count = group["metrics"][metric]["count"]
                            wanted[(key, metric)] = wanted.get((key, metric), 0) + count
            check(got and got == wanted, f"flow aggregates by {group_by}: {got} != {wanted}")
            ok(f"flow aggregates by {group_by[1:]}: {len(got)} counts, as the truth")

        body = gc.FlowObservationQuery()
        body.metrics = ["oFlow"]
        body.filter = gc.FlowObservationQueryFilter()
        body.filter.type = "or"
        body.filter.predicates = id_predicates(gc.FlowObservationQueryPredicate, "flowId", flows)
        observed = analytics.post_analytics_flows_observations_query(body)
        typed(api_client, observed, "FlowObservationQueryResponse", "flow observations")
        got = {r.group["flowId"]: r.data[0].stats.count for r in observed.results}
        wanted = {f["flow"]["id"]: f["inFlow"] for f in truth["flows"]
                  if f["flow"]["id"] in got}
        check(len(got) == len(flows) and got == wanted, f"oFlow {got} != {wanted}")
        ok(f"flow observations: {sum(got.values())} conversations in {len(got)} flows now, "
           "as the truth")
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})


def check_actions(gc, api_client, base_url):
    """Data actions (docs/genesys-api.md#data-actions) as the SDK reads them: the actions
    listing, by ids too, and the data action aggregates query by response status and error
    type, strictly typed and equal to the ground truth while the traffic is paused and nothing
    is left inside the reporting lag; more than 50 ids a listing is refused."""
    integrations = gc.IntegrationsApi(api_client)
    analytics = gc.AnalyticsApi(api_client)
    sim_post(f"{base_url}/sim/traffic/pause", {})
    try:
        truth = settled_truth(base_url)["actions"]
        actions, _ = all_pages(
            api_client,
            lambda page_number: integrations.get_integrations_actions(
                page_size=2, page_number=page_number),
            "ActionEntityListing", "GET actions")
        check_headers(api_client, "GET actions")
        raw = [api_client.sanitize_for_serialization(a) for a in actions]
        check(raw == [a["action"] for a in truth], f"actions {raw} are not the truth's")
        one = integrations.get_integrations_actions(ids=actions[0].id)
        typed(api_client, one, "ActionEntityListing", "GET actions by ids")
        check([a.id for a in one.entities] == [actions[0].id], "the ids filter holds")
        many = ",".join(f"a{i}" for i in range(51))
        expect_api_error(400, "51 action ids", lambda: integrations.get_integrations_actions(
            ids=many))

        now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0,
                                                                   microsecond=0)
        millis = "%Y-%m-%dT%H:%M:%S.000Z"
        body = gc.ActionAggregationQuery()
        body.interval = (f"{(now - datetime.timedelta(hours=1)).strftime(millis)}/"
                         f"{(now + datetime.timedelta(hours=1)).strftime(millis)}")
        body.group_by = ["actionId", "responseStatus", "errorType"]
        body.metrics = ["tTotalExecution"]
        body.filter = gc.ActionAggregateQueryFilter()
        body.filter.type = "or"
        body.filter.predicates = id_predicates(gc.ActionAggregateQueryPredicate, "actionId",
                                               actions)
        response = analytics.post_analytics_actions_aggregates_query(body)
        typed(api_client, response, "ActionAggregateQueryResponse", "action aggregates")
        got = {}
        for container in json.loads(api_client.last_response.data)["results"]:
            group = container["group"]
            key = (group["actionId"], group["responseStatus"], group.get("errorType"))
            for bucket in container["data"]:
                for metric in bucket["metrics"]:
                    count, total = got.get(key, (0, 0))
                    got[key] = (count + metric["stats"]["count"],
                                total + int(metric["stats"]["sum"]))
        wanted = {(a["action"]["id"], e["responseStatus"], e["errorType"]): (e["count"], e["sum"])
                  for a in truth for e in a["executions"]}
        check(got and got == wanted, f"action aggregates {got} != {wanted}")
        ok(f"data actions: {len(actions)} listed, {len(got)} execution groups, as the truth; "
           "51 ids refused")
    finally:
        sim_post(f"{base_url}/sim/traffic/resume", {})


def settled_truth(base_url):
    """The truth once nothing is left inside the reporting lag (the traffic paused)."""
    deadline = time.monotonic() + 10
    while True:
        truth = sim_get(f"{base_url}/sim/truth")
        if truth["pendingRecords"] == 0:
            return truth
        check(time.monotonic() < deadline, "the reporting lag did not pass within 10 s")
        time.sleep(0.05)


def check_notifications(gc, api_client, base_url, queues):
    notifications = gc.NotificationsApi(api_client)
    channel = notifications.post_notifications_channels()
    check_headers(api_client, "POST channels")
    typed(api_client, channel, "Channel", "POST channels")
    check(channel.id and channel.connect_uri, f"channel without id or connectUri: {channel}")
    check(channel.connect_uri.startswith(("ws://", "wss://")), f"connectUri {channel.connect_uri}")
    check(channel.connect_uri.endswith("/" + channel.id), f"connectUri {channel.connect_uri}")
    left = channel.expires - datetime.datetime.now(datetime.timezone.utc)
    check(datetime.timedelta(hours=23) < left <= datetime.timedelta(hours=24, minutes=1),
          f"channel expires {channel.expires}")
    ok(f"channel {channel.id} at {channel.connect_uri}, expires {channel.expires.isoformat()}")

    def topic(name):
        value = gc.ChannelTopic()
        value.id = name
        return value

    agents = [agent["id"] for agent in sim_get(f"{base_url}/sim/truth")["agents"]]
    wanted = sorted([f"v2.analytics.queues.{queue.id}.observations" for queue in queues]
                    + [f"v2.users.{agent}.activity" for agent in agents])
    put = notifications.put_notifications_channel_subscriptions(
        channel.id, [topic(name) for name in wanted], ignore_errors=True)
    typed(api_client, put, "ChannelTopicEntityListing", "PUT subscriptions")
    check(topic_ids(put) == wanted, f"PUT returned {topic_ids(put)}, wanted {wanted}")
    states = {t.state for t in put.entities}
    check(states == {"Permitted"}, f"PUT with ignoreErrors answered states {states}")
    listed = notifications.get_notifications_channel_subscriptions(channel.id)
    typed(api_client, listed, "ChannelTopicEntityListing", "GET subscriptions")
    check(topic_ids(listed) == wanted, f"GET lists {topic_ids(listed)}")
    added = notifications.post_notifications_channel_subscriptions(channel.id, [topic(wanted[0])])
    typed(api_client, added, "ChannelTopicEntityListing", "POST subscriptions")
    check(topic_ids(added) == wanted, f"POST of a subscribed topic gave {topic_ids(added)}")
    ok(f"subscriptions PUT (ignoreErrors, each Permitted)/GET/POST: {len(queues)} queue and "
       f"{len(agents)} user activity topics")

    check(notifications.head_notifications_channel(channel.id) is None, "HEAD returned a body")
    expect_api_error(404, "HEAD an unknown channel",
                     lambda: notifications.head_notifications_channel("streaming-0-unknown"))
    expect_api_error(404, "GET subscriptions of an unknown channel",
                     lambda: notifications.get_notifications_channel_subscriptions("nope"))
    ok("HEAD is 200 for the channel, ApiException(404) for an unknown one")

    check_websocket(gc, api_client, channel, wanted)

    notifications.delete_notifications_channel_subscriptions(channel.id)
    emptied = notifications.get_notifications_channel_subscriptions(channel.id)
    check(topic_ids(emptied) == [], f"after DELETE the channel lists {topic_ids(emptied)}")
    ok("DELETE subscriptions empties the channel")


def check_websocket(gc, api_client, channel, topics):
    import websocket

    deadline = time.monotonic() + WEBSOCKET_DEADLINE_S
    ws = websocket.create_connection(channel.connect_uri, timeout=WEBSOCKET_DEADLINE_S)
    heartbeat = pong = False
    events = activities = 0
    try:
        ws.send(json.dumps({"message": "ping"}))
        while not (heartbeat and pong and events and activities):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ws.settimeout(remaining)
            try:
                text = ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            check(isinstance(text, str) and text, f"non-text or empty frame {text!r}")
            frame = json.loads(text)
            name = frame.get("topicName")
            body = frame.get("eventBody") or {}
            if name == "channel.metadata":
                heartbeat = heartbeat or body.get("message") == HEARTBEAT
                pong = pong or body.get("message") == "pong"
            elif name in topics and name.startswith("v2.users."):
                kind = "AgentActivityChangedTopicAgentActivity"
                event = api_client.deserialize(JsonBody(body), kind)
                strict(body, kind, f"event on {name}")
                check(event.id == name.split(".")[2], f"event on {name} about user {event.id}")
                check(event.routing_status.status and event.routing_status.start_time,
                      f"event on {name} without routing status and since")
                check(event.presence.presence_definition.id and event.presence.modified_date,
                      f"event on {name} without presence and since")
                activities += 1
            elif name in topics:
                kind = "StatEventQueueTopicStatsNotification"
                event = api_client.deserialize(JsonBody(body), kind)
                check(isinstance(event, gc.StatEventQueueTopicStatsNotification), f"{type(event)}")
                strict(body, kind, f"event on {name}")
                queue_id = name.split(".")[3]
                check((event.group or {}).get("queueId") == queue_id,
                      f"event on {name} for group {event.group}")
                check(event.data, f"event on {name} without data")
                for interval in event.data:
                    check(isinstance(interval, gc.StatEventQueueTopicIntervalMetrics), "interval")
                    check("/" in (interval.interval or ""), f"interval {interval.interval!r}")
                    for metric in interval.metrics or []:
                        known = OBSERVATION_METRICS + AGGREGATE_METRICS + ["oServiceLevel"]
                        check(metric.metric in known, f"unknown event metric {metric.metric}")
                        check(isinstance(metric.stats, dict), f"stats {metric.stats!r}")
                events += 1
            else:
                raise CheckFailed(f"a frame on an unsubscribed topic: {text[:200]}")
    finally:
        ws.close()
    check(heartbeat, f"no heartbeat within {WEBSOCKET_DEADLINE_S} s")
    check(events, f"no queue observation event within {WEBSOCKET_DEADLINE_S} s")
    check(pong, f"no pong to a ping within {WEBSOCKET_DEADLINE_S} s")
    check(activities, f"no user activity event within {WEBSOCKET_DEADLINE_S} s")
    ok(f"WebSocket: heartbeat, pong, {events} queue events as StatEventQueueTopicStatsNotification "
       f"and {activities} activity events as AgentActivityChangedTopicAgentActivity")


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, client_id, client_secret = argv[1:]
    # NB: imported here once, not probed first: the SDK's ~3,000 modules take 5 to 20 s of a
    # loaded machine to import, and a separate probe paid that twice.
    try:
        import PureCloudPlatformClientV2  # noqa: F401
        import websocket  # noqa: F401
    except ImportError as missing:
        print(f"MISSING: {missing}", file=sys.stderr, flush=True)
        return MISSING
    socket.setdefaulttimeout(REQUEST_TIMEOUT_S)

    def out_of_time(*_):
        raise CheckFailed(f"the checks did not finish within {SCRIPT_DEADLINE_S} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(SCRIPT_DEADLINE_S)
    try:
        import PureCloudPlatformClientV2 as gc

        # The only change from the SDK's README: the host, which otherwise is a region's.
        gc.configuration.host = base_url
        print(f"PureCloudPlatformClientV2 {sdk_version()} against {base_url}", flush=True)
        api_client = check_login(gc, base_url, client_id, client_secret)
        queues = check_queues(gc, api_client)
        check_presence_definitions(gc, api_client)
        check_users(gc, api_client, base_url)
        check_observations(gc, api_client, queues)
        check_routing_activity(gc, api_client, base_url, queues)
        check_user_aggregates(gc, api_client, base_url)
        check_aggregates(gc, api_client, queues)
        check_telephony(gc, api_client, base_url)
        check_flows(gc, api_client, base_url)
        check_actions(gc, api_client, base_url)
        check_notifications(gc, api_client, base_url, queues)
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr, flush=True)
        return 1
    except Exception:  # noqa: BLE001 - any SDK error is a failed check, with its trace
        print("FAIL: unexpected error", file=sys.stderr)
        traceback.print_exc()
        return 1
    finally:
        signal.alarm(0)
    print("all SDK checks passed", flush=True)
    return 0


def sdk_version():
    from importlib.metadata import version

    return version("PureCloudPlatformClientV2")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
