//! Live queue observations onto gauges, from stream events and from REST resyncs.
//!
//! Stream events are deltas in disguise: they carry only the metrics (and, for user metrics,
//! only the routing statuses) that changed, so an absent value means "unchanged". A resync is a
//! full snapshot: an absent value means 0. Both paths end in the same `Metrics` setters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::{debug, warn};

use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{
    AggregateDataContainer, ObservationMetricData, QueueObservationQueryResponse, ROUTING_STATUSES,
    Stats,
};
use crate::genesys::time::parse_instant;
use crate::metrics::{InteractionState, Metrics, UserCount};

/// Why a whole observation event was not applied; the stream counts it as `ignored`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservationIssue {
    #[error("event group has no queueId")]
    MissingQueueId,
    #[error("queue {0} is not monitored")]
    UnmonitoredQueue(String),
    #[error("media type {0:?} is not in the allow-list")]
    UnknownMediaType(String),
    #[error("event holds no zero-width (observation) interval")]
    NotAnObservation,
}

impl ObservationIssue {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingQueueId => "missing_queue_id",
            Self::UnmonitoredQueue(_) => "unmonitored_queue",
            Self::UnknownMediaType(_) => "unknown_media_type",
            Self::NotAnObservation => "not_an_observation",
        }
    }
}

/// `oOnQueueUsers` arrives once per routing status and events repeat only the statuses that
/// changed, while the exported gauge is the total, so the parts are remembered.
#[derive(Debug, Default, Clone, Copy)]
struct OnQueueParts {
    by_status: [i64; ROUTING_STATUSES.len()],
    /// A count reported without a qualifier is already the total.
    unqualified: i64,
}

impl OnQueueParts {
    fn set(&mut self, qualifier: Option<usize>, n: i64) {
        match qualifier {
            Some(i) => {
                self.by_status[i] = n;
                self.unqualified = 0;
            }
            None => {
                self.by_status = [0; ROUTING_STATUSES.len()];
                self.unqualified = n;
            }
        }
    }

    fn total(&self) -> i64 {
        self.unqualified + self.by_status.iter().sum::<i64>()
    }
}

/// Applies observation values to the gauges; shared by the stream session and resyncs.
pub struct Observations {
    metrics: Arc<Metrics>,
    on_queue: Mutex<HashMap<String, OnQueueParts>>,
    /// Values dropped by an allow-list (media type, routing status) or of a metric we do not
    /// know; kept for tests and debugging, the per-frame outcome is counted by the stream.
    ignored_values: AtomicU64,
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

fn count(stats: &Stats) -> i64 {
    stats
        .count
        .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn interaction_state(metric: &str) -> Option<InteractionState> {
    match metric {
        "oWaiting" => Some(InteractionState::Waiting),
        "oInteracting" => Some(InteractionState::Interacting),
        "oAlerting" => Some(InteractionState::Alerting),
        _ => None,
    }
}

/// Metrics we ask for or may receive but do not export; skipped without counting.
fn is_unexported(metric: &str) -> bool {
    matches!(
        metric,
        "oLongestInteracting" | "oOffQueueUsers" | "oUserPresences"
    )
}

fn status_index(qualifier: &str) -> Option<usize> {
    ROUTING_STATUSES.iter().position(|s| *s == qualifier)
}

fn epoch_ms(value: f64) -> Option<i64> {
    (value.is_finite() && value > 0.0 && value < i64::MAX as f64).then_some(value as i64)
}

/// One queue's full snapshot while a resync response is folded together.
#[derive(Default)]
struct Snapshot {
    interactions: HashMap<(String, InteractionState), i64>,
    longest_from_metric: HashMap<String, i64>,
    longest_from_detail: HashMap<String, i64>,
    users: [i64; ROUTING_STATUSES.len()],
    on_queue: OnQueueParts,
    members: i64,
    active: i64,
}

impl Observations {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            on_queue: Mutex::default(),
            ignored_values: AtomicU64::new(0),
        }
    }

    /// How many values allow-lists or unknown metric names have dropped so far.
    pub fn ignored_values(&self) -> u64 {
        self.ignored_values.load(Ordering::Relaxed)
    }

