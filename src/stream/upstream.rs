//! The REST calls the supervisor needs, behind a trait so its state machine is tested against
//! a scripted fake, and one channel's bookkeeping (when to rotate it).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::agents::AgentSource;
use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{Channel, ChannelTopicEntityListing, QueueObservationQueryResponse};
use crate::genesys::time::parse_instant;
use crate::telephony::TelephonySource;
use crate::vocabulary::clock::Clock;

/// A channel lives 24 hours unless `expires` says otherwise.
const DEFAULT_CHANNEL_LIFETIME: Duration = Duration::from_secs(24 * 3_600);

/// Rotating sooner than this after creation would turn a misconfiguration (a rotation margin
/// longer than the channel's life) into a channel-creation loop.
const MIN_CHANNEL_USE: Duration = Duration::from_secs(30);

/// The agent and telephony reads come with it ([`AgentSource`], [`TelephonySource`]): their
/// channels resync through them.
pub(crate) trait Upstream: AgentSource + TelephonySource {
    fn create_channel(&self) -> impl Future<Output = Result<Channel, ApiError>> + Send;

    fn replace_subscriptions(
        &self,
        channel_id: &str,
        topics: &[String],
    ) -> impl Future<Output = Result<ChannelTopicEntityListing, ApiError>> + Send;

    fn query_observations(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<QueueObservationQueryResponse, ApiError>> + Send;
}

impl Upstream for GenesysClient {
    fn create_channel(&self) -> impl Future<Output = Result<Channel, ApiError>> + Send {
        GenesysClient::create_channel(self)
    }

    fn replace_subscriptions(
        &self,
        channel_id: &str,
        topics: &[String],
    ) -> impl Future<Output = Result<ChannelTopicEntityListing, ApiError>> + Send {
        GenesysClient::replace_subscriptions(self, channel_id, topics)
    }

    fn query_observations(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<QueueObservationQueryResponse, ApiError>> + Send {
        GenesysClient::query_observations(self, queue_ids)
    }
}

/// A channel we created, and when to replace it.
#[derive(Debug, Clone)]
pub(crate) struct ChannelState {
    pub channel: Channel,
    pub rotate_at: Instant,
}

impl ChannelState {
    /// Rotation is due `rotate_before_expiry` before the channel's `expires`, both in `clock`'s
    /// time (the time Genesys, or the simulator, keeps), and never sooner than
    /// [`MIN_CHANNEL_USE`] of it.
    pub(crate) fn new(channel: Channel, rotate_before_expiry: Duration, clock: &Clock) -> Self {
        let remaining = channel
            .expires
            .as_deref()
            .and_then(parse_instant)
            .and_then(|expires| (expires - clock.now()).to_std().ok())
            .unwrap_or(DEFAULT_CHANNEL_LIFETIME);
        let use_for = remaining.saturating_sub(rotate_before_expiry);
        Self {
            channel,
            rotate_at: Instant::now() + clock.timer_for(use_for.max(MIN_CHANNEL_USE)),
        }
    }
}

#[cfg(test)]
mod tests;
