//! Conversation aggregates: the poller and the bucket ledger (DESIGN.md §5).
//!
//! Two sources feed one [`ConversationTotals`]: the [`poller::Poller`] (a sliding window of the
//! aggregates query) and the stream supervisor (running totals of the current 30-minute
//! bucket). Both go through the same [`ledger::Ledger`], so whichever source reports a bucket
//! first moves the counters and the other only adds what it knows beyond that.

pub mod ledger;
#[cfg(test)]
mod ledger_props;
pub mod poller;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use crate::genesys::model::AggregateDataContainer;
use crate::metrics::Metrics;
use ledger::Ledger;

/// The ledger plus the counters it feeds; shared by the poller and the stream supervisor
/// (whose running 30-minute totals feed the same ledger).
pub struct ConversationTotals {
    ledger: Mutex<Ledger>,
    metrics: Arc<Metrics>,
}

impl ConversationTotals {
    /// `granularity` is the only bucket width folded; see [`Ledger::new`].
    pub fn new(metrics: Arc<Metrics>, granularity: Duration) -> Self {
        Self {
            ledger: Mutex::new(Ledger::new(granularity)),
            metrics,
        }
    }

    pub fn granularity(&self) -> Duration {
        self.lock().granularity()
    }

    /// Folds one group's buckets into the counters; buckets whose width is not the ledger's
    /// granularity are skipped. Returns how many counter increments were applied.
    ///
    /// Groups of unmonitored queues and media types outside the allow-list never reach the
    /// ledger, so they cannot grow its memory or the label set.
    pub fn fold(&self, container: &AggregateDataContainer) -> usize {
        let (Some(queue_id), Some(media_type)) = (
            container.group.queue_id.as_deref(),
            container.group.media_type.as_deref(),
        ) else {
            debug!(group = ?container.group, "aggregate group without queueId/mediaType ignored");
            return 0;
        };
        if !self.metrics.is_monitored(queue_id) || !self.metrics.knows_media_type(media_type) {
            return 0;
        }
        let report = self.lock().fold(queue_id, media_type, &container.data);
        if report.malformed > 0 {
            warn!(
                queue_id,
                media_type,
                malformed = report.malformed,
                "aggregate buckets with unparseable intervals or invalid values ignored"
            );
        }
        if report.skipped_buckets + report.expired_buckets + report.ignored > 0 {
            debug!(
                queue_id,
                media_type,
                skipped_buckets = report.skipped_buckets,
                expired_buckets = report.expired_buckets,
                ignored_metrics = report.ignored,
                "aggregate data not folded"
            );
        }
        // NB: increments commute, so they are applied after releasing the ledger lock.
        for delta in &report.deltas {
            self.metrics.add_conversations(
                &delta.queue_id,
                &delta.media_type,
                delta.counter,
                delta.amount,
            );
        }
        report.deltas.len()
    }

    /// Drops buckets that start before `cutoff` (bounded memory); they are refused afterwards.
    pub fn forget_before(&self, cutoff: DateTime<Utc>) {
        self.lock().forget_before(cutoff);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // NB: the ledger stays consistent even if a holder panicked (each mark is one store),
        // so a poisoned lock is still safe to use.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::QueueLabels;

    const HALF_HOUR: Duration = Duration::from_secs(1800);
    const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";

    fn totals() -> (ConversationTotals, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new(vec!["voice".into(), "chat".into()]));
        metrics.set_queues(&[QueueLabels {
            id: "q1".into(),
            name: "Support".into(),
            division: "Home".into(),
        }]);
        (ConversationTotals::new(metrics.clone(), HALF_HOUR), metrics)
    }

