//! The opt-in sources whose counters are polled (`flows.enabled`, `actions.enabled`,
//! docs/operations.md#ivr-flows, docs/operations.md#data-actions): each listed at start and
//! every `queue_refresh_interval` (until the first listing succeeds, every
//! `stream.fallback_poll_interval`), and its counters polled every `aggregates.poll_interval`
//! over the conversation counters' window and granularity, once the exporter is ready. The
//! flows' counters also stream: their running totals' topics ride channels of their own, on
//! what the queues, agents and trunks leave of the client's 20.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::telephony::fit;
use super::{Parts, part_totals, wait_until};
use crate::actions::Actions;
use crate::actions::counters::{ActionTotals, STATE_FILE as ACTIONS_STATE};
use crate::actions::table::ActionTable;
use crate::aggregates::Totals;
use crate::aggregates::poller::{PollSettings, Polled, Poller};
use crate::aggregates::telemetry::AggregateMetrics;
use crate::config::ConfigError;
use crate::flows::Flows;
use crate::flows::counters::{FlowTotals, STATE_FILE as FLOWS_STATE};
use crate::flows::table::FlowTable;
use crate::genesys::client::{AggregateScope, MAX_FLOWS_PER_OBSERVATION};
use crate::genesys::egress::log_unless_reported;
use crate::genesys::model::MetricName;
use crate::genesys::{ApiError, GenesysClient};
use crate::metrics::registry::SelfMetrics;
use crate::stream::carried::Carried;
use crate::stream::connection::FlowSink;
use crate::stream::placement::{Channels, room_beside};
use crate::vocabulary::metric::GenesysMetric;

/// The flows' name where readiness and the channel budget name it.
pub(super) const FLOWS: &str = "flows";

/// A source found by a listing.
pub(super) trait Listed: Send + Sync + 'static {
    /// What the log calls it, and the permissions its listing needs.
    const WHAT: (&'static str, &'static str);

    /// Reads the listing; the ids watched now.
    fn refresh(
        &self,
        client: &GenesysClient,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
}

impl Listed for Flows {
    const WHAT: (&'static str, &'static str) =
        ("flows", "architect:flow:view, architect:flowOutcome:view");

    async fn refresh(&self, client: &GenesysClient) -> Result<Vec<String>, ApiError> {
        Flows::refresh(self, client).await
    }
}

impl Listed for Actions {
    const WHAT: (&'static str, &'static str) = ("data actions", "integrations:action:view");

    async fn refresh(&self, client: &GenesysClient) -> Result<Vec<String>, ApiError> {
        Actions::refresh(self, client).await
    }
}

impl Parts {
    /// Watches the IVR flows (`flows.enabled`): their listing, their counters' poller and the
    /// conversations in each now.
    pub(super) fn watch_flows(&self, cancel: &CancellationToken) -> Result<(), ConfigError> {
        let chosen = &self.settings.flows;
        let table = FlowTable::register(&self.metrics, chosen.types.clone(), chosen.milestones);
        let grace = self.settings.queues.absent_grace_refreshes;
        let flows = Flows::new(table.clone(), chosen.names.clone(), grace);
        let shelf = (&*self.metrics, table.clone());
        let totals: FlowTotals = part_totals(&self.settings, shelf, &self.clock, FLOWS_STATE)?;
        let totals = Arc::new(totals);
        let ids = self.spawn_listed("flows", Arc::new(flows), totals.clone(), cancel);
        let observe = self
            .clone()
            .observe_flows(table.clone(), ids.clone(), cancel.clone());
        self.tasks.spawn("flows observations", observe);
        let stream = self
            .clone()
            .stream_flows(totals, table, ids, cancel.clone());
        self.tasks.spawn("flows channels", stream);
        Ok(())
    }

