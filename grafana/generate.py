#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json, the shipped dashboards, from this one description.

Why a generator: every query must carry the same scope filters, every panel an alert judges
must colour where the alert fires and link its runbook, and the thresholds must be the ones in
deploy/prometheus/rules/thresholds.yml. Written by hand, 50 panels drift; here each convention
is one function. The conventions are in docs/alerts.md ("Dashboard conventions") and
tests/it/dashboards.rs checks every shipped panel against them.

Usage:
  python3 grafana/generate.py          rewrite the dashboards
  python3 grafana/generate.py --check  fail if a dashboard differs from what this writes

Run it after changing thresholds.yml or the runbook base (set-runbook-base.sh runs it).
Standard library only.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "rules"
OUT = ROOT / "grafana" / "dashboards"

OVERVIEW_UID = "genesys-exporter-queues"
WALLBOARD_UID = "genesys-exporter-wallboard"

# Scope filters: every selector carries them, so namespace, job and shard narrow every panel.
F = 'namespace=~"$namespace", job=~"$job", shard=~"$shard"'
Q = F + ', queue=~"$queue"'
M = Q + ', media_type=~"$media_type"'
# The labels that say whose data a queue series is; replicas share them.
QUEUE = "namespace, job, shard, queue_id, queue"
DS = {"type": "prometheus", "uid": "${datasource}"}


def thresholds():
    """genesys:threshold:<name> -> value, from thresholds.yml (records without labels)."""
    text = (RULES / "thresholds.yml").read_text()
    pattern = r"record: genesys:threshold:(\w+)\n\s+expr: vector\(([^)]*)\)"
    return {name: float(value) for name, value in re.findall(pattern, text)}


def runbook_base():
    text = (RULES / "alerts.yml").read_text()
    return re.search(r"runbook_url: (\S+)#", text).group(1)


T = thresholds()
RUNBOOK = runbook_base()


def crossing(threshold, unit):
    """The least value the alert judges as over `threshold`: alerts fire above it, while
    Grafana colours from a step at it. A count crosses at the next whole number."""
    if unit in ("short", "none"):
        return float(int(threshold) + 1)
    return threshold + max(abs(threshold), 1.0) * 1e-6


def steps(*pairs):
    """Threshold steps: a base colour, then (value, colour) pairs."""
    base, rest = pairs[0], pairs[1:]
    out = [{"color": base, "value": None}]
    out += [{"color": c, "value": v} for v, c in rest]
    return {"mode": "absolute", "steps": out}


def over(name, unit):
    """Green, red where the alert judging against genesys:threshold:<name> fires."""
    return steps("green", (crossing(T[name], unit), "red"))


def runbook(alert):
    return {"title": f"Runbook: {alert}", "url": f"{RUNBOOK}#{alert.lower()}", "targetBlank": True}


def target(expr, ref="A", legend="", instant=False, fmt=None):
    t = {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend or "__auto"}
    if instant:
        t["instant"] = True
        t["range"] = False
    if fmt:
        t["format"] = fmt
    return t


def live(expr, labels=QUEUE, sel=Q):
    """A live per-queue value as the panels show it: the stale-filtered rule, 0 for a fresh
    queue without the series (a quiet queue), NaN (shown as STALE) for a queue no replica can
    refresh."""
    stale = f"genesys:queue_stale:min{{{sel}}}"
    return f"{expr} or on ({labels}) (0 * ({stale} == 0)) or on ({labels}) (NaN * ({stale} == 1))"


def polled(expr, sel=Q, count=False):
    """A per-queue value from the polled counters as the value panels show it: NaN (STALE) for
    the queues of a shard whose polls no replica can refresh, where the rules leave a gap;
    a count is 0 for a queue that has had nothing to count."""
    out = (f"{expr} or on ({QUEUE}) ((NaN * genesys:queue_stale:min{{{sel}}}) "
           f"and on (namespace, job, shard) ({stale_polls('aggregates')}))")
    if count:
        out += f" or on ({QUEUE}) (0 * genesys:queue_stale:min{{{sel}}})"
    return out


def unknown_while(expr, stale):
    """`expr`, a total over the chosen queues, as NaN (STALE) while any `stale` series exists:
    a total that silently left those queues out would read as a quiet afternoon."""
    unknown = f"(NaN * (count({stale}) > 0))"
    return f"(({expr}) + on () ({unknown} or vector(0))) or on () {unknown}"


def stale_polls(data):
    """The chosen shards whose polls of `data` (aggregates, flows, actions) no replica can refresh."""
    return f'genesys:poll_stale:min{{{F}, data="{data}"}} == 1'


def polled_total(expr):
    """A total of polled counters: STALE while a chosen shard's polls are stale."""
    return unknown_while(expr, stale_polls("aggregates"))


def live_total(expr):
    """A total of live values: STALE while a chosen queue is stale."""
    return unknown_while(expr, f"genesys:queue_stale:min{{{Q}}} == 1")


STALE_MAPPING = [
    {"type": "special", "options": {"match": "nan", "result": {"text": "STALE", "color": "purple", "index": 0}}},
]
TOO_FEW = {"type": "special", "options": {"match": "null", "result": {"text": "too few", "color": "text", "index": 1}}}


class Layout:
    """Places panels left to right, 24 columns wide, and numbers them."""

    def __init__(self):
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1
        self.panels = []
        self.row = None

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        panel["id"] = self.next_id
        self.next_id += 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        (self.row["panels"] if self.row and self.row.get("collapsed") else self.panels).append(panel)
        return panel

    def section(self, title, collapsed=False, repeat=None):
        if self.x:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        row = {"type": "row", "title": title, "collapsed": collapsed, "panels": []}
        if repeat:
            row["repeat"] = repeat
        self.row = None
        self.add(row, 24, 1)
        self.x = 24
        self.row = row
        return row


