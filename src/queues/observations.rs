//! Live queue observations onto gauges, from stream events and from REST resyncs.
//!
//! Stream events are deltas in disguise: they carry only the metrics (and, for user metrics,
//! only the routing statuses) that changed, so an absent value means "unchanged". A resync is a
//! full snapshot: an absent value means 0. Both paths end in the same `Metrics` setters.
//!
//! Events are applied as they arrive, also while a resync is in flight; a resync records the
//! events of the queues it refreshes and replays them over its snapshot (see `record`), so an
//! older snapshot never overwrites a newer event.

mod order;
mod record;
pub(crate) mod telemetry;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::{debug, warn};

use super::table::{MediaSnapshot, QueueSnapshot, QueueTable};
use crate::genesys::error::ApiError;
use crate::genesys::model::{
    AggregateDataContainer, MetricName, ObservationMetricData, QueueObservationQueryResponse, Stats,
};
use crate::genesys::time::parse_instant;
use crate::metrics::Metrics;
use crate::metrics::ignored::{Ignored, IgnoredValues};
use crate::metrics::registry::SelfMetrics;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{InteractionState, LabelValue, RoutingStatus, UserCount};
use crate::vocabulary::metric::GenesysMetric;
use order::{Arrival, EventOrder};
use record::{Recording, Records};
use telemetry::ObservationMetrics;

/// Why a whole observation event was not applied; the stream counts it as `ignored`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ObservationIssue {
    #[error("event group has no queueId")]
    MissingQueueId,
    #[error("queue {0} is not monitored")]
    UnmonitoredQueue(String),
    #[error("media type {0:?} is not in the allow-list")]
    UnknownMediaType(String),
    #[error("event holds no zero-width (observation) interval")]
    NotAnObservation,
    #[error("event is older than one already applied for its queue")]
    OutOfOrder,
    #[error("event repeats the last one applied for its queue")]
    Duplicate,
}

impl ObservationIssue {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::MissingQueueId => "missing_queue_id",
            Self::UnmonitoredQueue(_) => "unmonitored_queue",
            Self::UnknownMediaType(_) => "unknown_media_type",
            Self::NotAnObservation => "not_an_observation",
            Self::OutOfOrder => "out_of_order",
            Self::Duplicate => "duplicate",
        }
    }
}

/// `oOnQueueUsers` arrives once per routing status and events repeat only the statuses that
/// changed, while the exported gauge is the total, so the parts are remembered.
///
/// The two forms are alternatives, never addends: a count without a qualifier is already the
/// total. In events the later form replaces the earlier one ([`OnQueueParts::set`]); in a
/// snapshot, where order means nothing, qualified parts win over an unqualified total
/// ([`OnQueueParts::fold_snapshot`]).
#[derive(Debug, Default, Clone, Copy)]
struct OnQueueParts {
    by_status: [i64; RoutingStatus::COUNT],
    /// A count reported without a qualifier is already the total.
    unqualified: i64,
}

impl OnQueueParts {
    fn set(&mut self, qualifier: Option<RoutingStatus>, n: i64) {
        match qualifier {
            Some(status) => {
                self.by_status[status as usize] = n;
                self.unqualified = 0;
            }
            None => {
                self.by_status = [0; RoutingStatus::COUNT];
                self.unqualified = n;
            }
        }
    }

    /// Folds one snapshot value; `qualified` remembers whether a qualified part was seen, so
    /// an unqualified total listed after the parts does not replace them.
    fn fold_snapshot(&mut self, qualified: &mut bool, qualifier: Option<RoutingStatus>, n: i64) {
        match qualifier {
            Some(_) => *qualified = true,
            None if *qualified => return,
            None => {}
        }
        self.set(qualifier, n);
    }

    fn total(&self) -> i64 {
        self.unqualified + self.by_status.iter().sum::<i64>()
    }
}

