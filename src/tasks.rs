//! The exporter's long-running tasks, watched: a task that panics, or ends while nothing asked it
//! to, is a dead part of the exporter (a frozen channel, counters that stop), and serving its last
//! numbers would be a lie. So it is noticed at once: logged, named by `/healthz`, and the exporter
//! shuts down so the process exits non-zero and the orchestrator restarts it
//! (ARCHITECTURE.md#cross-cutting-concerns).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use crate::health::Health;

/// Spawns and watches tasks; cheap to clone, every clone watches the same set.
#[derive(Clone)]
pub(crate) struct Tasks {
    tracker: TaskTracker,
    health: Arc<Health>,
    /// The shutdown signal: a task ending after it is not a failure.
    cancel: CancellationToken,
    /// Fires when a task died.
    died: CancellationToken,
}

/// What the panic payload says, when it is a message.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text panic payload")
}

impl Tasks {
    pub(crate) fn new(health: Arc<Health>, cancel: CancellationToken) -> Self {
        Self {
            tracker: TaskTracker::new(),
            health,
            cancel,
            died: CancellationToken::new(),
        }
    }

    /// Runs `task` as `name`; it must only end once `cancel` fired.
    pub(crate) fn spawn(
        &self,
        name: impl Into<String>,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let (name, this) = (name.into(), self.clone());
        self.tracker.spawn(async move {
            let outcome = AssertUnwindSafe(task).catch_unwind().await;
            let reason = match &outcome {
                Ok(()) if this.cancel.is_cancelled() => return,
                Ok(()) => "it returned",
                Err(payload) => panic_message(payload.as_ref()),
            };
            error!(task = %name, reason, "task stopped unexpectedly; shutting down so the exporter is restarted");
            this.health.task_failed(&name);
            this.died.cancel();
        });
    }

    /// Resolves when a task died.
    pub(crate) async fn died(&self) {
        self.died.cancelled().await;
    }

    /// After shutdown was signalled: waits up to `grace` for every task to finish its step.
    pub(crate) async fn drain(&self, grace: Duration) {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                left = self.tracker.len(),
                "tasks did not stop within {grace:?}; leaving them"
            );
        }
    }
}

#[cfg(test)]
mod tests;
