//! The shipped Grafana dashboards, held to the conventions docs/alerts.md writes down
//! ("Dashboard conventions"): Grafana cannot run here, so they are right by construction,
//! checked panel by panel, and proven by queries on a real Prometheus (`end_to_end`,
//! `replicas`).

mod promql;
mod replicas;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::deploy::yaml;
use promql::Selector;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Every shipped dashboard: (file name, dashboard).
pub fn dashboards() -> Vec<(String, Value)> {
    let dir = repo("grafana/dashboards");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    assert!(found.len() >= 2, "the dashboards in {}", dir.display());
    found
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let dashboard =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            (name, dashboard)
        })
        .collect()
}

/// Every panel of `dashboard`, rows' nested panels included.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        all.push(panel);
        all.extend(panel["panels"].as_array().into_iter().flatten());
    }
    all
}

/// Every panel query of every dashboard, (dashboard, panel title, expression), variables
/// substituted as Grafana would with "All" selected and `range` as the dashboard's range.
pub fn panel_queries(range: &str) -> Vec<(String, String, String)> {
    panel_queries_of_job(range, ".*")
}

/// Like [`panel_queries`] with the `job` variable set to `job`.
pub fn panel_queries_of_job(range: &str, job: &str) -> Vec<(String, String, String)> {
    let mut queries = Vec::new();
    for (name, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = substituted(target["expr"].as_str().unwrap(), range, job);
                let title = panel["title"].as_str().unwrap().to_owned();
                queries.push((name.clone(), title, expr));
            }
        }
    }
    queries
}

/// `expr` as Grafana sends it with `job` chosen and every other variable at "All" (`.*`).
fn substituted(expr: &str, range: &str, job: &str) -> String {
    let mut expr = expr
        .replace("$__rate_interval", "1m")
        .replace("$__range", range)
        .replace("$__interval", "15s")
        .replace("$job", job);
    for variable in ["namespace", "shard", "queue", "media_type"] {
        expr = expr.replace(&format!("${variable}"), ".*");
    }
    assert!(!expr.contains('$'), "a variable left in {expr}");
    expr
}

/// The alert thresholds (genesys:threshold:* → value, per extra label set) from thresholds.yml.
pub fn thresholds() -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(repo("deploy/prometheus/rules/thresholds.yml")).unwrap();
    let doc = yaml::document(&text, "thresholds.yml");
    let mut found = BTreeMap::new();
    for rule in doc["groups"][0]["rules"].as_array().unwrap() {
        let expr = rule["expr"].as_str().unwrap();
        let value: f64 = expr
            .strip_prefix("vector(")
            .and_then(|v| v.strip_suffix(')'))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("threshold {expr} is vector(<number>)"));
        let mut name = rule["record"].as_str().unwrap().to_owned();
        if let Some(labels) = rule["labels"].as_object() {
            for (k, v) in labels {
                name.push_str(&format!("{{{k}={}}}", v.as_str().unwrap()));
            }
        }
        found.insert(name, value);
    }
    found
}

/// The runbook base every alert shares (deploy/prometheus/set-runbook-base.sh keeps it one).
fn runbook_base() -> String {
    let text = std::fs::read_to_string(repo("deploy/prometheus/rules/alerts.yml")).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("runbook_url: "))
        .expect("an alert with a runbook");
    url.split('#').next().unwrap().to_owned()
}

/// The series an alert judges against a fixed threshold, the threshold, and the least value
/// that crosses it (alerts fire *above* it; Grafana colours from a step *at* it).
struct Judged {
    series: &'static str,
    /// The label matcher that narrows `series` to what the alert judges, if any.
    matcher: Option<&'static str>,
    threshold: &'static str,
    alert: &'static str,
}

