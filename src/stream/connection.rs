//! One notification WebSocket: a connector (one attempt, typed error) and a session loop.
//!
//! The session loop is generic over a `Stream` of WebSocket messages so tests feed it frames
//! directly; it returns the stream with the reason it ended, so the supervisor can keep reading
//! a closing socket while it builds the replacement (make-before-break).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::carried::Carried;
use super::message::{Message, ParseError};
use crate::genesys::egress::{Egress, Failure};
use crate::genesys::model::{
    AggregateDataContainer, KeyedAggregateDataContainer, UserAggregateDataContainer,
};
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::stream::telemetry::StreamMetrics;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::LabelValue;

/// A notification larger than this is skipped and counted: Genesys's are a few KB (one queue's
/// metrics), so a huge one is a fault, and parsing it would cost memory for nothing.
pub(crate) const MAX_NOTIFICATION_BYTES: usize = 1 << 20;

/// Past this the socket itself fails (and is replaced): what one message may hold in memory.
const MAX_WEBSOCKET_MESSAGE_BYTES: usize = 16 << 20;

/// The socket type the connector yields.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where running interval totals go (the conversation ledger in production); a function so the
/// session does not depend on how the ledger is built.
pub(crate) type AggregateSink = Arc<dyn Fn(&AggregateDataContainer) -> usize + Send + Sync>;

/// Where a flow's or flow outcome's running totals go (the flow counters' ledger).
pub(crate) type FlowSink = Arc<dyn Fn(&KeyedAggregateDataContainer) -> usize + Send + Sync>;

/// Where a user's running time-in-status totals go (the agents' time ledger).
pub(crate) type AgentTimeSink = Arc<dyn Fn(&UserAggregateDataContainer) -> usize + Send + Sync>;

/// Why a session ended; `as_str()` is the reconnect-reason label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Closed,
    Error,
    HeartbeatTimeout,
    SocketClosing,
    Cancelled,
    ChannelExpiring,
}

impl LabelValue for SessionEnd {
    const ALL: &'static [Self] = &[
        Self::Closed,
        Self::Error,
        Self::HeartbeatTimeout,
        Self::SocketClosing,
        Self::Cancelled,
        Self::ChannelExpiring,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Error => "error",
            Self::HeartbeatTimeout => "heartbeat_timeout",
            Self::SocketClosing => "socket_closing",
            Self::Cancelled => "cancelled",
            Self::ChannelExpiring => "channel_expiring",
        }
    }
}

impl SessionEnd {
    /// Whether the old socket still works and should be replaced make-before-break.
    pub(crate) fn is_rotation(self) -> bool {
        matches!(self, Self::SocketClosing | Self::ChannelExpiring)
    }
}

/// What became of one received frame; `as_str()` is the notification-outcome label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Observation,
    IntervalAggregate,
    /// An agent's activity event, applied.
    Activity,
    Heartbeat,
    Pong,
    SocketClosing,
    UnknownTopic,
    Malformed,
    /// Larger than [`MAX_NOTIFICATION_BYTES`]; not parsed.
    Oversized,
    /// An observation older than one already applied for its queue, skipped.
    OutOfOrder,
    /// A repeat of the last observation applied for its queue, skipped.
    Duplicate,
    Ignored,
}

impl LabelValue for Outcome {
    const ALL: &'static [Self] = &[
        Self::Observation,
        Self::IntervalAggregate,
        Self::Activity,
        Self::Heartbeat,
        Self::Pong,
        Self::SocketClosing,
        Self::UnknownTopic,
        Self::Malformed,
        Self::Oversized,
        Self::OutOfOrder,
        Self::Duplicate,
        Self::Ignored,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Observation => "observation",
            Self::IntervalAggregate => "interval_aggregate",
            Self::Activity => "activity",
            Self::Heartbeat => "heartbeat",
            Self::Pong => "pong",
            Self::SocketClosing => "socket_closing",
            Self::UnknownTopic => "unknown_topic",
            Self::Malformed => "malformed",
            Self::Oversized => "oversized",
            Self::OutOfOrder => "out_of_order",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("WebSocket connect to the channel failed: {0}")]
    Handshake(#[source] tungstenite::Error),
    #[error("WebSocket connect to the channel timed out after {0:?}")]
    Timeout(Duration),
    #[error("WebSocket connect to the channel failed: cannot reach {target}: {source}")]
    Tcp {
        target: String,
        #[source]
        source: std::io::Error,
    },
    /// A proxy or trust failure that config fixes; already counted and logged by the egress.
    #[error("WebSocket connect to the channel failed: {0}")]
    Egress(#[source] Failure),
}

impl ConnectError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Handshake(tungstenite::Error::Http(_)) => "rejected",
            Self::Handshake(tungstenite::Error::Url(_)) => "bad_uri",
            Self::Handshake(_) => "handshake",
            Self::Timeout(_) => "timeout",
            Self::Tcp { .. } => "unreachable",
            Self::Egress(failure) => failure.cause.as_str(),
        }
    }
}