    fn container(
        queue: &str,
        media: &str,
        interval: &str,
        metrics: &str,
    ) -> AggregateDataContainer {
        let json = format!(
            r#"{{"group":{{"queueId":"{queue}","mediaType":"{media}"}},
                "data":[{{"interval":"{interval}","metrics":[{metrics}]}}]}}"#
        );
        serde_json::from_str(&json).unwrap()
    }

    fn offered(n: u64) -> String {
        format!(r#"{{"metric":"nOffered","stats":{{"count":{n}}}}}"#)
    }

    /// The value of `name` for q1 and `media`, or `None` if the series does not exist.
    fn value(metrics: &Metrics, name: &str, media: &str) -> Option<f64> {
        let prefix = format!(r#"{name}{{media_type="{media}",queue="Support",queue_id="q1"}} "#);
        let text = metrics.render(0);
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(|v| v.parse().unwrap())
    }

    const OFFERED: &str = "genesys_conversations_offered_total";

    #[test]
    fn a_late_revision_adds_only_the_difference() {
        let (totals, metrics) = totals();
        assert_eq!(
            totals.fold(&container("q1", "voice", B0930, &offered(10))),
            1
        );
        assert_eq!(value(&metrics, OFFERED, "voice"), Some(10.0));
        assert_eq!(
            totals.fold(&container("q1", "voice", B0930, &offered(10))),
            0
        );
        assert_eq!(
            totals.fold(&container("q1", "voice", B0930, &offered(14))),
            1
        );
        assert_eq!(value(&metrics, OFFERED, "voice"), Some(14.0));
    }

    #[test]
    fn a_stream_total_higher_than_a_later_lagging_poll_is_not_double_counted() {
        let (totals, metrics) = totals();
        // The stream's running total for the current bucket arrives first ...
        totals.fold(&container("q1", "voice", B0930, &offered(8)));
        // ... then a lagging poll reports less, and later catches up past it.
        assert_eq!(
            totals.fold(&container("q1", "voice", B0930, &offered(5))),
            0
        );
        assert_eq!(value(&metrics, OFFERED, "voice"), Some(8.0));
        totals.fold(&container("q1", "voice", B0930, &offered(9)));
        assert_eq!(value(&metrics, OFFERED, "voice"), Some(9.0));
    }

    #[test]
    fn an_off_granularity_bucket_is_skipped() {
        let (totals, metrics) = totals();
        let five_minutes = "2026-11-25T09:30:00.000Z/2026-11-25T09:35:00.000Z";
        assert_eq!(
            totals.fold(&container("q1", "voice", five_minutes, &offered(3))),
            0
        );
        let observation = "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z";
        let waiting = r#"{"metric":"oWaiting","stats":{"count":3}}"#;
        assert_eq!(
            totals.fold(&container("q1", "voice", observation, waiting)),
            0
        );
        assert_eq!(value(&metrics, OFFERED, "voice"), None);
    }

    #[test]
    fn unmonitored_queues_unknown_media_and_incomplete_groups_are_ignored() {
        let (totals, metrics) = totals();
        assert_eq!(
            totals.fold(&container("q2", "voice", B0930, &offered(3))),
            0
        );
        assert_eq!(totals.fold(&container("q1", "fax", B0930, &offered(3))), 0);
        let no_media: AggregateDataContainer = serde_json::from_str(&format!(
            r#"{{"group":{{"queueId":"q1"}},"data":[{{"interval":"{B0930}","metrics":[{}]}}]}}"#,
            offered(3)
        ))
        .unwrap();
        assert_eq!(totals.fold(&no_media), 0);
        let text = metrics.render(0);
        assert!(!text.contains("q2") && !text.contains("fax"), "{text}");
        assert_eq!(value(&metrics, OFFERED, "voice"), None);
        assert_eq!(totals.lock().bucket_count(), 0);
    }

    #[test]
    fn a_handle_time_sum_in_milliseconds_becomes_seconds() {
        let (totals, metrics) = totals();
        let handle =
            r#"{"metric":"tHandle","stats":{"max":412000,"min":61000,"count":9,"sum":1843000}}"#;
        assert_eq!(totals.fold(&container("q1", "chat", B0930, handle)), 2);
        assert_eq!(
            value(
                &metrics,
                "genesys_conversation_handle_seconds_total",
                "chat"
            ),
            Some(1843.0)
        );
        assert_eq!(
            value(&metrics, "genesys_conversations_handled_total", "chat"),
            Some(9.0)
        );
    }

    #[test]
    fn forgotten_buckets_do_not_count_again() {
        let (totals, metrics) = totals();
        totals.fold(&container("q1", "voice", B0930, &offered(4)));
        totals.forget_before(
            crate::genesys::time::parse_instant("2026-11-25T10:00:00.000Z").unwrap(),
        );
        assert_eq!(
            totals.fold(&container("q1", "voice", B0930, &offered(6))),
            0
        );
        assert_eq!(value(&metrics, OFFERED, "voice"), Some(4.0));
        assert_eq!(totals.granularity(), HALF_HOUR);
    }
}