const JUDGED: &[Judged] = &[
    Judged {
        series: "genesys:queue_waiting:sum",
        matcher: None,
        threshold: "genesys:threshold:queue_waiting",
        alert: "GenesysQueueBacklog",
    },
    Judged {
        series: "genesys:queue_interactions:max",
        matcher: Some("state=\"waiting\""),
        threshold: "genesys:threshold:queue_waiting",
        alert: "GenesysQueueBacklog",
    },
    Judged {
        series: "genesys:queue_oldest_waiting_seconds:max",
        matcher: None,
        threshold: "genesys:threshold:oldest_waiting_seconds",
        alert: "GenesysQueueOldestWaitingTooLong",
    },
    Judged {
        series: "genesys:queue_abandon:ratio30m",
        matcher: None,
        threshold: "genesys:threshold:abandon_ratio",
        alert: "GenesysQueueAbandonRateHigh",
    },
    Judged {
        series: "genesys:queue_members_away:ratio",
        matcher: None,
        threshold: "genesys:threshold:queue_members_away_ratio",
        alert: "GenesysQueueWaitingWhileMembersAway",
    },
    Judged {
        series: "genesys:edge_resource_used:ratio",
        matcher: None,
        threshold: "genesys:threshold:edge_resource_ratio",
        alert: "GenesysEdgeResourcePressure",
    },
    Judged {
        series: "genesys:flow_outcome_failure:ratio30m",
        matcher: None,
        threshold: "genesys:threshold:flow_outcome_failure_ratio",
        alert: "GenesysFlowOutcomeFailing",
    },
    Judged {
        series: "genesys:action_error:ratio15m",
        matcher: None,
        threshold: "genesys:threshold:action_error_ratio",
        alert: "GenesysDataActionFailing",
    },
    Judged {
        series: "genesys:queue_conversation_errors:ratio30m",
        matcher: None,
        threshold: "genesys:threshold:conversation_error_ratio",
        alert: "GenesysQueueConversationErrors",
    },
];

/// The least value Grafana must colour as over `threshold` so that colour and alert agree: a
/// count crosses at the next whole number, anything else just above.
pub fn crossing(threshold: f64, unit: &str) -> f64 {
    match unit {
        "short" | "none" => threshold.floor() + 1.0,
        _ => threshold + threshold.abs().max(1.0) * 1e-6,
    }
}

/// Raw families of the domain (queue, agent, conversation series): replicas export them
/// alike, so a panel reads them deduplicated (`max`/`min` by labels without `instance`).
fn raw_domain(metric: &str) -> bool {
    [
        "genesys_queue_",
        "genesys_agent_",
        "genesys_conversation",
        "genesys_trunk_",
        "genesys_edge_",
        "genesys_flow_",
        "genesys_action_",
    ]
    .iter()
    .any(|p| metric.starts_with(p))
}

/// Series with a `queue` label, which the queue variable must narrow.
fn per_queue(metric: &str) -> bool {
    [
        "genesys_queue_",
        "genesys:queue_",
        "genesys_conversation",
        "genesys_exporter_queue_",
    ]
    .iter()
    .any(|p| metric.starts_with(p))
}

/// Series with a `media_type` label: the recording rules that keep it (read from
/// recording.yml) and the raw families that carry it.
fn media_typed() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo("deploy/prometheus/rules/recording.yml")).unwrap();
    let doc = yaml::document(&text, "recording.yml");
    let mut found: BTreeSet<String> = [
        "genesys_queue_interactions",
        "genesys_queue_oldest_waiting_seconds",
        "genesys_queue_service_level_target",
    ]
    .map(str::to_owned)
    .into();
    for group in doc["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let (Some(name), Some(expr)) = (rule["record"].as_str(), rule["expr"].as_str()) else {
                continue;
            };
            let keeps = expr
                .split_once("by (")
                .and_then(|(_, rest)| rest.split_once(')'))
                .is_some_and(|(labels, _)| labels.contains("media_type"));
            if keeps {
                found.insert(name.to_owned());
            }
        }
    }
    found
}

fn is_media_typed(metric: &str, typed: &BTreeSet<String>) -> bool {
    metric.starts_with("genesys_conversation") || typed.contains(metric)
}

