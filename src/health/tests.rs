use super::*;

#[test]
fn every_channel_must_have_resynced_before_ready() {
    let health = Health::default();
    assert!(health.readiness().unwrap_err().contains("token"));
    health.token_obtained();
    assert!(health.readiness().unwrap_err().contains("queue set"));
    health.expect("agents");
    health.expect("trunks and Edges");
    assert!(!health.placed_before("trunks and Edges"));
    health.queues_resolved();
    assert!(health.readiness().unwrap_err().contains("agents"));
    health.placed("agents");
    assert!(health.placed_before("trunks and Edges"));
    assert!(health.readiness().unwrap_err().contains("trunks and Edges"));
    health.expect("flows");
    assert!(!health.placed_before("flows"), "after the trunks and Edges");
    health.placed("trunks and Edges");
    assert!(health.placed_before("flows"));
    assert!(health.readiness().unwrap_err().contains("flows"));
    health.placed("flows");
    assert!(
        health
            .readiness()
            .unwrap_err()
            .contains("no notification channel")
    );
    health.channel_started("0");
    health.channel_started("1");
    health.channel_resynced("0");
    assert_eq!(
        health.readiness().unwrap_err(),
        "channel 1: first observation resync not done yet"
    );
    health.channel_resynced("1");
    health.channel_started("1");
    assert_eq!(
        health.readiness(),
        Ok(()),
        "a restart of a ready channel stays ready"
    );
}

#[test]
fn the_first_dead_task_is_named() {
    let health = Health::default();
    assert!(health.is_alive());
    health.task_failed("poller");
    health.task_failed("stream 0");
    assert_eq!(
        health.liveness().unwrap_err(),
        "task poller stopped unexpectedly"
    );
}
