use serde_json::{Value, json};

use crate::sim::Fault;
use crate::sim::faults::fault::tests::one_of_each;
use crate::sim::harness::TestSim;

const CHANNELS: &str = "/api/v2/notifications/channels";

async fn armed(sim: &TestSim) -> Value {
    sim.get_json("/sim/faults").await["armed"].clone()
}

#[tokio::test]
async fn every_fault_serialized_is_accepted_by_the_endpoint() {
    let sim = TestSim::fast().await;
    for fault in one_of_each() {
        let response = sim.post_fault(&fault).await;
        assert_eq!(response.status(), 204, "{fault:?}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn refused_channel_creations_get_the_limit_envelope_until_used_up() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    sim.fault(&Fault::RefuseChannels {
        count: 2,
        status: 400,
    })
    .await;
    let listed = json!([{"kind": "refuse_channels", "status": 400, "remaining": 2}]);
    assert_eq!(armed(&sim).await, listed);
    for _ in 0..2 {
        let refused = sim.post_json(&token, CHANNELS, &json!({})).await;
        assert_eq!(refused.status(), 400);
        let correlation = refused.headers()["inin-correlation-id"].clone();
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "channel.limit.reached");
        assert_eq!(body["status"], 400);
        assert!(
            body["message"].as_str().unwrap().contains("limit"),
            "{body}"
        );
        assert_eq!(body["contextId"], correlation.to_str().unwrap());
    }
    assert_eq!(
        sim.post_json(&token, CHANNELS, &json!({})).await.status(),
        200
    );
    assert_eq!(armed(&sim).await, json!([]));

    let statuses = sim.requests_log().await["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(statuses, [400, 400, 200], "logged like any API answer");
    sim.stop().await;
}

#[tokio::test]
async fn a_channel_refusal_takes_its_status_and_a_count_of_zero_disarms_it() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let refuse = |count, status| Fault::RefuseChannels { count, status };
    sim.fault(&refuse(5, 503)).await;
    let refused = sim.post_json(&token, CHANNELS, &json!({})).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(armed(&sim).await[0]["remaining"], 4);
    sim.fault(&refuse(0, 400)).await;
    assert_eq!(armed(&sim).await, json!([]));
    assert_eq!(
        sim.post_json(&token, CHANNELS, &json!({})).await.status(),
        200
    );
    let not_an_error = sim.post_fault(&refuse(1, 200)).await;
    assert_eq!(not_an_error.status(), 400);
    sim.stop().await;
}

#[tokio::test]
async fn a_telephony_or_flow_fault_must_name_what_the_simulator_has() {
    let sim = TestSim::fast().await;
    let unknown = Fault::TrunkOutOfService {
        trunk: "Carrier Z".into(),
        restore: false,
    };
    assert_eq!(sim.post_fault(&unknown).await.status(), 400);
    let offline = Fault::EdgeOffline {
        edge: "Edge 9".into(),
        restore: false,
    };
    assert_eq!(sim.post_fault(&offline).await.status(), 400);
    let outcome = Fault::FlowOutcomeFailing {
        outcome: "Moon landed".into(),
        restore: false,
    };
    assert_eq!(sim.post_fault(&outcome).await.status(), 400);
    let action = |action: &str, status| Fault::DataActionFailing {
        action: action.into(),
        status,
        restore: false,
    };
    assert_eq!(sim.post_fault(&action("Fly", 504)).await.status(), 400);
    assert_eq!(
        sim.post_fault(&action("Take payment", 200)).await.status(),
        400
    );
    sim.stop().await;
}
