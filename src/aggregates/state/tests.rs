use super::*;
use crate::aggregates::ConversationTotals;
use crate::aggregates::ledger::ConversationKey;
use crate::aggregates::test_support::{Support, sample, support_metrics};
use crate::genesys::model::AggregateDataContainer;
use crate::genesys::time::parse_instant;
use crate::metrics::Metrics;
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::counters::ConversationGroup;

const HALF_HOUR: Duration = Duration::from_secs(1800);
const WINDOW: Duration = Duration::from_secs(7200);
const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";
const B1000: &str = "2026-11-25T10:00:00.000Z/2026-11-25T10:30:00.000Z";
const OFFERED: &str =
    r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"}"#;

pub(super) fn at(text: &str) -> DateTime<Utc> {
    parse_instant(text).unwrap()
}

/// The counters the recorded states (`testdata`) were written with: all but the error counts,
/// added since (at the end of [`ConversationCounter::ALL`]).
pub(super) const RECORDED: &[ConversationCounter] = ConversationCounter::ALL.split_at(20).0;

pub(super) fn identity() -> Identity {
    Identity::new("client", "https://api.example.com", HALF_HOUR, RECORDED)
}

fn store(dir: &Path) -> StateStore {
    StateStore::open(dir, identity(), WINDOW).unwrap()
}

pub(super) fn ledger() -> Ledger {
    Ledger::new(HALF_HOUR, RECORDED.to_vec())
}

fn offered(interval: &str, n: u64) -> AggregateDataContainer {
    serde_json::from_value(serde_json::json!({
        "group": {"queueId": "q1", "mediaType": "voice"},
        "data": [{"interval": interval, "metrics": [{"metric": "nOffered", "stats": {"count": n}}]}]
    }))
    .unwrap()
}

fn metrics() -> Support {
    support_metrics(&["voice"])
}

