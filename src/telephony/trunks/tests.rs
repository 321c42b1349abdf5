use std::sync::Arc;

use super::*;
use crate::metrics::Metrics;
use crate::vocabulary::telephony::TrunkLabels;

fn table() -> (Metrics, Arc<TrunkTable>) {
    let metrics = Metrics::new();
    let trunks = TrunkTable::register(&metrics);
    trunks.watch(&[TrunkLabels {
        id: "t1".into(),
        name: "Carrier \"A\"".into(),
        trunk_type: "EXTERNAL".into(),
        edge_id: "e1".into(),
        edge: "Edge 1".into(),
    }]);
    (metrics, trunks)
}

fn lines<'t>(text: &'t str, family: &str) -> Vec<&'t str> {
    let prefix = format!("{family}{{");
    text.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn a_trunk_shows_what_it_reports_and_nothing_it_does_not() {
    let (metrics, trunks) = table();
    let trunk: Trunk = serde_json::from_str(
        r#"{"id":"t1","name":"Carrier A","state":"active","inService":false,
            "optionsStatus":[{"proxyAddress":"p1:5061","optionState":false,
                              "optionStateTime":"2026-12-07T10:00:00.000Z"}]}"#,
    )
    .unwrap();
    trunks.listed(&trunk, 900.0);
    trunks.resynced("t1", None, 1_000.0);
    let text = metrics.render(0);
    assert_eq!(
        lines(&text, "genesys_trunk_info"),
        [
            r#"genesys_trunk_info{edge="Edge 1",edge_id="e1",trunk="Carrier \"A\"",trunk_id="t1",trunk_type="EXTERNAL"} 1"#
        ]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_state"),
        [
            r#"genesys_trunk_state{state="active",trunk_id="t1"} 1"#,
            r#"genesys_trunk_state{state="inactive",trunk_id="t1"} 0"#,
            r#"genesys_trunk_state{state="deleted",trunk_id="t1"} 0"#,
        ]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_in_service"),
        [r#"genesys_trunk_in_service{trunk_id="t1"} 0"#]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_proxy_options_up"),
        [r#"genesys_trunk_proxy_options_up{proxy="p1:5061",trunk_id="t1"} 0"#]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_proxy_options_since_timestamp_seconds"),
        [
            r#"genesys_trunk_proxy_options_since_timestamp_seconds{proxy="p1:5061",trunk_id="t1"} 1796637600"#
        ]
    );
    for absent in [
        "genesys_trunk_connected",
        "genesys_trunk_enabled",
        "genesys_trunk_calls",
        "genesys_trunk_proxy_register_up",
    ] {
        assert!(
            lines(&text, absent).is_empty(),
            "{absent} is not reported: {text}"
        );
    }
}

#[test]
fn a_trunk_not_read_turns_stale_and_calls_come_from_its_metrics() {
    let (metrics, trunks) = table();
    let read: TrunkMetrics = serde_json::from_str(
        r#"{"trunk":{"id":"t1"},"calls":{"inboundCallCount":7,"outboundCallCount":2},"qos":{"mismatchCount":3}}"#,
    )
    .unwrap();
    trunks.resynced("t1", Some(&read), 1_000.0);
    let text = metrics.render(0);
    assert_eq!(
        lines(&text, "genesys_trunk_calls"),
        [
            r#"genesys_trunk_calls{direction="inbound",trunk_id="t1"} 7"#,
            r#"genesys_trunk_calls{direction="outbound",trunk_id="t1"} 2"#,
        ]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_qos_mismatches"),
        [r#"genesys_trunk_qos_mismatches{trunk_id="t1"} 3"#]
    );
    assert_eq!(
        lines(&text, "genesys_exporter_trunk_stale"),
        [r#"genesys_exporter_trunk_stale{trunk_id="t1"} 0"#]
    );
    trunks.set_stale(&["t1".to_owned()]);
    let text = metrics.render(0);
    assert_eq!(
        lines(&text, "genesys_exporter_trunk_stale"),
        [r#"genesys_exporter_trunk_stale{trunk_id="t1"} 1"#]
    );
}

#[test]
fn an_event_since_a_resync_began_outlives_the_resync_and_makes_the_trunk_due() {
    let (metrics, trunks) = table();
    let ids = ["t1".to_owned()];
    let listed: Trunk = serde_json::from_str(
        r#"{"id":"t1","inService":true,"connectedStatus":{"connected":true}}"#,
    )
    .unwrap();
    trunks.listed(&listed, 1_000.0);
    trunks.resynced("t1", None, 1_000.0);
    assert!(trunks.due(&ids).is_empty());
    // NB: the connection drops at 1,005 while a resync that began at 1,002 is in flight.
    let event: Trunk =
        serde_json::from_str(r#"{"id":"t1","connectedStatus":{"connected":false}}"#).unwrap();
    assert!(trunks.status_event(&event, 1_005.0));
    assert_eq!(
        trunks.due(&ids),
        ids,
        "the listing alone says whether it is in service"
    );
    let calls = |n: i64| -> TrunkMetrics {
        serde_json::from_str(&format!(
            r#"{{"trunk":{{"id":"t1"}},"calls":{{"inboundCallCount":{n},"outboundCallCount":0}}}}"#
        ))
        .unwrap()
    };
    assert!(trunks.metrics_event(&calls(4), 1_006.0));
    trunks.listed(&listed, 1_002.0);
    trunks.resynced_all(&ids, &[calls(9)], 1_002.0);
    let text = metrics.render(0);
    assert_eq!(
        lines(&text, "genesys_trunk_connected"),
        [r#"genesys_trunk_connected{trunk_id="t1"} 0"#]
    );
    assert_eq!(
        lines(&text, "genesys_trunk_calls")[0],
        r#"genesys_trunk_calls{direction="inbound",trunk_id="t1"} 4"#
    );
    assert_eq!(
        trunks.due(&ids),
        ids,
        "still due: the event came after the read"
    );
    // A resync read after the event takes the listing and clears the mark.
    let out: Trunk = serde_json::from_str(
        r#"{"id":"t1","inService":false,"connectedStatus":{"connected":false}}"#,
    )
    .unwrap();
    trunks.listed(&out, 1_010.0);
    trunks.resynced_all(&ids, &[calls(9)], 1_010.0);
    assert!(trunks.due(&ids).is_empty());
    let text = metrics.render(0);
    assert_eq!(
        lines(&text, "genesys_trunk_in_service"),
        [r#"genesys_trunk_in_service{trunk_id="t1"} 0"#]
    );
    assert!(!trunks.status_event(
        &Trunk {
            id: "t9".into(),
            ..Trunk::default()
        },
        1_011.0
    ));
}
