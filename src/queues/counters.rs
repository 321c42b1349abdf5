//! The queues' counters: the conversation counters as the ledger keeps them, where they come
//! from (the conversation aggregates query, [`Polled`]) and where they show (the queue table,
//! [`Shelved`]).

use tracing::{debug, warn};

use super::table::QueueTable;
use crate::aggregates::ledger::{ConversationKey, SeriesKey};
use crate::aggregates::poller::{PollSettings, Polled};
use crate::aggregates::{ConversationTotals, Shelved, Totals};
use crate::genesys::client::{AggregateScope, GenesysClient, MAX_QUEUES_PER_QUERY};
use crate::genesys::error::ApiError;
use crate::genesys::model::AggregateDataContainer;
use crate::status::PollKind;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup};

/// The conversation aggregates query: the configured metric set, media types and directions.
pub(crate) struct ConversationQuery {
    /// The Genesys metric names queried (the configured metric set).
    metric_names: Vec<String>,
    /// The media types and directions exported: upstream counts no others for us.
    scope: AggregateScope,
}

impl Polled for ConversationCounter {
    const BATCH: usize = MAX_QUEUES_PER_QUERY;
    const WHAT: &'static str = "aggregate";
    // NB: the queue set is known before this poller starts, and changes to it are rare.
    const FOLLOWS_OWNERS: bool = false;
    type Query = ConversationQuery;

    fn query(counters: &[Self], settings: &PollSettings) -> ConversationQuery {
        ConversationQuery {
            metric_names: metric_names(counters),
            scope: settings.scope.clone(),
        }
    }

    async fn read_and_fold(
        client: &GenesysClient,
        query: &ConversationQuery,
        totals: &Totals<Self>,
        (interval, granularity): (&str, &str),
        batch: &[String],
    ) -> Result<usize, ApiError> {
        let response = client
            .query_aggregates(
                interval,
                granularity,
                batch,
                &query.scope,
                &query.metric_names,
            )
            .await?;
        Ok((response.results.iter())
            .map(|container| totals.fold(container))
            .sum())
    }

    const POLL: PollKind = PollKind::Conversations;
}

/// The Genesys metrics that feed `counters`, each once, in a stable order.
fn metric_names(counters: &[ConversationCounter]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for counter in counters {
        let name = counter.source().0.as_str();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

impl Shelved for ConversationCounter {
    type Shelf = QueueTable;

    fn show(
        queues: &QueueTable,
        key: &ConversationKey,
        totals: Vec<(Self, f64)>,
        shown_before: bool,
    ) {
        queues.set_conversation_totals(&key.queue_id, key.group(), totals, shown_before);
    }

    fn ensure(queues: &QueueTable, key: &ConversationKey) {
        queues.ensure_conversation_group(&key.queue_id, key.group());
    }

    fn shown(queues: &QueueTable, key: &ConversationKey) -> bool {
        queues.conversation_group_shown(&key.queue_id, key.group())
    }
}

impl ConversationTotals {
    /// Folds one group's buckets into the counters; returns how many counter increments it
    /// owes (shown now, or at the next save with a store).
    ///
    /// Groups of unmonitored queues and media types outside the allow-list never reach the
    /// ledger, so they cannot grow its memory or the label set.
    pub(crate) fn fold(&self, container: &AggregateDataContainer) -> usize {
        let (Some(queue_id), Some(media_type)) = (
            container.group.queue_id.as_deref(),
            container.group.media_type.as_deref(),
        ) else {
            debug!(group = ?container.group, "aggregate group without queueId/mediaType ignored");
            return 0;
        };
        let group = ConversationGroup {
            media_type,
            direction: container.group.direction.as_deref(),
        };
        let queues = self.shelf();
        // NB: with directions configured, a group without one (the stream's running totals)
        // is not any counter's: folding it too would count its conversations twice.
        if !queues.is_monitored(queue_id) || !queues.knows_conversation_group(group) {
            return 0;
        }
        let key = ConversationKey::new(queue_id, group);
        let report = self.fold_owner(queue_id, &group, &container.data, Some(&key));
        if report.malformed + report.off_grid_buckets > 0 {
            warn!(
                queue_id,
                media_type,
                malformed = report.malformed,
                off_grid = report.off_grid_buckets,
                "aggregate buckets with unparseable intervals, invalid values or starts off the \
                 granularity grid ignored"
            );
        }
        if report.skipped_buckets + report.expired_buckets + report.ignored + report.baselined > 0 {
            debug!(
                queue_id,
                media_type,
                baselined = report.baselined,
                skipped_buckets = report.skipped_buckets,
                expired_buckets = report.expired_buckets,
                ignored_metrics = report.ignored,
                "aggregate data not counted"
            );
        }
        if let Some(target) = report.service_level_target {
            queues.set_service_level_target(queue_id, media_type, target);
        }
        report.deltas.len()
    }
}
