//! One notification channel's lifecycle (DESIGN.md §4): creating the channel → subscribing →
//! connecting → streaming → reconnecting or rotating, with a REST resync after every gap and a
//! polled fallback while the stream is down.
//!
//! One `Supervisor` owns one channel and the topics of the queue set it is given; sharding
//! more than 1,000 queues means running several supervisors with disjoint sets.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::connection::{self, ConnectError, SessionContext, SessionEnd, WsStream, run_session};
use super::upstream::{ChannelState, MAX_TOPICS_PER_CHANNEL, Upstream};
use crate::aggregates::ConversationTotals;
use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::queue_observation_topic;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::observations::Observations;

/// How long one WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Floor for the fallback interval, so a zero setting cannot turn into a request storm.
const MIN_FALLBACK_POLL: Duration = Duration::from_millis(100);
/// How long a replaced socket gets to close politely.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Silence after which the socket counts as dead (upstream heartbeats every ~30 s).
    pub heartbeat_timeout: Duration,
    pub reconnect_backoff_base: Duration,
    pub reconnect_backoff_cap: Duration,
    /// REST resync interval while the stream is down.
    pub fallback_poll_interval: Duration,
    /// How long before the channel's `expires` it is replaced.
    pub rotate_before_expiry: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("creating a notification channel failed: {0}")]
    CreateChannel(#[source] ApiError),
    #[error("subscribing channel {channel} failed: {source}")]
    Subscribe {
        channel: String,
        #[source]
        source: ApiError,
    },
    #[error("connecting to channel {channel} failed: {source}")]
    Connect {
        channel: String,
        #[source]
        source: ConnectError,
    },
    /// A sharding bug, not an upstream hiccup: retrying cannot help.
    #[error("{topics} topics exceed the {MAX_TOPICS_PER_CHANNEL} one channel carries")]
    TooManyTopics { topics: usize },
}

impl StreamError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CreateChannel(_) => "create_channel",
            Self::Subscribe { .. } => "subscribe",
            Self::Connect { .. } => "connect",
            Self::TooManyTopics { .. } => "too_many_topics",
        }
    }
}

/// A channel with an open socket.
struct Live {
    state: ChannelState,
    socket: WsStream,
}

/// Keeps one notification channel streaming for a watched queue set.
pub struct Supervisor {
    driver: Driver<GenesysClient>,
}

impl Supervisor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: GenesysClient,
        observations: Arc<Observations>,
        totals: Arc<ConversationTotals>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        queues: watch::Receiver<Vec<String>>,
        settings: StreamSettings,
        channel_label: String,
    ) -> Self {
        let ctx = SessionContext {
            observations,
            aggregates: Arc::new(move |container| totals.fold(container)),
            metrics,
            heartbeat_timeout: settings.heartbeat_timeout,
        };
        Self {
            driver: Driver::new(client, ctx, health, queues, settings, channel_label),
        }
    }

    /// Runs until `cancel`; upstream failures are retried, only a sharding bug is returned.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), StreamError> {
        self.driver.run(cancel).await
    }
}

/// The state machine, generic over the REST side so tests script it.
pub(crate) struct Driver<U> {
    upstream: U,
    ctx: SessionContext,
    health: Arc<Health>,
    queues: watch::Receiver<Vec<String>>,
    settings: StreamSettings,
    label: String,
    last_resync_attempt: Option<Instant>,
}

type Update<'a> = Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + 'a>>;

/// Why an update runs while streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpdateKind {
    /// Resubscribe and resync the whole new queue set.
    QueueChange,
    /// Resync only the queues a failed resync left stale.
    StaleRetry,
}

impl<U: Upstream> Driver<U> {
    pub(crate) fn new(
        upstream: U,
        ctx: SessionContext,
        health: Arc<Health>,
        queues: watch::Receiver<Vec<String>>,
        settings: StreamSettings,
        label: String,
    ) -> Self {
        Self {
            upstream,
            ctx,
            health,
            queues,
            settings,
            label,
            last_resync_attempt: None,
        }
    }