def panel(kind, title, description, targets, unit, thresholds=None, links=(), mappings=(), **extra):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "color": {"mode": "thresholds" if kind in ("stat", "bargauge", "table") else "palette-classic"},
                "thresholds": thresholds or steps("green"),
                "mappings": list(mappings),
            },
            "overrides": [],
        },
        "targets": targets,
        "links": list(links),
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 0,
            "spanNulls": False,
            "thresholdsStyle": {"mode": "line+area" if thresholds else "off"},
        }
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    if kind == "stat":
        p["options"] = {
            "reduceOptions": {"calcs": ["last"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "center",
            "textMode": "value_and_name" if extra.pop("named", False) else "value",
            "orientation": "auto",
        }
    if kind == "bargauge":
        p["options"] = {
            "reduceOptions": {"calcs": ["last"], "fields": "", "values": False},
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": True,
        }
    for key, value in extra.items():
        if key == "noValue":
            p["fieldConfig"]["defaults"]["noValue"] = value
        elif key == "overrides":
            p["fieldConfig"]["overrides"] = value
        else:
            p[key] = value
    return p


def variables(with_media=True):
    def query(name, label, q, multi=True):
        return {
            "name": name,
            "label": label,
            "type": "query",
            "datasource": DS,
            "query": {"query": q, "refId": f"{name}-var"},
            "definition": q,
            "refresh": 2,
            "sort": 1,
            "multi": multi,
            "includeAll": True,
            "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "hide": 0,
            "regex": "",
            "skipUrlSync": False,
            "options": [],
        }

    out = [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "skipUrlSync": False, "options": []},
        query("namespace", "Namespace", "label_values(genesys_exporter_build_info, namespace)"),
        query("job", "Job", 'label_values(genesys_exporter_build_info{namespace=~"$namespace"}, job)'),
        query("shard", "Shard", 'label_values(genesys_exporter_build_info{namespace=~"$namespace", job=~"$job"}, shard)'),
        query("queue", "Queue", f"label_values(genesys_queue_info{{{F}}}, queue)"),
    ]
    if with_media:
        out.append(query("media_type", "Media type", f"label_values(genesys:queue_interactions:max{{{F}}}, media_type)"))
    return out


def annotations():
    return {"list": [
        {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
         "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
        {"name": "Firing alerts", "datasource": DS, "enable": True, "iconColor": "red",
         "expr": f'ALERTS{{alertstate="firing", alertname=~"Genesys.*", {F}}}',
         "step": "60s", "titleFormat": "{{alertname}}", "textFormat": "{{severity}} {{queue}} {{shard}}",
         "tagKeys": "severity,data", "useValueForTime": False},
        {"name": "Polled counters stale", "datasource": DS, "enable": True, "iconColor": "orange",
         "expr": f"genesys:poll_stale:min{{{F}}} == 1",
         "step": "60s", "titleFormat": "stale polls: {{data}}", "textFormat": "no replica can poll {{data}} (shard {{shard}})",
         "tagKeys": "data,shard", "useValueForTime": False},
        {"name": "Queue data stale", "datasource": DS, "enable": True, "iconColor": "purple",
         "expr": f"genesys:queue_stale:min{{{Q}}} == 1",
         "step": "60s", "titleFormat": "stale: {{queue}}", "textFormat": "no replica can refresh {{queue}}",
         "tagKeys": "shard", "useValueForTime": False},
    ]}


def links(other_uid, other_title):
    return [
        {"type": "link", "title": other_title, "url": f"/d/{other_uid}", "icon": "dashboard",
         "keepTime": True, "includeVars": True, "targetBlank": False, "asDropdown": False, "tags": [], "tooltip": ""},
        {"type": "link", "title": "Runbooks", "url": RUNBOOK, "icon": "doc", "targetBlank": True,
         "keepTime": False, "includeVars": False, "asDropdown": False, "tags": [], "tooltip": "What each alert means and what to do"},
    ]


def exporter_state(layout, h=4):
    """The first questions: is every exporter up, is its data fresh, which version, what fires."""
    layout.add(panel(
        "stat", "Exporters up",
        "Scrape targets up of all the job's targets (replicas and shards). Each replica's own "
        "status page is linked from its name in the table of the Exporter health row.",
        [target(f"sum(up{{{F}}}) or vector(0)", instant=True, legend="up"),
         target(f"count(up{{{F}}}) or vector(0)", "B", instant=True, legend="targets")],
        "short", steps("green"), named=True,
        overrides=[{"matcher": {"id": "byFrameRefID", "options": "A"}, "properties": [
            {"id": "thresholds", "value": steps("red", (1.0, "green"))}]}],
    ), 5, h)
    layout.add(panel(
        "stat", "Queues with stale data",
        "Queues no replica can refresh (GenesysQueueDataStale). Their live panels say STALE.",
        [target(f"count(genesys:queue_stale:min{{{Q}}} == 1) or vector(0)", instant=True)],
        "short", steps("green", (1.0, "red")), links=[runbook("GenesysQueueDataStale")],
    ), 4, h)
    layout.add(panel(
        "stat", "Polled counters stale",
        "Polled counter groups (aggregates, agent time) no replica of a shard could refresh "
        "for three poll intervals (GenesysPolledDataStale): their rates and ratios are blank.",
        [target(f"count(genesys:poll_stale:min{{{F}}} == 1) or vector(0)", instant=True)],
        "short", steps("green", (1.0, "red")), links=[runbook("GenesysPolledDataStale")],
    ), 4, h)
    layout.add(panel(
        "stat", "Version",
        "genesys-exporter versions running, with how many replicas run each.",
        [target(f"count by (version) (genesys_exporter_build_info{{{F}}})", instant=True, legend="{{version}}")],
        "short", steps("blue"), named=True,
    ), 4, h)
    layout.add(panel(
        "stat", "Alerts firing",
        "Genesys alerts firing now, pages and tickets; the annotations mark when each fired.",
        [target(f'count(ALERTS{{alertstate="firing", alertname=~"Genesys.*", {F}}}) or vector(0)', instant=True)],
        "short", steps("green", (1.0, "red")),
    ), 7, h)


def firing_table(layout, h=6):
    layout.add(panel(
        "table", "Firing alerts",
        "Every Genesys alert firing now, pages first. Each alert's runbook is its section of the "
        "Runbooks link (top right); the panels an alert judges link theirs.",
        [target(f'ALERTS{{alertstate="firing", alertname=~"Genesys.*", {F}}}', instant=True, fmt="table")],
        "short", steps("red"),
        transformations=[{"id": "organize", "options": {
            "excludeByName": {"Time": True, "Value": True, "__name__": True, "alertstate": True, "instance": False},
            "indexByName": {"severity": 0, "alertname": 1, "queue": 2, "shard": 3, "data": 4},
            "renameByName": {}}},
            {"id": "sortBy", "options": {"sort": [{"field": "severity", "desc": False}]}}],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
    ), 24, h)


def overview():
    lay = Layout()
    lay.section("Is anything on fire, and is the data fresh?")
    exporter_state(lay)
    firing_table(lay)
    status_table(lay)
    queues_over_time(lay)
    conversations(lay)
    agents(lay)
    telephony(lay)
    ivr(lay)
    exporter_health(lay)
    return dashboard(
        OVERVIEW_UID, "Genesys Cloud queues",
        "Queues worst first, conversations, agents, trunks and Edges, IVR flows and data actions, and exporter health from genesys-exporter; "
        "every value deduplicated over HA replicas, STALE where no replica can refresh it.",
        ["genesys", "contact-centre", "genesys-exporter"], lay.panels, variables(),
        links(WALLBOARD_UID, "Wallboard"), refresh="30s", time={"from": "now-6h", "to": "now"})


def status_table(lay):
    lay.section("Queues now, worst first")
    by = f"by ({QUEUE})"
    firing = f'count {by} (ALERTS{{alertstate="firing", {Q}}})'
    stale = f"genesys:queue_stale:min{{{Q}}}"
    zero = f"(0 * {stale})"
    columns = [
        ("Waiting", live(f"genesys:queue_waiting:sum{{{Q}}}"), "short", over("queue_waiting", "short"), "GenesysQueueBacklog"),
        ("Oldest waiting", live(f"max {by} (genesys:queue_oldest_waiting_seconds:max{{{M}}})"), "s",
         over("oldest_waiting_seconds", "s"), "GenesysQueueOldestWaitingTooLong"),
        ("On queue", live(f"genesys:queue_on_queue_users:max{{{Q}}}"), "short", steps("red", (1.0, "green")), "GenesysQueueWaitingWithoutAgents"),
        ("Idle", live(f'max {by} (genesys:queue_users:max{{{Q}, routing_status="IDLE"}})'), "short", steps("text"), None),
        ("Away share", live(f"genesys:queue_members_away:ratio{{{Q}}}"), "percentunit",
         over("queue_members_away_ratio", "percentunit"), "GenesysQueueWaitingWhileMembersAway"),
        ("Service level − target (30 min, worst media)",
         polled(f"min {by} ({guarded_service_level(M)} - on ({QUEUE}, media_type) genesys:queue_service_level_target:max{{{M}}})"),
         "percentunit", steps("red", (0.0, "green")), "GenesysQueueServiceLevelBelowTarget"),
        ("Abandon share (30 min)", polled(guarded_abandon(Q)), "percentunit", over("abandon_ratio", "percentunit"),
         "GenesysQueueAbandonRateHigh"),
        ("Alerts firing", f"{firing} or {zero}", "short", steps("green", (1.0, "red")), None),
        ("Data", stale, "short", steps("green", (1.0, "purple")), "GenesysQueueDataStale"),
        ("Rank", f"({firing} or {zero}) * 1000 + {stale} * 100 + clamp_max(genesys:queue_waiting:sum{{{Q}}} or {zero}, 99)",
         "short", None, None),
    ]
    refs = "ABCDEFGHIJ"
    targets, overrides, rename = [], [], {}
    for ref, (name, expr, unit, thr, alert) in zip(refs, columns):
        # One label set for every column (and no metric name), so the rows merge by queue.
        targets.append(target(f"max {by} ({expr})", ref, instant=True, fmt="table"))
        rename[f"Value #{ref}"] = name
        props = [{"id": "unit", "value": unit}]
        if thr:
            props += [{"id": "thresholds", "value": thr},
                      {"id": "custom.cellOptions", "value": {"type": "color-text"}}]
        if alert:
            props.append({"id": "links", "value": [{"title": f"Runbook: {alert}", "url": f"{RUNBOOK}#{alert.lower()}", "targetBlank": True}]})
        if name == "Data":
            props.append({"id": "mappings", "value": [
                {"type": "value", "options": {"0": {"text": "fresh", "index": 0}, "1": {"text": "STALE", "index": 1}}}]})
        if name.startswith(("Service level", "Abandon")):
            props.append({"id": "mappings", "value": [TOO_FEW]})
        overrides.append({"matcher": {"id": "byName", "options": name}, "properties": props})
    lay.add(panel(
        "table", "Queue status",
        "One row per queue, worst first: most alerts firing, then stale, then most waiting. "
        "Live columns are deduplicated over replicas; STALE where no replica can refresh the "
        "queue, 0 for a quiet queue. Colours are the alert thresholds of thresholds.yml: a cell "
        "is red exactly where its alert judges the value over. Ratios need the alerts' minimum "
        "volume (30 min), else \"too few\". Service level is the worst media type's margin over "
        "the queue's own target. Covers all media but the oldest wait and service level, which "
        "follow the media type variable.",
        targets, "short", steps("text"), mappings=STALE_MAPPING,
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "sortBy", "options": {"sort": [{"field": "Value #J", "desc": True}]}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "namespace": True, "job": True, "queue_id": True, "Value #J": True},
                "indexByName": {"queue": 0, "shard": 1},
                "renameByName": {**rename, "queue": "Queue", "shard": "Shard"}}},
        ],
        overrides=overrides,
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
    ), 24, 10)


