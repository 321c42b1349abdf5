//! Notification channels and their subscriptions (API.md §7): the registry every socket and
//! publish goes through, and the REST endpoints that manage it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{head, post};
use axum::{Extension, Json, Router};
use rand::Rng;
use tokio::sync::mpsc::UnboundedSender;

use crate::genesys::model::{
    Channel, ChannelTopic, ChannelTopicEntityListing, queue_id_from_topic,
};
use crate::genesys::time::{format_instant, from_epoch_millis};

use super::api::parse_json;
use super::guard::{Client, Failure};
use super::{Sim, lock};

/// NB: simulated time, like every instant the simulator hands out, so `expires` stays 24 hours
/// ahead of the clock a client shares with it.
const CHANNEL_TTL_MS: i64 = 24 * 3_600_000;
pub(crate) const MAX_TOPICS: usize = 1_000;
const MAX_CHANNELS_PER_CLIENT: usize = 20;

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

#[derive(Debug, Default)]
pub(crate) struct Registry {
    channels: HashMap<String, ChannelState>,
    next_seq: u64,
    refusal: Option<Refusal>,
}

impl Registry {
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
    fn take_refusal(&mut self) -> Option<StatusCode> {
        let refusal = self.refusal.as_mut()?;
        let status = refusal.status;
        refusal.remaining -= 1;
        if refusal.remaining == 0 {
            self.refusal = None;
        }
        Some(status)
    }

    fn create(&mut self, client: &str, now: i64) -> (String, i64) {
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
        let expires_ms = now + CHANNEL_TTL_MS;
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
            channel.expires_ms = now + CHANNEL_TTL_MS;
        }
        Ok(channel.topics.iter().cloned().collect())
    }

    fn topics(&self, id: &str, now: i64) -> Option<Vec<String>> {
        let channel = self.channels.get(id).filter(|c| c.expires_ms > now)?;
        Some(channel.topics.iter().cloned().collect())
    }

    fn clear(&mut self, id: &str, now: i64) -> bool {
        self.valid_mut(id, now).map(|c| c.topics.clear()).is_some()
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
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v2/notifications/channels", post(create_channel))
        .route("/api/v2/notifications/channels/{id}", head(head_channel))
        .route(
            "/api/v2/notifications/channels/{id}/subscriptions",
            post(add_topics)
                .put(replace_topics)
                .get(list_topics)
                .delete(delete_topics),
        )
}

async fn create_channel(
    State(sim): State<Arc<Sim>>,
    Extension(Client(client)): Extension<Client>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| sim.address.to_string(), str::to_owned);
    let created = {
        let mut channels = lock(&sim.channels);
        match channels.take_refusal() {
            Some(status) => Err(status),
            None => Ok(channels.create(&client, sim.now_ms())),
        }
    };
    let (id, expires_ms) = match created {
        Ok(created) => created,
        Err(status) => return channel_limit_reached(status).into_response(),
    };
    let channel = Channel {
        connect_uri: format!("ws://{host}/channels/{id}"),
        id,
        expires: from_epoch_millis(expires_ms).map(format_instant),
    };
    Json(channel).into_response()
}

async fn head_channel(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> StatusCode {
    if lock(&sim.channels).is_valid(&id, sim.now_ms()) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// The refusal Genesys answers at the per-client channel limit (`refuse_channels`).
fn channel_limit_reached(status: StatusCode) -> Failure {
    Failure::new(
        status,
        "channel.limit.reached",
        format!("The limit of {MAX_CHANNELS_PER_CLIENT} channels per client was reached"),
    )
}

fn channel_not_found(id: &str) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not.found",
        format!("Channel {id} not found"),
    )
}

fn listing(topics: Vec<String>) -> Response {
    let entities = topics.into_iter().map(|id| ChannelTopic { id }).collect();
    Json(ChannelTopicEntityListing { entities }).into_response()
}

/// Topics we can serve: queue observation topics of known queues.
fn check_topics(sim: &Sim, topics: &[String]) -> Result<(), String> {
    let unknown = |t: &&String| {
        queue_id_from_topic(t)
            .and_then(|q| sim.queue_index(q))
            .is_none()
    };
    match topics.iter().find(unknown) {
        Some(topic) => Err(format!("Invalid topic: {topic}")),
        None => Ok(()),
    }
}

