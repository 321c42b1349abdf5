//! What the simulator simulates and how fast: every timing is a setting, so the same model runs
//! at human pace for the demo and at millisecond pace in tests.

use std::time::Duration;

use crate::vocabulary::clock::Clock;

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The simulated wall clock: every instant the simulator reports or reasons about (traffic
    /// events, buckets, observation times, channel expiry) is read from it, so a scaled clock
    /// shared with the exporter runs hours of traffic in seconds. Default: the system clock.
    pub clock: Clock,
    /// Seeds the traffic model and the queue ids, so a run is reproducible.
    pub seed: u64,
    pub queues: usize,
    pub agents_per_queue: usize,
    /// Media types every queue handles (`voice`, `chat`, …).
    pub media_types: Vec<String>,
    /// Mean Poisson arrival rate per queue, over all media types, per simulated minute.
    ///
    /// NB: the traffic durations below (talk, wrap-up, patience, alert timeout, reporting lag,
    /// history) are in simulated time; tick, publish and heartbeat intervals, token lifetime and
    /// the socket-closing grace are real time, because they pace sockets and timers.
    pub arrivals_per_minute: f64,
    pub mean_talk: Duration,
    pub mean_acw: Duration,
    /// Mean time a waiting customer stays before abandoning; the service-level threshold is a
    /// sixth of it (20 s at the 2-minute default), so fast test configs still see both sides.
    pub mean_patience: Duration,
    /// How long an agent may leave an interaction alerting before counting as not responding.
    pub alert_timeout: Duration,
    /// Model step; events are processed at their own instants within a step.
    pub tick: Duration,
    /// Minimum spacing of observation events per queue on the WebSocket.
    pub publish_interval: Duration,
    pub heartbeat_interval: Duration,
    pub token_ttl: Duration,
    /// Each recorded metric becomes visible to the aggregates query after a random lag in
    /// `[0, reporting_lag]`, which is what makes earlier buckets get revised.
    pub reporting_lag: Duration,
    /// Past traffic generated at start so dashboards have history; zero for none.
    pub history: Duration,
    /// Delay between `v2.system.socket_closing` and the server closing the socket.
    pub socket_closing_grace: Duration,
    /// How long a notification channel lives after its creation or a subscription PUT, in
    /// simulated time; the `expires` a client is given. When it passes, the channel's socket is
    /// closed without a `socket_closing` first and the channel is gone, as in Genesys.
    /// Default: 24 hours.
    pub channel_ttl: Duration,
    /// Starts with the traffic paused, as after `POST /sim/traffic/pause`, so a client can take
    /// its baseline before the first conversation; `POST /sim/traffic/resume` starts it.
    pub start_paused: bool,
    pub client_id: String,
    /// A throwaway demo credential, not a real secret.
    pub client_secret: String,
    /// Serve HTTPS and `wss://` under this config instead of plain HTTP (trust tests).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// How many Edges and trunks of each type.
    pub telephony: super::telephony::TelephonySize,
    /// How many flows, outcomes and milestones the IVR has.
    pub flows: super::model::ivr::FlowsSize,
    /// The interval the flow topics' running totals cover: 30 minutes, or 15 or 60 as an org
    /// may choose (docs/genesys-api.md#ivr-flows).
    pub flow_topic_interval: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            seed: 42,
            queues: 5,
            agents_per_queue: 8,
            media_types: ["voice", "chat", "email", "callback", "message"]
                .map(str::to_owned)
                .to_vec(),
            arrivals_per_minute: 2.4,
            mean_talk: Duration::from_secs(180),
            mean_acw: Duration::from_secs(30),
            mean_patience: Duration::from_secs(120),
            alert_timeout: Duration::from_secs(15),
            tick: Duration::from_millis(200),
            publish_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(30),
            token_ttl: Duration::from_secs(86_400),
            reporting_lag: Duration::from_secs(5),
            history: Duration::ZERO,
            socket_closing_grace: Duration::from_secs(60),
            channel_ttl: Duration::from_secs(24 * 3_600),
            start_paused: false,
            client_id: "demo-client".to_owned(),
            client_secret: "demo-secret".to_owned(),
            tls: None,
            telephony: Default::default(),
            flows: Default::default(),
            flow_topic_interval: Duration::from_secs(30 * 60),
        }
    }
}

impl SimConfig {
    /// Busy millisecond-scale traffic: every state and metric occurs within a second or two.
    pub fn fast_for_tests(seed: u64) -> Self {
        Self {
            seed,
            queues: 3,
            agents_per_queue: 6,
            media_types: ["voice", "chat", "email"].map(str::to_owned).to_vec(),
            arrivals_per_minute: 900.0,
            mean_talk: Duration::from_millis(250),
            mean_acw: Duration::from_millis(80),
            mean_patience: Duration::from_millis(400),
            alert_timeout: Duration::from_millis(100),
            tick: Duration::from_millis(20),
            publish_interval: Duration::from_millis(50),
            heartbeat_interval: Duration::from_secs(1),
            token_ttl: Duration::from_secs(3_600),
            reporting_lag: Duration::from_millis(300),
            history: Duration::ZERO,
            socket_closing_grace: Duration::from_millis(300),
            ..Self::default()
        }
    }
}