/// Applies observation values to the gauges; shared by the stream session and resyncs.
pub struct Observations {
    /// The queue series they write.
    queues: Arc<QueueTable>,
    /// The one wall clock `app` hands every producer: when a resync's snapshot was taken.
    clock: Clock,
    telemetry: ObservationMetrics,
    ignored: IgnoredValues,
    /// NB: lock order is `records`, then `on_queue`. Events are applied and recorded with
    /// `records` locked, so none can slip between a snapshot and the replay of its record.
    records: Mutex<Records>,
    on_queue: Mutex<HashMap<String, OnQueueParts>>,
    /// NB: locked only while `records` is, so arrival order and application order agree.
    order: Mutex<EventOrder>,
    /// Values dropped by an allow-list (media type, routing status) or of a metric we do not
    /// know; kept for tests and debugging, the per-frame outcome is counted by the stream.
    ignored_values: AtomicU64,
    /// Events applied but not recorded because their queue's record was full; those queues
    /// are marked stale after their resync.
    unrecorded_events: AtomicU64,
}

/// Whether an interval is `t/t`, the mark of an observation (not a running aggregate).
pub(crate) fn is_instant_interval(interval: &str) -> bool {
    match interval.split_once('/') {
        Some((start, end)) if start == end => true,
        Some((start, end)) => match (parse_instant(start), parse_instant(end)) {
            (Some(start), Some(end)) => start == end,
            _ => false,
        },
        None => false,
    }
}

/// The instant of an event's first zero-width interval, in epoch ms.
fn event_instant_ms(container: &AggregateDataContainer) -> Option<i64> {
    let interval = container
        .data
        .iter()
        .map(|d| d.interval.as_str())
        .find(|i| is_instant_interval(i))?;
    let (start, _) = interval.split_once('/')?;
    parse_instant(start).map(|at| at.timestamp_millis())
}