/// Subscribes through the registry; shared by the REST endpoints and the socket `subscribe`.
pub(crate) fn subscribe(
    sim: &Sim,
    id: &str,
    topics: Vec<String>,
    replace: bool,
) -> Result<Vec<String>, Failure> {
    let too_many = || Failure::bad_request("At most 1000 topics per channel");
    if topics.len() > MAX_TOPICS {
        return Err(too_many());
    }
    check_topics(sim, &topics).map_err(Failure::bad_request)?;
    lock(&sim.channels)
        .subscribe(id, topics, replace, sim.now_ms())
        .map_err(|error| match error {
            SubscribeError::NotFound => channel_not_found(id),
            SubscribeError::TooManyTopics => too_many(),
        })
}

async fn change_topics(
    sim: &Sim,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
    replace: bool,
) -> Response {
    let topics: Vec<ChannelTopic> = match parse_json(headers, body) {
        Ok(topics) => topics,
        Err(failure) => return failure.into_response(),
    };
    let topics = topics.into_iter().map(|t| t.id).collect();
    match subscribe(sim, id, topics, replace) {
        Ok(list) => listing(list),
        Err(failure) => failure.into_response(),
    }
}

async fn replace_topics(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_topics(&sim, &id, &headers, &body, true).await
}

async fn add_topics(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_topics(&sim, &id, &headers, &body, false).await
}

async fn list_topics(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match lock(&sim.channels).topics(&id, sim.now_ms()) {
        Some(topics) => listing(topics),
        None => channel_not_found(&id).into_response(),
    }
}

async fn delete_topics(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    if lock(&sim.channels).clear(&id, sim.now_ms()) {
        listing(Vec::new())
    } else {
        channel_not_found(&id).into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::genesys::model::{Channel, queue_observation_topic};
    use crate::sim::harness::TestSim;

    #[tokio::test]
    async fn subscriptions_are_replaced_added_listed_and_limited() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let created = sim
            .post_json(&token, "/api/v2/notifications/channels", &json!({}))
            .await;
        let channel: Channel = created.json().await.unwrap();
        let path = format!(
            "/api/v2/notifications/channels/{}/subscriptions",
            channel.id
        );
        let topic = |i: usize| json!({"id": queue_observation_topic(&sim.handle.queues[i].id)});

        let put = sim.put_json(&token, &path, &json!([topic(0)])).await;
        assert_eq!(put.status(), 200);
        let post = sim.post_json(&token, &path, &json!([topic(1)])).await;
        let listing: Value = post.json().await.unwrap();
        assert_eq!(listing["entities"].as_array().unwrap().len(), 2);
        let get: Value = sim.get(&token, &path).await.json().await.unwrap();
        assert_eq!(get, listing);

        let too_many: Vec<Value> = (0..1001).map(|_| topic(0)).collect();
        let put = sim.put_json(&token, &path, &json!(too_many)).await;
        assert_eq!(put.status(), 400);
        let unknown = sim
            .put_json(&token, &path, &json!([{"id": "v2.nope"}]))
            .await;
        assert_eq!(unknown.status(), 400);

        let deleted: Value = sim.delete(&token, &path).await.json().await.unwrap();
        assert_eq!(deleted["entities"], json!([]));

        let missing = "/api/v2/notifications/channels/streaming-0-nope/subscriptions";
        let missing = sim.put_json(&token, missing, &json!([topic(0)])).await;
        assert_eq!(missing.status(), 404);
        let channel_path = format!("/api/v2/notifications/channels/{}", channel.id);
        assert_eq!(sim.head(&token, &channel_path).await.status(), 200);
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_21st_channel_replaces_the_oldest_unconnected_one() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let mut ids = Vec::new();
        for _ in 0..21 {
            let created = sim
                .post_json(&token, "/api/v2/notifications/channels", &json!({}))
                .await;
            ids.push(created.json::<Channel>().await.unwrap().id);
        }
        let head = async |id: &String| {
            let path = format!("/api/v2/notifications/channels/{id}");
            sim.head(&token, &path).await.status().as_u16()
        };
        assert_eq!(head(&ids[0]).await, 404);
        assert_eq!(head(&ids[1]).await, 200);
        assert_eq!(head(&ids[20]).await, 200);
        sim.stop().await;
    }
}