    fn ignore(&self, queue_id: &str, what: &str, value: &str) {
        self.ignored_values.fetch_add(1, Ordering::Relaxed);
        debug!(queue_id, what, value, "observation value ignored");
    }

    /// Applies one zero-width stream event; returns how many gauges it set. Metrics present are
    /// authoritative, absent ones keep their value.
    pub fn apply_event(
        &self,
        container: &AggregateDataContainer,
        now_ms: i64,
    ) -> Result<usize, ObservationIssue> {
        let queue_id = container
            .group
            .queue_id
            .as_deref()
            .ok_or(ObservationIssue::MissingQueueId)?;
        if !self.metrics.is_monitored(queue_id) {
            return Err(ObservationIssue::UnmonitoredQueue(queue_id.to_owned()));
        }
        let media = container.group.media_type.as_deref();
        if let Some(media) = media.filter(|m| !self.metrics.knows_media_type(m)) {
            self.ignore(queue_id, "media_type", media);
            return Err(ObservationIssue::UnknownMediaType(media.to_owned()));
        }
        let mut observed = false;
        let mut applied = 0;
        for entry in container
            .data
            .iter()
            .filter(|d| is_instant_interval(&d.interval))
        {
            observed = true;
            for metric in &entry.metrics {
                let qualifier = metric.qualifier.as_deref();
                if self.apply_value(queue_id, media, &metric.metric, qualifier, &metric.stats) {
                    applied += 1;
                }
            }
        }
        if !observed {
            return Err(ObservationIssue::NotAnObservation);
        }
        self.metrics
            .queue_observed(queue_id, now_ms as f64 / 1000.0);
        Ok(applied)
    }

    /// Sets the gauge(s) for one event value; `false` when nothing was set.
    fn apply_value(
        &self,
        queue_id: &str,
        media: Option<&str>,
        metric: &str,
        qualifier: Option<&str>,
        stats: &Stats,
    ) -> bool {
        match (interaction_state(metric), metric, media) {
            (Some(state), _, Some(media)) => {
                let n = count(stats);
                self.metrics.set_interactions(queue_id, media, state, n);
                if state == InteractionState::Waiting && n == 0 {
                    self.metrics.set_longest_waiting(queue_id, media, None);
                }
                true
            }
            (_, "oLongestWaiting", Some(media)) => {
                match stats.calculated_metric_value.and_then(epoch_ms) {
                    Some(since) => self
                        .metrics
                        .set_longest_waiting(queue_id, media, Some(since)),
                    None => self.metrics.set_longest_waiting(queue_id, media, None),
                }
                true
            }
            (_, "oUserRoutingStatuses", None) => {
                match qualifier.filter(|q| status_index(q).is_some()) {
                    Some(status) => {
                        self.metrics
                            .set_users_in_status(queue_id, status, count(stats));
                        true
                    }
                    None => {
                        self.ignore(queue_id, "routing_status", qualifier.unwrap_or("<none>"));
                        false
                    }
                }
            }
            (_, "oOnQueueUsers", None) => {
                let index = match qualifier {
                    None => None,
                    Some(q) => match status_index(q) {
                        Some(i) => Some(i),
                        None => {
                            self.ignore(queue_id, "routing_status", q);
                            return false;
                        }
                    },
                };
                let mut parts = self.on_queue.lock().unwrap_or_else(|e| e.into_inner());
                let entry = parts.entry(queue_id.to_owned()).or_default();
                entry.set(index, count(stats));
                self.metrics
                    .set_user_count(queue_id, UserCount::OnQueue, entry.total());
                true
            }
            (_, "oMemberUsers", None) => {
                self.metrics
                    .set_user_count(queue_id, UserCount::Members, count(stats));
                true
            }
            (_, "oActiveUsers", None) => {
                self.metrics
                    .set_user_count(queue_id, UserCount::Active, count(stats));
                true
            }
            (_, m, _) if is_unexported(m) => false,
            (_, m, _) => {
                self.ignore(queue_id, "metric", m);
                false
            }
        }
    }

