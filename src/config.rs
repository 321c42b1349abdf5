//! Settings: defaults → optional file (YAML or TOML, `--config`) → environment
//! (`GENESYS_EXPORTER_…`, `__` between nested keys), then validated into errors that name the
//! key and the fix, because a misconfigured exporter should fail at start, not at 3 a.m.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::genesys::model::{AGGREGATE_METRICS, MAX_TOPICS_PER_CHANNEL};
use crate::genesys::region::Region;
use crate::genesys::time::parse_iso_duration;
use crate::genesys::{ApiError, ClientSettings};
use crate::secret::Secret;
use crate::shard::Shard;
use crate::vocabulary::agent::{AgentExport, Who};
use crate::vocabulary::metric::GenesysMetric;
use crate::vocabulary::queue::{StaleGauges, StalePolicy};

mod proxy;
pub(crate) use proxy::ProxyConfig;

pub(crate) const ENV_PREFIX: &str = "GENESYS_EXPORTER";

/// Conversation directions Genesys Cloud reports; the allow-list for `directions`.
pub(crate) const KNOWN_DIRECTIONS: &[&str] = &["inbound", "outbound"];

/// Media types Genesys Cloud reports; the allow-list for `media_types`.
pub(crate) const KNOWN_MEDIA_TYPES: &[&str] = &[
    "voice",
    "chat",
    "email",
    "callback",
    "message",
    "cobrowse",
    "video",
    "screenshare",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
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
    pub aggregates: AggregatesConfig,
    pub agents: AgentsConfig,
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
pub struct AggregatesConfig {
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

pub use crate::genesys::model::CHANNELS_PER_CLIENT;

/// The default metric set: what the dashboard and the alerts need.
pub const DEFAULT_AGGREGATE_METRICS: &[&str] = &[
    "nOffered",
    "nTransferred",
    "tAnswered",
    "tAbandon",
    "tHandle",
    "oServiceLevel",
];

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

impl Default for Settings {
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
            aggregates: AggregatesConfig::default(),
            agents: AgentsConfig::default(),
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

impl Default for AggregatesConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            window: Duration::from_secs(2 * 3600),
            granularity: "PT30M".to_owned(),
            metrics: DEFAULT_AGGREGATE_METRICS
                .iter()
                .map(|m| (*m).to_owned())
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

/// A configuration problem, printed as one line naming the key (or, for a file that does not
/// parse, the file) and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key at fault; empty when the file itself is (`file`).
    pub key: String,
    pub problem: String,
    pub fix: String,
    /// The config file that does not parse: its syntax, not a key, is at fault.
    pub file: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(key: &str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            problem: problem.into(),
            fix: fix.into(),
            file: None,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => write!(f, "config file {file}: {}; {}", self.problem, self.fix),
            None => write!(
                f,
                "config key `{}`: {}; {}",
                self.key, self.problem, self.fix
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The environment variable that sets `key` (`stream.heartbeat_timeout` →
/// `GENESYS_EXPORTER_STREAM__HEARTBEAT_TIMEOUT`).
pub(crate) fn env_var_for(key: &str) -> String {
    format!(
        "{ENV_PREFIX}_{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// `8-4-4-4-12` hexadecimal digits, as Genesys Cloud ids are.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The `GENESYS_EXPORTER_*` variables that name a settings key, and the names of those that
/// do not. Others with the prefix are never fatal: Kubernetes injects `GENESYS_EXPORTER_PORT`,
/// `…_SERVICE_HOST` and the like for a Service of that name (those are not even reported).
fn settings_env(
    env: impl IntoIterator<Item = (String, String)>,
) -> (std::collections::HashMap<String, String>, Vec<String>) {
    let top_level_keys: Vec<String> = match serde_json::to_value(Settings::default()) {
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

impl Settings {
    /// Loads defaults, then `file` (if any), then the environment, then `overrides` (the
    /// command-line flags), and validates the result.
    pub fn load_then(
        file: Option<&Path>,
        overrides: impl FnOnce(&mut Settings),
    ) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from_then(file, env, overrides)
    }

    /// `load` with an explicit environment, so tests need not mutate the process environment.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        Self::load_from_then(file, env, |_| {})
    }

    fn load_from_then(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: impl FnOnce(&mut Settings),
    ) -> Result<Settings, ConfigError> {
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
        let mut settings: Settings = raw
            .try_deserialize()
            .map_err(|e| from_config_error(e, file))?;
        settings.ignored_env = ignored_env;
        settings.proxy.environment = proxy_environment;
        overrides(&mut settings);
        settings.resolve_secret()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Reads `client_secret_file` into `client_secret`, so the rest of the program sees one value.
    fn resolve_secret(&mut self) -> Result<(), ConfigError> {
        match (&self.client_secret, &self.client_secret_file) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "client_secret_file",
                "is set together with client_secret",
                "set only one of client_secret and client_secret_file",
            )),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(
                        "client_secret_file",
                        format!("cannot read {}: {e}", path.display()),
                        "point it at a readable file holding the client secret",
                    )
                })?;
                self.client_secret = Some(Secret::new(text.trim()));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Checks every key whose value the type system cannot check.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.api_base_url.is_none() || self.login_base_url.is_none() {
            self.region()?;
        }
        for (key, url) in [
            ("api_base_url", &self.api_base_url),
            ("login_base_url", &self.login_base_url),
        ] {
            if let Some(url) = url {
                check_base_url(key, url)?;
            }
        }
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new(
                "client_id",
                "is empty",
                format!("set it in the config file or {}", env_var_for("client_id")),
            ));
        }
        if self.client_secret.as_ref().is_none_or(Secret::is_empty) {
            return Err(ConfigError::new(
                "client_secret",
                "is empty",
                format!(
                    "set client_secret ({}) or client_secret_file to the OAuth client's secret",
                    env_var_for("client_secret")
                ),
            ));
        }
        self.validate_media_types()?;
        self.validate_directions()?;
        self.validate_aggregate_metrics()?;
        self.validate_queue_ids()?;
        self.validate_agents()?;
        self.validate_intervals()?;
        self.validate_log()
    }

    fn validate_media_types(&self) -> Result<(), ConfigError> {
        if self.media_types.is_empty() {
            return Err(ConfigError::new(
                "media_types",
                "is empty",
                "list at least one media type, e.g. voice",
            ));
        }
        match self
            .media_types
            .iter()
            .find(|m| !KNOWN_MEDIA_TYPES.contains(&m.as_str()))
        {
            Some(unknown) => Err(ConfigError::new(
                "media_types",
                format!("`{unknown}` is not a Genesys Cloud media type"),
                format!("use some of: {}", KNOWN_MEDIA_TYPES.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn validate_directions(&self) -> Result<(), ConfigError> {
        for (i, direction) in self.directions.iter().enumerate() {
            if !KNOWN_DIRECTIONS.contains(&direction.as_str()) {
                return Err(ConfigError::new(
                    "directions",
                    format!("`{direction}` is not a conversation direction"),
                    format!(
                        "use {} (or leave it unset to count every direction)",
                        KNOWN_DIRECTIONS.join(" and/or ")
                    ),
                ));
            }
            if self.directions[..i].contains(direction) {
                return Err(ConfigError::new(
                    "directions",
                    format!("`{direction}` is listed twice"),
                    "list each direction once",
                ));
            }
        }
        Ok(())
    }

    fn validate_aggregate_metrics(&self) -> Result<(), ConfigError> {
        let metrics = &self.aggregates.metrics;
        if metrics.is_empty() {
            return Err(ConfigError::new(
                "aggregates.metrics",
                "is empty",
                "list at least one metric, e.g. nOffered",
            ));
        }
        let known =
            |name: &str| GenesysMetric::parse(name).is_some_and(|m| AGGREGATE_METRICS.contains(&m));
        match metrics.iter().find(|m| !known(m)) {
            Some(unknown) => Err(ConfigError::new(
                "aggregates.metrics",
                format!("`{unknown}` is not a conversation aggregate metric we export"),
                format!(
                    "use some of: {}",
                    AGGREGATE_METRICS
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// The counters of the configured metric set.
    pub fn counters(&self) -> Vec<crate::vocabulary::counters::ConversationCounter> {
        let metrics = self.aggregates.metrics.iter();
        let metrics: Vec<GenesysMetric> = metrics.filter_map(|m| GenesysMetric::parse(m)).collect();
        crate::vocabulary::counters::ConversationCounter::for_metrics(&metrics)
    }

    /// Queue ids are UUIDs; anything else would be sent as a URL path segment and could not
    /// name a queue (`..` even escapes the path).
    fn validate_queue_ids(&self) -> Result<(), ConfigError> {
        if let Some(bad) = self.queues.ids.iter().find(|id| !is_uuid(id)) {
            return Err(ConfigError::new(
                "queues.ids",
                format!("`{bad}` is not a queue id (a UUID)"),
                "copy the id from the queue's URL in Genesys Cloud admin, or list the queue under queues.names",
            ));
        }
        // NB: a repeat is harmless to the exporter but is usually a copy-paste slip hiding a
        // queue that was meant; ids and names compare as Genesys and the matcher do, ignoring case.
        for (key, list) in [
            ("queues.ids", &self.queues.ids),
            ("queues.names", &self.queues.names),
        ] {
            let mut seen = std::collections::HashSet::new();
            if let Some(repeat) = list.iter().find(|item| !seen.insert(item.to_lowercase())) {
                return Err(ConfigError::new(
                    key,
                    format!("`{repeat}` is listed twice"),
                    "list each queue once",
                ));
            }
        }
        Ok(())
    }

    fn validate_agents(&self) -> Result<(), ConfigError> {
        let agents = &self.agents;
        if !agents.ids.is_empty() && !agents.divisions.is_empty() {
            return Err(ConfigError::new(
                "agents.ids",
                "is set together with agents.divisions",
                "choose one: list agents by id, or by division (or neither, for the monitored queues' members)",
            ));
        }
        for (key, list) in [
            ("agents.ids", &agents.ids),
            ("agents.divisions", &agents.divisions),
        ] {
            if let Some(bad) = list.iter().find(|id| !is_uuid(id)) {
                return Err(ConfigError::new(
                    key,
                    format!("`{bad}` is not an id (a UUID)"),
                    "copy the id from Genesys Cloud admin",
                ));
            }
        }
        if agents.enabled && agents.max == 0 {
            return Err(ConfigError::new(
                "agents.max",
                "is 0 with agents.enabled",
                "set the most agents to watch, or turn agents.enabled off",
            ));
        }
        if agents.enabled && agents.max < agents.ids.len() {
            return Err(ConfigError::new(
                "agents.max",
                format!(
                    "is {} but agents.ids lists {}",
                    agents.max,
                    agents.ids.len()
                ),
                "raise agents.max or list fewer agents",
            ));
        }
        let queue_channels = self
            .queues
            .ids
            .len()
            .div_ceil(MAX_TOPICS_PER_CHANNEL)
            .max(1);
        let agent_channels = self.agent_channels();
        if queue_channels + agent_channels > CHANNELS_PER_CLIENT {
            return Err(ConfigError::new(
                "agents.max",
                format!(
                    "needs {agent_channels} notification channels beside the queues' {queue_channels}, past the {CHANNELS_PER_CLIENT} one OAuth client may hold"
                ),
                format!(
                    "lower agents.max (or queues.ids) to fit {} topics, or split the org with shard",
                    CHANNELS_PER_CLIENT * MAX_TOPICS_PER_CHANNEL
                ),
            ));
        }
        Ok(())
    }

    /// The channels the agents' topics may need: one per 1,000 of `agents.max`.
    pub fn agent_channels(&self) -> usize {
        match self.agents.enabled {
            true => self.agents.max.div_ceil(MAX_TOPICS_PER_CHANNEL),
            false => 0,
        }
    }

    fn validate_intervals(&self) -> Result<(), ConfigError> {
        let granularity = self.granularity()?;
        let aggregates = &self.aggregates;
        if aggregates.window < granularity
            || !aggregates
                .window
                .as_secs()
                .is_multiple_of(granularity.as_secs())
        {
            return Err(ConfigError::new(
                "aggregates.window",
                format!(
                    "{} is not a whole number of {} buckets",
                    humantime::format_duration(aggregates.window),
                    aggregates.granularity
                ),
                "use a multiple of the granularity, e.g. 2h for PT30M",
            ));
        }
        let positive = [
            ("aggregates.poll_interval", aggregates.poll_interval),
            (
                "agents.time_in_status_interval",
                self.agents.time_in_status_interval,
            ),
            ("queue_refresh_interval", self.queue_refresh_interval),
            ("stream.heartbeat_timeout", self.stream.heartbeat_timeout),
            (
                "stream.reconnect_backoff_base",
                self.stream.reconnect_backoff_base,
            ),
            (
                "stream.fallback_poll_interval",
                self.stream.fallback_poll_interval,
            ),
            ("http.request_timeout", self.http.request_timeout),
            ("web.header_read_timeout", self.web.header_read_timeout),
            ("web.request_timeout", self.web.request_timeout),
            (
                "aggregates.state_flush_interval",
                self.aggregates.state_flush_interval,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| value.is_zero()) {
            return Err(ConfigError::new(
                key,
                "is zero",
                "use a positive duration such as 30s",
            ));
        }
        self.tls.trust()?;
        self.proxy.routes()?;
        if self.web.max_connections == 0 {
            return Err(ConfigError::new(
                "web.max_connections",
                "is zero, so no scrape could connect",
                "use a positive number such as 256",
            ));
        }
        if self.web.max_header_bytes < 8192 {
            return Err(ConfigError::new(
                "web.max_header_bytes",
                format!("{} is below 8192 bytes", self.web.max_header_bytes),
                "use at least 8192, e.g. 16384",
            ));
        }
        if self.stream.staleness_bound <= self.stream.fallback_poll_interval {
            return Err(ConfigError::new(
                "stream.staleness_bound",
                format!(
                    "{} is not longer than stream.fallback_poll_interval ({}), so queues would turn stale between two fallback resyncs",
                    humantime::format_duration(self.stream.staleness_bound),
                    humantime::format_duration(self.stream.fallback_poll_interval)
                ),
                "use at least three fallback intervals, e.g. 90s for 30s",
            ));
        }
        Ok(())
    }

    /// How freshness turns into staleness for the metrics.
    pub(crate) fn stale_policy(&self) -> StalePolicy {
        StalePolicy {
            bound_seconds: Some(self.stream.staleness_bound.as_secs_f64()),
            gauges: self.stream.stale_gauges,
        }
    }

    fn validate_log(&self) -> Result<(), ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map(|_| ())
            .map_err(|e| {
                ConfigError::new(
                    "log.level",
                    format!("`{}` is not a valid filter: {e}", self.log.level),
                    "use info, debug, warn or a directive like genesys_exporter=debug",
                )
            })
    }

    pub(crate) fn region(&self) -> Result<Region, ConfigError> {
        Region::parse(&self.region).ok_or_else(|| {
            ConfigError::new(
                "region",
                format!("`{}` is not a Genesys Cloud region", self.region),
                format!("use one of: {}", Region::all_sdk_names()),
            )
        })
    }

    /// The aggregates bucket width.
    pub(crate) fn granularity(&self) -> Result<Duration, ConfigError> {
        parse_iso_duration(&self.aggregates.granularity)
            .filter(|d| d.as_secs() >= 60 && d.as_secs() % 60 == 0)
            .ok_or_else(|| {
                ConfigError::new(
                    "aggregates.granularity",
                    format!(
                        "`{}` is not an ISO-8601 duration of whole minutes",
                        self.aggregates.granularity
                    ),
                    "use PT5M, PT15M, PT30M or PT1H",
                )
            })
    }

    /// What the Genesys client needs; base URL overrides win over the region.
    pub fn client_settings(&self) -> Result<ClientSettings, ConfigError> {
        let region = self.region();
        let pick = |url: &Option<String>, from_region: fn(&Region) -> String| match url {
            Some(url) => Ok(url.trim_end_matches('/').to_owned()),
            None => region.clone().map(|r| from_region(&r)),
        };
        Ok(ClientSettings {
            api_base_url: pick(&self.api_base_url, Region::api_base_url)?,
            login_base_url: pick(&self.login_base_url, Region::login_base_url)?,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone().unwrap_or_default(),
            request_timeout: self.http.request_timeout,
            max_retries: self.http.max_retries,
            retry_backoff_base: self.http.retry_backoff_base,
            retry_backoff_cap: self.http.retry_backoff_max,
            trust: self.tls.trust()?,
            proxy: self.proxy.routes()?,
        })
    }

    /// The effective settings for `check-config`, secrets redacted.
    pub fn to_redacted_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn check_base_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match crate::genesys::client::parse_base(url) {
        Ok(_) => Ok(()),
        // NB: the URL itself is not echoed: it may carry credentials.
        Err(ApiError::BadUrl { reason, .. }) => Err(ConfigError::new(
            key,
            format!("is not a usable base URL: {reason}"),
            "use a plain URL such as https://api.mypurecloud.ie",
        )),
        Err(other) => Err(ConfigError::new(key, other.to_string(), "use a plain URL")),
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

#[cfg(test)]
mod tests;
