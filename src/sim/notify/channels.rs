//! Notification channels and their subscriptions (docs/genesys-api.md#notification-channels): the
//! registry every socket, publish and REST call goes through; `notifications` serves the REST
//! endpoints.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;
use tokio::sync::mpsc::UnboundedSender;

use crate::genesys::model::queue_id_from_topic;

pub(crate) use crate::genesys::model::{
    CHANNELS_PER_CLIENT as MAX_CHANNELS_PER_CLIENT, MAX_TOPICS_PER_CHANNEL as MAX_TOPICS,
};

/// What a socket session is asked to send.
#[derive(Debug, Clone)]
pub(crate) enum Outbound {
    Text(String),
    Close,
}

#[derive(Debug)]
struct Socket {
    conn: u64,
    tx: UnboundedSender<Outbound>,
}

#[derive(Debug)]
struct ChannelState {
    client: String,
    /// Creation order, for replacing the oldest channel at the per-client cap.
    seq: u64,
    topics: BTreeSet<String>,
    expires_ms: i64,
    socket: Option<Socket>,
}

#[derive(Debug)]
pub(crate) enum SubscribeError {
    NotFound,
    TooManyTopics,
}

/// Channel creations still to refuse (`refuse_channels`), and with what status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub remaining: u32,
}

#[derive(Debug)]
pub(crate) struct Registry {
    channels: HashMap<String, ChannelState>,
    next_seq: u64,
    refusal: Option<Refusal>,
    /// A channel's lifetime after creation or a subscription PUT, in simulated milliseconds.
    ttl_ms: i64,
}