def guarded(ratio, volume, minimum, by, sel=F):
    """`ratio` only where its alert would judge it: `volume` at least genesys:threshold:`minimum`."""
    return (f"({ratio}{{{sel}}} and on ({by}) "
            f"({volume}{{{sel}}} >= on () group_left () genesys:threshold:{minimum}))")


def guarded_abandon(sel):
    """The abandon share only where the alert would judge it (enough conversations offered)."""
    return guarded("genesys:queue_abandon:ratio30m", "genesys:queue_offered:increase30m",
                   "abandon_min_offered", QUEUE, sel)


def guarded_service_level(sel):
    return guarded("genesys:queue_service_level:ratio30m", "genesys:queue_service_level_denominator:increase30m",
                   "service_level_min_conversations", QUEUE + ", media_type", sel)


def queues_over_time(lay):
    lay.section("Queues over time")
    by = "sum by (queue)"
    lay.add(panel(
        "timeseries", "Interactions waiting per queue",
        "Waiting interactions of the chosen media types, deduplicated over replicas; a gap is a "
        "stale queue (see the purple annotations). The line is the backlog alert's threshold "
        "(all media types).",
        [target(f'{by} (genesys:queue_interactions:max{{{M}, state="waiting"}})', legend="{{queue}}")],
        "short", over("queue_waiting", "short"), links=[runbook("GenesysQueueBacklog")]), 8, 8)
    lay.add(panel(
        "timeseries", "Oldest interaction waiting per queue",
        "How long the oldest waiting interaction has waited, chosen media types. The line is the "
        "oldest-waiting alert's threshold.",
        [target(f"max by (queue) (genesys:queue_oldest_waiting_seconds:max{{{M}}})", legend="{{queue}}")],
        "s", over("oldest_waiting_seconds", "s"), links=[runbook("GenesysQueueOldestWaitingTooLong")]), 8, 8)
    lay.add(panel(
        "timeseries", "Interactions interacting per queue",
        "Interactions connected to an agent, chosen media types, deduplicated over replicas.",
        [target(f'{by} (genesys:queue_interactions:max{{{M}, state="interacting"}})', legend="{{queue}}")],
        "short"), 8, 8)
    lay.add(panel(
        "timeseries", "Members on queue and idle per queue",
        "Members on queue (any routing status) and those idle, ready for the next interaction. "
        "Members of several queues count in each.",
        [target(f"max by (queue) (genesys:queue_on_queue_users:max{{{Q}}})", legend="{{queue}} on queue"),
         target(f'max by (queue) (genesys:queue_users:max{{{Q}, routing_status="IDLE"}})', "B", legend="{{queue}} idle")],
        "short"), 8, 8)
    lay.add(panel(
        "timeseries", "Members on break, meal or away, share per queue",
        "The share of each queue's members on break, at a meal or away. The line is the "
        "members-away alert's threshold (it pages only while interactions wait).",
        [target(f"genesys:queue_members_away:ratio{{{Q}}}", legend="{{queue}}")],
        "percentunit", over("queue_members_away_ratio", "percentunit"),
        links=[runbook("GenesysQueueWaitingWhileMembersAway")]), 8, 8)
    lay.add(panel(
        "timeseries", "Queue members by routing status",
        "Members of the chosen queues by routing status, summed over queues: a member of two "
        "queues counts twice (the Agents row counts each agent once).",
        [target(f"sum by (routing_status) (genesys:queue_users:max{{{Q}}})", legend="{{routing_status}}")],
        "short"), 8, 8)


