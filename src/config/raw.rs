//! The settings as written: the serde shape that defaults, then an optional file (YAML or
//! TOML, `--config`), then the environment (`GENESYS_EXPORTER_…`, `__` between nested keys) fill
//! in. Values stay as spelt here; `validate.rs` turns them into the typed [`Settings`] the
//! program runs on, so a key's text is read once, at start.
//!
//! [`Settings`]: super::Settings

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::proxy::{self, ProxyConfig};
use super::{ConfigError, ENV_PREFIX};
use crate::secret::Secret;
use crate::shard::Shard;
use crate::vocabulary::agent::{AgentExport, Who};
use crate::vocabulary::metric::GenesysMetric;
use crate::vocabulary::queue::StaleGauges;

/// The default metric set: what the dashboard and the alerts need.
pub const DEFAULT_AGGREGATE_METRICS: &[GenesysMetric] = &[
    GenesysMetric::NOffered,
    GenesysMetric::NTransferred,
    GenesysMetric::TAnswered,
    GenesysMetric::TAbandon,
    GenesysMetric::THandle,
    GenesysMetric::OServiceLevel,
];

/// Every key as written, apart from [`Settings`] so that a value serde accepted but the
/// program cannot run on never reaches it. A list reads from a file's sequence or from the
/// environment's comma-separated text alike.
///
/// [`Settings`]: super::Settings
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    /// Genesys Cloud region, AWS (`eu-west-1`) or SDK (`eu_west_1`) spelling. Default `us_east_1`.
    pub region: String,
    /// OAuth client-credentials client id. Required.
    pub client_id: String,
    /// OAuth client secret. Exactly one of this and `client_secret_file` is required.
    pub client_secret: Option<Secret>,
    /// File holding the client secret (a mounted Kubernetes secret); surrounding whitespace is
    /// trimmed.
    pub client_secret_file: Option<PathBuf>,
    /// Overrides the region's REST base URL (simulator, private deployments).
    pub api_base_url: Option<String>,
    /// Overrides the region's OAuth base URL.
    pub login_base_url: Option<String>,
    /// Which queues to watch; both empty means every queue in the org.
    pub queues: QueueSettings,
    /// `i/N`: this instance exports only the queues whose id hashes to shard i of N, so N
    /// instances (a StatefulSet) split the org with no overlap and no gap. `--shard` overrides
    /// it. Default `0/1`: every queue.
    pub shard: Shard,
    /// Allow-list for the `media_type` label. Default voice, chat, email, callback, message.
    #[serde(deserialize_with = "list")]
    pub media_types: Vec<String>,
    /// Conversation directions (`inbound`, `outbound`) the conversation counters are split by
    /// and filtered to, as their `direction` label. Default none: counters count every
    /// direction and have no such label.
    #[serde(deserialize_with = "list")]
    pub directions: Vec<String>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served. Default `0.0.0.0:9856`.
    pub listen_address: SocketAddr,
    /// How often the queue set is resolved again (names can match new queues). Default 10m.
    #[serde(with = "humantime_serde")]
    pub queue_refresh_interval: Duration,
    pub stream: StreamConfig,
    pub aggregates: RawAggregates,
    pub agents: AgentsConfig,
    pub telephony: RawTelephony,
    pub flows: RawFlows,
    pub actions: RawActions,
    /// Directory for the counter state (the bucket ledger and each series' total), so that a
    /// restart loses nothing: counters resume where they were shown and the conversations that
    /// happened while the exporter was down are counted exactly once. Must be writable.
    /// Default none: after a restart the counters start at 0 on a fresh baseline, losing the
    /// downtime and what was shown after Prometheus's last scrape.
    pub state_dir: Option<PathBuf>,
    pub http: HttpConfig,
    pub tls: UpstreamTls,
    pub proxy: ProxyConfig,
    pub web: WebSettings,
    pub log: LogConfig,
    /// `GENESYS_EXPORTER_*` variables that name no key (typos, most likely); logged at start.
    #[serde(skip)]
    pub ignored_env: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// Queue ids (UUIDs).
    #[serde(deserialize_with = "list")]
    pub ids: Vec<String>,
    /// Queue names; `*` is a wildcard.
    #[serde(deserialize_with = "list")]
    pub names: Vec<String>,
    /// Refreshes a queue may be missing from the listing before its series are dropped, so one
    /// incomplete listing does not reset its counters. Default 2.
    pub absent_grace_refreshes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// Silence after which the WebSocket counts as dead; upstream beats every ~30 s. Default 75s.
    #[serde(with = "humantime_serde")]
    pub heartbeat_timeout: Duration,
    /// First reconnect delay ceiling (full jitter). Default 1s.
    #[serde(with = "humantime_serde")]
    pub reconnect_backoff_base: Duration,
    /// Reconnect delay cap. Default 60s.
    #[serde(with = "humantime_serde")]
    pub reconnect_backoff_max: Duration,
    /// REST resync interval while a channel is down (also while it cannot be established),
    /// and of stale queues while it streams. Default 30s.
    #[serde(with = "humantime_serde")]
    pub fallback_poll_interval: Duration,
    /// A queue whose values could not be refreshed (no event, heartbeat or resync) for this
    /// long is stale (`genesys_exporter_queue_stale` 1) until a resync refreshes it. Must be
    /// longer than `fallback_poll_interval`. Default 90s.
    #[serde(with = "humantime_serde")]
    pub staleness_bound: Duration,
    /// What a stale queue's observation gauges do: `keep` their last values (flagged stale),
    /// or `remove` them until a resync refreshes them, so nothing frozen is graphed. Default
    /// keep.
    pub stale_gauges: StaleGauges,
    /// How long before a channel's `expires` it is replaced. Default 1h.
    #[serde(with = "humantime_serde")]
    pub rotate_before_expiry: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawAggregates {
    /// How often the aggregates query runs; the counters are stale after three intervals
    /// without a successful poll. Default 60s.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How far back each query looks; late revisions inside it are counted. Default 2h.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Bucket width, ISO-8601 (`PT5M`, `PT15M`, `PT30M`, `PT1H`). At `PT30M` the stream's running
    /// totals feed the counters within seconds. Default `PT30M`.
    pub granularity: String,
    /// Genesys aggregate metrics to count (`nOffered`, `tAnswered`, `oServiceLevel`, …); only
    /// these are queried and exported. Default: what the dashboard and alerts use —
    /// nOffered, nTransferred, tAnswered, tAbandon, tHandle, oServiceLevel.
    #[serde(deserialize_with = "list")]
    pub metrics: Vec<String>,
    /// With `state_dir`, how often increments from the stream's running totals are saved; they
    /// show on `/metrics` once saved. Default 10s.
    #[serde(with = "humantime_serde")]
    pub state_flush_interval: Duration,
}

