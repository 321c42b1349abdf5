use std::sync::Arc;

use super::*;
use crate::aggregates::ConversationTotals;
use crate::aggregates::test_support::{sample, support_metrics};
use crate::genesys::model::AggregateDataContainer;
use crate::genesys::time::parse_instant;
use crate::metrics::{ConversationGroup, Metrics};

const HALF_HOUR: Duration = Duration::from_secs(1800);
const WINDOW: Duration = Duration::from_secs(7200);
const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";
const B1000: &str = "2026-11-25T10:00:00.000Z/2026-11-25T10:30:00.000Z";
const OFFERED: &str =
    r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"}"#;

fn at(text: &str) -> DateTime<Utc> {
    parse_instant(text).unwrap()
}

fn identity() -> Identity {
    Identity::new(
        "client",
        "https://api.example.com",
        HALF_HOUR,
        &ConversationCounter::ALL,
    )
}

fn store(dir: &Path) -> StateStore {
    StateStore::open(dir, identity(), WINDOW).unwrap()
}

fn ledger() -> Ledger {
    Ledger::new(HALF_HOUR, ConversationCounter::ALL.to_vec())
}

fn offered(interval: &str, n: u64) -> AggregateDataContainer {
    serde_json::from_value(serde_json::json!({
        "group": {"queueId": "q1", "mediaType": "voice"},
        "data": [{"interval": interval, "metrics": [{"metric": "nOffered", "stats": {"count": n}}]}]
    }))
    .unwrap()
}

fn metrics() -> Arc<Metrics> {
    support_metrics(&["voice"])
}

fn watched_ledger() -> Ledger {
    let mut ledger = ledger();
    ledger.watch(&["q1".into()], at("2026-11-25T09:40:00.000Z"));
    let data = offered(B0930, 12).data;
    ledger.fold("q1", "voice", &data);
    ledger.establish(&["q1".into()]);
    ledger.fold("q1", "voice", &offered(B1000, 3).data);
    ledger.forget_before(at("2026-11-25T08:00:00.000Z"));
    ledger
}

#[test]
fn a_saved_ledger_loads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let saved = watched_ledger();
    let now = at("2026-11-25T10:10:00.000Z");
    store.write(&store.encode(&saved, now)).unwrap();
    let mut loaded = ledger();
    store.load_into(&mut loaded, now).unwrap();
    assert_eq!(loaded, saved);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("ledger.json")]);
}

/// Loads what `bytes` leave in a fresh store, at 10:10.
fn load_bytes(bytes: &[u8]) -> Result<(), LoadError> {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    std::fs::write(store.path(), bytes).unwrap();
    store.load_into(&mut ledger(), at("2026-11-25T10:10:00.000Z"))
}

fn saved_bytes(identity: Identity, saved_at: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path(), identity, WINDOW).unwrap();
    store.encode(&watched_ledger(), at(saved_at))
}

#[test]
fn missing_unreadable_truncated_and_corrupt_states_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let now = at("2026-11-25T10:10:00.000Z");
    assert_eq!(
        store.load_into(&mut ledger(), now).unwrap_err().as_str(),
        "missing"
    );
    std::fs::create_dir(store.path()).unwrap();
    assert_eq!(
        store.load_into(&mut ledger(), now).unwrap_err().as_str(),
        "unreadable"
    );

    let good = saved_bytes(identity(), "2026-11-25T10:05:00.000Z");
    assert!(load_bytes(&good).is_ok());
    let cut = &good[..good.len() / 2];
    assert_eq!(load_bytes(cut).unwrap_err().as_str(), "truncated");
    assert_eq!(load_bytes(b"").unwrap_err().as_str(), "truncated");
    assert_eq!(load_bytes(b"\x00garbage").unwrap_err().as_str(), "corrupt");
    let text = String::from_utf8(good.clone()).unwrap();
    for corrupt in [
        text.replace("\"version\":1", "\"version\":7"),
        text.replace(
            "\"marks\":{\"genesys_conversations_offered_total\"",
            "\"marks\":{\"no_such_counter\"",
        ),
        text.replace(":12.0", ":-12.0"),
        text.replace("\"queues\":{\"q1\"", "\"queues\":{\"q9\""),
    ] {
        assert_ne!(corrupt, text, "the replacement applies");
        assert_eq!(
            load_bytes(corrupt.as_bytes()).unwrap_err().as_str(),
            "corrupt",
            "{corrupt}"
        );
    }
}

