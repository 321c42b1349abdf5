//! Version 3 against version 2: what each loads, and what each weighs.

use serde_json::{Value, json};

use super::encode_v2;
use super::{at, identity, ledger, watched_ledger};
use crate::aggregates::ledger::ConversationKey;
use crate::aggregates::state::*;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup, Statistic};

/// What the release before version 3 wrote for `watched_ledger` at 10:05.
const VERSION_2: &str = include_str!("testdata/v2-watched.json");
/// The same with directions, and a second queue watched without series.
const VERSION_2_DIRECTED: &str = include_str!("testdata/v2-directed.json");
const NOW: &str = "2026-11-25T10:10:00.000Z";
const MEDIA: [&str; 5] = ["voice", "chat", "email", "message", "callback"];

/// A store of `identity` that is only read from bytes.
fn store_of(identity: Identity) -> StateStore {
    StateStore {
        path: PathBuf::new(),
        identity,
        window: Duration::from_secs(7200),
    }
}

fn directed() -> Identity {
    identity().with_directions(&["inbound".into(), "outbound".into()])
}

fn read(store: &StateStore, bytes: &[u8]) -> Result<Ledger, LoadError> {
    let mut ledger = ledger();
    store.read_into(bytes, &mut ledger, at(NOW))?;
    Ok(ledger)
}

#[test]
fn the_kept_version_2_writer_writes_what_version_2_wrote() {
    let bytes = encode_v2::encode(
        &identity(),
        &watched_ledger(),
        at("2026-11-25T10:05:00.000Z"),
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), VERSION_2);
}