/// Every way `dashboard` breaks the conventions, one line each.
fn findings(name: &str, dashboard: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut say = |what: String| found.push(format!("{name}: {what}"));
    let variables: BTreeMap<&str, &Value> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (v["name"].as_str().unwrap_or(""), v))
        .collect();
    match variables.get("datasource") {
        Some(v) if v["type"] == "datasource" && v["query"] == "prometheus" => {}
        _ => say("no Prometheus datasource variable".into()),
    }
    for scope in ["namespace", "job", "shard"] {
        match variables.get(scope) {
            Some(v) if v["multi"] == true && v["includeAll"] == true && v["allValue"] == ".*" => {}
            Some(_) => say(format!("variable {scope} is not multi with All as .*")),
            None => say(format!("no {scope} variable")),
        }
    }
    let refresh = dashboard["refresh"].as_str().unwrap_or("");
    if seconds(refresh).is_none_or(|s| s < 15.0) {
        say(format!("refresh {refresh:?} is faster than a 15 s scrape"));
    }
    let links = dashboard["links"].as_array().cloned().unwrap_or_default();
    let others: Vec<String> = dashboards_uids()
        .into_iter()
        .filter(|uid| dashboard["uid"].as_str() != Some(uid))
        .collect();
    for uid in &others {
        let linked = links
            .iter()
            .any(|l| l["url"].as_str().is_some_and(|u| u.contains(uid.as_str())));
        if !linked {
            say(format!("no link to the dashboard {uid}"));
        }
    }
    let annotated = dashboard["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["expr"].as_str().is_some_and(|e| e.contains("ALERTS")));
    if !annotated {
        say("firing alerts are not annotations".into());
    }
    let typed = media_typed();
    let thresholds = thresholds();
    let base = runbook_base();
    let mut titles = BTreeSet::new();
    for panel in panels(dashboard) {
        let title = panel["title"].as_str().unwrap_or("").to_owned();
        let kind = panel["type"].as_str().unwrap_or("");
        if kind == "row" || kind == "text" {
            continue;
        }
        if !titles.insert(title.clone()) {
            say(format!("{title:?}: a second panel of that title"));
        }
        found_in_panel(panel, &title, &typed, &thresholds, &base, &mut say);
    }
    found
}

