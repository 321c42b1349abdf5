use std::time::Duration;

use tokio::time::timeout;

use super::*;
use crate::genesys::client::fake::{self, Scenario, queue};
use crate::vocabulary::listing::MonitoredSet;

const DEADLINE: Duration = Duration::from_secs(10);

fn selection(ids: &[&str], names: &[&str]) -> QueueSelection {
    QueueSelection {
        ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        names: names.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn org() -> std::sync::Arc<Scenario> {
    let scenario = Scenario::new();
    let mut no_division = queue("q-4", "Billing");
    no_division.division = None;
    *scenario.queues.lock().unwrap() = vec![
        queue("q-3", "Support FR"),
        queue("q-1", "Support EN"),
        queue("q-2", "Sales"),
        no_division,
        queue("q-0", "Support EN"),
    ];
    scenario
}

#[tokio::test]
async fn names_with_wildcards_and_ids_resolve_to_one_sorted_deduplicated_set() {
    let scenario = org();
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let wanted = selection(&["q-2", "q-1"], &["Support*", "billing"]);
    let queues = timeout(DEADLINE, resolve(&client, &wanted))
        .await
        .unwrap()
        .unwrap();
    let got: Vec<(&str, &str, &str)> = queues
        .iter()
        .map(|q| (q.id.as_str(), q.name.as_str(), q.division.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("q-4", "Billing", ""),
            ("q-2", "Sales", "Home"),
            ("q-0", "Support EN", "Home"),
            ("q-1", "Support EN", "Home"),
            ("q-3", "Support FR", "Home"),
        ]
    );
}

#[tokio::test]
async fn an_empty_selection_watches_every_queue_in_the_org_across_pages() {
    let scenario = Scenario::new().with_queues(205);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let queues = timeout(DEADLINE, resolve(&client, &QueueSelection::default()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queues.len(), 205);
    assert_eq!(queues[0].name, "Queue 000");
    assert_eq!(queues[204].name, "Queue 204");
    assert_eq!(scenario.count("GET /api/v2/routing/queues"), 3);
}

#[tokio::test]
async fn an_unknown_id_alone_is_a_one_line_error_naming_it() {
    let (client, _metrics) = fake::start(org()).await;
    let error = timeout(DEADLINE, resolve(&client, &selection(&["q-9"], &[])))
        .await
        .unwrap()
        .unwrap_err();
    let text = error.to_string();
    assert_eq!(error.kind(), "queue_not_found");
    assert!(text.contains(r#"queue id "q-9""#), "{text}");
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn queues_that_do_not_exist_leave_the_others_monitored() {
    let (client, _metrics) = fake::start(org()).await;
    let wanted = selection(&["q-9"], &["Sales", "Marketing*"]);
    let queues = timeout(DEADLINE, resolve(&client, &wanted))
        .await
        .unwrap()
        .unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["Sales"]);
}

#[tokio::test]
async fn any_mix_of_ids_names_and_patterns_costs_one_paged_listing() {
    let scenario = Scenario::new().with_queues(250);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let ids: Vec<String> = (0..120).map(|i| format!("q-{:03}", i * 2)).collect();
    let wanted = QueueSelection {
        ids,
        names: vec!["Queue 1*".into(), "queue 249".into(), "Nothing*".into()],
    };
    let queues = timeout(DEADLINE, resolve(&client, &wanted))
        .await
        .unwrap()
        .unwrap();
    // 120 even ids up to q-238, the 50 odd ones among Queue 100-199, and Queue 249.
    assert_eq!(queues.len(), 120 + 50 + 1);
    assert_eq!(
        scenario.count("GET /api/v2/routing/queues"),
        3,
        "three pages, nothing per id"
    );
    assert_eq!(scenario.count("GET /api/v2/routing/queues/"), 0);
}

fn labelled(id: &str, name: &str) -> QueueLabels {
    QueueLabels {
        id: id.into(),
        name: name.into(),
        division: "Home".into(),
    }
}

fn ids(queues: &[QueueLabels]) -> Vec<&str> {
    queues.iter().map(|q| q.id.as_str()).collect()
}

#[test]
fn a_queue_missing_from_listings_stays_for_the_grace_then_goes() {
    let mut set = MonitoredSet::new(2);
    let both = vec![labelled("a", "A"), labelled("b", "B")];
    assert_eq!(ids(&set.update(both.clone())), ["a", "b"]);
    let only_a = vec![labelled("a", "A")];
    assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"], "first miss");
    assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"], "second miss");
    assert_eq!(
        ids(&set.update(only_a.clone())),
        ["a"],
        "gone after the grace"
    );
    assert_eq!(ids(&set.update(both)), ["a", "b"], "back as a new queue");
    assert_eq!(ids(&set.update(only_a.clone())), ["a", "b"]);
    let renamed = vec![labelled("a", "A"), labelled("b", "Bee")];
    let now = set.update(renamed);
    assert_eq!(
        now[1].name, "Bee",
        "a reappearing queue takes its current labels"
    );
    assert_eq!(ids(&MonitoredSet::new(0).update(only_a)), ["a"]);
}

#[test]
fn wildcards_match_any_run_of_characters_case_insensitively() {
    assert!(name_matches("Support*", "support EN"));
    assert!(name_matches("*EN", "Support EN"));
    assert!(name_matches("S*p*t*", "Support EN"));
    assert!(name_matches("*", ""));
    assert!(name_matches("Sales", "sales"));
    assert!(!name_matches("Sales", "Sales EN"));
    assert!(!name_matches("*EN", "Support FR"));
    assert!(!name_matches("", "x"));
}
