//! Conversation aggregates: the poller and the bucket ledger. PLACEHOLDER SIGNATURES.

pub mod ledger;
pub mod poller;

use std::sync::Arc;

use crate::genesys::model::AggregateDataContainer;
use crate::metrics::Metrics;

/// The ledger plus the counters it feeds; shared by the poller and the stream supervisor
/// (whose running 30-minute totals feed the same ledger).
pub struct ConversationTotals {
    _metrics: Arc<Metrics>,
}

impl ConversationTotals {
    /// Folds one group's buckets into the counters; buckets whose width is not the ledger's
    /// granularity are skipped. Returns how many counter increments were applied.
    pub fn fold(&self, _container: &AggregateDataContainer) -> usize {
        todo!()
    }
}
