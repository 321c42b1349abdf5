//! Comparing a scrape with the simulator's ground truth.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Harness, Scrape, key};

const STATES: [&str; 3] = ["waiting", "interacting", "alerting"];
const STATUSES: [&str; 5] = [
    "IDLE",
    "INTERACTING",
    "COMMUNICATING",
    "NOT_RESPONDING",
    "OFF_QUEUE",
];

/// A count of the truth's totals, where the simulator leaves out a metric without data: absent
/// is 0. Everything else the truth always lists is read with [`listed`].
pub fn count(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// A number the truth always lists; its absence is a broken comparison, not a 0.
fn listed(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("the truth lists no number for {what}: {value}"))
}

/// Every mismatch between the queue gauges in `scrape` and `truth`, one line each.
pub fn gauge_mismatches(scrape: &Scrape, truth: &Value, media_types: &[String]) -> Vec<String> {
    let mut wrong = Vec::new();
    // NB: a media type's series exist only once the queue has had some of it, so an absent
    // interactions series reads as 0; every other queue gauge must be there.
    let mut expect = |name: &str, labels: &[(&str, &str)], want: f64| {
        let got = scrape.get(name, labels);
        let absent_is_zero = name == "genesys_queue_interactions" && want == 0.0;
        if got != Some(want) && !(got.is_none() && absent_is_zero) {
            wrong.push(format!("{} = {got:?}, truth {want}", key(name, labels)));
        }
    };
    for queue in truth["queues"].as_array().expect("truth lists queues") {
        let id = queue["id"].as_str().unwrap();
        let name = queue["name"].as_str().unwrap();
        let q = [("queue_id", id), ("queue", name)];
        for media in media_types {
            for state in STATES {
                let labels = [q[0], q[1], ("media_type", media.as_str()), ("state", state)];
                expect(
                    "genesys_queue_interactions",
                    &labels,
                    listed(&queue["interactions"][media][state], "interactions"),
                );
            }
        }
        for status in STATUSES {
            let labels = [q[0], q[1], ("routing_status", status)];
            expect(
                "genesys_queue_users",
                &labels,
                listed(&queue["users"][status], status),
            );
        }
        let presences = queue["presences"]
            .as_object()
            .expect("truth lists presences");
        for (presence_id, members) in presences {
            let (label, system) = presence_labels(truth, presence_id);
            let labels = [
                q[0],
                q[1],
                ("presence", &label),
                ("system_presence", &system),
            ];
            expect(
                "genesys_queue_presence_users",
                &labels,
                listed(members, presence_id),
            );
        }
        expect(
            "genesys_queue_members",
            &q,
            listed(&queue["members"], "members"),
        );
        expect(
            "genesys_queue_on_queue_users",
            &q,
            listed(&queue["onQueueUsers"], "onQueueUsers"),
        );
        expect(
            "genesys_queue_active_users",
            &q,
            listed(&queue["activeUsers"], "activeUsers"),
        );
    }
    wrong
}