    pub(crate) async fn run(mut self, cancel: CancellationToken) -> Result<(), StreamError> {
        let mut backoff = crate::backoff::Backoff::new(
            self.settings.reconnect_backoff_base,
            self.settings.reconnect_backoff_cap,
        );
        let mut channel: Option<ChannelState> = None;
        let mut ready: Option<Live> = None;
        // NB: the series exists from the start, so "never connected" alerts like "disconnected".
        self.ctx.metrics.stream_connected(&self.label, false);
        loop {
            let live = match ready.take() {
                Some(live) => live,
                None => {
                    let queue_ids = self.queues.borrow_and_update().clone();
                    let attempt = self.establish(&mut channel, &queue_ids);
                    let result = tokio::select! {
                        _ = cancel.cancelled() => return Ok(()),
                        result = attempt => result,
                    };
                    match result {
                        Ok(live) => live,
                        Err(error @ StreamError::TooManyTopics { .. }) => return Err(error),
                        Err(error) => {
                            warn!(channel = self.label, kind = error.kind(), error = %error, "stream not established");
                            if !self.wait_down(backoff.next_delay(), &cancel).await {
                                return Ok(());
                            }
                            continue;
                        }
                    }
                }
            };
            self.ctx.metrics.stream_connected(&self.label, true);
            info!(
                channel = self.label,
                id = live.state.channel.id,
                "streaming"
            );
            if !self.resync_all(&cancel).await {
                close(live.socket).await;
                self.ctx.metrics.stream_connected(&self.label, false);
                return Ok(());
            }
            let started = Instant::now();
            let state = live.state.clone();
            let (end, socket) = self.stream(live, &mut channel, &cancel).await;
            if end == SessionEnd::Cancelled {
                close(socket).await;
                self.ctx.metrics.stream_connected(&self.label, false);
                return Ok(());
            }
            self.ctx.metrics.stream_reconnected(end.as_str());
            if started.elapsed() >= self.settings.heartbeat_timeout {
                backoff.reset();
            }
            if end.is_rotation() && channel.is_some() {
                info!(
                    channel = self.label,
                    reason = end.as_str(),
                    "rotating channel, make-before-break"
                );
                match self.rotate(socket, &cancel).await {
                    None => return Ok(()),
                    Some(Ok(fresh)) => {
                        channel = Some(fresh.state.clone());
                        ready = Some(fresh);
                        continue;
                    }
                    Some(Err(error)) => {
                        warn!(channel = self.label, kind = error.kind(), error = %error, "rotation failed");
                        channel = None;
                    }
                }
            } else {
                warn!(
                    channel = self.label,
                    id = state.channel.id,
                    reason = end.as_str(),
                    "stream ended, reconnecting"
                );
                close(socket).await;
            }
            self.ctx.metrics.stream_connected(&self.label, false);
            if !self.wait_down(backoff.next_delay(), &cancel).await {
                return Ok(());
            }
        }
    }

    /// Subscribes (creating the channel first if there is none or it is gone) and connects.
    async fn establish(
        &self,
        channel: &mut Option<ChannelState>,
        queue_ids: &[String],
    ) -> Result<Live, StreamError> {
        let topics: Vec<String> = queue_ids
            .iter()
            .map(|id| queue_observation_topic(id))
            .collect();
        if topics.len() > MAX_TOPICS_PER_CHANNEL {
            return Err(StreamError::TooManyTopics {
                topics: topics.len(),
            });
        }
        let state = self.channel_or_create(channel).await?;
        let state = match self.subscribe(&state, &topics).await {
            Err(StreamError::Subscribe { source, .. }) if source.status() == Some(404) => {
                info!(
                    channel = self.label,
                    id = state.channel.id,
                    "channel is gone, creating a new one"
                );
                *channel = None;
                let fresh = self.channel_or_create(channel).await?;
                self.subscribe(&fresh, &topics).await?;
                fresh
            }
            Err(error) => return Err(error),
            Ok(()) => state,
        };
        match connection::connect(&state.channel.connect_uri, CONNECT_TIMEOUT).await {
            Ok(socket) => Ok(Live { state, socket }),
            Err(source) => {
                // NB: a channel we cannot connect to may have been replaced upstream (20 per
                // client); a fresh one costs one request and rules that out.
                *channel = None;
                Err(StreamError::Connect {
                    channel: state.channel.id,
                    source,
                })
            }
        }
    }