/// Per-agent state. Per-agent monitoring is a workforce-policy decision in many countries, so it is
/// off unless asked for (docs/operations.md#agents).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// Export each agent's routing status and presence. Default false.
    pub enabled: bool,
    /// Watch the active users of these divisions (ids) instead of the monitored queues'
    /// members. Default none.
    #[serde(deserialize_with = "list")]
    pub divisions: Vec<String>,
    /// Watch these users (ids) instead of the monitored queues' members. Default none.
    #[serde(deserialize_with = "list")]
    pub ids: Vec<String>,
    /// The most agents watched: a start that selects more is refused (exit 2); a later refresh
    /// that finds more keeps the first by id and logs an error. Default 5000.
    pub max: usize,
    /// `genesys_agent_info` carries the agent's name. Default true.
    pub names: bool,
    /// Export `genesys_agent_queue_member` (one series per agent and monitored queue it is a
    /// member of). Default false.
    pub queue_membership: bool,
    /// Count each agent's time in routing status and system presence (the users aggregates
    /// query, through the counters' ledger and `state_dir`). Default true.
    pub time_in_status: bool,
    /// How often the users aggregates query runs (⌈agents/100⌉ calls each time); the counters
    /// are stale after three intervals without a successful poll. Default 2m.
    #[serde(with = "humantime_serde")]
    pub time_in_status_interval: Duration,
    /// Also count time in each of the org's presences (`tOrganizationPresence`). Default
    /// false.
    pub organization_presence_time: bool,
    /// Also subscribe to each agent's running totals (`v2.analytics.users.{id}.aggregates`),
    /// moving the counters between polls, when the channels hold two topics per agent beside
    /// the queues'. Default true.
    pub time_in_status_stream: bool,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            divisions: Vec::new(),
            ids: Vec::new(),
            max: 5_000,
            names: true,
            queue_membership: false,
            time_in_status: true,
            time_in_status_interval: Duration::from_secs(120),
            organization_presence_time: false,
            time_in_status_stream: true,
        }
    }
}