/// The labels a presence is exported under: its definition's `en_US` label and its system
/// presence in upper snake case (`OnQueue` becomes `ON_QUEUE`).
fn presence_labels(truth: &Value, presence_id: &str) -> (String, String) {
    let definitions = truth["presenceDefinitions"]
        .as_array()
        .expect("truth lists definitions");
    let definition = (definitions.iter())
        .find(|d| d["id"] == presence_id)
        .unwrap_or_else(|| panic!("presence {presence_id} has no definition"));
    let label = definition["languageLabels"]["en_US"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut system = String::new();
    for (i, c) in definition["systemPresence"]
        .as_str()
        .unwrap()
        .chars()
        .enumerate()
    {
        if c.is_uppercase() && i > 0 {
            system.push('_');
        }
        system.push(c.to_ascii_uppercase());
    }
    (label, system)
}

/// (counter, truth metric, statistic) for every conversation counter.
const COUNTERS: &[(&str, &str, &str)] = &[
    ("genesys_conversations_offered_total", "nOffered", "count"),
    (
        "genesys_conversations_connected_total",
        "nConnected",
        "count",
    ),
    (
        "genesys_conversations_transferred_total",
        "nTransferred",
        "count",
    ),
    ("genesys_conversations_over_sla_total", "nOverSla", "count"),
    ("genesys_conversation_errors_total", "nError", "count"),
    (
        "genesys_conversation_state_transition_errors_total",
        "nStateTransitionError",
        "count",
    ),
    ("genesys_conversations_abandoned_total", "tAbandon", "count"),
    (
        "genesys_conversation_abandon_seconds_total",
        "tAbandon",
        "sum",
    ),
    ("genesys_conversations_answered_total", "tAnswered", "count"),
    (
        "genesys_conversation_answer_seconds_total",
        "tAnswered",
        "sum",
    ),
    ("genesys_conversations_handled_total", "tHandle", "count"),
    (
        "genesys_conversation_handle_seconds_total",
        "tHandle",
        "sum",
    ),
    ("genesys_conversation_wait_seconds_total", "tWait", "sum"),
    ("genesys_conversation_talk_seconds_total", "tTalk", "sum"),
    ("genesys_conversation_hold_seconds_total", "tHeld", "sum"),
    (
        "genesys_conversation_after_call_work_seconds_total",
        "tAcw",
        "sum",
    ),
    (
        "genesys_conversations_service_level_numerator_total",
        "oServiceLevel",
        "numerator",
    ),
    (
        "genesys_conversations_service_level_denominator_total",
        "oServiceLevel",
        "denominator",
    ),
];

pub fn counter_mismatches(scrape: &Scrape, truth: &Value, media_types: &[String]) -> Vec<String> {
    mismatches_by_group(scrape, truth, media_types, &[])
}

/// Like [`counter_mismatches`] with the counters split by `directions`: each series carries
/// a `direction` label and equals that direction's totals.
pub fn counter_mismatches_by_direction(
    scrape: &Scrape,
    truth: &Value,
    media_types: &[String],
    directions: &[&str],
) -> Vec<String> {
    mismatches_by_group(scrape, truth, media_types, directions)
}

fn mismatches_by_group(
    scrape: &Scrape,
    truth: &Value,
    media_types: &[String],
    directions: &[&str],
) -> Vec<String> {
    let groups: Vec<Option<&str>> = if directions.is_empty() {
        vec![None]
    } else {
        directions.iter().copied().map(Some).collect()
    };
    let mut wrong = Vec::new();
    for queue in truth["queues"].as_array().expect("truth lists queues") {
        let (id, name) = (
            queue["id"].as_str().unwrap(),
            queue["name"].as_str().unwrap(),
        );
        for media in media_types {
            for direction in &groups {
                let totals = match direction {
                    None => &queue["totals"][media],
                    Some(direction) => &queue["totalsByDirection"][media][direction],
                };
                // NB: once the truth has totals for the group, the exporter must show every
                // counter of it (a series that never moved shows 0); before, none may be
                // shown above 0, and an absent one reads as 0.
                let counted = totals.is_object();
                for (counter, metric, statistic) in COUNTERS {
                    let raw = count(&totals[metric][statistic]);
                    let want = if *statistic == "sum" {
                        raw / 1000.0
                    } else {
                        raw
                    };
                    let mut labels = vec![
                        ("queue_id", id),
                        ("queue", name),
                        ("media_type", media.as_str()),
                    ];
                    labels.extend(direction.map(|d| ("direction", d)));
                    let got = scrape.get(counter, &labels);
                    let absent = got.is_none() && counted;
                    if absent || (got.unwrap_or(0.0) - want).abs() > 1e-6 {
                        wrong.push(format!("{} = {got:?}, truth {want}", key(counter, &labels)));
                    }
                }
            }
        }
    }
    wrong
}

/// `truth` with the `baseline`'s totals taken off: what an exporter that took its baseline
/// then has counted since.
pub fn since_baseline(truth: &Value, baseline: &Value) -> Value {
    let mut out = truth.clone();
    let base_queues = baseline["queues"].as_array().cloned().unwrap_or_default();
    for queue in out["queues"].as_array_mut().into_iter().flatten() {
        let Some(base) = base_queues.iter().find(|q| q["id"] == queue["id"]) else {
            continue;
        };
        for (media, metrics) in queue["totals"].as_object_mut().into_iter().flatten() {
            take_off(metrics, &base["totals"][media]);
        }
        let by_direction = queue["totalsByDirection"].as_object_mut();
        for (media, directions) in by_direction.into_iter().flatten() {
            for (direction, metrics) in directions.as_object_mut().into_iter().flatten() {
                take_off(metrics, &base["totalsByDirection"][media][direction]);
            }
        }
    }
    out
}

/// `metrics` (metric → statistic → value) less the same in `before`.
fn take_off(metrics: &mut Value, before: &Value) {
    for (metric, stats) in metrics.as_object_mut().into_iter().flatten() {
        for (statistic, value) in stats.as_object_mut().into_iter().flatten() {
            *value = serde_json::json!(count(value) - count(&before[metric][statistic]));
        }
    }
}

pub fn total_offered(truth: &Value) -> f64 {
    total(truth, "nOffered", "count")
}

/// `metric`'s `statistic` (`count`, `sum`, `numerator`, …) summed over every queue and media.
pub fn total(truth: &Value, metric: &str, statistic: &str) -> f64 {
    truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["totals"].as_object().into_iter().flat_map(|m| m.values()))
        .map(|media| count(&media[metric][statistic]))
        .sum()
}