    async fn channel_or_create(
        &self,
        channel: &mut Option<ChannelState>,
    ) -> Result<ChannelState, StreamError> {
        if let Some(state) = channel {
            return Ok(state.clone());
        }
        let created = self
            .upstream
            .create_channel()
            .await
            .map_err(StreamError::CreateChannel)?;
        debug!(channel = self.label, id = created.id, expires = ?created.expires, "channel created");
        let state = ChannelState::new(created, self.settings.rotate_before_expiry);
        *channel = Some(state.clone());
        Ok(state)
    }

    async fn subscribe(&self, state: &ChannelState, topics: &[String]) -> Result<(), StreamError> {
        let listing = self
            .upstream
            .replace_subscriptions(&state.channel.id, topics)
            .await
            .map_err(|source| StreamError::Subscribe {
                channel: state.channel.id.clone(),
                source,
            })?;
        self.ctx
            .metrics
            .set_subscribed_topics(&self.label, listing.entities.len());
        Ok(())
    }

    /// Streams until the session ends. Meanwhile a queue-set change resubscribes and resyncs,
    /// and queues left stale by a failed resync are resynced again every
    /// `fallback_poll_interval` until they are fresh. Events keep being applied during either
    /// resync, which replays them over its snapshot (`Observations::resync_with`); its failure
    /// marks the queues stale, which the next check picks up. A queue-set change supersedes a
    /// stale retry in flight (which can take minutes of REST retries): it resyncs every queue
    /// anyway. It waits for an earlier queue change instead, so repeated changes cannot keep
    /// restarting one.
    async fn stream(
        &mut self,
        live: Live,
        channel: &mut Option<ChannelState>,
        cancel: &CancellationToken,
    ) -> (SessionEnd, WsStream) {
        let Self {
            upstream,
            ctx,
            queues,
            settings,
            label,
            last_resync_attempt,
            ..
        } = self;
        let every = settings.fallback_poll_interval.max(MIN_FALLBACK_POLL);
        let mut stale_check = last_resync_attempt.map_or_else(Instant::now, |at| at + every);
        let session_cancel = cancel.child_token();
        let session = run_session(
            live.socket,
            ctx,
            Some(live.state.rotate_at),
            &session_cancel,
        );
        tokio::pin!(session);
        let mut update: Option<(UpdateKind, Update<'_>)> = None;
        let mut watching = true;
        let mut forced: Option<SessionEnd> = None;
        loop {
            tokio::select! {
                (end, socket) = &mut session => {
                    return (if end == SessionEnd::Cancelled && !cancel.is_cancelled() { forced.unwrap_or(end) } else { end }, socket);
                }
                // NB: replacing a stale retry drops it; dropping a resync discards its record.
                changed = queues.changed(), if watching && !matches!(update, Some((UpdateKind::QueueChange, _))) => {
                    if changed.is_err() {
                        watching = false;
                        continue;
                    }
                    let queue_ids = queues.borrow_and_update().clone();
                    let state = live.state.clone();
                    let (upstream, ctx, label) = (&*upstream, &*ctx, label.as_str());
                    *last_resync_attempt = Some(Instant::now());
                    stale_check = Instant::now() + every;
                    update = Some((UpdateKind::QueueChange, Box::pin(async move {
                        let topics: Vec<String> = queue_ids.iter().map(|id| queue_observation_topic(id)).collect();
                        if topics.len() > MAX_TOPICS_PER_CHANNEL {
                            return Err(StreamError::TooManyTopics { topics: topics.len() });
                        }
                        let listing = upstream
                            .replace_subscriptions(&state.channel.id, &topics)
                            .await
                            .map_err(|source| StreamError::Subscribe { channel: state.channel.id.clone(), source })?;
                        ctx.metrics.set_subscribed_topics(label, listing.entities.len());
                        let query = |batch| upstream.query_observations(batch);
                        let _ = ctx.observations.resync_with(&queue_ids, query).await;
                        Ok(())
                    })));
                }
                _ = sleep_until(stale_check), if update.is_none() => {
                    stale_check = Instant::now() + every;
                    let stale: Vec<String> = ctx.metrics.queues_stale(&queues.borrow()).cloned().collect();
                    if stale.is_empty() {
                        continue;
                    }
                    debug!(channel = *label, queues = stale.len(), "resyncing stale queues while streaming");
                    *last_resync_attempt = Some(Instant::now());
                    let (upstream, ctx) = (&*upstream, &*ctx);
                    update = Some((UpdateKind::StaleRetry, Box::pin(async move {
                        let query = |batch| upstream.query_observations(batch);
                        let _ = ctx.observations.resync_with(&stale, query).await;
                        Ok(())
                    })));
                }
                // NB: the precondition disables this branch before its (lazy) future is polled,
                // so the `expect` cannot fire.
                result = async { update.as_mut().expect("guarded by is_some").1.as_mut().await }, if update.is_some() => {
                    update = None;
                    if let Err(error) = result {
                        warn!(channel = *label, kind = error.kind(), error = %error, "resubscribing after a queue change failed");
                        if matches!(&error, StreamError::Subscribe { source, .. } if source.status() == Some(404)) {
                            *channel = None;
                        }
                        forced = Some(SessionEnd::Error);
                        session_cancel.cancel();
                    }
                }
            }
        }
    }

    /// Builds a new channel and socket while the old socket keeps being read, then drops the
    /// old one; `None` when cancelled.
    async fn rotate(
        &mut self,
        old: WsStream,
        cancel: &CancellationToken,
    ) -> Option<Result<Live, StreamError>> {
        let queue_ids = self.queues.borrow_and_update().clone();
        let drain_cancel = cancel.child_token();
        let mut fresh_channel = None;
        let this = &*self;
        let drain = run_session(old, &this.ctx, None, &drain_cancel);
        let establish = this.establish(&mut fresh_channel, &queue_ids);
        tokio::pin!(drain, establish);
        let mut drained: Option<WsStream> = None;
        let result = loop {
            tokio::select! {
                _ = cancel.cancelled() => break None,
                result = &mut establish => break Some(result),
                (end, socket) = &mut drain, if drained.is_none() => {
                    debug!(channel = this.label, reason = end.as_str(), "old socket ended during rotation");
                    drained = Some(socket);
                }
            }
        };
        drain_cancel.cancel();
        let old = match drained {
            Some(socket) => socket,
            None => drain.await.1,
        };
        close(old).await;
        result
    }

    /// Waits out a backoff delay while the stream is down, resyncing over REST every
    /// `fallback_poll_interval` so gauges stay fresh; `false` when cancelled.
    async fn wait_down(&mut self, delay: Duration, cancel: &CancellationToken) -> bool {
        let until = Instant::now() + delay;
        loop {
            let every = self.settings.fallback_poll_interval.max(MIN_FALLBACK_POLL);
            let poll_at = self
                .last_resync_attempt
                .map_or_else(Instant::now, |at| at + every);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return false,
                _ = sleep_until(until) => return true,
                _ = sleep_until(poll_at) => {
                    if !self.resync_all(cancel).await {
                        return false;
                    }
                }
            }
        }
    }

    /// Refreshes every gauge of the current queue set; `false` when cancelled.
    ///
    /// No socket is read meanwhile (after a (re)connect or while down), so there are no
    /// events to record here; the one resync path is used anyway.
    async fn resync_all(&mut self, cancel: &CancellationToken) -> bool {
        let queue_ids = self.queues.borrow().clone();
        self.last_resync_attempt = Some(Instant::now());
        let upstream = &self.upstream;
        let query = |batch| upstream.query_observations(batch);
        let resync = self.ctx.observations.resync_with(&queue_ids, query);
        let result = tokio::select! {
            _ = cancel.cancelled() => return false,
            result = resync => result,
        };
        if result.is_ok() {
            self.health.resync_done();
        }
        true
    }
}

/// Closes a socket we are done with, politely but within a bound.
async fn close(mut socket: WsStream) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
}

#[cfg(test)]
mod tests;