impl AgentsConfig {
    /// What the agent series show: nothing of time in status unless agents are watched.
    pub(crate) fn export(&self) -> AgentExport {
        let counting = self.enabled && self.time_in_status;
        AgentExport {
            names: self.names,
            queue_membership: self.queue_membership,
            time_in_status: counting,
            organization_presence_time: counting && self.organization_presence_time,
        }
    }

    /// Whom `agents.*` selects.
    pub fn who(&self) -> Who {
        if !self.ids.is_empty() {
            Who::Ids(self.ids.clone())
        } else if !self.divisions.is_empty() {
            Who::Divisions(self.divisions.clone())
        } else {
            Who::QueueMembers
        }
    }
}

/// Trunks and Edges. Their calls need `telephony:plugin:all`, a broad permission (it can also
/// change the telephony configuration), so the source is off unless asked for
/// (docs/operations.md#trunks-and-edges).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawTelephony {
    /// Watch trunks and Edges. Default false.
    pub enabled: bool,
    /// The trunk types watched: `EXTERNAL` (carrier and BYOC trunks), `PHONE`, `EDGE`. Default
    /// all three.
    #[serde(deserialize_with = "list")]
    pub trunk_types: Vec<String>,
    /// Trunk names; `*` is a wildcard. Default none: every trunk of the types.
    #[serde(deserialize_with = "list")]
    pub trunk_names: Vec<String>,
    /// The Edges watched, by their site's name (`*` a wildcard) or id. Default none: every Edge.
    #[serde(deserialize_with = "list")]
    pub edge_sites: Vec<String>,
}

/// IVR flows. Their calls need `architect:flow:view`, `architect:flowOutcome:view` (and
/// `architect:flowMilestone:view` with milestones) and `analytics:flowAggregate:view`, so the
/// source is off unless asked for (docs/operations.md#ivr-flows).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawFlows {
    /// Watch IVR flows. Default false.
    pub enabled: bool,
    /// The flow types watched, as Genesys spells them (`INBOUNDCALL`). Default the inbound
    /// ones: INBOUNDCALL, INBOUNDCHAT, INBOUNDEMAIL, INBOUNDSHORTMESSAGE.
    #[serde(deserialize_with = "list")]
    pub types: Vec<String>,
    /// Flow names; `*` is a wildcard. Default none: every flow of the types.
    #[serde(deserialize_with = "list")]
    pub names: Vec<String>,
    /// Count the milestones each flow's conversations pass (one series per flow and
    /// milestone). Default false.
    pub milestones: bool,
    /// How often the conversations in each flow now (oFlow) are read: one observation query
    /// per 100 flows, so 1,000 flows cost 10 calls each time. Default 60s.
    #[serde(with = "humantime_serde")]
    pub observation_interval: Duration,
}

impl Default for RawFlows {
    fn default() -> Self {
        Self {
            enabled: false,
            milestones: false,
            observation_interval: Duration::from_secs(60),
            types: crate::vocabulary::flows::INBOUND_FLOW_TYPES
                .map(String::from)
                .to_vec(),
            names: Vec::new(),
        }
    }
}

/// Data actions. Their calls need `integrations:action:view` (or `bridge:actions:view`), so
/// the source is off unless asked for (docs/operations.md#data-actions).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawActions {
    /// Watch data actions. Default false.
    pub enabled: bool,
    /// Data action names; `*` is a wildcard. Default none: every action.
    #[serde(deserialize_with = "list")]
    pub names: Vec<String>,
}