pub async fn check_against_truth(
    harness: &Harness,
    media_types: &[String],
    mismatches: fn(&Scrape, &Value, &[String]) -> Vec<String>,
) -> Result<(), String> {
    let mut truth = harness.truth().await;
    if let Some(baseline) = &harness.baseline {
        truth = since_baseline(&truth, baseline);
    }
    let scrape = harness.scrape().await;
    let wrong = mismatches(&scrape, &truth, media_types);
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} mismatches, first: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        ))
    }
}

const SYSTEM_PRESENCES: [&str; 10] = [
    "AVAILABLE",
    "AWAY",
    "BUSY",
    "OFFLINE",
    "IDLE",
    "ON_QUEUE",
    "MEAL",
    "TRAINING",
    "MEETING",
    "BREAK",
];

/// Unix seconds of a truth instant.
fn instant_seconds(value: &Value) -> Option<f64> {
    let text = value.as_str()?;
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(at.timestamp_millis() as f64 / 1000.0)
}

/// Every mismatch between the agent series in `scrape` and each agent of `truth`: the two
/// state sets (exactly one at 1, the truth's), both since-instants, the presence's label, and
/// the agent's info; then, per queue, the members in each routing status summed over its
/// agents against `genesys_queue_users`.
pub fn agent_mismatches(scrape: &Scrape, truth: &Value, _media_types: &[String]) -> Vec<String> {
    let mut wrong = Vec::new();
    let agents = truth["agents"].as_array().expect("truth lists agents");
    let watched = scrape.sum("genesys_agent_info");
    if watched != agents.len() as f64 {
        wrong.push(format!("{watched} agents exported, truth {}", agents.len()));
    }
    let mut expect = |name: &str, labels: &[(&str, &str)], want: f64| {
        let got = scrape.get(name, labels);
        if got.is_none_or(|got| (got - want).abs() > 1e-6) {
            wrong.push(format!("{} = {got:?}, truth {want}", key(name, labels)));
        }
    };
    for agent in agents {
        let id = agent["id"].as_str().unwrap();
        let user = ("user_id", id);
        let status = agent["routingStatus"].as_str().unwrap();
        for s in STATUSES {
            let on = f64::from(u8::from(s == status));
            expect(
                "genesys_agent_routing_status",
                &[user, ("routing_status", s)],
                on,
            );
        }
        let system = agent["systemPresence"].as_str().unwrap();
        for p in SYSTEM_PRESENCES {
            let on = f64::from(u8::from(p == system));
            expect(
                "genesys_agent_system_presence",
                &[user, ("system_presence", p)],
                on,
            );
        }
        let since = instant_seconds(&agent["routingStatusSince"]).unwrap();
        expect(
            "genesys_agent_routing_status_since_timestamp_seconds",
            &[user],
            since,
        );
        let since = instant_seconds(&agent["presenceSince"]).unwrap();
        expect(
            "genesys_agent_presence_since_timestamp_seconds",
            &[user],
            since,
        );
        let (label, _) = presence_labels(truth, agent["presenceId"].as_str().unwrap());
        let labels = [
            user,
            ("presence", label.as_str()),
            ("system_presence", system),
        ];
        expect("genesys_agent_presence_info", &labels, 1.0);
    }
    wrong.extend(members_by_status_mismatches(scrape, truth));
    wrong
}

