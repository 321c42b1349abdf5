//! One notification channel's lifecycle (docs/operations.md#reconnect-reasons) as an explicit state
//! machine: `Phase` names the states, and each has one method that performs its step and returns
//! the next state. Creating, subscribing and connecting fail over to `Phase::Reconnecting`, which
//! waits out a backoff; while any of them runs the channel is down, and the queues it carries are
//! resynced over REST every `fallback_poll_interval` (`Driver::while_down`). Streaming starts with
//! a resync, because events were missed during the gap, and ends in `Phase::Rotating`
//! (make-before-break) or `Phase::Reconnecting`; those two live phases are in `live`.
//!
//! One `Supervisor` owns one channel and the topics of the queue set it is given; sharding
//! more than 1,000 queues means running several supervisors with disjoint sets.

use std::collections::{BTreeSet, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::OptionFuture;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::connection::{self, ConnectError, SessionContext, WsStream};
use super::telemetry::Rejection;
use super::upstream::{ChannelState, Upstream};
use crate::backoff::Backoff;
use crate::genesys::GenesysClient;
use crate::genesys::egress::Egress;
use crate::genesys::egress::log_unless_reported;
use crate::genesys::error::ApiError;
use crate::genesys::model::{ChannelTopic, MAX_TOPICS_PER_CHANNEL};
use crate::health::Health;
use crate::vocabulary::labels::LabelValue;

/// How long one WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Floor for the fallback interval, so a zero setting cannot turn into a request storm.
const MIN_FALLBACK_POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub(crate) struct StreamSettings {
    /// Silence after which the socket counts as dead (upstream heartbeats every ~30 s).
    pub heartbeat_timeout: Duration,
    pub reconnect_backoff_base: Duration,
    pub reconnect_backoff_cap: Duration,
    /// REST resync interval while the channel is down, and of stale queues while it streams.
    pub fallback_poll_interval: Duration,
    /// How long before the channel's `expires` it is replaced.
    pub rotate_before_expiry: Duration,
    /// The proxy and TLS the socket connects through: the REST client's.
    pub egress: Arc<Egress>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
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
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::CreateChannel(_) => "create_channel",
            Self::Subscribe { .. } => "subscribe",
            Self::Connect { .. } => "connect",
            Self::TooManyTopics { .. } => "too_many_topics",
        }
    }

    /// The kind of the failure underneath the step, which says whether the egress already
    /// reported it.
    fn underlying_kind(&self) -> &'static str {
        match self {
            Self::CreateChannel(source) | Self::Subscribe { source, .. } => source.kind(),
            Self::Connect { source, .. } => source.kind(),
            Self::TooManyTopics { .. } => self.kind(),
        }
    }

    /// Upstream no longer knows the channel: a new one is needed.
    fn channel_is_gone(&self) -> bool {
        matches!(self, Self::Subscribe { source, .. } if source.status() == Some(404))
    }
}

/// A channel with an open socket.
pub(crate) struct Live {
    state: ChannelState,
    socket: WsStream,
}

/// The states of a channel's life.
pub(crate) enum Phase {
    /// No usable channel: create one.
    Creating,
    /// A channel whose subscriptions must be (re)placed.
    Subscribing(ChannelState),
    /// A subscribed channel: open its socket.
    Connecting(ChannelState),
    /// An open socket: resync, then apply events until the session ends.
    Streaming(Live),
    /// A working socket that must be replaced (socket_closing, expiry): the replacement is
    /// built while this one is still read.
    Rotating(Live),
    /// A backoff before trying again, with the channel to reuse if it is still good.
    Reconnecting(Option<ChannelState>),
    Stopped,
}

impl Phase {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Subscribing(_) => "subscribing",
            Self::Connecting(_) => "connecting",
            Self::Streaming(_) => "streaming",
            Self::Rotating(_) => "rotating",
            Self::Reconnecting(_) => "reconnecting",
            Self::Stopped => "stopped",
        }
    }
}

/// Only a sharding bug stops a channel; everything else is a next phase.
type Step = Result<Phase, StreamError>;

/// Keeps one notification channel streaming for a watched queue set.
pub(crate) struct Supervisor {
    driver: Driver<GenesysClient>,
    ids: watch::Receiver<Vec<String>>,
}