def conversations(lay):
    lay.section("Conversations")
    per_minute = [
        ("offered", "genesys:queue_offered:rate5m"),
        ("answered", "genesys:queue_answered:rate5m"),
        ("abandoned", "genesys:queue_abandoned:rate5m"),
        ("transferred", "genesys:queue_transferred:rate5m"),
    ]
    lay.add(panel(
        "timeseries", "Conversations per minute (5 min average)",
        "Offered, answered, abandoned and transferred per minute over the chosen queues and "
        "media types, each conversation counted once however many replicas count it.",
        [target(f"60 * sum({rule}{{{M}}})", ref, legend=name) for ref, (name, rule) in zip("ABCD", per_minute)],
        "short"), 8, 8)
    lay.add(panel(
        "timeseries", "Abandon share per queue (30 min, all media)",
        "Abandoned of offered over the last 30 minutes, all media types, shown only with the "
        "alert's minimum offered (thresholds.yml). The line is the abandon alert's threshold.",
        [target(guarded_abandon(Q), legend="{{queue}}")],
        "percentunit", over("abandon_ratio", "percentunit"), links=[runbook("GenesysQueueAbandonRateHigh")]), 8, 8)
    lay.add(panel(
        "timeseries", "Service level per queue (30 min)",
        "Answered within the queue's service-level threshold, as Genesys computes it, shown only "
        "with the alert's minimum conversations; dashed: each queue's own target.",
        [target(guarded_service_level(M), legend="{{queue}} {{media_type}}"),
         target(f"genesys:queue_service_level_target:max{{{M}}}", "B", legend="target {{queue}} {{media_type}}")],
        "percentunit", links=[runbook("GenesysQueueServiceLevelBelowTarget")],
        overrides=[{"matcher": {"id": "byFrameRefID", "options": "B"}, "properties": [
            {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}]), 8, 8)
    for title, rule, what in [
        ("Average handle time (30 min)", "genesys:queue_handle_seconds:avg30m", "Talk, hold and wrap-up per handled conversation."),
        ("Average speed of answer (30 min)", "genesys:queue_answer_seconds:avg30m", "Wait before an agent answered, per answered conversation."),
        ("Average time to abandon (30 min)", "genesys:queue_abandon_seconds:avg30m", "Wait before the customer hung up, per abandoned conversation."),
    ]:
        lay.add(panel("timeseries", title, what + " Per queue and media type.",
                      [target(f"{rule}{{{M}}}", legend="{{queue}} {{media_type}}")], "s"), 8, 8)
    lay.add(panel(
        "bargauge", "Offered today so far",
        "Conversations offered since midnight (the browser's), per queue, chosen media types; "
        "each counted once however many replicas count it.",
        [target(polled(f"sum by ({QUEUE}) ({today('genesys_conversations_offered_total', M)})", count=True), instant=True,
                legend="{{queue}}")],
        "short", steps("blue"), mappings=STALE_MAPPING, timeFrom="now/d", hideTimeOverride=False), 8, 8)


def today(counter, sel, keep=QUEUE + ", media_type, direction"):
    """A counter's increase over the panel's range, one replica's worth: replicas whose polled
    counters are stale are left out, then the max over the rest."""
    return (f"max by ({keep}) (increase({counter}{{{sel}}}[$__range]) "
            f"unless on (job, instance) (genesys_exporter_aggregates_stale{{{F}}} == 1))")


def agents(lay):
    row = lay.section("Agents (needs agents.enabled)", collapsed=True)
    # An agent is in scope unless its queue memberships are exported (agents.queue_membership)
    # and none is a chosen queue: without memberships the queue filter cannot narrow agents.
    outside = f"genesys:agent_queue:member{{{F}}} unless on (namespace, job, shard, user_id) genesys:agent_queue:member{{{Q}}}"
    scoped = f"unless on (namespace, job, shard, user_id) ({outside})"
    lay.add(panel(
        "stat", "Agents watched",
        "Agents the exporter watches, each once. None means agents.enabled is off: this row "
        "stays empty until it is on (docs/configuration.md, agents). The queue variable narrows "
        "the agents only with agents.queue_membership.",
        [target(f"count(max by (user_id) (genesys:agent:info{{{F}}} {scoped}))", instant=True)],
        "short", steps("orange", (1.0, "green")), noValue="agents.enabled is off"), 6, 6)
    lay.add(panel(
        "timeseries", "Agents by routing status",
        "Agents of the chosen queues in each routing status, each agent counted once however "
        "many queues, shards or replicas see them.",
        [target(f"count by (routing_status) (max by (user_id, routing_status) (genesys:agent_routing_status:current{{{F}}} {scoped}))",
                legend="{{routing_status}}")], "short"), 9, 6)
    lay.add(panel(
        "timeseries", "Agents by presence",
        "Agents of the chosen queues in each system presence, each counted once.",
        [target(f"count by (system_presence) (max by (user_id, system_presence) (genesys:agent_system_presence:current{{{F}}} {scoped}))",
                legend="{{system_presence}}")], "short"), 9, 6)
    lay.add(panel(
        "table", "Agents: state and time in it",
        "Each agent of the chosen queues: routing status and presence, and how long in each.",
        [target(f"max by (user_id, name, routing_status) (genesys:agent_routing_status_seconds:current{{{F}}} "
                f"* on (namespace, job, shard, user_id) group_left (name) genesys:agent:info{{{F}}} {scoped})",
                instant=True, fmt="table"),
         target(f"max by (user_id, name, presence, system_presence) (genesys:agent_presence_seconds:current{{{F}}} "
                f"* on (namespace, job, shard, user_id) group_left (name) genesys:agent:info{{{F}}} {scoped})",
                "B", instant=True, fmt="table")],
        "s", steps("text"),
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
            "excludeByName": {"Time": True, "user_id": True},
            "renameByName": {"name": "Agent", "routing_status": "Routing status", "Value #A": "In routing status for",
                             "presence": "Presence", "system_presence": "System presence", "Value #B": "In presence for"}}}],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False},
                 "sortBy": [{"displayName": "In routing status for", "desc": True}]}), 24, 10)
    lay.add(panel(
        "timeseries", "Agents in each routing status, hourly average",
        "From agents.time_in_status: seconds in each routing status per second over the last "
        "hour, summed over the chosen queues' agents, i.e. how many agents were in it on average.",
        [target(f"sum by (routing_status) (max by (user_id, routing_status) (genesys:agent_routing_status_seconds:rate1h{{{F}}} {scoped}))",
                legend="{{routing_status}}")], "short"), 12, 8)
    lay.add(panel(
        "timeseries", "Occupancy, busiest agents (1 h)",
        "Share of on-queue time spent on interactions over the last hour, the ten busiest agents "
        "of the chosen queues.",
        [target(f"topk(10, max by (user_id) (genesys:agent_occupancy:ratio_rate1h{{{F}}} {scoped}) "
                f"* on (user_id) group_left (name) max by (user_id, name) (genesys:agent:info{{{F}}}))", legend="{{name}}")],
        "percentunit"), 12, 8)
    return row