#[test]
fn a_version_2_state_loads_into_the_same_ledger_as_its_version_3_rewrite() {
    for (identity, text) in [(identity(), VERSION_2), (directed(), VERSION_2_DIRECTED)] {
        let store = store_of(identity);
        let from_v2 = read(&store, text.as_bytes()).unwrap();
        assert!(from_v2.bucket_count() == 2 && !from_v2.totals.is_empty());
        let rewrite = store.encode(&from_v2, at(NOW));
        assert!(String::from_utf8_lossy(&rewrite).contains(r#""version":3,"#));
        assert_eq!(read(&store, &rewrite).unwrap(), from_v2);
    }
    let plain = read(&store_of(identity()), VERSION_2.as_bytes()).unwrap();
    assert_eq!(plain, watched_ledger());
}

/// A value that looks like upstream's for series `n`, counter `c`, bucket `b`, or none for
/// about half of them: counts are small, milliseconds run to millions.
fn upstream_value(n: usize, c: usize, b: usize, counter: ConversationCounter) -> Option<f64> {
    let h = (n * 2_654_435_761 + c * 40_503 + b * 97) % 1_000_003;
    let millis = counter.source().1 == Statistic::SumMillis;
    h.is_multiple_of(2)
        .then(|| (if millis { h * 37 % 20_000_000 } else { h % 200 }) as f64)
}

/// `queues` queues with ids as long as Genesys's, five media types, split by direction when
/// `directed`, five buckets of marks (the default window) and every series' total.
fn large_ledger(queues: usize, directed: bool) -> Ledger {
    let mut ledger = ledger();
    let since = at("2026-11-25T08:00:00.000Z");
    let ids: Vec<String> = (0..queues)
        .map(|q| format!("{q:08x}-6a1e-4c2b-9f3d-{:012x}", q * 7919))
        .collect();
    ledger.watch(&ids, since);
    ledger.establish(&ids);
    let parts: &[Option<&str>] = if directed {
        &[Some("inbound"), Some("outbound")]
    } else {
        &[None]
    };
    let keys: Vec<ConversationKey> = (ids.iter())
        .flat_map(|id| MEDIA.map(|media| (id, media)))
        .flat_map(|(id, media_type)| {
            (parts.iter()).map(|&direction| {
                let group = ConversationGroup {
                    media_type,
                    direction,
                };
                ConversationKey::new(id, group)
            })
        })
        .collect();
    let counters = super::RECORDED;
    for b in 0..5 {
        let marks = (keys.iter().enumerate()).map(|(n, key)| {
            let marks = (counters.iter().enumerate())
                .filter_map(|(c, &counter)| Some((counter, upstream_value(n, c, b, counter)?)));
            (key.clone(), marks.collect())
        });
        let start = since + TimeDelta::minutes(30 * b as i64);
        ledger.buckets.insert(start, marks.collect());
    }
    ledger.totals = (keys.into_iter().enumerate())
        .map(|(n, key)| {
            let values = (counters.iter().enumerate())
                .map(|(c, &counter)| upstream_value(n, c, 9, counter).unwrap_or(0.0))
                .collect();
            (
                key,
                SeriesTotal {
                    values,
                    shown: n % 3 != 0,
                },
            )
        })
        .collect();
    ledger
}

#[test]
fn a_large_ledger_as_version_3_is_at_most_a_third_of_version_2_and_loads_the_same() {
    for (identity, directed) in [(identity(), false), (directed(), true)] {
        let store = store_of(identity);
        let ledger = large_ledger(300, directed);
        let v2 = encode_v2::encode(&store.identity, &ledger, at(NOW));
        let v3 = store.encode(&ledger, at(NOW));
        assert!(
            v3.len() * 3 <= v2.len(),
            "directed {directed}: version 3 {} bytes, version 2 {} bytes",
            v3.len(),
            v2.len()
        );
        assert_eq!(read(&store, &v3).unwrap(), ledger);
        assert_eq!(read(&store, &v2).unwrap(), ledger);
    }
}

#[test]
fn fractions_and_amounts_beyond_2_to_the_53_load_back_exactly() {
    let store = store_of(identity());
    let mut ledger = watched_ledger();
    let key = ConversationKey::new("q1", ConversationGroup::from("voice"));
    let total = ledger.totals.get_mut(&key).unwrap();
    total.values[0] = 0.1 + 0.2;
    total.values[1] = 2f64.powi(60) + 2f64.powi(10);
    total.values[2] = 2f64.powi(53);
    assert_eq!(
        read(&store, &store.encode(&ledger, at(NOW))).unwrap(),
        ledger
    );
}

/// The position of the offered counter in the identity's (and version 3's) order.
fn offered() -> usize {
    let names = identity().counters;
    (names.iter())
        .position(|name| name == "genesys_conversations_offered_total")
        .unwrap()
}

/// `watched_ledger` as version 3, changed by `change`, loaded.
fn load_changed(change: impl FnOnce(&mut Value)) -> Result<Ledger, LoadError> {
    let store = store_of(identity());
    let bytes = store.encode(&watched_ledger(), at("2026-11-25T10:05:00.000Z"));
    let mut state: Value = serde_json::from_slice(&bytes).unwrap();
    change(&mut state);
    read(&store, &serde_json::to_vec(&state).unwrap())
}

fn series(state: &mut Value) -> &mut Value {
    &mut state["buckets"][0]["series"][0]
}

fn array(value: &mut Value) -> &mut Vec<Value> {
    value.as_array_mut().unwrap()
}

#[test]
fn a_version_3_state_that_does_not_add_up_is_corrupt_and_says_why() {
    assert!(load_changed(|_| {}).is_ok());
    type Change = fn(&mut Value);
    let cases: [(Change, &str); 13] = [
        (
            |s| series(s)[0] = json!(1),
            "marks of queue #1, which is not watched (the state watches 1 queues)",
        ),
        (
            |s| s["totals"][0][0] = json!(7),
            "totals of queue #7, which is not watched",
        ),
        (
            |s| series(s)[1] = json!(1),
            "marks of group #1, which is not listed (the state lists 1 groups)",
        ),
        (
            |s| drop(array(&mut series(s)[2]).pop()),
            "marks of 19 counters, expected 20",
        ),
        (
            |s| array(&mut s["totals"][0][3]).push(json!(0)),
            "totals of 21 counters, expected 20",
        ),
        (
            |s| series(s)[2][offered()] = json!(-12),
            "mark genesys_conversations_offered_total = -12",
        ),
        (
            |s| s["totals"][0][3][offered()] = json!(-3.5),
            "total genesys_conversations_offered_total = -3.5",
        ),
        (
            |s| series(s)[0] = json!(-1),
            "series: invalid value: integer `-1`",
        ),
        (|s| drop(array(series(s)).pop()), "series: invalid length 2"),
        (
            |s| series(s)[2][offered()] = json!("12"),
            "series: invalid type",
        ),
        (
            |s| drop(s.as_object_mut().unwrap().remove("groups")),
            "no groups",
        ),
        (
            |s| drop(s.as_object_mut().unwrap().remove("totals")),
            "no totals",
        ),
        (|s| s["version"] = json!(4), "version 4"),
    ];
    for (change, why) in cases {
        let error = load_changed(change).unwrap_err();
        assert_eq!(error.as_str(), "corrupt", "{error}");
        assert!(error.to_string().contains(why), "{error} (expected: {why})");
    }
}

#[test]
fn a_non_finite_amount_is_corrupt() {
    let store = store_of(identity());
    let text = String::from_utf8(store.encode(&watched_ledger(), at(NOW))).unwrap();
    for (from, to) in [
        (",12,", ",1e999,"),
        (",3,0,0,0,0,0,0]", ",-1e999,0,0,0,0,0,0]"),
    ] {
        assert!(text.contains(from), "{text}");
        let error = read(&store, text.replacen(from, to, 1).as_bytes()).unwrap_err();
        assert_eq!(error.as_str(), "corrupt", "{error}");
    }
}

/// No byte of a state, changed to anything JSON gives meaning to, makes a load panic.
#[test]
fn no_change_to_a_state_makes_a_load_panic() {
    let store = store_of(directed());
    let bytes = store.encode(
        &read(&store, VERSION_2_DIRECTED.as_bytes()).unwrap(),
        at(NOW),
    );
    for at in 0..bytes.len() {
        for byte in *b"09-.,[]{}\"ne" {
            let mut changed = bytes.clone();
            changed[at] = byte;
            let _ = read(&store, &changed);
        }
        let _ = read(&store, &bytes[..at]);
    }
}

/// The median of five runs of `f`.
fn median_of_5(mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    runs.sort();
    runs[2]
}

/// Encoding and decoding both versions of one ledger of 5,000 queues with five media types
/// (BENCHMARKS.md): `cargo test --release --lib state::tests::format::timed -- --ignored
/// --nocapture`.
#[test]
#[ignore = "a measurement, to run in release"]
fn timed_at_5000_queues() {
    let store = store_of(identity());
    let ledger = large_ledger(5000, false);
    let v2 = encode_v2::encode(&store.identity, &ledger, at(NOW));
    let v3 = store.encode(&ledger, at(NOW));
    let encode_v2 = median_of_5(|| drop(encode_v2::encode(&store.identity, &ledger, at(NOW))));
    let encode_v3 = median_of_5(|| drop(store.encode(&ledger, at(NOW))));
    let decode_v2 = median_of_5(|| drop(read(&store, &v2).unwrap()));
    let decode_v3 = median_of_5(|| drop(read(&store, &v3).unwrap()));
    for (version, bytes, encode, decode) in [
        (2, &v2, encode_v2, decode_v2),
        (3, &v3, encode_v3, decode_v3),
    ] {
        eprintln!(
            "version {version}: {} bytes, encode {encode:?}, decode {decode:?}",
            bytes.len()
        );
    }
}