impl Supervisor {
    /// The supervisor of the channel `ctx` describes (its kind, its label), carrying the ids
    /// `ids` holds: a change resubscribes it.
    pub(crate) fn new(
        client: GenesysClient,
        ctx: SessionContext,
        health: Arc<Health>,
        settings: StreamSettings,
        ids: watch::Receiver<Vec<String>>,
    ) -> Self {
        let label = ctx.channel.clone();
        Self {
            driver: Driver::new(client, ctx, health, settings, label),
            ids,
        }
    }

    /// Runs until `cancel`; upstream failures are retried, only a sharding bug is returned.
    pub(crate) async fn run(self, cancel: CancellationToken) -> Result<(), StreamError> {
        self.driver.run(self.ids, cancel).await
    }
}

/// What the run loop owns and lends to each step.
pub(crate) struct Progress {
    /// The ids the channel carries (queues or agents), as placed.
    ids: watch::Receiver<Vec<String>>,
    backoff: Backoff,
    /// When the last resync of the channel's queues began: the fallback's clock.
    last_resync: Option<Instant>,
    /// When the channel went down; `None` while a socket is up.
    down_since: Option<Instant>,
}

/// The state machine, generic over the REST side so tests script it.
pub(crate) struct Driver<U> {
    upstream: U,
    ctx: SessionContext,
    health: Arc<Health>,
    settings: StreamSettings,
    label: String,
    /// How many rejected topics were last logged, so an unchanged rejection logs once.
    logged_rejections: AtomicUsize,
}

pub(crate) type Update<'a> = Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + 'a>>;

impl<U: Upstream> Driver<U> {
    pub(crate) fn new(
        upstream: U,
        ctx: SessionContext,
        health: Arc<Health>,
        settings: StreamSettings,
        label: String,
    ) -> Self {
        Self {
            upstream,
            ctx,
            health,
            settings,
            label,
            logged_rejections: AtomicUsize::new(0),
        }
    }

    pub(crate) fn progress(&self, ids: watch::Receiver<Vec<String>>) -> Progress {
        Progress {
            ids,
            backoff: Backoff::new(
                self.settings.reconnect_backoff_base,
                self.settings.reconnect_backoff_cap,
            ),
            last_resync: None,
            down_since: None,
        }
    }

    pub(crate) async fn run(
        self,
        ids: watch::Receiver<Vec<String>>,
        cancel: CancellationToken,
    ) -> Result<(), StreamError> {
        let mut progress = self.progress(ids);
        self.health.channel_started(&self.label);
        self.ctx.telemetry.started(&self.label);
        let mut phase = Phase::Creating;
        loop {
            debug!(channel = self.label, phase = phase.name(), "channel phase");
            phase = self.step(phase, &mut progress, &cancel).await?;
            if let Phase::Stopped = phase {
                self.stream_connected(false);
                let status = self.ctx.metrics.status();
                status.channel(&self.label, |c| c.phase = "stopped");
                return Ok(());
            }
        }
    }

    /// Performs one phase's step.
    pub(crate) async fn step(
        &self,
        phase: Phase,
        progress: &mut Progress,
        cancel: &CancellationToken,
    ) -> Step {
        if let Phase::Streaming(_) | Phase::Rotating(_) = phase {
            progress.down_since = None;
        } else {
            progress.down_since.get_or_insert_with(Instant::now);
        }
        let name = phase.name();
        self.ctx
            .metrics
            .status()
            .channel(&self.label, |c| c.phase = name);
        match phase {
            Phase::Creating => self.while_down(progress, cancel, self.create()).await,
            Phase::Subscribing(state) => {
                let ids = progress.ids.borrow_and_update().clone();
                self.while_down(progress, cancel, self.subscribe(state, ids))
                    .await
            }
            Phase::Connecting(state) => {
                self.while_down(progress, cancel, self.connect(state)).await
            }
            Phase::Streaming(live) => self.stream(live, progress, cancel).await,
            Phase::Rotating(live) => self.rotate(live, progress, cancel).await,
            Phase::Reconnecting(channel) => {
                let delay = progress.backoff.next_delay();
                self.while_down(progress, cancel, self.back_off(delay, channel))
                    .await
            }
            Phase::Stopped => Ok(Phase::Stopped),
        }
    }