pub(super) fn watched_ledger() -> Ledger {
    let mut ledger = ledger();
    ledger.watch(&["q1".into()], at("2026-11-25T09:40:00.000Z"));
    let data = offered(B0930, 12).data;
    ledger.fold("q1", &ConversationGroup::from("voice"), &data);
    ledger.establish(&["q1".into()]);
    ledger.fold(
        "q1",
        &ConversationGroup::from("voice"),
        &offered(B1000, 3).data,
    );
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

/// [`saved_bytes`] as version 2 wrote them.
fn saved_bytes_v2(identity: Identity, saved_at: &str) -> Vec<u8> {
    encode_v2::encode(&identity, &watched_ledger(), at(saved_at))
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
    let text = String::from_utf8(saved_bytes_v2(identity(), "2026-11-25T10:05:00.000Z")).unwrap();
    assert!(load_bytes(text.as_bytes()).is_ok());
    for corrupt in [
        text.replace("\"version\":2", "\"version\":7"),
        text.replace(
            "\"marks\":{\"genesys_conversations_offered_total\"",
            "\"marks\":{\"no_such_counter\"",
        ),
        text.replace(":12.0", ":-12.0"),
        text.replace("\"queues\":{\"q1\"", "\"queues\":{\"q9\""),
        text.replace(
            "\"values\":{\"genesys_conversations_offered_total\":3.0",
            "\"values\":{\"genesys_conversations_offered_total\":-3.0",
        ),
        text.replace(
            "\"values\":{\"genesys_conversations_offered_total\"",
            "\"values\":{\"no_such_counter\"",
        ),
        text.replace(
            "\"totals\":[{\"queue\":\"q1\"",
            "\"totals\":[{\"queue\":\"q9\"",
        ),
        text.replace("\"buckets\":", "\"groups\":[],\"buckets\":"),
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
        saved.fold("q1", &group, &offered(B1000, n).data);
    }
    let now = at("2026-11-25T10:10:00.000Z");
    let bytes = store.encode(&saved, now);
    assert!(String::from_utf8_lossy(&bytes).contains(r#"["voice","outbound"]"#));
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
    let first = ConversationTotals::with_store(
        (&first_metrics, first_metrics.queues.clone()),
        HALF_HOUR,
        first_metrics.queues.counters().to_vec(),
        open(),
        start,
    );
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
    let second = ConversationTotals::with_store(
        (&second_metrics, second_metrics.queues.clone()),
        HALF_HOUR,
        second_metrics.queues.counters().to_vec(),
        open(),
        restart,
    );
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
    assert_eq!(
        sample(&second_metrics, OFFERED),
        Some(8.0),
        "resumed at the 3 shown, then the downtime's 5"
    );

    // Without state the window is a baseline: nothing is counted twice, nothing of the
    // downtime either.
    let stateless_metrics = metrics();
    let stateless = ConversationTotals::new(
        &stateless_metrics,
        stateless_metrics.queues.clone(),
        HALF_HOUR,
        stateless_metrics.queues.counters().to_vec(),
    );
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
    let totals = ConversationTotals::with_store(
        (&metrics, metrics.queues.clone()),
        HALF_HOUR,
        metrics.queues.counters().to_vec(),
        store,
        now,
    );
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

/// The value of `series` after two renders (so new series have shown their first values).
fn rendered(metrics: &Metrics, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    metrics.render(0);
    metrics.render(0);
    (metrics.render(0).lines())
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

const Q1: [&str; 1] = ["q1"];
const START: &str = "2026-11-25T09:40:00.000Z";

/// A first life on `dir`: a baseline of 12, then `offered_after` in the 09:30 bucket, saved at
/// 09:45; `scraped`: a render showed the series before the save.
async fn first_life(dir: &Path, offered_after: u64, scraped: bool) -> Support {
    let metrics = metrics();
    let ids = Q1.map(str::to_owned);
    let totals = ConversationTotals::with_store(
        (&metrics, metrics.queues.clone()),
        HALF_HOUR,
        metrics.queues.counters().to_vec(),
        store(dir),
        at(START),
    );
    totals.watch(&ids, at(START));
    totals.fold(&offered(B0930, 12));
    totals.establish(&ids);
    if scraped {
        metrics.render(0);
    }
    totals.fold(&offered(B0930, offered_after));
    totals.save(at("2026-11-25T09:45:00.000Z")).await;
    metrics
}

/// A second life on `dir` at 09:50 with `metrics`, through its first watch.
fn second_life(dir: &Path, metrics: &Support) -> ConversationTotals {
    let restart = at("2026-11-25T09:50:00.000Z");
    let totals = ConversationTotals::with_store(
        (metrics, metrics.queues.clone()),
        HALF_HOUR,
        metrics.queues.counters().to_vec(),
        store(dir),
        restart,
    );
    totals.watch(&Q1.map(str::to_owned), restart);
    totals
}

#[tokio::test]
async fn a_restart_right_after_a_save_resumes_every_counter_where_it_was_shown() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_life(dir.path(), 15, true).await;
    // The save showed 3, and the process ends before Prometheus scrapes again.
    assert_eq!(rendered(&first, OFFERED), Some(3.0));

    let metrics = metrics();
    let second = second_life(dir.path(), &metrics);
    assert_eq!(
        rendered(&metrics, OFFERED),
        Some(3.0),
        "no reset: the first scrape reads what the last process showed"
    );
    second.fold(&offered(B0930, 20));
    second.save(at("2026-11-25T09:50:01.000Z")).await;
    assert_eq!(rendered(&metrics, OFFERED), Some(8.0));
}

#[tokio::test]
async fn a_series_no_scrape_had_shown_resumes_through_its_zeros() {
    let dir = tempfile::tempdir().unwrap();
    first_life(dir.path(), 15, false).await;
    let metrics = metrics();
    let second = second_life(dir.path(), &metrics);
    assert_eq!(
        rendered(&metrics, OFFERED),
        Some(0.0),
        "Prometheus takes a series' first sample as its base"
    );
    assert_eq!(
        rendered(&metrics, OFFERED),
        Some(0.0),
        "its total waits until a save has recorded that the zeros were shown"
    );
    second.save(at("2026-11-25T09:50:01.000Z")).await;
    let mut saved = ledger();
    let key = ConversationKey::new("q1", ConversationGroup::from("voice"));
    let saved_at = at("2026-11-25T09:50:01.000Z");
    store(dir.path()).load_into(&mut saved, saved_at).unwrap();
    assert!(
        saved.is_shown(&key),
        "the state records that the zeros were shown"
    );
    assert_eq!(rendered(&metrics, OFFERED), Some(3.0));
}

#[tokio::test]
async fn a_state_written_before_totals_were_saved_loads_and_its_counters_start_at_0() {
    let dir = tempfile::tempdir().unwrap();
    first_life(dir.path(), 15, true).await;
    let path = dir.path().join("ledger.json");
    let mut saved = ledger();
    let saved_at = at("2026-11-25T09:45:00.000Z");
    store(dir.path()).load_into(&mut saved, saved_at).unwrap();
    let text = String::from_utf8(encode_v2::encode(&identity(), &saved, saved_at)).unwrap();
    let (before, _) = text.split_once(r#","totals":"#).unwrap();
    let version_1 = format!("{}}}", before.replace(r#""version":2"#, r#""version":1"#));
    std::fs::write(&path, version_1).unwrap();

    let metrics = metrics();
    let second = second_life(dir.path(), &metrics);
    let loaded = "genesys_exporter_state_loads_total{result=\"loaded\"}";
    assert_eq!(sample(&metrics, loaded), Some(1.0));
    second.fold(&offered(B0930, 20));
    second.establish(&Q1.map(str::to_owned));
    second.save(at("2026-11-25T09:50:01.000Z")).await;
    assert_eq!(rendered(&metrics, OFFERED), Some(0.0));
    second.save(at("2026-11-25T09:50:02.000Z")).await;
    assert_eq!(
        rendered(&metrics, OFFERED),
        Some(5.0),
        "the downtime's 5, from 0"
    );
}

#[tokio::test]
async fn a_foreign_or_expired_state_gives_counters_that_start_at_0_on_a_fresh_baseline() {
    for (identity, restart, reason) in [
        (
            Identity {
                client_id: "another-client".into(),
                ..identity()
            },
            "2026-11-25T09:50:00.000Z",
            "foreign",
        ),
        (identity(), "2026-11-25T12:00:00.000Z", "expired"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        first_life(dir.path(), 15, true).await;
        let metrics = metrics();
        let restart = at(restart);
        let store = StateStore::open(dir.path(), identity, WINDOW).unwrap();
        let totals = ConversationTotals::with_store(
            (&metrics, metrics.queues.clone()),
            HALF_HOUR,
            metrics.queues.counters().to_vec(),
            store,
            restart,
        );
        let loads = format!("genesys_exporter_state_loads_total{{result=\"{reason}\"}}");
        assert_eq!(sample(&metrics, &loads), Some(1.0), "{reason}");
        totals.watch(&Q1.map(str::to_owned), restart);
        totals.fold(&offered(B0930, 20));
        totals.establish(&Q1.map(str::to_owned));
        totals.save(restart).await;
        assert_eq!(sample(&metrics, OFFERED), Some(0.0), "{reason}: a baseline");
        totals.fold(&offered(B0930, 21));
        totals.save(restart).await;
        assert_eq!(sample(&metrics, OFFERED), Some(1.0), "{reason}");
    }
}

#[tokio::test]
async fn a_queue_that_leaves_and_returns_starts_again_at_0_and_its_totals_leave_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = first_life(dir.path(), 15, true).await;
    let totals = second_life(dir.path(), &metrics);
    let queue = crate::vocabulary::queue::QueueLabels {
        id: "q1".into(),
        name: "Support".into(),
        division: "Home".into(),
    };
    let later = at("2026-11-25T09:55:00.000Z");
    metrics.queues.set_queues(&[]);
    totals.watch(&[], later);
    totals.save(later).await;
    let text = std::fs::read_to_string(dir.path().join("ledger.json")).unwrap();
    assert!(text.contains(r#""totals":[]"#), "{text}");

    metrics.queues.set_queues(std::slice::from_ref(&queue));
    totals.watch(&Q1.map(str::to_owned), later);
    totals.fold(&offered(B0930, 20));
    totals.establish(&Q1.map(str::to_owned));
    totals.fold(&offered(B0930, 22));
    totals.save(later).await;
    assert_eq!(
        rendered(&metrics, OFFERED),
        Some(0.0),
        "a new baseline, and a new series at 0"
    );
    totals.save(later).await;
    assert_eq!(rendered(&metrics, OFFERED), Some(2.0));
}

#[tokio::test]
async fn a_queue_renamed_while_down_keeps_its_total_under_the_new_name() {
    let dir = tempfile::tempdir().unwrap();
    first_life(dir.path(), 15, true).await;
    let metrics = support_metrics(&["voice"]);
    metrics
        .queues
        .set_queues(&[crate::vocabulary::queue::QueueLabels {
            id: "q1".into(),
            name: "Helpdesk".into(),
            division: "Home".into(),
        }]);
    let totals = second_life(dir.path(), &metrics);
    totals.fold(&offered(B0930, 20));
    totals.save(at("2026-11-25T09:50:01.000Z")).await;
    let renamed =
        r#"genesys_conversations_offered_total{media_type="voice",queue="Helpdesk",queue_id="q1"}"#;
    let first = metrics.render(0);
    let first = first
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{renamed} ")));
    assert_eq!(
        first,
        Some("3"),
        "as a rename while running: the values stay"
    );
    assert_eq!(
        rendered(&metrics, renamed),
        Some(8.0),
        "then the downtime's 5"
    );
    assert_eq!(rendered(&metrics, OFFERED), None);
}

#[tokio::test]
async fn high_availability_replicas_each_resume_from_their_own_state() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    first_life(a.path(), 15, true).await;
    // Replica b started later: 13 in the window were its baseline.
    let b_metrics = metrics();
    let b_totals = ConversationTotals::with_store(
        (&b_metrics, b_metrics.queues.clone()),
        HALF_HOUR,
        b_metrics.queues.counters().to_vec(),
        store(b.path()),
        at(START),
    );
    b_totals.watch(&Q1.map(str::to_owned), at(START));
    b_totals.fold(&offered(B0930, 13));
    b_totals.establish(&Q1.map(str::to_owned));
    b_metrics.render(0);
    b_totals.fold(&offered(B0930, 15));
    b_totals.save(at("2026-11-25T09:45:00.000Z")).await;
    assert_eq!(rendered(&b_metrics, OFFERED), Some(2.0));

    for (dir, shown) in [(a.path(), 3.0), (b.path(), 2.0)] {
        let metrics = metrics();
        let totals = second_life(dir, &metrics);
        assert_eq!(rendered(&metrics, OFFERED), Some(shown), "its own total");
        totals.fold(&offered(B0930, 20));
        totals.save(at("2026-11-25T09:50:01.000Z")).await;
        assert_eq!(rendered(&metrics, OFFERED), Some(shown + 5.0));
    }
}

#[tokio::test]
async fn a_failed_write_shows_the_totals_and_removes_the_state_it_could_not_replace() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = first_life(dir.path(), 15, true).await;
    let totals = second_life(dir.path(), &metrics);
    // NB: as root no permission stops a write; a directory where the temporary file goes does.
    std::fs::create_dir(dir.path().join("ledger.json.tmp")).unwrap();
    totals.fold(&offered(B0930, 20));
    totals.save(at("2026-11-25T09:50:01.000Z")).await;
    let failed = "genesys_exporter_state_writes_total{result=\"failure\"}";
    assert_eq!(sample(&metrics, failed), Some(1.0));
    assert_eq!(sample(&metrics, OFFERED), Some(8.0), "shown anyway");
    assert!(
        !dir.path().join("ledger.json").exists(),
        "a state below the counters shown is worse than none"
    );
    std::fs::remove_dir(dir.path().join("ledger.json.tmp")).unwrap();
    assert!(totals.has_unsaved());
    totals.save(at("2026-11-25T09:50:02.000Z")).await;
    assert!(dir.path().join("ledger.json").exists(), "written again");
}

mod encode_v2;
mod format;