impl Registry {
    /// Channels that live `ttl` (simulated time) after creation or a subscription PUT.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            channels: HashMap::new(),
            next_seq: 0,
            refusal: None,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2),
        }
    }

    /// Refuses the next `count` creations with `status`; a count of 0 disarms.
    pub(crate) fn refuse(&mut self, count: u32, status: StatusCode) {
        self.refusal = (count > 0).then_some(Refusal {
            status,
            remaining: count,
        });
    }

    pub(crate) fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// Uses up one armed refusal, if any: the status to refuse this creation with.
    pub(crate) fn take_refusal(&mut self) -> Option<StatusCode> {
        let refusal = self.refusal.as_mut()?;
        let status = refusal.status;
        refusal.remaining -= 1;
        if refusal.remaining == 0 {
            self.refusal = None;
        }
        Some(status)
    }

    pub(crate) fn create(&mut self, client: &str, now: i64) -> (String, i64) {
        let owned: Vec<(&String, &ChannelState)> = self
            .channels
            .iter()
            .filter(|(_, c)| c.client == client)
            .collect();
        if owned.len() >= MAX_CHANNELS_PER_CLIENT {
            // NB: Genesys replaces the oldest channel without a connection; if every channel
            // is connected we replace the oldest one, closing its socket.
            let victim = owned
                .iter()
                .filter(|(_, c)| c.socket.is_none())
                .min_by_key(|(_, c)| c.seq)
                .or_else(|| owned.iter().min_by_key(|(_, c)| c.seq))
                .map(|(id, _)| (*id).clone());
            if let Some(victim) = victim {
                self.remove(&victim);
            }
        }
        let suffix: u64 = rand::rng().random();
        let id = format!("streaming-0-{suffix:016x}");
        let expires_ms = now.saturating_add(self.ttl_ms);
        self.next_seq += 1;
        let state = ChannelState {
            client: client.to_owned(),
            seq: self.next_seq,
            topics: BTreeSet::new(),
            expires_ms,
            socket: None,
        };
        self.channels.insert(id.clone(), state);
        (id, expires_ms)
    }

    fn valid_mut(&mut self, id: &str, now: i64) -> Option<&mut ChannelState> {
        self.channels.get_mut(id).filter(|c| c.expires_ms > now)
    }

    pub(crate) fn is_valid(&self, id: &str, now: i64) -> bool {
        self.channels.get(id).is_some_and(|c| c.expires_ms > now)
    }

    fn remove(&mut self, id: &str) {
        if let Some(socket) = self.channels.remove(id).and_then(|c| c.socket) {
            let _ = socket.tx.send(Outbound::Close);
        }
    }

    /// Attaches a new socket, dropping the previous one: one WebSocket per channel.
    pub(crate) fn attach(
        &mut self,
        id: &str,
        conn: u64,
        tx: UnboundedSender<Outbound>,
        now: i64,
    ) -> bool {
        let Some(channel) = self.valid_mut(id, now) else {
            return false;
        };
        if let Some(old) = channel.socket.replace(Socket { conn, tx }) {
            let _ = old.tx.send(Outbound::Close);
        }
        true
    }

    pub(crate) fn detach(&mut self, id: &str, conn: u64) {
        if let Some(channel) = self.channels.get_mut(id)
            && channel.socket.as_ref().is_some_and(|s| s.conn == conn)
        {
            channel.socket = None;
        }
    }

    /// Replaces (`replace`) or extends the topics; returns the resulting list.
    pub(crate) fn subscribe(
        &mut self,
        id: &str,
        topics: Vec<String>,
        replace: bool,
        now: i64,
    ) -> Result<Vec<String>, SubscribeError> {
        let ttl_ms = self.ttl_ms;
        let channel = self.valid_mut(id, now).ok_or(SubscribeError::NotFound)?;
        let mut next = if replace {
            BTreeSet::new()
        } else {
            channel.topics.clone()
        };
        next.extend(topics);
        if next.len() > MAX_TOPICS {
            return Err(SubscribeError::TooManyTopics);
        }
        channel.topics = next;
        if replace {
            channel.expires_ms = now.saturating_add(ttl_ms);
        }
        Ok(channel.topics.iter().cloned().collect())
    }

    pub(crate) fn topics(&self, id: &str, now: i64) -> Option<Vec<String>> {
        let channel = self.channels.get(id).filter(|c| c.expires_ms > now)?;
        Some(channel.topics.iter().cloned().collect())
    }

    pub(crate) fn clear(&mut self, id: &str, now: i64) -> bool {
        self.valid_mut(id, now).map(|c| c.topics.clear()).is_some()
    }

    /// The topics of connected sockets for which `pick` gives a value, and those values.
    pub(crate) fn subscribed<'a, T>(&'a self, pick: impl Fn(&'a str) -> Option<T>) -> Vec<T> {
        (self.channels.values())
            .filter(|c| c.socket.is_some())
            .flat_map(|c| c.topics.iter())
            .filter_map(|topic| pick(topic))
            .collect()
    }

    /// Whether a connected socket is subscribed to a topic that begins with `prefix`.
    pub(crate) fn subscribes_any(&self, prefix: &str) -> bool {
        let from = (
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        );
        let connected = self.channels.values().filter(|c| c.socket.is_some());
        connected.into_iter().any(|c| {
            let first = c.topics.range::<str, _>(from).next();
            first.is_some_and(|t| t.starts_with(prefix))
        })
    }

    /// Sends to every connected socket subscribed to `topic`.
    pub(crate) fn send_topic(&self, topic: &str, text: &str) {
        for channel in self.channels.values().filter(|c| c.topics.contains(topic)) {
            if let Some(socket) = &channel.socket {
                let _ = socket.tx.send(Outbound::Text(text.to_owned()));
            }
        }
    }

    /// (channel id, connection id) of every connected socket.
    pub(crate) fn sockets(&self) -> Vec<(String, u64)> {
        let connected = self
            .channels
            .iter()
            .filter_map(|(id, c)| Some((id, c.socket.as_ref()?)));
        connected.map(|(id, s)| (id.clone(), s.conn)).collect()
    }

    /// (channel id, connection id, first subscribed queue id) of every connected socket.
    pub(crate) fn sockets_with_queue(&self) -> Vec<(String, u64, Option<String>)> {
        let connected = self
            .channels
            .iter()
            .filter_map(|(id, c)| Some((id, c, c.socket.as_ref()?)));
        connected
            .map(|(id, channel, socket)| {
                let queue = channel.topics.iter().find_map(|t| queue_id_from_topic(t));
                (id.clone(), socket.conn, queue.map(str::to_owned))
            })
            .collect()
    }

    /// Sends to one socket if it is still the channel's current connection.
    pub(crate) fn send_to(&self, id: &str, conn: u64, message: Outbound) {
        let socket = self.channels.get(id).and_then(|c| c.socket.as_ref());
        if let Some(socket) = socket.filter(|s| s.conn == conn) {
            let _ = socket.tx.send(message);
        }
    }

    pub(crate) fn expire_all(&mut self) {
        let ids: Vec<String> = self.channels.keys().cloned().collect();
        for id in ids {
            self.remove(&id);
        }
    }

    /// Removes every channel whose expiry has passed, closing its socket without a
    /// `socket_closing` first, as Genesys does; returns their ids.
    pub(crate) fn expire_due(&mut self, now: i64) -> Vec<String> {
        let due: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.expires_ms <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &due {
            self.remove(id);
        }
        due
    }

    /// Gives every channel `ttl_ms` to live from `now` (`shorten_channels`), whatever `expires`
    /// its client was told.
    pub(crate) fn shorten(&mut self, now: i64, ttl_ms: i64) {
        for channel in self.channels.values_mut() {
            channel.expires_ms = now.saturating_add(ttl_ms);
        }
    }
}

#[cfg(test)]
mod tests;