def judged_column(name, colours, alert, unit=None):
    """A table column an alert judges: coloured as it fires, linking its runbook."""
    properties = [{"id": "unit", "value": unit}] if unit else []
    properties += [{"id": "thresholds", "value": colours},
                   {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                   {"id": "links", "value": [runbook(alert)]}]
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


# The labels that say whose data a trunk or an Edge series is, with its names.
TRUNK = "namespace, job, shard, trunk_id, trunk, trunk_type, edge_id, edge"
EDGE = "namespace, job, shard, edge_id, edge, site"


def telephony(lay):
    row = lay.section("Telephony: trunks and Edges (needs telephony.enabled)", collapsed=True)
    stale_trunks = f"min by (namespace, job, shard, trunk_id) (genesys_exporter_trunk_stale{{{F}}}) == 1"
    stale_edges = f"min by (namespace, job, shard, edge_id) (genesys_exporter_edge_stale{{{F}}}) == 1"
    lay.add(panel(
        "stat", "Trunks in service",
        "Trunks in service of the trunks watched, each counted once. None watched means "
        "telephony.enabled is off (docs/configuration.md, telephony).",
        [target(f"count(genesys:trunk_in_service:max{{{F}}} == 1) or vector(0)", instant=True, legend="in service"),
         target(f"count(genesys:trunk_in_service:max{{{F}}}) or vector(0)", "B", instant=True, legend="watched")],
        "short", steps("green"), named=True), 6, 5)
    lay.add(panel(
        "stat", "Trunks out of service",
        "Trunks Genesys will not place calls over (GenesysTrunkOutOfService opens a ticket for "
        "one of several, GenesysTrunksOutOfService pages when every trunk of a type is out).",
        [target(f"count(genesys:trunk_in_service:max{{{F}}} == 0) or vector(0)", instant=True)],
        "short", steps("green", (1.0, "red")),
        links=[runbook("GenesysTrunkOutOfService"), runbook("GenesysTrunksOutOfService")]), 5, 5)
    lay.add(panel(
        "stat", "Edges offline",
        "Edges Genesys Cloud cannot reach (GenesysEdgeOffline); every trunk on one is down with it.",
        [target(f"count(genesys:edge_online:max{{{F}}} == 0) or vector(0)", instant=True)],
        "short", steps("green", (1.0, "red")), links=[runbook("GenesysEdgeOffline")]), 4, 5)
    lay.add(panel(
        "stat", "Calls up on the trunks",
        "Calls up now on every watched trunk, inbound and outbound; STALE while a trunk cannot "
        "be refreshed.",
        [target(unknown_while(f"sum(genesys:trunk_calls:max{{{F}}}) or vector(0)", stale_trunks), instant=True)],
        "short", steps("blue"), mappings=STALE_MAPPING), 5, 5)
    lay.add(panel(
        "stat", "Trunks and Edges stale",
        "Trunks and Edges no replica can refresh: they judge nothing, so their alerts cannot fire.",
        [target(f"(count({stale_trunks}) or vector(0)) + (count({stale_edges}) or vector(0))", instant=True)],
        "short", steps("green", (1.0, "red"))), 4, 5)
    in_service = judged_column("In service", steps("red", (1.0, "green")), "GenesysTrunkOutOfService")
    answering = {"matcher": {"id": "byName", "options": "Proxies answering OPTIONS"}, "properties": [
        {"id": "unit", "value": "percentunit"},
        {"id": "thresholds", "value": steps("red", (1.0, "green"))}]}
    lay.add(panel(
        "table", "Trunks now",
        "Each watched trunk: whether it is in service, the share of its proxies answering SIP "
        "OPTIONS pings, and the calls up on it now in each direction.",
        [target(f"genesys:trunk_in_service:max{{{F}}}", instant=True, fmt="table"),
         target(f"genesys:trunk_proxies_answering:ratio{{{F}}}", "B", instant=True, fmt="table"),
         target(f'max without (direction) (genesys:trunk_calls:max{{{F}, direction="inbound"}})', "C", instant=True, fmt="table"),
         target(f'max without (direction) (genesys:trunk_calls:max{{{F}, direction="outbound"}})', "D", instant=True, fmt="table")],
        "short", steps("text"),
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
            "excludeByName": {"Time": True, "trunk_id": True, "edge_id": True},
            "renameByName": {"trunk": "Trunk", "trunk_type": "Type", "edge": "Edge", "Value #A": "In service",
                             "Value #B": "Proxies answering OPTIONS", "Value #C": "Calls in", "Value #D": "Calls out"}}}],
        overrides=[in_service, answering],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False},
                 "sortBy": [{"displayName": "In service", "desc": False}]}), 24, 8)
    lay.add(panel(
        "timeseries", "Calls up per trunk",
        "Calls up on each watched trunk, inbound and outbound together.",
        [target(f"sum by ({TRUNK}) (genesys:trunk_calls:max{{{F}}})", legend="{{trunk}}")], "short"), 12, 7)
    lay.add(panel(
        "timeseries", "Trunks in service by type",
        "Trunks in service of each type (EXTERNAL: carrier and BYOC; PHONE; EDGE: between Edges).",
        [target(f"sum by (trunk_type) (genesys:trunk_in_service:max{{{F}}})", legend="{{trunk_type}}")],
        "short", links=[runbook("GenesysTrunksOutOfService")]), 12, 7)
    pressure = over("edge_resource_ratio", "percentunit")
    resource = lambda name: judged_column(name, pressure, "GenesysEdgeResourcePressure", "percentunit")
    online = judged_column("Online", steps("red", (1.0, "green")), "GenesysEdgeOffline")
    used = lambda r: f'max without (resource) (genesys:edge_resource_used:ratio{{{F}, resource="{r}"}})'
    lay.add(panel(
        "table", "Edges now",
        "Each watched Edge: online, and the share of its CPU, memory and disk in use (the "
        "fullest memory type and partition).",
        [target(f"genesys:edge_online:max{{{F}}}", instant=True, fmt="table"),
         target(used("cpu"), "B", instant=True, fmt="table"),
         target(used("memory"), "C", instant=True, fmt="table"),
         target(used("disk"), "D", instant=True, fmt="table")],
        "short", steps("text"),
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
            "excludeByName": {"Time": True, "edge_id": True},
            "renameByName": {"edge": "Edge", "site": "Site", "Value #A": "Online",
                             "Value #B": "CPU", "Value #C": "Memory", "Value #D": "Disk"}}}],
        overrides=[online, resource("CPU"), resource("Memory"), resource("Disk")],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False},
                 "sortBy": [{"displayName": "Online", "desc": False}]}), 12, 8)
    lay.add(panel(
        "timeseries", "Edge resources in use",
        "The share of each Edge's CPU, memory and disk in use; GenesysEdgeResourcePressure "
        "opens a ticket above the line for 15 minutes.",
        [target(f"genesys:edge_resource_used:ratio{{{F}}}", legend="{{edge}} {{resource}}")],
        "percentunit", pressure, links=[runbook("GenesysEdgeResourcePressure")]), 12, 8)
    return row