    async fn create(&self) -> Step {
        match self.open_channel().await {
            Ok(state) => Ok(Phase::Subscribing(state)),
            Err(error) => Ok(self.failed(error, None)),
        }
    }

    async fn subscribe(&self, state: ChannelState, ids: Vec<String>) -> Step {
        match self.replace_subscriptions(&state, &ids).await {
            Ok(()) => Ok(Phase::Connecting(state)),
            Err(error @ StreamError::TooManyTopics { .. }) => Err(error),
            Err(error) if error.channel_is_gone() => {
                info!(
                    channel = self.label,
                    id = state.channel.id,
                    "channel is gone"
                );
                Ok(self.failed(error, None))
            }
            Err(error) => Ok(self.failed(error, Some(state))),
        }
    }

    async fn connect(&self, state: ChannelState) -> Step {
        match self.open_socket(&state).await {
            Ok(socket) => Ok(Phase::Streaming(Live { state, socket })),
            // NB: a channel we cannot connect to may have been replaced upstream (20 per
            // client); a fresh one costs one request and rules that out.
            Err(error) => Ok(self.failed(error, None)),
        }
    }

    async fn back_off(&self, delay: Duration, channel: Option<ChannelState>) -> Step {
        sleep(delay).await;
        Ok(channel.map_or(Phase::Creating, Phase::Subscribing))
    }

    /// Whether the channel streams, for the metric and the status page.
    fn stream_connected(&self, connected: bool) {
        self.ctx.telemetry.connected(&self.label, connected);
        let since = connected.then(|| self.ctx.clock.now());
        self.ctx.metrics.status().channel(&self.label, |c| {
            c.connected_since = c.connected_since.filter(|_| connected).or(since);
        });
    }

    /// Logs and counts a failed step; the channel is down until a later step succeeds.
    fn failed(&self, error: StreamError, channel: Option<ChannelState>) -> Phase {
        log_unless_reported!(warn, error.underlying_kind(), channel = self.label, kind = error.kind(), error = %error, "stream not established");
        self.ctx.telemetry.establish_failed(&self.label, &error);
        self.stream_connected(false);
        Phase::Reconnecting(channel)
    }

    async fn open_channel(&self) -> Result<ChannelState, StreamError> {
        let created = self
            .upstream
            .create_channel()
            .await
            .map_err(StreamError::CreateChannel)?;
        debug!(channel = self.label, id = created.id, expires = ?created.expires, "channel created");
        let id = created.id.clone();
        self.ctx
            .metrics
            .status()
            .channel(&self.label, |c| c.id = Some(id));
        Ok(ChannelState::new(
            created,
            self.settings.rotate_before_expiry,
            &self.ctx.clock,
        ))
    }

    async fn replace_subscriptions(
        &self,
        state: &ChannelState,
        ids: &[String],
    ) -> Result<(), StreamError> {
        let topics = self.ctx.carried.topics(ids);
        if topics.len() > MAX_TOPICS_PER_CHANNEL {
            return Err(StreamError::TooManyTopics {
                topics: topics.len(),
            });
        }
        let listing = self
            .upstream
            .replace_subscriptions(&state.channel.id, &topics)
            .await
            .map_err(|source| StreamError::Subscribe {
                channel: state.channel.id.clone(),
                source,
            })?;
        let rejected = self.rejections(&listing.entities);
        // NB: an id is polled instead when a topic it needs is refused (an agent's time in
        // status is polled anyway, so only its state topic counts).
        let needed = self.ctx.carried.topics_needed();
        let refused_topic = |i: usize| {
            (0..needed).any(|k| {
                let topic = topics.get(k * ids.len() + i);
                topic.is_some_and(|t| rejected.contains(t.as_str()))
            })
        };
        let (mut permitted, mut refused) = (Vec::new(), Vec::new());
        for (i, id) in ids.iter().enumerate() {
            match refused_topic(i) {
                true => refused.push(id.clone()),
                false => permitted.push(id.clone()),
            }
        }
        self.ctx.set_subscribed(&permitted, &refused);
        let topics = topics.len().saturating_sub(rejected.len());
        self.ctx.telemetry.subscribed_topics(&self.label, topics);
        let status = self.ctx.metrics.status();
        status.channel(&self.label, |c| c.topics = topics);
        Ok(())
    }