/// Per queue and routing status: the agents the scrape shows in it, by their truth queue,
/// against the queue's `genesys_queue_users`.
fn members_by_status_mismatches(scrape: &Scrape, truth: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    for queue in truth["queues"].as_array().expect("truth lists queues") {
        let id = queue["id"].as_str().unwrap();
        let name = queue["name"].as_str().unwrap();
        for status in STATUSES {
            let agents = (truth["agents"].as_array().unwrap().iter())
                .filter(|a| a["queueId"] == id)
                .filter_map(|a| {
                    let user = ("user_id", a["id"].as_str().unwrap());
                    let labels = [user, ("routing_status", status)];
                    scrape.get("genesys_agent_routing_status", &labels)
                })
                .sum::<f64>();
            let labels = [
                ("queue_id", id),
                ("queue", name),
                ("routing_status", status),
            ];
            let queue_users = scrape.get("genesys_queue_users", &labels);
            if queue_users != Some(agents) {
                wrong.push(format!(
                    "{}: {queue_users:?}, its agents in it {agents}",
                    key("genesys_queue_users", &labels)
                ));
            }
        }
    }
    wrong
}

/// Every agent's time-in-status counters against the truth's `timeInStatus` less `baseline`'s
/// (milliseconds, by metric and qualifier): each series the truth has time in, and no time in
/// any series the truth has none in.
pub fn agent_time_mismatches(scrape: &Scrape, truth: &Value, baseline: &Value) -> Vec<String> {
    agent_time_wrong(scrape, truth, baseline, |got, want| {
        (got - want).abs() > 1e-6
    })
}

/// The time-in-status counters (and their sum) above the truth since `baseline`: counted twice.
pub fn agent_time_excess(scrape: &Scrape, truth: &Value, baseline: &Value) -> Vec<String> {
    agent_time_wrong(scrape, truth, baseline, |got, want| got > want + 1e-6)
}

/// The series, and the sum of them all, for which `wrong(got, want)` in seconds.
fn agent_time_wrong(
    scrape: &Scrape,
    truth: &Value,
    baseline: &Value,
    wrong: fn(f64, f64) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    let before = |id: &str, metric: &str, qualifier: &str| {
        let agents = baseline["agents"].as_array().into_iter().flatten();
        let agent = agents.into_iter().find(|a| a["id"] == id);
        agent.map_or(0.0, |a| count(&a["timeInStatus"][metric][qualifier]))
    };
    let mut expected_total = 0.0;
    for agent in truth["agents"].as_array().expect("truth lists agents") {
        let id = agent["id"].as_str().unwrap();
        let metrics = agent["timeInStatus"].as_object().expect("time in status");
        for (metric, by_qualifier) in metrics {
            for (qualifier, ms) in by_qualifier.as_object().into_iter().flatten() {
                let want = (count(ms) - before(id, metric, qualifier)) / 1000.0;
                let (name, labels) = match metric.as_str() {
                    "tAgentRoutingStatus" => (
                        "genesys_agent_routing_status_seconds_total",
                        vec![("routing_status", qualifier.clone())],
                    ),
                    "tSystemPresence" => (
                        "genesys_agent_system_presence_seconds_total",
                        vec![("system_presence", qualifier.clone())],
                    ),
                    _ => {
                        let (label, system) = presence_labels(truth, qualifier);
                        let labels = vec![("presence", label), ("system_presence", system)];
                        ("genesys_agent_presence_seconds_total", labels)
                    }
                };
                let mut labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                labels.push(("user_id", id));
                let got = scrape.get(name, &labels).unwrap_or(0.0);
                expected_total += want;
                if wrong(got, want) {
                    found.push(format!("{} = {got}, truth {want}", key(name, &labels)));
                }
            }
        }
    }
    let exported: f64 = [
        "genesys_agent_routing_status_seconds_total",
        "genesys_agent_system_presence_seconds_total",
        "genesys_agent_presence_seconds_total",
    ]
    .iter()
    .map(|name| scrape.sum(name))
    .sum();
    // NB: also catches time in a series the truth has none in.
    if wrong(exported, expected_total) && (exported - expected_total).abs() > 1e-3 {
        found.push(format!(
            "{exported} s of time in status exported in all, truth {expected_total} s"
        ));
    }
    found
}