# The labels that say whose data a flow, flow outcome or data action series is, with its names.
FLOW = "namespace, job, shard, flow_id, flow, flow_type"
OUTCOME = FLOW + ", flow_outcome_id, flow_outcome"
ACTION = "namespace, job, shard, action_id, action, category"


def judged_count(expr, threshold):
    """How many series of `expr` the alert judging against genesys:threshold:`threshold` fires for."""
    return f"count({expr} > on () group_left () genesys:threshold:{threshold}) or vector(0)"


def ivr(lay):
    row = lay.section("IVR flows and data actions (needs flows.enabled, actions.enabled)", collapsed=True)
    outcome_failure = guarded("genesys:flow_outcome_failure:ratio30m", "genesys:flow_outcome_results:increase30m",
                              "flow_outcome_min_results", OUTCOME)
    action_error = guarded("genesys:action_error:ratio15m", "genesys:action_executions:increase15m",
                           "action_min_executions", ACTION)
    lay.add(panel(
        "stat", "Flows watched",
        "IVR flows the exporter counts, each once. None means flows.enabled is off: this row "
        "stays empty until it is on (docs/configuration.md, flows).",
        [target(f"count(max by ({FLOW}) (genesys_flow_info{{{F}}}))", instant=True)],
        "short", steps("orange", (1.0, "green")), noValue="flows.enabled is off"), 5, 5)
    lay.add(panel(
        "stat", "In the IVR now",
        "Conversations in the watched flows now (oFlow), polled every flows.observation_interval; "
        "STALE while flows are watched and their last read failed.",
        [target(f"sum(genesys:flow_conversations:max{{{F}}}) or on () "
                f"(NaN * (count(max by ({FLOW}) (genesys_flow_info{{{F}}})) > 0))", instant=True)],
        "short", steps("blue"), mappings=STALE_MAPPING), 4, 5)
    lay.add(panel(
        "stat", "Self-service containment (30 min)",
        "Of the conversations that entered the watched flows in the last 30 minutes, the share "
        "the flows served and ended themselves (FLOW_DISCONNECT) without a queue.",
        [target(unknown_while(f"sum(genesys:flow_contained:increase30m{{{F}}}) / (sum(genesys:flow_entries:increase30m{{{F}}}) > 0)",
                              stale_polls("flows")), instant=True)],
        "percentunit", steps("blue"), mappings=STALE_MAPPING), 5, 5)
    lay.add(panel(
        "stat", "Flow outcomes failing",
        "Flow outcomes failing more than the threshold share of their results over 30 minutes, "
        "with enough results to judge (GenesysFlowOutcomeFailing).",
        [target(unknown_while(judged_count(outcome_failure, "flow_outcome_failure_ratio"), stale_polls("flows")),
                instant=True)],
        "short", steps("green", (1.0, "red")), links=[runbook("GenesysFlowOutcomeFailing")], mappings=STALE_MAPPING), 5, 5)
    lay.add(panel(
        "stat", "Data actions failing",
        "Data actions failing more than the threshold share of their executions over 15 "
        "minutes, with enough executions to judge (GenesysDataActionFailing).",
        [target(unknown_while(judged_count(action_error, "action_error_ratio"), stale_polls("actions")), instant=True)],
        "short", steps("green", (1.0, "red")), links=[runbook("GenesysDataActionFailing")], mappings=STALE_MAPPING), 5, 5)
    lay.add(panel(
        "timeseries", "Entries per minute per flow (5 min average)",
        "Conversations entering each watched flow per minute.",
        [target(f"60 * genesys:flow_entries:rate5m{{{F}}}", legend="{{flow}}")], "short"), 8, 8)
    lay.add(panel(
        "timeseries", "Self-service containment per flow (30 min)",
        "Of the conversations that entered the flow in the last 30 minutes, the share it served "
        "and ended itself; callers who hung up in the menu are not contained (docs/operations.md).",
        [target(f"genesys:flow_containment:ratio30m{{{F}}}", legend="{{flow}}")], "percentunit"), 8, 8)
    lay.add(panel(
        "timeseries", "Ended in the IVR per minute, by reason",
        "Conversations that ended in the watched flows per minute: FLOW_DISCONNECT served, "
        "DISCONNECT the caller hung up, FLOW_ERROR_DISCONNECT the flow failed.",
        [target(f"60 * sum by (exit_reason) (genesys:flow_disconnects:rate5m{{{F}}})", legend="{{exit_reason}}")],
        "short"), 8, 8)
    failing = judged_column("Failure", over("flow_outcome_failure_ratio", "percentunit"), "GenesysFlowOutcomeFailing",
                            "percentunit")
    success = {"matcher": {"id": "byName", "options": "Success"}, "properties": [{"id": "unit", "value": "percentunit"}]}
    lay.add(panel(
        "table", "Flow outcomes (30 min)",
        "Each outcome of each watched flow over the last 30 minutes: its results, and the share "
        "that succeeded and failed, shown only with the alert's minimum results (thresholds.yml).",
        [target(f"genesys:flow_outcome_results:increase30m{{{F}}}", instant=True, fmt="table"),
         target(f"1 - {outcome_failure}", "B", instant=True, fmt="table"),
         target(outcome_failure, "C", instant=True, fmt="table")],
        "short", steps("text"),
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
            "excludeByName": {"Time": True, "flow_id": True, "flow_outcome_id": True},
            "renameByName": {"flow": "Flow", "flow_type": "Type", "flow_outcome": "Outcome", "Value #A": "Results",
                             "Value #B": "Success", "Value #C": "Failure"}}}],
        overrides=[success, failing],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False},
                 "sortBy": [{"displayName": "Failure", "desc": True}]}), 12, 8)
    lay.add(panel(
        "timeseries", "Data action error ratio (15 min)",
        "Failed of all executions of each data action over 15 minutes, shown only with the "
        "alert's minimum executions; GenesysDataActionFailing pages above the line.",
        [target(action_error, legend="{{action}}")],
        "percentunit", over("action_error_ratio", "percentunit"), links=[runbook("GenesysDataActionFailing")]), 12, 8)
    lay.add(panel(
        "timeseries", "Data action execution time (15 min)",
        "The mean time each data action's executions took, failed ones included: a rise often "
        "comes before timeouts.",
        [target(f"genesys:action_execution_seconds:avg15m{{{F}}}", legend="{{action}}")], "s"), 12, 8)
    lay.add(panel(
        "timeseries", "Conversation errors per queue (30 min, all media)",
        "Errors and failed state transitions Genesys counted per conversation offered, all "
        "media types, shown only with the alert's minimum offered; needs nError and "
        "nStateTransitionError in aggregates.metrics.",
        [target(guarded("genesys:queue_conversation_errors:ratio30m", "genesys:queue_offered:increase30m",
                        "conversation_errors_min_offered", QUEUE, Q), legend="{{queue}}")],
        "percentunit", over("conversation_error_ratio", "percentunit"),
        links=[runbook("GenesysQueueConversationErrors")]), 12, 8)
    return row


