use std::collections::BTreeMap;

use super::*;

#[test]
fn calculated_metric_values_are_written_as_integers_and_read_from_either() {
    let stats: Stats =
        serde_json::from_str(r#"{"calculatedMetricValue":1795672444500.0}"#).unwrap();
    assert_eq!(stats.calculated_metric_value, Some(1_795_672_444_500));
    let stats: Stats = serde_json::from_str(r#"{"calculatedMetricValue":1795672444500}"#).unwrap();
    let text = serde_json::to_string(&stats).unwrap();
    assert_eq!(text, r#"{"calculatedMetricValue":1795672444500}"#);
    let stats: Stats = serde_json::from_str(r#"{"count":3}"#).unwrap();
    assert_eq!(stats.calculated_metric_value, None);
}

/// One valid observation result per queue, with a count that may be hostile.
fn observation(queue: usize, count: &str) -> String {
    format!(
        r#"{{"group":{{"queueId":"q{queue}","mediaType":"voice"}},"data":[{{"metric":"oWaiting","stats":{{"count":{count}}}}}]}}"#
    )
}

/// One valid aggregates result per queue, with a count that may be hostile.
fn aggregate(queue: usize, count: &str) -> String {
    format!(
        r#"{{"group":{{"queueId":"q{queue}","mediaType":"voice"}},"data":[{{"interval":"2026-11-25T09:00:00.000Z/2026-11-25T09:30:00.000Z","metrics":[{{"metric":"nOffered","stats":{{"count":{count}}}}}]}}]}}"#
    )
}

/// A 100-queue body of `result`s, the queues in `bad` with a hostile count.
fn body(result: fn(usize, &str) -> String, bad: &BTreeMap<usize, usize>) -> String {
    let results: Vec<String> = (0..100)
        .map(|q| result(q, bad.get(&q).map_or("3", |h| HOSTILE[*h])))
        .collect();
    format!(r#"{{"results":[{}]}}"#, results.join(","))
}

const HOSTILE: &[&str] = &[
    "-1",
    "2.5",
    "\"7\"",
    "{\"nested\":[[[1]]]}",
    "[1,2]",
    "true",
    "18446744073709551616",
    "-9223372036854775809",
];

proptest::proptest! {
    /// However many results of a 100-queue batch carry a hostile count, exactly those are
    /// set aside by queue id and every other result parses.
    #[test]
    fn one_bad_field_costs_only_its_result(
        bad in proptest::collection::btree_map(0usize..100, 0..HOSTILE.len(), 0..10),
    ) {
        let observations: QueueObservationQueryResponse =
            serde_json::from_str(&body(observation, &bad)).unwrap();
        let aggregates: ConversationAggregateQueryResponse =
            serde_json::from_str(&body(aggregate, &bad)).unwrap();
        let expected: Vec<Option<String>> = bad.keys().map(|q| Some(format!("q{q}"))).collect();
        proptest::prop_assert_eq!(observations.results.len(), 100 - bad.len());
        proptest::prop_assert_eq!(&observations.malformed, &expected);
        proptest::prop_assert_eq!(aggregates.results.len(), 100 - bad.len());
        proptest::prop_assert_eq!(&aggregates.malformed, &expected);
    }

    /// Arbitrary bytes are an error or a value, never a panic.
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = serde_json::from_slice::<QueueObservationQueryResponse>(&body);
        let _ = serde_json::from_slice::<ConversationAggregateQueryResponse>(&body);
    }
}

#[test]
fn a_result_nested_past_the_parser_s_depth_costs_only_itself() {
    let deep = format!("{}1{}", "[".repeat(1_000), "]".repeat(1_000));
    let body = format!(
        r#"{{"results":[{},{}]}}"#,
        observation(0, &deep),
        observation(1, "3")
    );
    let response: QueueObservationQueryResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(response.results.len(), 1);
    assert_eq!(response.malformed, [Some("q0".to_owned())]);
}