    /// The topics the subscription rejected, counted by reason and logged when they change,
    /// naming the permissions missing: what they carry is polled instead.
    fn rejections<'a>(&self, answered: &'a [ChannelTopic]) -> HashSet<&'a str> {
        let mut by_reason = [0; Rejection::ALL.len()];
        let mut missing: BTreeSet<&str> = BTreeSet::new();
        let mut rejected = HashSet::new();
        for topic in answered.iter().filter(|t| t.is_rejected()) {
            let reason = if topic.missing_permissions.is_empty() {
                Rejection::Other
            } else {
                Rejection::MissingPermission
            };
            by_reason[reason as usize] += 1;
            missing.extend(topic.missing_permissions.iter().map(String::as_str));
            rejected.insert(topic.id.as_str());
        }
        for reason in Rejection::ALL {
            let n = by_reason[*reason as usize];
            self.ctx.telemetry.rejected_topics(&self.label, *reason, n);
        }
        let logged = self
            .logged_rejections
            .swap(rejected.len(), Ordering::Relaxed);
        if !rejected.is_empty() && logged != rejected.len() {
            let missing: Vec<&str> = missing.into_iter().collect();
            warn!(
                channel = self.label,
                topics = rejected.len(),
                missing_permissions = missing.join(","),
                every = ?self.settings.fallback_poll_interval,
                "the subscription rejected topics; what they carry is polled over REST instead"
            );
        }
        rejected
    }

    async fn open_socket(&self, state: &ChannelState) -> Result<WsStream, StreamError> {
        let egress = &self.settings.egress;
        connection::connect(&state.channel.connect_uri, CONNECT_TIMEOUT, egress)
            .await
            .map_err(|source| StreamError::Connect {
                channel: state.channel.id.clone(),
                source,
            })
    }

    /// Runs `step` while the channel is down, resyncing its queues over REST every
    /// `fallback_poll_interval` meanwhile, so gauges stay fresh, or turn stale, while a channel
    /// cannot be established. The first is due an interval after the channel went down: most
    /// gaps close sooner, and streaming starts with a resync of its own, so an earlier one
    /// would be spent twice. A resync still running when the step ends is dropped.
    async fn while_down(
        &self,
        progress: &mut Progress,
        cancel: &CancellationToken,
        step: impl Future<Output = Step>,
    ) -> Step {
        tokio::pin!(step);
        let mut resync: Option<Update<'_>> = None;
        loop {
            let due = self.fallback_due(progress);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Ok(Phase::Stopped),
                next = &mut step => return next,
                Some(_) = OptionFuture::from(resync.as_mut()), if resync.is_some() => resync = None,
                _ = sleep_until(due), if resync.is_none() => {
                    let ids = progress.ids.borrow().clone();
                    progress.last_resync = Some(Instant::now());
                    debug!(channel = self.label, queues = ids.len(), "fallback resync while down");
                    resync = Some(Box::pin(async move {
                        self.resync(&ids, &ids).await;
                        Ok(())
                    }));
                }
            }
        }
    }

    /// An interval after the last resync and after the channel went down, whichever is later.
    fn fallback_due(&self, progress: &Progress) -> Instant {
        let every = self.settings.fallback_poll_interval.max(MIN_FALLBACK_POLL);
        let since = [progress.last_resync, progress.down_since];
        since
            .into_iter()
            .flatten()
            .max()
            .map_or_else(Instant::now, |at| at + every)
    }

    /// Resyncs `ids` (all of `channel_ids`, or the stale part of them); `true` when
    /// it succeeded. The channel is ready once a resync succeeded and none of its queues is
    /// stale.
    async fn resync(&self, ids: &[String], channel_ids: &[String]) -> bool {
        let ok = self.ctx.carried.resync(ids, &self.upstream).await;
        if ok {
            let now = self.ctx.clock.now().timestamp();
            self.ctx.telemetry.channel_resynced(&self.label, now);
            if self.stale(channel_ids).is_empty() {
                self.health.channel_resynced(&self.label);
            }
        }
        ok
    }

    /// The channel's ids among `ids` whose values are stale.
    fn stale(&self, ids: &[String]) -> Vec<String> {
        self.ctx.carried.stale(ids)
    }
}

mod live;
#[cfg(test)]
mod tests;