fn count(stats: &Stats) -> i64 {
    stats
        .count
        .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn interaction_state(metric: GenesysMetric) -> Option<InteractionState> {
    match metric {
        GenesysMetric::OWaiting => Some(InteractionState::Waiting),
        GenesysMetric::OInteracting => Some(InteractionState::Interacting),
        GenesysMetric::OAlerting => Some(InteractionState::Alerting),
        _ => None,
    }
}

/// What one upstream value is to the gauges: its metric (named once, where the JSON was read)
/// with the media type or routing status its group and qualifier allow. Events and resyncs
/// both match on this, never on names.
enum Value<'a> {
    Interactions(&'a str, InteractionState),
    LongestWaiting(&'a str),
    UsersInStatus(RoutingStatus),
    /// A part of the on-queue total (`None`: the total itself).
    OnQueue(Option<RoutingStatus>),
    /// Members in one of the org's presences, by definition id.
    Presence(&'a str),
    Members,
    Active,
    /// Asked for or received, not exported: skipped without counting.
    Unexported,
    /// Dropped by an allow-list or not known: counted as `what`, logged with the value.
    Ignored(Ignored, &'a str),
}

impl<'a> Value<'a> {
    /// `knows_presence` is the allow-list of presence definition ids.
    fn of(
        metric: &'a MetricName,
        media: Option<&'a str>,
        qualifier: Option<&'a str>,
        knows_presence: impl Fn(&str) -> bool,
    ) -> Self {
        use GenesysMetric::*;
        let known = match metric {
            MetricName::Known(known) => *known,
            MetricName::Other(name) => return Value::Ignored(Ignored::Metric, name),
        };
        let status = qualifier.map(|q| RoutingStatus::parse(q).ok_or(q));
        let unknown_status = |q| Value::Ignored(Ignored::RoutingStatus, q);
        match (known, media, status) {
            (OLongestWaiting, Some(media), _) => Value::LongestWaiting(media),
            (OUserRoutingStatuses, None, Some(Ok(status))) => Value::UsersInStatus(status),
            (OUserRoutingStatuses, None, Some(Err(q))) => unknown_status(q),
            (OUserRoutingStatuses, None, None) => unknown_status("<none>"),
            (OOnQueueUsers, None, Some(Ok(status))) => Value::OnQueue(Some(status)),
            (OOnQueueUsers, None, Some(Err(q))) => unknown_status(q),
            (OOnQueueUsers, None, None) => Value::OnQueue(None),
            (OUserPresences, None, _) => match qualifier {
                Some(id) if knows_presence(id) => Value::Presence(id),
                other => Value::Ignored(Ignored::Presence, other.unwrap_or("<none>")),
            },
            (OMemberUsers, None, _) => Value::Members,
            (OActiveUsers, None, _) => Value::Active,
            (OLongestInteracting | OOffQueueUsers, _, _) => Value::Unexported,
            (metric, Some(media), _) => match interaction_state(metric) {
                Some(state) => Value::Interactions(media, state),
                None => Value::Ignored(Ignored::Metric, metric.as_str()),
            },
            (metric, None, _) => Value::Ignored(Ignored::Metric, metric.as_str()),
        }
    }
}

fn epoch_ms(value: i64) -> Option<i64> {
    (value > 0).then_some(value)
}

/// One queue's full snapshot while a resync response is folded together.
#[derive(Default)]
struct Snapshot {
    interactions: HashMap<(String, InteractionState), i64>,
    longest_from_metric: HashMap<String, i64>,
    longest_from_detail: HashMap<String, i64>,
    users: [i64; RoutingStatus::COUNT],
    on_queue: OnQueueParts,
    /// Whether `on_queue` holds qualified parts (which win over an unqualified total).
    on_queue_qualified: bool,
    members: i64,
    active: i64,
    /// By presence definition id.
    presences: HashMap<String, i64>,
}

impl Observations {
    /// Writes into `queues`, with self-metrics on `metrics`.
    pub fn new(metrics: &Metrics, queues: Arc<QueueTable>, clock: Clock) -> Self {
        Self {
            telemetry: ObservationMetrics::of(metrics),
            ignored: IgnoredValues::of(metrics),
            queues,
            clock,
            records: Mutex::default(),
            on_queue: Mutex::default(),
            order: Mutex::default(),
            ignored_values: AtomicU64::new(0),
            unrecorded_events: AtomicU64::new(0),
        }
    }

    /// The queue series they write.
    pub(crate) fn table(&self) -> &QueueTable {
        &self.queues
    }

    /// How many values allow-lists or unknown metric names have dropped so far.
    #[cfg(test)]
    pub(crate) fn ignored_values(&self) -> u64 {
        self.ignored_values.load(Ordering::Relaxed)
    }

    /// How many events a full resync record has let go so far (they were applied).
    #[cfg(test)]
    pub(crate) fn unrecorded_events(&self) -> u64 {
        self.unrecorded_events.load(Ordering::Relaxed)
    }

    fn lock_records(&self) -> std::sync::MutexGuard<'_, Records> {
        // NB: every change to the records is a single insert, remove or push, so a panicked
        // holder cannot leave them half-updated.
        crate::sync::lock(&self.records)
    }

    /// Lets go of what is kept per queue (on-queue parts, event order) for queues no longer
    /// monitored; call after the monitored set changed, or a churning org grows it forever.
    pub(crate) fn forget_departed(&self) {
        let monitored = |queue_id: &str| self.queues.is_monitored(queue_id);
        let mut parts = crate::sync::lock(&self.on_queue);
        parts.retain(|queue_id, _| monitored(queue_id));
        drop(parts);
        let mut order = crate::sync::lock(&self.order);
        order.retain_queues(monitored);
    }

    /// Entries kept per queue and media type (on-queue parts, event order) and resyncs
    /// recording: bounded by the monitored set.
    pub(crate) fn holdings(&self) -> usize {
        let records = self.lock_records().in_flight();
        let parts = crate::sync::lock(&self.on_queue).len();
        let order = crate::sync::lock(&self.order).len();
        records + parts + order
    }

    /// How many resyncs are recording events right now.
    #[cfg(test)]
    pub(crate) fn records_in_flight(&self) -> usize {
        self.lock_records().in_flight()
    }

    /// `what` is a fixed label: the self-metric never takes a value from upstream.
    fn ignore(&self, queue_id: &str, what: Ignored, value: &str) {
        self.ignored_values.fetch_add(1, Ordering::Relaxed);
        self.ignored.count(what);
        debug!(
            queue_id,
            what = what.as_str(),
            value,
            "observation value ignored"
        );
    }

    /// Applies one zero-width stream event; returns how many gauges it set. Metrics present are
    /// authoritative, absent ones keep their value. While a resync of the queue is in flight,
    /// the event is also recorded, to be replayed over its snapshot. `fingerprint` identifies
    /// the frame, so a repeat of the last one is told from new content at the same instant.
    pub(crate) fn apply_event(
        &self,
        container: &AggregateDataContainer,
        fingerprint: u64,
        now_ms: i64,
    ) -> Result<usize, ObservationIssue> {
        let queue_id = self.check_event(container)?;
        let mut records = self.lock_records();
        if let Some(instant_ms) = event_instant_ms(container) {
            let media = container.group.media_type.as_deref();
            let mut order = crate::sync::lock(&self.order);
            match order.arrive(queue_id, media, instant_ms, fingerprint) {
                Arrival::New => {}
                Arrival::OutOfOrder => return Err(ObservationIssue::OutOfOrder),
                Arrival::Duplicate => return Err(ObservationIssue::Duplicate),
            }
        }
        if records.push(queue_id, container) == Recording::Overflowed {
            self.unrecorded_events.fetch_add(1, Ordering::Relaxed);
            debug!(
                queue_id,
                "resync record full, event applied but not recorded"
            );
        }
        let applied = self.apply_checked(queue_id, container, now_ms);
        drop(records);
        Ok(applied)
    }

    /// Whether an event can be applied; returns its queue id.
    fn check_event<'a>(
        &self,
        container: &'a AggregateDataContainer,
    ) -> Result<&'a str, ObservationIssue> {
        let queue_id = container
            .group
            .queue_id
            .as_deref()
            .ok_or(ObservationIssue::MissingQueueId)?;
        if !self.queues.is_monitored(queue_id) {
            return Err(ObservationIssue::UnmonitoredQueue(queue_id.to_owned()));
        }
        let media = container.group.media_type.as_deref();
        if let Some(media) = media.filter(|m| !self.queues.knows_media_type(m)) {
            self.ignore(queue_id, Ignored::MediaType, media);
            return Err(ObservationIssue::UnknownMediaType(media.to_owned()));
        }
        if !container
            .data
            .iter()
            .any(|d| is_instant_interval(&d.interval))
        {
            return Err(ObservationIssue::NotAnObservation);
        }
        Ok(queue_id)
    }

    /// Applies an event that passed [`Observations::check_event`].
    fn apply_checked(
        &self,
        queue_id: &str,
        container: &AggregateDataContainer,
        now_ms: i64,
    ) -> usize {
        let media = container.group.media_type.as_deref();
        let mut applied = 0;
        for entry in container
            .data
            .iter()
            .filter(|d| is_instant_interval(&d.interval))
        {
            for metric in &entry.metrics {
                let qualifier = metric.qualifier.as_deref();
                if self.apply_value(queue_id, media, &metric.metric, qualifier, &metric.stats) {
                    applied += 1;
                }
            }
        }
        self.queues.queue_observed(queue_id, now_ms as f64 / 1000.0);
        applied
    }

    /// Sets the gauge(s) for one event value; `false` when nothing was set.
    fn apply_value(
        &self,
        queue_id: &str,
        media: Option<&str>,
        metric: &MetricName,
        qualifier: Option<&str>,
        stats: &Stats,
    ) -> bool {
        let metrics = &*self.queues;
        let knows_presence = |id: &str| metrics.knows_presence(id);
        match Value::of(metric, media, qualifier, knows_presence) {
            Value::Interactions(media, state) => {
                let n = count(stats);
                metrics.set_interactions(queue_id, media, state, n);
                if state == InteractionState::Waiting && n == 0 {
                    metrics.set_longest_waiting(queue_id, media, None);
                }
            }
            Value::LongestWaiting(media) => {
                let since = stats.calculated_metric_value.and_then(epoch_ms);
                metrics.set_longest_waiting(queue_id, media, since);
            }
            Value::UsersInStatus(status) => {
                metrics.set_users_in_status(queue_id, status, count(stats));
            }
            Value::OnQueue(status) => {
                let mut parts = crate::sync::lock(&self.on_queue);
                let entry = parts.entry(queue_id.to_owned()).or_default();
                entry.set(status, count(stats));
                metrics.set_user_count(queue_id, UserCount::OnQueue, entry.total());
            }
            Value::Presence(id) => metrics.set_users_in_presence(queue_id, id, count(stats)),
            Value::Members => metrics.set_user_count(queue_id, UserCount::Members, count(stats)),
            Value::Active => metrics.set_user_count(queue_id, UserCount::Active, count(stats)),
            Value::Unexported => return false,
            Value::Ignored(what, value) => {
                self.ignore(queue_id, what, value);
                return false;
            }
        }
        true
    }

    /// Applies a full REST snapshot: every gauge of every queue in `queue_ids` is set, with a
    /// missing value meaning 0, because events may have been missed during the gap.
    pub(crate) fn apply_resync(
        &self,
        queue_ids: &[String],
        response: &QueueObservationQueryResponse,
        now_ms: i64,
    ) {
        let mut snapshots: HashMap<&str, Snapshot> = queue_ids
            .iter()
            .map(|id| (id.as_str(), Snapshot::default()))
            .collect();
        for container in &response.results {
            let Some(queue_id) = container.group.queue_id.as_deref() else {
                continue;
            };
            let Some(snapshot) = snapshots.get_mut(queue_id) else {
                continue;
            };
            let media = container.group.media_type.as_deref();
            if let Some(media) = media.filter(|m| !self.queues.knows_media_type(m)) {
                self.ignore(queue_id, Ignored::MediaType, media);
                continue;
            }
            for data in &container.data {
                self.fold_snapshot(snapshot, queue_id, media, data);
            }
        }
        let at_seconds = now_ms as f64 / 1000.0;
        for (queue_id, snapshot) in snapshots {
            self.write_snapshot(queue_id, at_seconds, &snapshot);
        }
    }

    fn fold_snapshot(
        &self,
        snapshot: &mut Snapshot,
        queue_id: &str,
        media: Option<&str>,
        data: &ObservationMetricData,
    ) {
        let stats = &data.stats;
        let knows_presence = |id: &str| self.queues.knows_presence(id);
        match Value::of(
            &data.metric,
            media,
            data.qualifier.as_deref(),
            knows_presence,
        ) {
            Value::Interactions(media, state) => {
                snapshot
                    .interactions
                    .insert((media.to_owned(), state), count(stats));
                let oldest = data.observations.as_ref().and_then(|list| list.first());
                let since = oldest
                    .and_then(|detail| parse_instant(&detail.observation_date))
                    .map(|at| at.timestamp_millis());
                if let (InteractionState::Waiting, Some(since)) = (state, since) {
                    snapshot.longest_from_detail.insert(media.to_owned(), since);
                }
            }
            Value::LongestWaiting(media) => {
                if let Some(since) = stats.calculated_metric_value.and_then(epoch_ms) {
                    snapshot.longest_from_metric.insert(media.to_owned(), since);
                }
            }
            Value::UsersInStatus(status) => snapshot.users[status as usize] = count(stats),
            Value::OnQueue(status) => snapshot.on_queue.fold_snapshot(
                &mut snapshot.on_queue_qualified,
                status,
                count(stats),
            ),
            Value::Presence(id) => {
                snapshot.presences.insert(id.to_owned(), count(stats));
            }
            Value::Members => snapshot.members = count(stats),
            Value::Active => snapshot.active = count(stats),
            Value::Unexported => {}
            Value::Ignored(what, value) => self.ignore(queue_id, what, value),
        }
    }

    /// What the gauges read after the resync, for every media type it reported (the store
    /// shows those it does not report at 0).
    fn metrics_snapshot(&self, queue_id: &str, snapshot: &Snapshot) -> QueueSnapshot {
        let reported = (snapshot.interactions.keys().map(|(media, _)| media))
            .chain(snapshot.longest_from_metric.keys())
            .chain(snapshot.longest_from_detail.keys())
            .collect::<HashSet<_>>();
        let media = reported.into_iter().map(|media| {
            let mut interactions = [0; InteractionState::ALL.len()];
            for (n, state) in interactions.iter_mut().zip(InteractionState::ALL) {
                let key = (media.to_owned(), *state);
                *n = snapshot.interactions.get(&key).copied().unwrap_or(0);
            }
            let waiting = interactions[InteractionState::Waiting as usize];
            let from_metric = snapshot.longest_from_metric.get(media);
            let since = from_metric.or_else(|| snapshot.longest_from_detail.get(media));
            if waiting > 0 && since.is_none() {
                warn!(
                    queue_id,
                    media, "resync shows waiting interactions but no oldest instant"
                );
            }
            let media_snapshot = MediaSnapshot {
                interactions,
                waiting_since_ms: since.copied().filter(|_| waiting > 0),
            };
            (media.clone(), media_snapshot)
        });
        let mut user_counts = [0; UserCount::ALL.len()];
        user_counts[UserCount::Members as usize] = snapshot.members;
        user_counts[UserCount::Active as usize] = snapshot.active;
        user_counts[UserCount::OnQueue as usize] = snapshot.on_queue.total();
        QueueSnapshot {
            media: media.collect(),
            users: snapshot.users,
            user_counts,
            presences: (snapshot.presences.iter())
                .map(|(id, n)| (id.clone(), *n))
                .collect(),
        }
    }

    fn write_snapshot(&self, queue_id: &str, at_seconds: f64, snapshot: &Snapshot) {
        #[cfg(test)]
        tests::panic_if_injected();
        let metrics = &*self.queues;
        metrics.apply_snapshot(
            queue_id,
            at_seconds,
            &self.metrics_snapshot(queue_id, snapshot),
        );
        let mut parts = crate::sync::lock(&self.on_queue);
        if metrics.is_monitored(queue_id) {
            parts.insert(queue_id.to_owned(), snapshot.on_queue);
        } else {
            parts.remove(queue_id);
            drop(parts);
            let mut order = crate::sync::lock(&self.order);
            order.forget(queue_id);
        }
    }

    /// The bookkeeping half of a resync: the snapshot, or stale marks on failure. It does not
    /// replay recorded events; [`record::ResyncRecord::finish`] does both.
    pub(crate) fn finish_resync(
        &self,
        queue_ids: &[String],
        result: Result<QueueObservationQueryResponse, ApiError>,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        match result {
            Ok(response) => {
                self.apply_resync(queue_ids, &response, now_ms);
                self.telemetry.resynced(true);
                Ok(())
            }
            Err(error) => {
                warn!(error = %error, kind = error.kind(), queues = queue_ids.len(), "observation resync failed");
                self.telemetry.resynced(false);
                for queue_id in queue_ids {
                    self.queues.set_queue_stale(queue_id);
                }
                Err(error)
            }
        }
    }
}
#[cfg(test)]
mod tests;
