//! HTTP execution against Genesys Cloud. PLACEHOLDER SIGNATURES: being implemented.

use std::sync::Arc;
use std::time::Duration;

use crate::genesys::error::ApiError;
use crate::genesys::model::*;
use crate::metrics::Metrics;
use crate::secret::Secret;

/// Where and how to reach Genesys Cloud.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// e.g. `https://api.mypurecloud.ie` (no trailing slash needed).
    pub api_base_url: String,
    /// e.g. `https://login.mypurecloud.ie`.
    pub login_base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Retries after the first attempt for 429 / 5xx / transport errors.
    pub max_retries: u32,
    /// Backoff base and cap for 5xx / transport retries.
    pub retry_backoff_base: Duration,
    pub retry_backoff_cap: Duration,
}

/// Cheap to clone; all clones share one token cache and one connection pool.
#[derive(Clone)]
pub struct GenesysClient {
    _settings: Arc<ClientSettings>,
    _metrics: Arc<Metrics>,
}

impl GenesysClient {
    pub fn new(settings: ClientSettings, metrics: Arc<Metrics>) -> Result<Self, ApiError> {
        Ok(Self { _settings: Arc::new(settings), _metrics: metrics })
    }

    /// Fetches a token now if none is cached (used at start-up and by readiness).
    pub async fn ensure_token(&self) -> Result<(), ApiError> {
        todo!()
    }

    /// Every queue (all pages), optionally filtered by name (`*` wildcard).
    pub async fn list_queues(&self, _name: Option<&str>) -> Result<Vec<Queue>, ApiError> {
        todo!()
    }

    pub async fn get_queue(&self, _queue_id: &str) -> Result<Queue, ApiError> {
        todo!()
    }

    /// Observations for the queues, batched at 100 ids per request; results concatenated.
    pub async fn query_observations(
        &self,
        _queue_ids: &[String],
    ) -> Result<QueueObservationQueryResponse, ApiError> {
        todo!()
    }

    /// Aggregates grouped by queueId and mediaType, batched at 100 ids; results concatenated.
    pub async fn query_aggregates(
        &self,
        _interval: &str,
        _granularity: &str,
        _queue_ids: &[String],
    ) -> Result<ConversationAggregateQueryResponse, ApiError> {
        todo!()
    }

    pub async fn create_channel(&self) -> Result<Channel, ApiError> {
        todo!()
    }

    /// Replaces the channel's topics (PUT); more than 1,000 topics is a 400 upstream.
    pub async fn replace_subscriptions(
        &self,
        _channel_id: &str,
        _topics: &[String],
    ) -> Result<ChannelTopicEntityListing, ApiError> {
        todo!()
    }
}