impl Default for RawTelephony {
    fn default() -> Self {
        Self {
            enabled: false,
            trunk_types: ["EXTERNAL", "PHONE", "EDGE"].map(String::from).to_vec(),
            trunk_names: Vec::new(),
            edge_sites: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Per-request timeout. Default 30s.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Retries after the first attempt on 429, 5xx and transport errors. Default 4.
    pub max_retries: u32,
    /// Retry backoff ceiling for the first retry (full jitter). Default 500ms.
    #[serde(with = "humantime_serde")]
    pub retry_backoff_base: Duration,
    /// Retry backoff cap. Default 30s.
    #[serde(with = "humantime_serde")]
    pub retry_backoff_max: Duration,
}

/// Whom the exporter trusts upstream (OAuth, REST and the WebSocket alike).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamTls {
    /// A PEM bundle of CA certificates trusted beside the system's: the private CA of a proxy
    /// that inspects TLS, or of a private deployment. Default none: the system's roots only.
    pub ca_file: Option<PathBuf>,
}

impl UpstreamTls {
    /// The trust this asks for, loaded and checked.
    pub(crate) fn trust(&self) -> Result<crate::genesys::trust::Trust, ConfigError> {
        let Some(path) = &self.ca_file else {
            return Ok(crate::genesys::trust::Trust::default());
        };
        crate::genesys::trust::Trust::from_pem_file(path).map_err(|e| {
            ConfigError::new(
                "tls.ca_file",
                format!("{}: {e}", path.display()),
                "point it at a PEM file of the CA certificates that sign the certificates the exporter sees",
            )
        })
    }
}

/// The exporter's own HTTP server: how it protects itself from clients that hold connections
/// or send too much.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// A Prometheus exporter-toolkit web configuration file (as node_exporter's
    /// `--web.config.file`): TLS, basic auth users with bcrypt hashes, extra headers. Reloaded
    /// when it or a certificate it names changes. Default none: plain HTTP, no auth.
    pub config_file: Option<PathBuf>,
    /// `/healthz` and `/readyz` answer without basic auth, for kubelet probes. Default false.
    pub unauthenticated_probes: bool,
    /// A request head must arrive within this long of the connection opening or of the
    /// previous response; a connection silent that long is closed. Default 10s.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A request must be answered to its last byte within this long, or its connection is
    /// closed (a client that stops reading cannot hold one). Default 30s.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Connections open at once; when full, the oldest with no request in flight is closed
    /// for the newcomer. Default 256.
    pub max_connections: usize,
    /// Largest request head (request line and headers) accepted, in bytes, at least 8192;
    /// larger gets 431. Default 16384.
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter directive (`info`, `genesys_exporter=debug`); `RUST_LOG` wins. Default info.
    pub level: String,
    /// `text`, `json` or `logfmt`. Default text.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
    /// `key=value` pairs, one line per event, as node_exporter logs (`--log.format logfmt`).
    Logfmt,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            region: "us_east_1".to_owned(),
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            api_base_url: None,
            login_base_url: None,
            queues: QueueSettings::default(),
            shard: Shard::default(),
            media_types: ["voice", "chat", "email", "callback", "message"]
                .map(String::from)
                .to_vec(),
            directions: Vec::new(),
            listen_address: SocketAddr::from(([0, 0, 0, 0], 9856)),
            queue_refresh_interval: Duration::from_secs(600),
            stream: StreamConfig::default(),
            aggregates: RawAggregates::default(),
            agents: AgentsConfig::default(),
            telephony: RawTelephony::default(),
            flows: RawFlows::default(),
            actions: RawActions::default(),
            state_dir: None,
            http: HttpConfig::default(),
            tls: UpstreamTls::default(),
            proxy: ProxyConfig::default(),
            web: WebSettings::default(),
            log: LogConfig::default(),
            ignored_env: Vec::new(),
        }
    }
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(75),
            reconnect_backoff_base: Duration::from_secs(1),
            reconnect_backoff_max: Duration::from_secs(60),
            fallback_poll_interval: Duration::from_secs(30),
            staleness_bound: Duration::from_secs(90),
            stale_gauges: StaleGauges::Keep,
            rotate_before_expiry: Duration::from_secs(3600),
        }
    }
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            names: Vec::new(),
            absent_grace_refreshes: 2,
        }
    }
}

