use serde_json::json;

use super::*;

/// One fault of every kind, none with only default values. The match makes a new variant a
/// compile error here until it has an example, and the count check keeps the list complete.
pub(crate) fn one_of_each() -> Vec<Fault> {
    let path = || Some("/api/v2/routing/queues".to_owned());
    let all = vec![
        Fault::RevokeTokens,
        Fault::RateLimit {
            count: 2,
            retry_after_seconds: 3,
            path: path(),
        },
        Fault::ServerError {
            count: 2,
            status: 502,
            path: None,
        },
        Fault::MalformedBody {
            count: 1,
            path: path(),
        },
        Fault::SlowResponse {
            count: 1,
            delay_ms: 10,
            path: path(),
        },
        Fault::CloseSockets,
        Fault::SocketClosing,
        Fault::StopHeartbeats,
        Fault::ResumeHeartbeats,
        Fault::ExpireChannels,
        Fault::MalformedMessage,
        Fault::RefuseChannels {
            count: 2,
            status: 429,
        },
        Fault::OversizedMessage { bytes: 10_000 },
        Fault::DuplicateEvents { rounds: 2 },
        Fault::ReorderEvents { rounds: 1 },
        Fault::ShortenChannels { ttl_ms: 60_000 },
        Fault::Unauthorized {
            count: 1,
            path: path(),
        },
        Fault::RejectUserTopics { every: 2 },
        Fault::TruncateActivityDetails { limit: 4 },
        Fault::MissingExpand { count: 2 },
        Fault::TrunkOutOfService {
            trunk: "Carrier A".into(),
            restore: false,
        },
        Fault::RegisterFailing {
            trunk: "Carrier B".into(),
            restore: true,
        },
        Fault::EdgeOffline {
            edge: "Edge 1".into(),
            restore: false,
        },
        Fault::RejectTelephonyTopics { restore: false },
        Fault::FlowOutcomeFailing {
            outcome: "Payment taken".into(),
            restore: false,
        },
        Fault::DataActionFailing {
            action: "Take payment".into(),
            status: 504,
            restore: false,
        },
    ];
    let kinds: Vec<usize> = all
        .iter()
        .map(|fault| match fault {
            Fault::RevokeTokens => 0,
            Fault::RateLimit { .. } => 1,
            Fault::ServerError { .. } => 2,
            Fault::MalformedBody { .. } => 3,
            Fault::SlowResponse { .. } => 4,
            Fault::CloseSockets => 5,
            Fault::SocketClosing => 6,
            Fault::StopHeartbeats => 7,
            Fault::ResumeHeartbeats => 8,
            Fault::ExpireChannels => 9,
            Fault::MalformedMessage => 10,
            Fault::RefuseChannels { .. } => 11,
            Fault::OversizedMessage { .. } => 12,
            Fault::DuplicateEvents { .. } => 13,
            Fault::ReorderEvents { .. } => 14,
            Fault::ShortenChannels { .. } => 15,
            Fault::Unauthorized { .. } => 16,
            Fault::RejectUserTopics { .. } => 17,
            Fault::TruncateActivityDetails { .. } => 18,
            Fault::MissingExpand { .. } => 19,
            Fault::TrunkOutOfService { .. } => 20,
            Fault::RegisterFailing { .. } => 21,
            Fault::EdgeOffline { .. } => 22,
            Fault::RejectTelephonyTopics { .. } => 23,
            Fault::FlowOutcomeFailing { .. } => 24,
            Fault::DataActionFailing { .. } => 25,
        })
        .collect();
    assert_eq!(kinds, (0..26).collect::<Vec<_>>(), "one of each, in order");
    all
}

#[test]
fn every_fault_reads_back_from_its_own_json() {
    for fault in one_of_each() {
        let json = serde_json::to_value(&fault).unwrap();
        assert!(json["kind"].is_string(), "{json}");
        assert_eq!(serde_json::from_value::<Fault>(json).unwrap(), fault);
    }
}

#[test]
fn hand_written_json_keeps_its_field_names_and_defaults() {
    let read = |json| serde_json::from_value::<Fault>(json).unwrap();
    assert_eq!(
        read(json!({"kind": "server_error", "count": 2})),
        Fault::ServerError {
            count: 2,
            status: 503,
            path: None
        }
    );
    assert_eq!(
        read(json!({"kind": "rate_limit", "count": 1, "retryAfterSeconds": 3})),
        Fault::RateLimit {
            count: 1,
            retry_after_seconds: 3,
            path: None
        }
    );
    let slow = json!({"kind": "slow_response", "count": 2, "delayMs": 1500,
                      "path": "/api/v2/routing/queues"});
    assert_eq!(serde_json::to_value(read(slow.clone())).unwrap(), slow);
    assert_eq!(
        serde_json::to_value(Fault::RevokeTokens).unwrap(),
        json!({"kind": "revoke_tokens"})
    );
    assert_eq!(
        read(json!({"kind": "refuse_channels", "count": 1})),
        Fault::RefuseChannels {
            count: 1,
            status: 400
        }
    );
    assert_eq!(
        read(json!({"kind": "oversized_message"})),
        Fault::OversizedMessage { bytes: 2_097_152 }
    );
    assert_eq!(
        serde_json::to_value(Fault::ShortenChannels { ttl_ms: 250 }).unwrap(),
        json!({"kind": "shorten_channels", "ttlMs": 250})
    );
    assert!(serde_json::from_value::<Fault>(json!({"kind": "meteor"})).is_err());
}