/// One connection attempt to a channel's `connectUri` (`wss://` upstream, `ws://` for the
/// simulator), through the proxy when the egress routes it there. Retrying is the
/// supervisor's business.
pub async fn connect(
    connect_uri: &str,
    timeout: Duration,
    egress: &Egress,
) -> Result<WsStream, ConnectError> {
    match tokio::time::timeout(timeout, open(connect_uri, timeout, egress)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(timeout)),
    }
}

async fn open(
    connect_uri: &str,
    timeout: Duration,
    egress: &Egress,
) -> Result<WsStream, ConnectError> {
    // NB: tokio-tungstenite builds its default rustls connector from the process-wide provider.
    crate::genesys::install_crypto_provider();
    let bad_uri = || {
        ConnectError::Handshake(tungstenite::Error::Url(
            tungstenite::error::UrlError::NoHostName,
        ))
    };
    let url = reqwest::Url::parse(connect_uri).map_err(|_| bad_uri())?;
    let host = url
        .host_str()
        .ok_or_else(bad_uri)?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port_or_known_default().ok_or_else(bad_uri)?;
    let tcp = match egress.routes().for_url(&url) {
        Some(proxy) => proxy
            .tunnel(&host, port, timeout)
            .await
            .map_err(|e| ConnectError::Egress(egress.tunnel_failed(&url, proxy, &e)))?,
        None => {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|source| ConnectError::Tcp {
                    target: format!("{host}:{port}"),
                    source,
                })?;
            let _ = tcp.set_nodelay(true);
            tcp
        }
    };
    let limits = WebSocketConfig::default()
        .max_message_size(Some(MAX_WEBSOCKET_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_WEBSOCKET_MESSAGE_BYTES));
    let connector = egress
        .websocket_tls()
        .map(tokio_tungstenite::Connector::Rustls);
    match tokio_tungstenite::client_async_tls_with_config(connect_uri, tcp, Some(limits), connector)
        .await
    {
        Ok((socket, _response)) => {
            egress.reached();
            Ok(socket)
        }
        Err(error) => Err(match egress.classify_handshake(&url, &error) {
            Some(failure) => ConnectError::Egress(failure),
            None => ConnectError::Handshake(error),
        }),
    }
}

/// What a session needs to turn frames into gauges and counters.
#[derive(Clone)]
pub struct SessionContext {
    /// What the channel's topics are about, with the parts their events go to.
    pub(crate) carried: Carried,
    pub metrics: Arc<Metrics>,
    /// The one wall clock `app` hands every producer: when a frame arrived.
    pub(crate) clock: Clock,
    pub(crate) telemetry: StreamMetrics,
    /// Silence longer than this means the socket is dead, whatever TCP says.
    pub heartbeat_timeout: Duration,
    /// The ids (queues or agents) the channel is subscribed to and that upstream permitted: a
    /// heartbeat shows each of them current.
    pub subscribed: Arc<RwLock<Vec<String>>>,
    /// The ids whose topics upstream rejected: kept current by polling instead.
    pub(crate) rejected: Arc<RwLock<Vec<String>>>,
    /// The channel's label, for the status page.
    pub channel: String,
}

impl SessionContext {
    pub fn new(
        carried: Carried,
        metrics: Arc<Metrics>,
        clock: Clock,
        heartbeat_timeout: Duration,
    ) -> Self {
        Self {
            telemetry: StreamMetrics::of(&metrics),
            carried,
            metrics,
            clock,
            heartbeat_timeout,
            subscribed: Arc::default(),
            rejected: Arc::default(),
            channel: String::new(),
        }
    }

    /// The same context, for the channel labelled `channel`.
    pub(crate) fn for_channel(self, channel: &str) -> Self {
        Self {
            channel: channel.to_owned(),
            ..self
        }
    }

    /// Records the channel's subscribed ids, after upstream answered: `permitted` stream,
    /// `rejected` must be polled.
    pub(crate) fn set_subscribed(&self, permitted: &[String], rejected: &[String]) {
        let mut subscribed = crate::sync::write(&self.subscribed);
        permitted.clone_into(&mut subscribed);
        let mut refused = crate::sync::write(&self.rejected);
        rejected.clone_into(&mut refused);
    }