fn found_in_panel(
    panel: &Value,
    title: &str,
    typed: &BTreeSet<String>,
    thresholds: &BTreeMap<String, f64>,
    base: &str,
    say: &mut impl FnMut(String),
) {
    let kind = panel["type"].as_str().unwrap_or("");
    let defaults = &panel["fieldConfig"]["defaults"];
    let unit = defaults["unit"].as_str().unwrap_or("");
    if unit.is_empty() {
        say(format!("{title:?}: no unit"));
    }
    if panel["datasource"]["uid"] != "${datasource}" {
        say(format!("{title:?}: not on the datasource variable"));
    }
    let value_panel = ["stat", "gauge", "bargauge", "table"].contains(&kind);
    let steps = all_steps(panel);
    if value_panel {
        let default = defaults["thresholds"]["steps"]
            .as_array()
            .is_none_or(|s| s.len() == 2 && s[1]["value"] == 80 && s[1]["color"] == "red");
        if default {
            say(format!(
                "{title:?}: Grafana's default thresholds (red at 80)"
            ));
        }
    }
    let all_media = format!("{title} {}", panel["description"].as_str().unwrap_or(""))
        .to_lowercase()
        .contains("all media");
    let mut reads = Vec::new();
    for target in panel["targets"].as_array().into_iter().flatten() {
        let expr = target["expr"].as_str().unwrap_or("");
        if target["datasource"]["uid"] != "${datasource}" {
            say(format!("{title:?}: a query not on the datasource variable"));
        }
        if value_panel && target["instant"] != true {
            say(format!("{title:?}: shows \"now\" from a range query"));
        }
        let selectors = promql::selectors(expr);
        for s in &selectors {
            selector_findings(s, title, all_media, typed, say);
        }
        for (ratio, guard) in [
            (
                "genesys:queue_abandon:ratio30m",
                "genesys:threshold:abandon_min_offered",
            ),
            (
                "genesys:queue_service_level:ratio30m",
                "genesys:threshold:service_level_min_conversations",
            ),
            (
                "genesys:flow_outcome_failure:ratio30m",
                "genesys:threshold:flow_outcome_min_results",
            ),
            (
                "genesys:action_error:ratio15m",
                "genesys:threshold:action_min_executions",
            ),
            (
                "genesys:queue_conversation_errors:ratio30m",
                "genesys:threshold:conversation_errors_min_offered",
            ),
        ] {
            if expr.contains(ratio) && !expr.contains(guard) {
                say(format!(
                    "{title:?}: {ratio} without its volume guard {guard}"
                ));
            }
        }
        reads.extend(selectors);
    }
    for judged in JUDGED {
        let reads_it = reads.iter().any(|s| {
            s.metric == judged.series && judged.matcher.is_none_or(|m| s.matchers.contains(m))
        });
        if !reads_it {
            continue;
        }
        // A table colours each column in its own unit (its overrides).
        let units = overridden(panel, "unit");
        let want = crossing(thresholds[judged.threshold], unit);
        let crossed = std::iter::once(unit)
            .chain(units.iter().filter_map(|u| u.as_str()))
            .map(|u| crossing(thresholds[judged.threshold], u))
            .any(|want| steps.iter().any(|v| (v - want).abs() < 1e-12));
        if !crossed {
            say(format!(
                "{title:?}: no threshold at {want} ({} in thresholds.yml, {} fires above it)",
                judged.threshold, judged.alert
            ));
        }
        let runbook = format!("{base}#{}", judged.alert.to_lowercase());
        let mut links = panel["links"].as_array().cloned().unwrap_or_default();
        for column in overridden(panel, "links") {
            links.extend(column.as_array().cloned().unwrap_or_default());
        }
        let linked = links.iter().any(|l| l["url"] == runbook.as_str());
        if !linked {
            say(format!("{title:?}: no link to the runbook {runbook}"));
        }
    }
    for step in &steps {
        let derived = thresholds.values().any(|t| {
            ["short", "s", "percentunit"]
                .iter()
                .any(|u| (crossing(*t, u) - step).abs() < 1e-12)
        });
        if !derived && ![0.0, 1.0].contains(step) {
            say(format!("{title:?}: threshold {step} is typed by hand"));
        }
    }
}

fn selector_findings(
    s: &Selector,
    title: &str,
    all_media: bool,
    typed: &BTreeSet<String>,
    say: &mut impl FnMut(String),
) {
    let metric = if s.metric.is_empty() {
        "{…}"
    } else {
        &s.metric
    };
    if metric.starts_with("genesys:threshold:") {
        return;
    }
    for scope in ["namespace", "job", "shard"] {
        if !s.filters(scope, &format!("${scope}")) {
            say(format!("{title:?}: {metric} ignores ${scope}"));
        }
    }
    if per_queue(metric) && !s.filters("queue", "$queue") {
        say(format!("{title:?}: {metric} ignores $queue"));
    }
    if is_media_typed(metric, typed) && !all_media && !s.filters("media_type", "$media_type") {
        say(format!(
            "{title:?}: {metric} ignores $media_type and the panel does not say it covers all media"
        ));
    }
    if raw_domain(metric) {
        // Deduplicated (max or min over replicas), or shown per replica (by instance).
        let deduplicated = s.aggregation.as_ref().is_some_and(|a| {
            let per_replica =
                a.by.as_ref()
                    .is_some_and(|by| by.iter().any(|l| l == "instance"));
            per_replica || (["max", "min"].contains(&a.op.as_str()) && a.by.is_some())
        });
        if !deduplicated {
            say(format!(
                "{title:?}: raw {metric} neither deduplicated over replicas (max or min by labels) nor per replica (by instance)"
            ));
        }
    }
}