    /// Applies a full REST snapshot: every gauge of every queue in `queue_ids` is set, with a
    /// missing value meaning 0, because events may have been missed during the gap.
    pub fn apply_resync(
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
            if let Some(media) = media.filter(|m| !self.metrics.knows_media_type(m)) {
                self.ignore(queue_id, "media_type", media);
                continue;
            }
            for data in &container.data {
                self.fold_snapshot(snapshot, queue_id, media, data);
            }
        }
        let at_seconds = now_ms as f64 / 1000.0;
        for (queue_id, snapshot) in snapshots {
            self.write_snapshot(queue_id, &snapshot);
            self.metrics.queue_observed(queue_id, at_seconds);
        }
    }

    fn fold_snapshot(
        &self,
        snapshot: &mut Snapshot,
        queue_id: &str,
        media: Option<&str>,
        data: &ObservationMetricData,
    ) {
        let metric = data.metric.as_str();
        let qualifier = data.qualifier.as_deref();
        match (interaction_state(metric), metric, media) {
            (Some(state), _, Some(media)) => {
                snapshot
                    .interactions
                    .insert((media.to_owned(), state), count(&data.stats));
                let oldest = data.observations.as_ref().and_then(|list| list.first());
                let since = oldest
                    .and_then(|detail| parse_instant(&detail.observation_date))
                    .map(|at| at.timestamp_millis());
                if let (InteractionState::Waiting, Some(since)) = (state, since) {
                    snapshot.longest_from_detail.insert(media.to_owned(), since);
                }
            }
            (_, "oLongestWaiting", Some(media)) => {
                if let Some(since) = data.stats.calculated_metric_value.and_then(epoch_ms) {
                    snapshot.longest_from_metric.insert(media.to_owned(), since);
                }
            }
            (_, "oUserRoutingStatuses", None) => match qualifier.and_then(status_index) {
                Some(i) => snapshot.users[i] = count(&data.stats),
                None => self.ignore(queue_id, "routing_status", qualifier.unwrap_or("<none>")),
            },
            (_, "oOnQueueUsers", None) => match qualifier.map(status_index) {
                None => snapshot.on_queue.unqualified += count(&data.stats),
                Some(Some(i)) => snapshot.on_queue.by_status[i] = count(&data.stats),
                Some(None) => self.ignore(queue_id, "routing_status", qualifier.unwrap_or("")),
            },
            (_, "oMemberUsers", None) => snapshot.members = count(&data.stats),
            (_, "oActiveUsers", None) => snapshot.active = count(&data.stats),
            (_, m, _) if is_unexported(m) => {}
            (_, m, _) => self.ignore(queue_id, "metric", m),
        }
    }

    fn write_snapshot(&self, queue_id: &str, snapshot: &Snapshot) {
        let metrics = &self.metrics;
        for media in metrics.media_types() {
            for state in InteractionState::ALL {
                let key = (media.clone(), state);
                let n = snapshot.interactions.get(&key).copied().unwrap_or(0);
                metrics.set_interactions(queue_id, media, state, n);
            }
            let waiting = snapshot
                .interactions
                .get(&(media.clone(), InteractionState::Waiting))
                .copied()
                .unwrap_or(0);
            let since = (waiting > 0)
                .then(|| {
                    let from_metric = snapshot.longest_from_metric.get(media);
                    from_metric
                        .or_else(|| snapshot.longest_from_detail.get(media))
                        .copied()
                })
                .flatten();
            if waiting > 0 && since.is_none() {
                warn!(
                    queue_id,
                    media, "resync shows waiting interactions but no oldest instant"
                );
            }
            metrics.set_longest_waiting(queue_id, media, since);
        }
        for (status, n) in ROUTING_STATUSES.iter().zip(snapshot.users) {
            metrics.set_users_in_status(queue_id, status, n);
        }
        metrics.set_user_count(queue_id, UserCount::Members, snapshot.members);
        metrics.set_user_count(queue_id, UserCount::Active, snapshot.active);
        metrics.set_user_count(queue_id, UserCount::OnQueue, snapshot.on_queue.total());
        let mut parts = self.on_queue.lock().unwrap_or_else(|e| e.into_inner());
        if metrics.is_monitored(queue_id) {
            parts.insert(queue_id.to_owned(), snapshot.on_queue);
        } else {
            parts.remove(queue_id);
        }
    }

    /// Queries the observations of `queue_ids` over REST and applies them as a snapshot; on
    /// failure the queues are marked stale rather than left looking fresh.
    pub async fn resync(
        &self,
        client: &GenesysClient,
        queue_ids: &[String],
    ) -> Result<(), ApiError> {
        let result = if queue_ids.is_empty() {
            Ok(QueueObservationQueryResponse::default())
        } else {
            client.query_observations(queue_ids).await
        };
        self.finish_resync(queue_ids, result, chrono::Utc::now().timestamp_millis())
    }

    /// The bookkeeping half of [`Observations::resync`], shared with callers that query
    /// through another route (the supervisor's tests use a fake upstream).
    pub(crate) fn finish_resync(
        &self,
        queue_ids: &[String],
        result: Result<QueueObservationQueryResponse, ApiError>,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        match result {
            Ok(response) => {
                self.apply_resync(queue_ids, &response, now_ms);
                self.metrics.resynced(true, now_ms.div_euclid(1000));
                Ok(())
            }
            Err(error) => {
                warn!(error = %error, kind = error.kind(), queues = queue_ids.len(), "observation resync failed");
                self.metrics.resynced(false, now_ms.div_euclid(1000));
                for queue_id in queue_ids {
                    self.metrics.set_queue_stale(queue_id, true);
                }
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesys::model::{AggregateMetricData, Group, StatisticalResponse};
    use crate::metrics::QueueLabels;

    const NOW: i64 = 1_764_064_014_839;

    fn setup() -> (Observations, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new(vec!["voice".into(), "chat".into()]));
        metrics.set_queues(&[QueueLabels {
            id: "q1".into(),
            name: "Support".into(),
            division: "Home".into(),
        }]);
        (Observations::new(metrics.clone()), metrics)
    }

    fn event(
        media: Option<&str>,
        values: &[(&str, Option<&str>, Stats)],
    ) -> AggregateDataContainer {
        let metrics = values
            .iter()
            .map(|(metric, qualifier, stats)| AggregateMetricData {
                metric: (*metric).into(),
                qualifier: qualifier.map(str::to_owned),
                stats: stats.clone(),
            })
            .collect();
        AggregateDataContainer {
            group: Group {
                queue_id: Some("q1".into()),
                media_type: media.map(str::to_owned),
            },
            data: vec![StatisticalResponse {
                interval: "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z".into(),
                metrics,
            }],
        }
    }

    fn n(count: u64) -> Stats {
        Stats {
            count: Some(count),
            ..Stats::default()
        }
    }

    fn value(text: &str, series: &str) -> Option<String> {
        text.lines().find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')
                .map(str::to_owned)
        })
    }

    #[test]
    fn an_event_sets_only_the_metrics_it_carries() {
        let (observations, metrics) = setup();
        let first = event(
            Some("voice"),
            &[("oWaiting", None, n(3)), ("oInteracting", None, n(2))],
        );
        assert_eq!(observations.apply_event(&first, NOW), Ok(2));
        let second = event(Some("voice"), &[("oWaiting", None, n(1))]);
        observations.apply_event(&second, NOW).unwrap();
        let text = metrics.render(NOW);
        let series =
            r#"genesys_queue_interactions{media_type="voice",queue="Support",queue_id="q1",state="#;
        assert_eq!(
            value(&text, &format!(r#"{series}"waiting"}}"#)).as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&text, &format!(r#"{series}"interacting"}}"#)).as_deref(),
            Some("2")
        );
        let stamp = r#"genesys_queue_observation_timestamp_seconds{queue="Support",queue_id="q1"}"#;
        assert_eq!(value(&text, stamp).as_deref(), Some("1764064014.839"));
    }

    #[test]
    fn longest_waiting_is_an_instant_and_zero_waiting_clears_it() {
        let (observations, metrics) = setup();
        let since = Stats {
            calculated_metric_value: Some((NOW - 42_000) as f64),
            ..Stats::default()
        };
        observations
            .apply_event(
                &event(Some("voice"), &[("oLongestWaiting", None, since)]),
                NOW,
            )
            .unwrap();
        let series = r#"genesys_queue_oldest_waiting_seconds{media_type="voice",queue="Support",queue_id="q1"}"#;
        assert_eq!(value(&metrics.render(NOW), series).as_deref(), Some("42"));
        assert_eq!(
            value(&metrics.render(NOW + 8_000), series).as_deref(),
            Some("50"),
            "grows between events"
        );
        observations
            .apply_event(&event(Some("voice"), &[("oWaiting", None, n(0))]), NOW)
            .unwrap();
        assert_eq!(
            value(&metrics.render(NOW + 9_000), series).as_deref(),
            Some("0")
        );
    }

    #[test]
    fn on_queue_users_are_the_sum_of_the_statuses_seen_so_far() {
        let (observations, metrics) = setup();
        let both = event(
            None,
            &[
                ("oOnQueueUsers", Some("IDLE"), n(4)),
                ("oOnQueueUsers", Some("INTERACTING"), n(3)),
            ],
        );
        observations.apply_event(&both, NOW).unwrap();
        observations
            .apply_event(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(1))]), NOW)
            .unwrap();
        let users = event(
            None,
            &[
                ("oUserRoutingStatuses", Some("IDLE"), n(1)),
                ("oMemberUsers", None, n(9)),
                ("oActiveUsers", None, n(8)),
            ],
        );
        observations.apply_event(&users, NOW).unwrap();
        let text = metrics.render(NOW);
        assert_eq!(
            value(
                &text,
                r#"genesys_queue_on_queue_users{queue="Support",queue_id="q1"}"#
            )
            .as_deref(),
            Some("4")
        );
        assert_eq!(
            value(
                &text,
                r#"genesys_queue_users{queue="Support",queue_id="q1",routing_status="IDLE"}"#
            )
            .as_deref(),
            Some("1")
        );
        assert_eq!(
            value(
                &text,
                r#"genesys_queue_members{queue="Support",queue_id="q1"}"#
            )
            .as_deref(),
            Some("9")
        );
        assert_eq!(
            value(
                &text,
                r#"genesys_queue_active_users{queue="Support",queue_id="q1"}"#
            )
            .as_deref(),
            Some("8")
        );
    }

    #[test]
    fn values_outside_the_allow_lists_are_ignored_and_counted() {
        let (observations, metrics) = setup();
        let fax = event(Some("fax"), &[("oWaiting", None, n(5))]);
        assert_eq!(
            observations.apply_event(&fax, NOW),
            Err(ObservationIssue::UnknownMediaType("fax".into()))
        );
        let odd = event(
            None,
            &[
                ("oUserRoutingStatuses", Some("DANCING"), n(2)),
                ("oSomethingNew", None, n(1)),
                ("oUserPresences", Some("p"), n(1)),
            ],
        );
        assert_eq!(observations.apply_event(&odd, NOW), Ok(0));
        assert_eq!(observations.ignored_values(), 3);
        let text = metrics.render(NOW);
        assert!(!text.contains("fax") && !text.contains("DANCING"), "{text}");
    }

    #[test]
    fn events_that_are_not_observations_of_a_monitored_queue_are_issues() {
        let (observations, _) = setup();
        let mut other = event(Some("voice"), &[("oWaiting", None, n(1))]);
        other.group.queue_id = Some("q2".into());
        assert_eq!(
            observations.apply_event(&other, NOW),
            Err(ObservationIssue::UnmonitoredQueue("q2".into()))
        );
        let mut aggregate = event(Some("voice"), &[("nOffered", None, n(1))]);
        aggregate.data[0].interval = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z".into();
        assert_eq!(
            observations.apply_event(&aggregate, NOW),
            Err(ObservationIssue::NotAnObservation)
        );
    }

    #[test]
    fn a_resync_sets_every_series_with_missing_meaning_zero() {
        let (observations, metrics) = setup();
        observations
            .apply_event(&event(Some("chat"), &[("oWaiting", None, n(7))]), NOW)
            .unwrap();
        observations
            .apply_event(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(5))]), NOW)
            .unwrap();
        let response: QueueObservationQueryResponse = serde_json::from_str(r#"{"results":[
          {"group":{"queueId":"q1","mediaType":"voice"},"data":[
            {"metric":"oWaiting","stats":{"count":2},"truncated":false,"observations":[
              {"observationDate":"2025-11-25T09:46:24.839Z","conversationId":"c1"},
              {"observationDate":"2025-11-25T09:46:50.839Z","conversationId":"c2"}]},
            {"metric":"oInteracting","stats":{"count":1}}]},
          {"group":{"queueId":"q1","mediaType":"fax"},"data":[{"metric":"oWaiting","stats":{"count":9}}]},
          {"group":{"queueId":"q1"},"data":[
            {"metric":"oOnQueueUsers","qualifier":"INTERACTING","stats":{"count":2}},
            {"metric":"oUserRoutingStatuses","qualifier":"INTERACTING","stats":{"count":2}},
            {"metric":"oMemberUsers","stats":{"count":6}}]},
          {"group":{"queueId":"elsewhere"},"data":[{"metric":"oMemberUsers","stats":{"count":1}}]}]}"#).unwrap();
        observations.apply_resync(&["q1".to_owned()], &response, NOW);
        let text = metrics.render(NOW);
        let q = r#"queue="Support",queue_id="q1""#;
        for (series, expected) in [
            (
                format!(r#"genesys_queue_interactions{{media_type="voice",{q},state="waiting"}}"#),
                "2",
            ),
            (
                format!(
                    r#"genesys_queue_interactions{{media_type="voice",{q},state="interacting"}}"#
                ),
                "1",
            ),
            (
                format!(r#"genesys_queue_interactions{{media_type="voice",{q},state="alerting"}}"#),
                "0",
            ),
            (
                format!(r#"genesys_queue_interactions{{media_type="chat",{q},state="waiting"}}"#),
                "0",
            ),
            (
                format!(r#"genesys_queue_oldest_waiting_seconds{{media_type="voice",{q}}}"#),
                "30",
            ),
            (
                format!(r#"genesys_queue_oldest_waiting_seconds{{media_type="chat",{q}}}"#),
                "0",
            ),
            (format!(r#"genesys_queue_on_queue_users{{{q}}}"#), "2"),
            (
                format!(r#"genesys_queue_users{{{q},routing_status="INTERACTING"}}"#),
                "2",
            ),
            (
                format!(r#"genesys_queue_users{{{q},routing_status="IDLE"}}"#),
                "0",
            ),
            (format!(r#"genesys_queue_members{{{q}}}"#), "6"),
            (format!(r#"genesys_queue_active_users{{{q}}}"#), "0"),
        ] {
            assert_eq!(
                value(&text, &series).as_deref(),
                Some(expected),
                "{series}\n{text}"
            );
        }
        assert!(!text.contains("elsewhere") && !text.contains("fax"));
        observations
            .apply_event(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(1))]), NOW)
            .unwrap();
        let text = metrics.render(NOW);
        assert_eq!(
            value(&text, &format!(r#"genesys_queue_on_queue_users{{{q}}}"#)).as_deref(),
            Some("3"),
            "parts restart from the snapshot"
        );
    }

    #[test]
    fn a_failed_resync_marks_the_queues_stale() {
        let (observations, metrics) = setup();
        let error = ApiError::Status {
            endpoint: "observations",
            status: 503,
            message: "down".into(),
            correlation_id: "x".into(),
        };
        assert!(
            observations
                .finish_resync(&["q1".to_owned()], Err(error), NOW)
                .is_err()
        );
        let text = metrics.render(NOW);
        assert_eq!(
            value(
                &text,
                r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#
            )
            .as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&text, r#"genesys_exporter_resyncs_total{result="failure"}"#).as_deref(),
            Some("1")
        );
        observations
            .finish_resync(&["q1".to_owned()], Ok(Default::default()), NOW)
            .unwrap();
        let text = metrics.render(NOW);
        assert_eq!(
            value(
                &text,
                r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#
            )
            .as_deref(),
            Some("0")
        );
        assert_eq!(
            value(&text, "genesys_exporter_last_resync_timestamp_seconds").as_deref(),
            Some("1764064014")
        );
    }

    #[test]
    fn zero_width_intervals_are_recognised_even_when_spelled_differently() {
        assert!(is_instant_interval(
            "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z"
        ));
        assert!(is_instant_interval(
            "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839+00:00"
        ));
        assert!(!is_instant_interval(
            "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z"
        ));
        assert!(!is_instant_interval("garbage"));
    }
}
