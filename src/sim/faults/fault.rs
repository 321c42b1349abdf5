//! The faults `POST /sim/faults` injects, as a type. A black-box test builds a [`Fault`] and
//! posts it serialized; the simulator deserializes the same shape, so the two cannot drift
//! apart. Hand-written JSON such as `{"kind": "server_error", "count": 2}` works as well.

use serde::{Deserialize, Serialize};

/// One fault to inject, in the JSON `POST /sim/faults` accepts: the variant is `kind` in snake
/// case, its fields sit beside it in camel case, e.g.
/// `{"kind": "rate_limit", "count": 3, "retryAfterSeconds": 2}`.
///
/// The API faults (`rate_limit`, `server_error`, `malformed_body`, `slow_response`) answer the
/// next `count` `/api/` requests, or only requests to the exact `path` (query string excluded)
/// when one is given. Arming the same kind and path again replaces the count, so a count of 0
/// disarms it; `GET /sim/faults` lists what is still armed. The other faults act at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Invalidates every access token issued so far. The next API request with one gets a 401
    /// `bad.credentials`; a client should fetch a new token once and retry.
    RevokeTokens,
    /// Answers requests with a 429 `too.many.requests` and a `Retry-After` header; a client
    /// should wait that long, retry and count it.
    #[serde(rename_all = "camelCase")]
    RateLimit {
        /// How many requests are answered so.
        count: u32,
        /// The `Retry-After` value in seconds. Default 1.
        #[serde(default = "one_second")]
        retry_after_seconds: u64,
        /// Only requests to this exact `/api/…` path; any API path when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Answers requests with a 5xx and the error envelope: a burst of `count` failures, which a
    /// client should retry with backoff.
    ServerError {
        /// How many requests fail.
        count: u32,
        /// The status, 503 by default; anything but a 5xx becomes 503.
        #[serde(default = "service_unavailable")]
        status: u16,
        /// Only requests to this exact `/api/…` path; any API path when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Answers requests with a 401 `bad.credentials` although their token is valid, as a
    /// gateway that lost it would; a client should fetch a new token once and retry.
    Unauthorized {
        /// How many requests are answered so.
        count: u32,
        /// Only requests to this exact `/api/…` path; any API path when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Answers requests with a 200 and a JSON content type, but a body that breaks off halfway;
    /// a client should treat it as a failed request, not as data.
    MalformedBody {
        /// How many requests are answered so.
        count: u32,
        /// Only requests to this exact `/api/…` path; any API path when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Answers requests normally, but only after a delay, so a client's request timeout fires
    /// or its polling falls behind.
    #[serde(rename_all = "camelCase")]
    SlowResponse {
        /// How many requests are delayed.
        count: u32,
        /// The delay in real milliseconds.
        delay_ms: u64,
        /// Only requests to this exact `/api/…` path; any API path when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Closes every notification socket at once, without notice; the channels stay valid, so a
    /// client can reconnect to the same `connectUri`.
    CloseSockets,
    /// Sends every socket `v2.system.socket_closing` and closes it after
    /// `SimConfig::socket_closing_grace`; a client should open a new socket first.
    SocketClosing,
    /// Stops the heartbeats on every socket, which stay open; a client watching for them should
    /// give up on the socket and reconnect.
    StopHeartbeats,
    /// Starts the heartbeats again after `stop_heartbeats`.
    ResumeHeartbeats,
    /// Removes every channel and closes its socket: HEAD and subscriptions answer 404, sockets
    /// are refused, so a client must create a new channel.
    ExpireChannels,
    /// Sends every socket a frame that is not JSON, then one on an unknown topic; a client
    /// should count and skip both and keep the socket.
    MalformedMessage,
    /// Refuses the next `count` `POST /api/v2/notifications/channels` with `status` and the
    /// error envelope, code `channel.limit.reached`, as at the per-client channel limit. A
    /// client should report the failure and retry later, without losing its current channel;
    /// a count of 0 disarms.
    RefuseChannels {
        /// How many channel creations are refused.
        count: u32,
        /// The status, 400 by default; a 4xx or 5xx.
        #[serde(default = "bad_request")]
        status: u16,
    },
    /// Sends every connected socket one text frame of at least `bytes` bytes: a valid
    /// observation event on a queue topic the socket subscribed (`channel.metadata` if none)
    /// with a large extra `padding` field. A client must cope with the size (take it, or drop
    /// it and resynchronise), not with the syntax.
    OversizedMessage {
        /// The least frame size in bytes, 2 MiB by default and at most 64 MiB.
        #[serde(default = "two_mebibytes")]
        bytes: u64,
    },
    /// For the next `rounds` publish rounds that send anything, every queue topic event is sent
    /// twice in a row, the same frame byte for byte. Applying an observation twice is harmless;
    /// a client must not count a running total twice. A count of 0 disarms.
    DuplicateEvents {
        /// How many rounds are duplicated.
        rounds: u32,
    },
    /// For the next `rounds` publish rounds that have observations, the round's observations are
    /// held back and sent after the following round's events, which are never held themselves
    /// and always include a newer observation of every held group. A client so receives, for a
    /// queue, an older observation (an earlier `t/t` instant, maybe older values) after a newer
    /// one, and should discard it: an observation older than one already applied for the same
    /// group (queue id and media type, or queue id alone for user metrics) is stale. Running
    /// totals are not held. A count of 0 disarms; a round already held is still sent.
    ReorderEvents {
        /// How many rounds are held back.
        rounds: u32,
    },
    /// Gives every existing channel `ttlMs` left to live, without telling its client: the
    /// `expires` it was given no longer holds. When that passes the channel expires as any
    /// channel does (`SimConfig::channel_ttl`): its socket is closed with no
    /// `v2.system.socket_closing` first, HEAD and subscriptions answer 404 and sockets are
    /// refused. A client that trusted `expires` is surprised by a silent close and must create
    /// a new channel. A subscription PUT in the meantime extends the channel as usual.
    #[serde(rename_all = "camelCase")]
    ShortenChannels {
        /// The channels' remaining lifetime, in simulated milliseconds from now.
        ttl_ms: u64,
    },
    /// From now on, subscriptions refuse the activity topic of every agent whose index in its
    /// queue is a multiple of `every` (2: half of them), as for a client lacking the permission
    /// to read another user's topics: with `ignoreErrors=true` each is answered `Rejected`
    /// (with `missingPermissions`) and the rest subscribed; without it the request fails with
    /// 403. Subscriptions made before are unchanged. `every` 0 disarms.
    RejectUserTopics {
        /// Which agents: those whose index is a multiple of this.
        every: u32,
    },
    /// From now on, subscriptions refuse every trunk's and Edge's metrics topic (or, with
    /// `restore`, accept them again), as for a client lacking the permission they need: with
    /// `ignoreErrors=true` each is answered `Rejected` (missing `telephony:plugin:all`), the
    /// status topics subscribed. Subscriptions made before are unchanged.
    RejectTelephonyTopics {
        #[serde(default)]
        restore: bool,
    },
    /// From now on, the routing activity query lists at most `limit` members per queue in
    /// `entities` (the oldest half and the newest half by activity date, as Genesys does) and
    /// says `truncated`; the counts and their `entityIds` stay whole. A client must read the
    /// members left out another way. A limit of 0 disarms.
    TruncateActivityDetails {
        /// The most members listed per queue.
        limit: u32,
    },
    /// The next `count` users listings leave out `presence` and `routingStatus` of their first
    /// user, though asked to expand them: Genesys calls `expand` best effort. A client must not
    /// take the missing parts for a state. A count of 0 disarms.
    MissingExpand {
        /// How many listings are answered so.
        count: u32,
    },
    /// Takes a trunk (by name or id) out of service: its proxies stop answering SIP OPTIONS,
    /// so calls over it fail and its share of the voice arrivals never reaches a queue.
    /// `restore` puts it back in service.
    TrunkOutOfService {
        trunk: String,
        #[serde(default)]
        restore: bool,
    },
    /// A trunk's SIP REGISTER with every proxy fails; it stays in service. `restore` ends it.
    RegisterFailing {
        trunk: String,
        #[serde(default)]
        restore: bool,
    },
    /// An Edge (by name or id) goes offline, and every trunk on it is disconnected with it, its
    /// calls lost with them. `restore` brings it back online, booted anew.
    EdgeOffline {
        edge: String,
        #[serde(default)]
        restore: bool,
    },
    /// A flow outcome (by name or id) fails in every visit that reports it, as when the data
    /// it needs cannot be had. `restore` lets it succeed again, as often as before.
    FlowOutcomeFailing {
        outcome: String,
        #[serde(default)]
        restore: bool,
    },
    /// A data action (by name or id) answers every execution with `status` (504 by default:
    /// the remote end timed out); the flows that call it fail their first outcome with it.
    /// `restore` lets it succeed again, as often as before.
    DataActionFailing {
        action: String,
        #[serde(default = "gateway_timeout")]
        status: u16,
        #[serde(default)]
        restore: bool,
    },
}

fn gateway_timeout() -> u16 {
    504
}

fn one_second() -> u64 {
    1
}

fn service_unavailable() -> u16 {
    503
}

fn bad_request() -> u16 {
    400
}

fn two_mebibytes() -> u64 {
    2 << 20
}

#[cfg(test)]
pub(crate) mod tests;