/// The values of property `id` in a panel's field overrides.
fn overridden(panel: &Value, id: &str) -> Vec<Value> {
    let overrides = panel["fieldConfig"]["overrides"]
        .as_array()
        .into_iter()
        .flatten();
    overrides
        .flat_map(|o| o["properties"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["id"] == id)
        .map(|p| p["value"].clone())
        .collect()
}

/// Every threshold step value of a panel, its overrides' included.
fn all_steps(panel: &Value) -> Vec<f64> {
    let mut values = Vec::new();
    let mut take = |thresholds: &Value| {
        for step in thresholds["steps"].as_array().into_iter().flatten() {
            if let Some(v) = step["value"].as_f64() {
                values.push(v);
            }
        }
    };
    take(&panel["fieldConfig"]["defaults"]["thresholds"]);
    for o in panel["fieldConfig"]["overrides"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for p in o["properties"].as_array().into_iter().flatten() {
            if p["id"] == "thresholds" {
                take(&p["value"]);
            }
        }
    }
    values
}

fn dashboards_uids() -> Vec<String> {
    dashboards()
        .iter()
        .map(|(_, d)| d["uid"].as_str().unwrap().to_owned())
        .collect()
}

/// "30s", "1m" as seconds.
fn seconds(text: &str) -> Option<f64> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    match unit {
        "s" => Some(n),
        "m" => Some(n * 60.0),
        "h" => Some(n * 3600.0),
        _ => None,
    }
}

#[test]
fn every_panel_of_every_shipped_dashboard_keeps_the_conventions() {
    let mut all = Vec::new();
    for (name, dashboard) in dashboards() {
        all.extend(findings(&name, &dashboard));
    }
    for line in &all {
        println!("{line}");
    }
    assert!(
        all.is_empty(),
        "{} findings:\n{}",
        all.len(),
        all.join("\n")
    );
}

/// The dashboards are what grafana/generate.py writes from thresholds.yml and the runbook base.
#[test]
fn the_dashboards_are_what_their_generator_writes() {
    let output = std::process::Command::new("python3")
        .arg(repo("grafana/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_lint_finds_what_it_is_for() {
    let bad = serde_json::json!({
        "uid": "x", "refresh": "10s", "links": [], "annotations": {"list": []},
        "templating": {"list": []},
        "panels": [
            {"type": "stat", "title": "Waiting", "datasource": {"uid": "prom"},
             "fieldConfig": {"defaults": {"thresholds": {"steps": [
                 {"color": "green", "value": null}, {"color": "red", "value": 80}]}}},
             "targets": [{"expr": "sum(genesys_queue_interactions{state=\"waiting\"})",
                          "datasource": {"uid": "prom"}}]},
            {"type": "stat", "title": "Waiting", "datasource": {"uid": "${datasource}"},
             "fieldConfig": {"defaults": {"unit": "short", "thresholds": {"steps": [
                 {"color": "green", "value": null}, {"color": "red", "value": 10}]}}},
             "targets": [{"expr": "genesys:queue_waiting:sum{namespace=~\"$namespace\", job=~\"$job\", shard=~\"$shard\", queue=~\"$queue\"} / genesys:queue_abandon:ratio30m", "instant": true,
                          "datasource": {"uid": "${datasource}"}}]}
        ]
    });
    let found = findings("bad.json", &bad).join("\n");
    for expected in [
        "no Prometheus datasource variable",
        "no job variable",
        "faster than a 15 s scrape",
        "firing alerts are not annotations",
        "\"Waiting\": no unit",
        "Grafana's default thresholds",
        "shows \"now\" from a range query",
        "genesys_queue_interactions ignores $job",
        "genesys_queue_interactions ignores $media_type",
        "raw genesys_queue_interactions neither deduplicated",
        "a second panel of that title",
        "no threshold at 11",
        "threshold 10 is typed by hand",
        "without its volume guard",
        "no link to the runbook",
        "genesys:queue_abandon:ratio30m ignores $namespace",
    ] {
        assert!(found.contains(expected), "{expected:?} not in:\n{found}");
    }
}
