//! Watching the IVR flows (`flows.enabled`, docs/operations.md#ivr-flows): the flows listed at
//! start and every `queue_refresh_interval` (until the first listing succeeds, every
//! `stream.fallback_poll_interval`), and their counters polled every `aggregates.poll_interval`
//! over the conversation counters' window and granularity, once the exporter is ready.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Parts, wait_until};
use crate::aggregates::poller::{PollSettings, Poller};
use crate::flows::Flows;
use crate::flows::counters::FlowTotals;
use crate::genesys::client::AggregateScope;
use crate::genesys::egress::log_unless_reported;

impl Parts {
    /// Lists the flows until cancelled: retrying every `fallback_poll_interval` until a listing
    /// succeeds, then every `queue_refresh_interval`; each listing's flows go to `watched`.
    pub(super) async fn refresh_flows(
        self,
        flows: Arc<Flows>,
        watched: watch::Sender<Vec<String>>,
        cancel: CancellationToken,
    ) {
        let mut listed = false;
        loop {
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = flows.refresh(&self.client) => result,
            };
            match result {
                Ok(ids) => {
                    listed = true;
                    watched.send_replace(ids);
                }
                Err(e) => log_unless_reported!(
                    warn,
                    e.kind(),
                    error = %e,
                    kind = e.kind(),
                    "flows not listed (permissions architect:flow:view, architect:flowOutcome:view); keeping the last listing"
                ),
            }
            let wait = match listed {
                true => self.settings.queue_refresh_interval,
                false => self.settings.stream.fallback_poll_interval,
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Polls the watched flows' counters, its first poll once the exporter is ready (or an
    /// interval passed), so it never slows the start.
    pub(super) async fn poll_flows(
        self,
        totals: Arc<FlowTotals>,
        watched: watch::Receiver<Vec<String>>,
        cancel: CancellationToken,
    ) {
        let aggregates = &self.settings.aggregates;
        let settings = PollSettings {
            poll_interval: aggregates.poll_interval,
            window: aggregates.window,
            granularity: totals.granularity(),
            state_flush_interval: aggregates.state_flush_interval,
            scope: AggregateScope::default(),
        };
        let poller = Poller::new(
            self.client.clone(),
            totals,
            self.metrics.clone(),
            watched,
            settings,
            self.clock.clone(),
        );
        let health = self.health.clone();
        let ready = wait_until(
            || health.readiness().is_ok(),
            aggregates.poll_interval,
            &cancel,
        );
        if ready.await.is_some() {
            poller.run(cancel).await;
        }
    }
}