#[test]
fn marks_split_by_direction_load_back_under_their_direction() {
    let dir = tempfile::tempdir().unwrap();
    let directed = identity().with_directions(&["outbound".into(), "inbound".into()]);
    let store = StateStore::open(dir.path(), directed, WINDOW).unwrap();
    let mut saved = ledger();
    saved.watch(&["q1".into()], at("2026-11-25T09:40:00.000Z"));
    saved.establish(&["q1".into()]);
    for (direction, n) in [("inbound", 5), ("outbound", 2)] {
        let group = ConversationGroup {
            media_type: "voice",
            direction: Some(direction),
        };
        saved.fold("q1", group, &offered(B1000, n).data);
    }
    let now = at("2026-11-25T10:10:00.000Z");
    let bytes = store.encode(&saved, now);
    assert!(String::from_utf8_lossy(&bytes).contains(r#""direction":"outbound""#));
    store.write(&bytes).unwrap();
    let mut loaded = ledger();
    store.load_into(&mut loaded, now).unwrap();
    assert_eq!(loaded, saved);
    let undirected = StateStore::open(dir.path(), identity(), WINDOW).unwrap();
    let refused = undirected.load_into(&mut ledger(), now).unwrap_err();
    assert_eq!(refused.as_str(), "foreign", "{refused}");
}

#[test]
fn a_state_of_other_settings_or_the_wrong_age_is_refused() {
    let saved = "2026-11-25T10:05:00.000Z";
    let other = |f: fn(&mut Identity)| {
        let mut identity = identity();
        f(&mut identity);
        load_bytes(&saved_bytes(identity, saved)).unwrap_err()
    };
    for (error, key) in [
        (other(|i| i.client_id = "someone-else".into()), "client_id"),
        (
            other(|i| i.api_base_url = "https://api.mypurecloud.ie".into()),
            "api_base_url",
        ),
        (
            other(|i| i.granularity_seconds = 900),
            "aggregates.granularity",
        ),
        (
            other(|i| {
                i.counters.pop();
            }),
            "aggregates.metrics",
        ),
        (
            other(|i| i.directions = vec!["inbound".into()]),
            "directions",
        ),
    ] {
        assert_eq!(error.as_str(), "foreign");
        assert!(error.to_string().contains(key), "{error}");
    }
    let future = load_bytes(&saved_bytes(identity(), "2026-11-25T10:20:00.000Z"));
    assert_eq!(future.unwrap_err().as_str(), "future");
    let slightly_ahead = load_bytes(&saved_bytes(identity(), "2026-11-25T10:10:30.000Z"));
    assert!(slightly_ahead.is_ok(), "a little clock skew is tolerated");
    let old = load_bytes(&saved_bytes(identity(), "2026-11-25T08:09:00.000Z"));
    assert_eq!(old.unwrap_err().as_str(), "expired");
}

#[test]
fn a_directory_that_cannot_hold_the_state_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    assert!(StateStore::open(&file.join("state"), identity(), WINDOW).is_err());
}

#[tokio::test]
async fn after_a_restart_with_state_the_downtime_is_counted_once_and_without_it_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::new(
        "client",
        "https://api.example.com",
        HALF_HOUR,
        &ConversationCounter::ALL,
    );
    let open = || StateStore::open(dir.path(), identity.clone(), WINDOW).unwrap();
    let ids = ["q1".to_owned()];
    let start = at("2026-11-25T09:40:00.000Z");

    // First life: 12 in the window at start (baseline), 3 more while running.
    let first_metrics = metrics();
    let first = ConversationTotals::with_store(first_metrics.clone(), HALF_HOUR, open(), start);
    first.watch(&ids, start);
    first.fold(&offered(B0930, 12));
    first.establish(&ids);
    first.fold(&offered(B0930, 15));
    assert_eq!(
        sample(&first_metrics, OFFERED),
        Some(0.0),
        "shown only once saved"
    );
    first.save(at("2026-11-25T09:45:00.000Z")).await;
    assert_eq!(sample(&first_metrics, OFFERED), Some(3.0));

    // Down while 5 more happen; the second life counts exactly those.
    let restart = at("2026-11-25T09:50:00.000Z");
    let second_metrics = metrics();
    let second = ConversationTotals::with_store(second_metrics.clone(), HALF_HOUR, open(), restart);
    assert_eq!(
        sample(
            &second_metrics,
            "genesys_exporter_state_loads_total{result=\"loaded\"}"
        ),
        Some(1.0)
    );
    second.watch(&ids, restart);
    second.fold(&offered(B0930, 20));
    second.establish(&ids);
    second.save(restart).await;
    assert_eq!(sample(&second_metrics, OFFERED), Some(5.0));

    // Without state the window is a baseline: nothing is counted twice, nothing of the
    // downtime either.
    let stateless_metrics = metrics();
    let stateless = ConversationTotals::new(stateless_metrics.clone(), HALF_HOUR);
    stateless.watch(&ids, restart);
    stateless.fold(&offered(B0930, 20));
    stateless.establish(&ids);
    assert_eq!(
        sample(&stateless_metrics, OFFERED),
        Some(0.0),
        "a baseline counts nothing"
    );
    stateless.fold(&offered(B0930, 21));
    assert_eq!(sample(&stateless_metrics, OFFERED), Some(1.0));
}

#[tokio::test]
async fn an_ignored_state_is_counted_by_reason_and_gives_a_fresh_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    std::fs::write(store.path(), b"{\"format\":").unwrap();
    let metrics = metrics();
    let now = at("2026-11-25T10:10:00.000Z");
    let totals = ConversationTotals::with_store(metrics.clone(), HALF_HOUR, store, now);
    let loads = "genesys_exporter_state_loads_total{result=\"truncated\"}";
    assert_eq!(sample(&metrics, loads), Some(1.0));
    let ids = ["q1".to_owned()];
    totals.watch(&ids, now);
    totals.fold(&offered(B0930, 9));
    totals.establish(&ids);
    totals.save(now).await;
    assert_eq!(
        sample(&metrics, OFFERED),
        Some(0.0),
        "the window is a baseline"
    );
    let written = "genesys_exporter_state_writes_total{result=\"success\"}";
    assert_eq!(sample(&metrics, written), Some(1.0));
}