    /// The ids whose topics upstream rejected at the last subscription.
    pub(crate) fn rejected(&self) -> Vec<String> {
        crate::sync::read(&self.rejected).clone()
    }

    /// The channel's subscribed queues, as upstream last accepted them.
    pub(crate) fn subscribed(&self) -> Vec<String> {
        crate::sync::read(&self.subscribed).clone()
    }

    /// A heartbeat on a healthy socket: events are delivered in order, so no event since the
    /// last one means no change up to now, for every queue the channel carries.
    fn heartbeat(&self, now_ms: i64) {
        let at = chrono::DateTime::from_timestamp_millis(now_ms);
        let status = self.metrics.status();
        status.channel(&self.channel, |c| c.last_heartbeat = at);
        let subscribed = crate::sync::read(&self.subscribed);
        let ids = subscribed.iter().map(String::as_str);
        (self.carried).observed(ids, now_ms as f64 / 1000.0);
    }

    /// Handles one text frame; returns its outcome and whether it ends the session.
    pub fn handle_text(&self, text: &str) -> (Outcome, Option<SessionEnd>) {
        if text.len() > MAX_NOTIFICATION_BYTES {
            warn!(
                bytes = text.len(),
                limit = MAX_NOTIFICATION_BYTES,
                "oversized notification skipped"
            );
            return (Outcome::Oversized, None);
        }
        let now_ms = self.clock.now_ms();
        let outcome = match self.carried.read(text, now_ms) {
            Ok(Message::Heartbeat) => {
                self.heartbeat(now_ms);
                Outcome::Heartbeat
            }
            Ok(Message::Pong) => Outcome::Pong,
            Ok(Message::SocketClosing(note)) => {
                info!(note, "server announced socket closing");
                return (Outcome::SocketClosing, Some(SessionEnd::SocketClosing));
            }
            Ok(Message::Event(outcome)) => outcome,
            Ok(Message::UnknownTopic(topic)) => {
                debug!(topic, "frame on an unknown topic");
                Outcome::UnknownTopic
            }
            Ok(Message::Metadata(note)) => {
                debug!(note, "channel metadata ignored");
                Outcome::Ignored
            }
            Ok(Message::Reply) => Outcome::Ignored,
            Err(error) => malformed(&error, text),
        };
        (outcome, None)
    }

    /// Handles one WebSocket message, counting it; `Some` when it ends the session.
    fn handle(&self, frame: WsMessage) -> Option<SessionEnd> {
        let (outcome, end) = match frame {
            WsMessage::Text(text) => self.handle_text(text.as_str()),
            WsMessage::Close(close) => {
                debug!(?close, "server closed the socket");
                return Some(SessionEnd::Closed);
            }
            WsMessage::Binary(_) => (Outcome::Malformed, None),
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {
                (Outcome::Ignored, None)
            }
        };
        self.telemetry.notification(outcome);
        end
    }
}

/// Reads frames until the socket ends, falls silent for `heartbeat_timeout`, announces its
/// closing, reaches `rotate_at` (channel expiry), or `cancel` fires. Any frame counts as a sign
/// of life, not only heartbeats.
pub(crate) async fn run_session<S>(
    mut frames: S,
    ctx: &SessionContext,
    rotate_at: Option<Instant>,
    cancel: &CancellationToken,
) -> (SessionEnd, S)
where
    S: Stream<Item = Result<WsMessage, tungstenite::Error>> + Unpin,
{
    let mut silent_until = Instant::now() + ctx.heartbeat_timeout;
    let end = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break SessionEnd::Cancelled,
            next = frames.next() => match next {
                Some(Ok(frame)) => {
                    silent_until = Instant::now() + ctx.heartbeat_timeout;
                    if let Some(end) = ctx.handle(frame) {
                        break end;
                    }
                }
                Some(Err(error)) => {
                    warn!(error = %error, "notification socket failed");
                    break SessionEnd::Error;
                }
                None => break SessionEnd::Closed,
            },
            _ = sleep_until(silent_until) => break SessionEnd::HeartbeatTimeout,
            _ = sleep_until(rotate_at.unwrap_or(silent_until)), if rotate_at.is_some() => {
                break SessionEnd::ChannelExpiring;
            }
        }
    };
    (end, frames)
}

/// A frame that could not be used: logged with why, counted as malformed.
fn malformed(error: &ParseError, text: &str) -> Outcome {
    warn!(kind = error.kind(), error = %error, bytes = text.len(), "malformed notification");
    Outcome::Malformed
}

#[cfg(test)]
mod tests;