/// (name, labels) → value.
pub type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

/// Each series of the flows' and the data actions' counters and the value the truth says it
/// should show since `baseline` (traffic paused, nothing inside the reporting lag).
pub fn flow_and_action_series(truth: &Value, baseline: &Value) -> Series {
    let mut want = BTreeMap::new();
    for (side, sign) in [(truth, 1.0), (baseline, -1.0)] {
        for flow in side["flows"]["flows"].as_array().unwrap() {
            let id = flow["flow"]["id"].as_str().unwrap();
            let measured =
                ["INBOUNDCALL", "INBOUNDCHAT"].contains(&flow["flow"]["type"].as_str().unwrap());
            if !measured {
                continue;
            }
            for group in flow["groups"].as_array().unwrap() {
                let dims = &group["group"];
                let text = |k: &str| dims[k].as_str().unwrap_or("").to_owned();
                let metrics = &group["metrics"];
                let own = ("flow_id".to_owned(), id.to_owned());
                let mut add = |name: &str, labels: Vec<(String, String)>, value: f64| {
                    let mut labels: Vec<(String, String)> =
                        labels.into_iter().filter(|(_, v)| !v.is_empty()).collect();
                    labels.push(own.clone());
                    labels.sort();
                    *want.entry((name.to_owned(), labels)).or_insert(0.0) += sign * value;
                };
                let count = |m: &str| metrics[m]["count"].as_f64();
                if let Some(n) = count("nFlow") {
                    add("genesys_flow_entries_total", vec![], n);
                }
                if let Some(sum) = metrics["tFlow"]["sum"].as_f64() {
                    add("genesys_flow_seconds_total", vec![], sum / 1000.0);
                }
                let reason = ("exit_reason".to_owned(), text("exitReason"));
                if let Some(n) = count("tFlowExit") {
                    let transfer = ("transfer_type".to_owned(), text("transferType"));
                    add(
                        "genesys_flow_exits_total",
                        vec![reason.clone(), transfer],
                        n,
                    );
                }
                if let Some(n) = count("tFlowDisconnect") {
                    add("genesys_flow_disconnects_total", vec![reason], n);
                }
                if let Some(n) = count("nFlowOutcome") {
                    let result = match text("flowOutcomeValue").as_str() {
                        "SUCCESS" => "success",
                        _ => "failure",
                    };
                    let labels = vec![
                        ("flow_outcome_id".to_owned(), text("flowOutcomeId")),
                        ("result".to_owned(), result.to_owned()),
                    ];
                    add("genesys_flow_outcomes_total", labels, n);
                }
                if let Some(n) = count("nFlowMilestone") {
                    let milestone = ("flow_milestone_id".to_owned(), text("flowMilestoneId"));
                    add("genesys_flow_milestones_total", vec![milestone], n);
                }
            }
        }
    }
    add_actions(&mut want, truth, baseline);
    want.retain(|_, v| v.abs() > 1e-9);
    want
}

/// Each data action's executions and their time since `baseline`, into `want`.
fn add_actions(want: &mut Series, truth: &Value, baseline: &Value) {
    for (side, sign) in [(truth, 1.0), (baseline, -1.0)] {
        for action in side["actions"].as_array().unwrap() {
            let id = action["action"]["id"].as_str().unwrap();
            for result in action["executions"].as_array().unwrap() {
                let mut labels = vec![
                    ("action_id".to_owned(), id.to_owned()),
                    (
                        "response_status".to_owned(),
                        result["responseStatus"].as_str().unwrap().to_owned(),
                    ),
                ];
                if let Some(error) = result["errorType"].as_str() {
                    labels.push(("error_type".to_owned(), error.to_owned()));
                }
                labels.sort();
                let (count, sum) = (
                    result["count"].as_f64().unwrap(),
                    result["sum"].as_f64().unwrap(),
                );
                let executions = ("genesys_action_executions_total".to_owned(), labels.clone());
                *want.entry(executions).or_insert(0.0) += sign * count;
                let seconds = ("genesys_action_execution_seconds_total".to_owned(), labels);
                *want.entry(seconds).or_insert(0.0) += sign * sum / 1000.0;
            }
        }
    }
}