impl Default for RawAggregates {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            window: Duration::from_secs(2 * 3600),
            granularity: "PT30M".to_owned(),
            metrics: DEFAULT_AGGREGATE_METRICS
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            state_flush_interval: Duration::from_secs(10),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            retry_backoff_base: Duration::from_millis(500),
            retry_backoff_max: Duration::from_secs(30),
        }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            config_file: None,
            unauthenticated_probes: false,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_header_bytes: 16 * 1024,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// The `GENESYS_EXPORTER_*` variables that name a settings key, and the names of those that
/// do not. Others with the prefix are never fatal: Kubernetes injects `GENESYS_EXPORTER_PORT`,
/// `…_SERVICE_HOST` and the like for a Service of that name (those are not even reported).
fn settings_env(
    env: impl IntoIterator<Item = (String, String)>,
) -> (std::collections::HashMap<String, String>, Vec<String>) {
    let top_level_keys: Vec<String> = match serde_json::to_value(RawSettings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let prefix = format!("{ENV_PREFIX}_");
    let mut ignored = Vec::new();
    let mut settings = std::collections::HashMap::new();
    for (name, value) in env {
        let Some(key) = name.strip_prefix(&prefix) else {
            continue;
        };
        let top = key
            .split("__")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if top_level_keys.contains(&top) {
            settings.insert(name, value);
        } else if !is_service_link(key) && key != "CONFIG" {
            ignored.push(name);
        }
    }
    ignored.sort();
    (settings, ignored)
}

/// `PORT`, `PORT_9856_TCP…`, `SERVICE_HOST`, `SERVICE_PORT…`: Kubernetes service links.
fn is_service_link(key: &str) -> bool {
    key == "PORT" || key.starts_with("PORT_") || key.starts_with("SERVICE_")
}

/// A list from a file (a sequence) or from the environment (one comma-separated string);
/// items are trimmed and empty ones dropped, so `QUEUES__NAMES=` means "none".
fn list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Items(Vec<String>),
        Text(String),
    }
    let items = match Raw::deserialize(deserializer)? {
        Raw::Items(items) => items,
        Raw::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

impl RawSettings {
    /// Defaults, then `file` (if any), then `env`'s `GENESYS_EXPORTER_*` variables; no value
    /// is checked beyond its serde type.
    pub(super) fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<RawSettings, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::new(
                    "--config",
                    format!("{} is not a readable file", path.display()),
                    "pass the path of a YAML or TOML config file",
                ));
            }
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let proxy_environment = proxy::proxy_environment(&env);
        let (env_map, ignored_env) = settings_env(env);
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("_")
                .separator("__")
                .source(Some(env_map)),
        );
        let raw = builder.build().map_err(|e| from_config_error(e, file))?;
        let mut settings: RawSettings = raw
            .try_deserialize()
            .map_err(|e| from_config_error(e, file))?;
        settings.ignored_env = ignored_env;
        settings.proxy.environment = proxy_environment;
        Ok(settings)
    }
}

/// Turns the `config` crate's errors into the same one-line shape as our own.
/// `file` is the path as given: `config` reports it relative to the working directory.
fn from_config_error(error: config::ConfigError, file: Option<&Path>) -> ConfigError {
    let text = error.to_string().replace('\n', " ");
    if let config::ConfigError::FileParse { uri, cause } = &error {
        let given = file.map(|f| f.display().to_string());
        let file = given
            .or_else(|| uri.clone())
            .unwrap_or_else(|| "(config)".to_owned());
        let cause = cause.to_string().replace('\n', " ");
        return ConfigError {
            file: Some(file),
            ..ConfigError::new("", cause, "fix the syntax at that line")
        };
    }
    let key = backticked_after(&text, "for key `")
        .or_else(|| backticked_after(&text, "unknown field `"))
        .unwrap_or_else(|| "(config)".to_owned());
    let problem = match text.find(" for key `") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    ConfigError::new(&key, problem, "see docs/configuration.md")
}

/// The text between `marker` and the next backtick: how serde and `config` quote keys.
fn backticked_after(text: &str, marker: &str) -> Option<String> {
    let rest = text.split(marker).nth(1)?;
    rest.split('`').next().map(str::to_owned)
}