def exporter_health(lay):
    lay.section("Exporter health (per replica)")
    per = "{{instance}}"
    lay.add(panel(
        "table", "Exporters",
        "Each replica: up, version and shard; its name links to its status page.",
        [target(f"max by (namespace, job, shard, instance) (up{{{F}}})", instant=True, fmt="table"),
         target(f"max by (namespace, job, shard, instance, version) (genesys_exporter_build_info{{{F}}})", "B",
                instant=True, fmt="table")],
        "short", steps("red", (1.0, "green")),
        transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": {
            "excludeByName": {"Time": True, "Value #B": True},
            "renameByName": {"Value #A": "Up"}}}],
        overrides=[{"matcher": {"id": "byName", "options": "instance"}, "properties": [
            {"id": "links", "value": [{"title": "Status page", "url": "http://${__value.text}/", "targetBlank": True}]}]},
            {"matcher": {"id": "byName", "options": "Up"}, "properties": [
                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}), 24, 6)
    series = [
        ("Stream connected", f"genesys_exporter_stream_connected{{{F}}}", f"{per} {{{{channel}}}}", "short"),
        ("Reconnects by reason", f"sum by (instance, reason) (increase(genesys_exporter_stream_reconnects_total{{{F}}}[$__rate_interval]))",
         f"{per} {{{{reason}}}}", "short"),
        ("API requests by endpoint and status",
         f"sum by (instance, endpoint, status) (rate(genesys_exporter_api_requests_total{{{F}}}[$__rate_interval]))",
         f"{per} {{{{endpoint}}}} {{{{status}}}}", "reqps"),
        ("Rate limited (429)", f"sum by (instance, endpoint) (increase(genesys_exporter_api_rate_limited_total{{{F}}}[$__rate_interval]))",
         f"{per} {{{{endpoint}}}}", "short"),
        ("Stale queues per replica", f"sum by (instance) (genesys_exporter_queue_stale{{{Q}}})", per, "short"),
        ("Age of the oldest queue data", f"time() - min by (instance) (genesys_queue_observation_timestamp_seconds{{{Q}}})", per, "s"),
        ("Since the last poll", f"time() - max by (instance) (genesys_exporter_last_poll_timestamp_seconds{{{F}}})", per, "s"),
        ("Since the last resync", f"time() - max by (instance, channel) (genesys_exporter_last_resync_timestamp_seconds{{{F}}})",
         f"{per} {{{{channel}}}}", "s"),
        ("Restarts (1 h)", f"changes(process_start_time_seconds{{{F}}}[1h])", per, "short"),
        ("Token refreshes", f"sum by (instance, result) (increase(genesys_exporter_token_refreshes_total{{{F}}}[$__rate_interval]))",
         f"{per} {{{{result}}}}", "short"),
    ]
    for title, expr, legend, unit in series:
        lay.add(panel("timeseries", title, f"{title}, each replica on its own line.", [target(expr, legend=legend)], unit), 8, 7)