    /// Once the sources before the flows hold their channels (an interval at most), places
    /// each listing's flows and outcomes on channels of their running totals, in what is
    /// left of the client's channels; the rest are polled only, which counts them as well,
    /// a poll later.
    async fn stream_flows(
        self,
        totals: Arc<FlowTotals>,
        table: Arc<FlowTable>,
        mut watched: watch::Receiver<Vec<String>>,
        cancel: CancellationToken,
    ) {
        let placed_before = || self.health.placed_before(FLOWS);
        let patience = self.settings.queue_refresh_interval;
        if wait_until(placed_before, patience, &cancel).await.is_none() {
            return;
        }
        let sink: FlowSink = Arc::new(move |body| totals.fold_group(body));
        let carried = |outcomes| Carried::Flows {
            totals: sink.clone(),
            outcomes,
        };
        let mut flows = Channels::new(carried(false), |i| format!("flows-{i}"));
        let mut outcomes = Channels::new(carried(true), |i| format!("flow-outcomes-{i}"));
        // NB: readiness waits for the first listing, or one retry interval when it fails (its
        // log says why); channels placed later join readiness as they start.
        let first = self.settings.stream.fallback_poll_interval;
        if watched.borrow().is_empty() {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tokio::time::timeout(first, watched.changed()) => {}
            }
        }
        loop {
            let ids = watched.borrow_and_update().clone();
            if !ids.is_empty() {
                let streamed = self.place_flows(
                    &ids,
                    &table.outcome_ids(),
                    (&mut flows, &mut outcomes),
                    &cancel,
                );
                info!(
                    flows = streamed.0,
                    outcomes = streamed.1,
                    of = ids.len(),
                    "flow running totals streamed"
                );
            }
            // NB: the flows and outcomes are placed with the first listing, then with each.
            self.health.placed(FLOWS);
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = watched.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Places the flows, then the outcomes, on what the other kinds leave; how many of each
    /// stream.
    fn place_flows(
        &self,
        ids: &[String],
        outcome_ids: &[String],
        (flows, outcomes): (&mut Channels, &mut Channels),
        cancel: &CancellationToken,
    ) -> (usize, usize) {
        let beside = self.budget.taken_besides(FLOWS);
        let room = room_beside(beside + outcomes.count(), flows.ids_per_channel());
        let (streamed, _) = fit(ids.to_vec(), room);
        self.start_channels(flows.place(&streamed, false), cancel);
        let room = room_beside(beside + flows.count(), outcomes.ids_per_channel());
        let (reported, _) = fit(outcome_ids.to_vec(), room);
        self.start_channels(outcomes.place(&reported, false), cancel);
        self.budget.claim(FLOWS, flows.count() + outcomes.count());
        (streamed.len(), reported.len())
    }

    /// Watches the data actions (`actions.enabled`): their listing and their counters' poller.
    pub(super) fn watch_actions(&self, cancel: &CancellationToken) -> Result<(), ConfigError> {
        let table = ActionTable::register(&self.metrics);
        let grace = self.settings.queues.absent_grace_refreshes;
        let actions = Actions::new(table.clone(), self.settings.actions.names.clone(), grace);
        let shelf = (&*self.metrics, table);
        let totals: ActionTotals = part_totals(&self.settings, shelf, &self.clock, ACTIONS_STATE)?;
        self.spawn_listed("data actions", Arc::new(actions), Arc::new(totals), cancel);
        Ok(())
    }

    /// Spawns `source`'s refresh and its counters' poller; the ids it watches, as each listing
    /// gives them.
    fn spawn_listed<S: Listed, C: Polled>(
        &self,
        what: &str,
        source: Arc<S>,
        totals: Arc<Totals<C>>,
        cancel: &CancellationToken,
    ) -> watch::Receiver<Vec<String>>
    where
        AggregateMetrics<C>: SelfMetrics,
    {
        let (watched, ids) = watch::channel(Vec::new());
        let refresh = self.clone().refresh_listed(source, watched, cancel.clone());
        self.tasks.spawn(format!("{what} refresh"), refresh);
        let poll = self
            .clone()
            .poll_listed(totals, ids.clone(), cancel.clone());
        self.tasks.spawn(format!("{what} poller"), poll);
        ids
    }

    /// Lists `source` until cancelled: retrying every `fallback_poll_interval` until a listing
    /// succeeds, then every `queue_refresh_interval`; each listing's ids go to `watched`.
    pub(super) async fn refresh_listed<S: Listed>(
        self,
        source: Arc<S>,
        watched: watch::Sender<Vec<String>>,
        cancel: CancellationToken,
    ) {
        let (what, permissions) = S::WHAT;
        let mut listed = false;
        loop {
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                result = source.refresh(&self.client) => result,
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
                    what,
                    permissions,
                    "not listed (check the permissions); keeping the last listing"
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

    /// Reads the conversations in each watched flow now (`oFlow`: no topic carries it) every
    /// `stream.fallback_poll_interval`, 100 flows a call; a failed read leaves them absent.
    pub(super) async fn observe_flows(
        self,
        table: Arc<FlowTable>,
        mut watched: watch::Receiver<Vec<String>>,
        cancel: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(self.settings.flows.observation_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticks.tick() => {}
                // NB: flows found are read at once, not an interval later.
                Ok(()) = watched.changed() => ticks.reset(),
            }
            let ids = watched.borrow_and_update().clone();
            if ids.is_empty() {
                // NB: not listed yet (or none watched): nothing to ask, and no call spent.
                continue;
            }
            let read = tokio::select! {
                () = cancel.cancelled() => return,
                read = self.in_flow(&ids) => read,
            };
            match read {
                Ok(counts) => table.set_in_flow(Some(counts)),
                Err(e) => {
                    log_unless_reported!(
                        warn,
                        e.kind(),
                        error = %e,
                        kind = e.kind(),
                        "conversations in the flows not read (permission analytics:flowObservation:view); shown as absent"
                    );
                    table.set_in_flow(None);
                }
            }
        }
    }

    /// The conversations in each of `ids` now, by flow id. A flow the answer leaves out has
    /// nobody in it (Genesys omits empty groups): 0, read, unlike a failed poll's absence.
    async fn in_flow(&self, ids: &[String]) -> Result<HashMap<String, u64>, ApiError> {
        let mut counts: HashMap<String, u64> = ids.iter().map(|id| (id.clone(), 0)).collect();
        for batch in ids.chunks(MAX_FLOWS_PER_OBSERVATION) {
            let response = self.client.query_flow_observations(batch).await?;
            for result in response.results {
                let in_flow = (result.data.iter())
                    .find(|d| d.metric == MetricName::Known(GenesysMetric::OFlow))
                    .and_then(|d| d.stats.count);
                if let (Some(id), Some(count)) = (result.group.get("flowId"), in_flow) {
                    counts.insert(id.clone(), count);
                }
            }
        }
        Ok(counts)
    }

    /// Polls the watched ids' counters, the first poll once the exporter is ready (or an
    /// interval passed), so it never slows the start.
    pub(super) async fn poll_listed<C: Polled>(
        self,
        totals: Arc<Totals<C>>,
        watched: watch::Receiver<Vec<String>>,
        cancel: CancellationToken,
    ) where
        AggregateMetrics<C>: SelfMetrics,
    {
        let aggregates = &self.settings.aggregates;
        let settings = PollSettings {
            poll_interval: aggregates.poll_interval,
            window: aggregates.window,
            granularity: totals.granularity(),
            state_flush_interval: aggregates.state_flush_interval,
            scope: AggregateScope::default(),
        };
        // NB: not before the first listing: a poll of nothing would count as a success, and
        // the first poll of the listed ids would then take its baseline late, after what
        // happened in between. A source never listed stays stale, which is what it is.
        let mut listed = watched.clone();
        let poller = Poller::new(
            self.client.clone(),
            totals,
            self.metrics.clone(),
            watched,
            settings,
            self.clock.clone(),
        );
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = listed.changed() => {}
        }
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
