use super::*;

fn tasks() -> (Tasks, Arc<Health>, CancellationToken) {
    let health = Arc::new(Health::default());
    let cancel = CancellationToken::new();
    (Tasks::new(health.clone(), cancel.clone()), health, cancel)
}

#[tokio::test]
async fn a_panicking_task_is_named_at_once() {
    let (tasks, health, _cancel) = tasks();
    tasks.spawn("poller", async { panic!("injected") });
    tokio::time::timeout(Duration::from_secs(1), tasks.died())
        .await
        .expect("noticed within a second");
    assert_eq!(
        health.liveness().unwrap_err(),
        "task poller stopped unexpectedly"
    );
}

#[tokio::test]
async fn a_task_that_returns_before_shutdown_has_died_too() {
    let (tasks, health, _cancel) = tasks();
    tasks.spawn("stream 0", async {});
    tokio::time::timeout(Duration::from_secs(1), tasks.died())
        .await
        .expect("noticed within a second");
    assert!(health.liveness().unwrap_err().contains("stream 0"));
}

#[tokio::test]
async fn tasks_that_end_on_shutdown_are_fine_and_drained() {
    let (tasks, health, cancel) = tasks();
    let until = cancel.clone();
    tasks.spawn("server", async move { until.cancelled().await });
    cancel.cancel();
    tasks.drain(Duration::from_secs(5)).await;
    assert!(health.is_alive());
    assert!(tasks.tracker.is_empty());
}