def wallboard():
    lay = Layout()
    lay.section("Exporter")
    exporter_state(lay, h=4)
    lay.section("All chosen queues")
    totals(lay)
    lay.section("$queue", repeat="queue")
    queue_tiles(lay)
    return dashboard(
        WALLBOARD_UID, "Genesys Cloud wallboard",
        "For a screen on the contact-centre floor: the exporter's state, the chosen queues' "
        "totals, then one row of big numbers per chosen queue, coloured exactly where the alerts "
        "fire. STALE where no replica can refresh a queue. Open with ?kiosk.",
        ["genesys", "wallboard"], lay.panels, variables(with_media=False),
        links(OVERVIEW_UID, "Queues"), refresh="30s", time={"from": "now/d", "to": "now"},
        timepicker={"hidden": True})


def tile(title, description, expr, unit, thr, alert=None, mappings=STALE_MAPPING, **extra):
    return panel("stat", title, description, [target(expr, instant=True)], unit, thr,
                 links=[runbook(alert)] if alert else [], mappings=mappings, **extra)


def totals(lay):
    stale = f"genesys:queue_stale:min{{{Q}}}"
    tiles = [
        tile("Waiting, all queues", "Interactions waiting in the chosen queues, all media; STALE while "
             "any of them is (the Stale queues tile says how many). Red where a single queue's "
             "backlog alert would judge it over.",
             live_total(f"sum(genesys:queue_waiting:sum{{{Q}}}) or vector(0)"), "short", over("queue_waiting", "short"),
             "GenesysQueueBacklog"),
        tile("Longest wait, all queues", "The oldest waiting interaction of the chosen queues, all media; "
             "STALE while any of them is.",
             live_total(f"max(genesys:queue_oldest_waiting_seconds:max{{{Q}}}) or vector(0)"), "s",
             over("oldest_waiting_seconds", "s"),
             "GenesysQueueOldestWaitingTooLong"),
        tile("Stale queues", "Chosen queues no replica can refresh: their rows say STALE.",
             f"count({stale} == 1) or vector(0)", "short", steps("green", (1.0, "purple")), "GenesysQueueDataStale"),
        tile("Offered today, all queues", "Conversations offered since midnight, all media, each counted once.",
             polled_total(f"sum({today('genesys_conversations_offered_total', Q)}) or vector(0)"), "short", steps("blue")),
        tile("Abandoned today, all queues", "Abandoned of offered since midnight, all media types; "
             "shown from the abandon alert's minimum offered.",
             polled_total(f"sum({today('genesys_conversations_abandoned_total', Q)}) / (sum({today('genesys_conversations_offered_total', Q)}) "
                          f">= on () group_left () genesys:threshold:abandon_min_offered)"),
             "percentunit", over("abandon_ratio", "percentunit"), noValue="too few"),
        tile("Answered in service level today, all queues",
             "Answered within each queue's service-level threshold of those counted for it, since "
             "midnight, all media; shown from the service-level alert's minimum conversations.",
             polled_total(f"sum({today('genesys_conversations_service_level_numerator_total', Q)}) / "
                          f"(sum({today('genesys_conversations_service_level_denominator_total', Q)}) "
                          f">= on () group_left () genesys:threshold:service_level_min_conversations)"),
             "percentunit", steps("blue"), noValue="too few"),
    ]
    for t in tiles:
        lay.add(t, 4, 5)


def queue_tiles(lay):
    sel = Q
    big = {"text": {"valueSize": 80}}
    numerator = today("genesys_conversations_service_level_numerator_total", sel)
    denominator = today("genesys_conversations_service_level_denominator_total", sel)
    tiles = [
        tile("Waiting", "Interactions waiting now, all media; red where the backlog alert judges it over.",
             live(f"genesys:queue_waiting:sum{{{sel}}}"), "short", over("queue_waiting", "short"), "GenesysQueueBacklog"),
        tile("Oldest waiting", "The oldest waiting interaction, all media.",
             live(f"max by ({QUEUE}) (genesys:queue_oldest_waiting_seconds:max{{{sel}}})"), "s",
             over("oldest_waiting_seconds", "s"), "GenesysQueueOldestWaitingTooLong"),
        tile("Available", "Members idle, ready for the next interaction; red when none is on queue.",
             live(f'max by ({QUEUE}) (genesys:queue_users:max{{{sel}, routing_status="IDLE"}})'), "short",
             steps("orange", (1.0, "green")), "GenesysQueueWaitingWithoutAgents"),
        tile("On break, meal or away", "Share of members on break, at a meal or away.",
             live(f"genesys:queue_members_away:ratio{{{sel}}}"), "percentunit",
             over("queue_members_away_ratio", "percentunit"), "GenesysQueueWaitingWhileMembersAway"),
        tile("Service level − target today",
             "Answered within the service-level threshold since midnight, all media, less the "
             "queue's target: red below it. Shown from the alert's minimum conversations.",
             polled(f"(sum by ({QUEUE}) ({numerator}) / (sum by ({QUEUE}) ({denominator}) >= on () group_left () "
                    f"genesys:threshold:service_level_min_conversations)) - on ({QUEUE}) max by ({QUEUE}) "
                    f"(genesys:queue_service_level_target:max{{{sel}}})"),
             "percentunit", steps("red", (0.0, "green")), "GenesysQueueServiceLevelBelowTarget",
             noValue="too few"),
        tile("Abandoned today", "Abandoned of offered since midnight, all media; shown from the alert's minimum offered.",
             polled(f"sum by ({QUEUE}) ({today('genesys_conversations_abandoned_total', sel)}) / "
                    f"(sum by ({QUEUE}) ({today('genesys_conversations_offered_total', sel)}) >= on () group_left () "
                    f"genesys:threshold:abandon_min_offered)"),
             "percentunit", over("abandon_ratio", "percentunit"), "GenesysQueueAbandonRateHigh", noValue="too few"),
    ]
    for t in tiles:
        t["options"].update(big)
        lay.add(t, 4, 6)


def dashboard(uid, title, description, tags, panels, templating, dash_links, refresh, time, timepicker=None):
    d = {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": time,
        "refresh": refresh,
        "timezone": "browser",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "annotations": annotations(),
        "links": dash_links,
        "templating": {"list": templating},
        "panels": panels,
    }
    if timepicker:
        d["timepicker"] = timepicker
    return d


def render(d):
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    outputs = {"genesys-exporter.json": overview(), "genesys-wallboard.json": wallboard()}
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for name, d in outputs.items():
        path = OUT / name
        text = render(d)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"error: {', '.join(stale)} differ from grafana/generate.py's output; "
              "run python3 grafana/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
