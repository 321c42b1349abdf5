//! Settings in two shapes: [`RawSettings`], what defaults, an optional file and the environment
//! say (`raw.rs`), and [`Settings`], what the program runs on, which only validation makes
//! (`validate.rs`). Every value is parsed there, once, into errors that name the key and the fix,
//! because a misconfigured exporter should fail at start, not at 3 a.m.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::genesys::ClientSettings;
use crate::genesys::region::Region;
use crate::genesys::time::format_iso_duration;
use crate::secret::Secret;
use crate::shard::Shard;
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::labels::{Direction, LabelValue, MediaType};
use crate::vocabulary::metric::GenesysMetric;
use crate::vocabulary::queue::StalePolicy;
use crate::vocabulary::telephony::TrunkType;

mod proxy;
mod raw;
mod validate;

pub(crate) use proxy::ProxyConfig;
pub use raw::{
    AgentsConfig, DEFAULT_AGGREGATE_METRICS, HttpConfig, LogConfig, LogFormat, QueueSettings,
    RawActions, RawAggregates, RawSettings, RawTelephony, StreamConfig, UpstreamTls, WebSettings,
};

pub(crate) const ENV_PREFIX: &str = "GENESYS_EXPORTER";

pub use crate::genesys::model::CHANNELS_PER_CLIENT;

/// The settings the exporter runs on: [`RawSettings`] once validation has parsed every value,
/// so nothing after start-up reads a setting's text or can find it wrong. Serialized (for
/// `check-config`) in the spelling of the file, secrets redacted. Sections serde already types
/// are the raw ones.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// `None` only when both base URLs override it and it names no region: never read then.
    #[serde(serialize_with = "region_name")]
    pub(crate) region: Option<Region>,
    pub(crate) client_id: String,
    /// From `client_secret` or read from `client_secret_file`: one value for the rest.
    pub(crate) client_secret: Secret,
    pub(crate) client_secret_file: Option<PathBuf>,
    pub(crate) api_base_url: Option<String>,
    pub(crate) login_base_url: Option<String>,
    pub(crate) queues: QueueSettings,
    /// Public so that `run --shard` can override it after the keys.
    pub shard: Shard,
    /// The `media_type` label's allow-list, in the order its series are written.
    #[serde(serialize_with = "label_texts")]
    pub(crate) media_types: Vec<MediaType>,
    /// The `direction` label's values; empty: counters have no direction.
    #[serde(serialize_with = "label_texts")]
    pub(crate) directions: Vec<Direction>,
    pub listen_address: SocketAddr,
    #[serde(with = "humantime_serde")]
    pub(crate) queue_refresh_interval: Duration,
    pub(crate) stream: StreamConfig,
    pub(crate) aggregates: AggregatesConfig,
    pub(crate) agents: AgentsConfig,
    pub(crate) telephony: TelephonySettings,
    pub(crate) flows: FlowsSettings,
    /// `actions.*`: nothing to type.
    pub(crate) actions: RawActions,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) http: HttpConfig,
    pub(crate) tls: UpstreamTls,
    pub(crate) proxy: ProxyConfig,
    pub web: WebSettings,
    pub log: LogConfig,
    /// `GENESYS_EXPORTER_*` variables that name no key (typos, most likely); logged at start.
    #[serde(skip)]
    pub ignored_env: Vec<String>,
    /// What the Genesys client is built from: the region or base URLs, the secret, the CA
    /// bundle and the proxy routes, resolved and loaded once by validation.
    #[serde(skip)]
    client: ClientSettings,
}

/// `telephony.*`, the trunk types typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TelephonySettings {
    pub(crate) enabled: bool,
    #[serde(serialize_with = "label_texts")]
    pub(crate) trunk_types: Vec<TrunkType>,
    pub(crate) trunk_names: Vec<String>,
    pub(crate) edge_sites: Vec<String>,
}

/// `flows.*`, the types in Genesys's spelling, each once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FlowsSettings {
    pub(crate) enabled: bool,
    pub(crate) types: Vec<String>,
    pub(crate) names: Vec<String>,
    pub(crate) milestones: bool,
    #[serde(with = "humantime_serde")]
    pub(crate) observation_interval: Duration,
}

/// `aggregates.*` as the ledger and the pollers use it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AggregatesConfig {
    #[serde(with = "humantime_serde")]
    pub(crate) poll_interval: Duration,
    /// A whole number of `granularity` buckets.
    #[serde(with = "humantime_serde")]
    pub(crate) window: Duration,
    /// The bucket width: whole minutes.
    #[serde(serialize_with = "iso_duration")]
    pub(crate) granularity: Duration,
    /// Conversation aggregate metrics the exporter can count; never empty.
    #[serde(serialize_with = "metric_names")]
    pub(crate) metrics: Vec<GenesysMetric>,
    #[serde(with = "humantime_serde")]
    pub(crate) state_flush_interval: Duration,
}

impl Settings {
    /// Loads defaults, then `file` (if any), then the environment, then `overrides` (the
    /// command-line flags), and validates the result.
    pub fn load_then(
        file: Option<&Path>,
        overrides: impl FnOnce(&mut RawSettings),
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
        overrides: impl FnOnce(&mut RawSettings),
    ) -> Result<Settings, ConfigError> {
        let mut raw = RawSettings::load(file, env)?;
        overrides(&mut raw);
        Settings::from_raw(raw)
    }

    /// The counters of the configured metric set.
    pub(crate) fn counters(&self) -> Vec<ConversationCounter> {
        ConversationCounter::for_metrics(&self.aggregates.metrics)
    }

    /// How freshness turns into staleness for the metrics.
    pub(crate) fn stale_policy(&self) -> StalePolicy {
        StalePolicy {
            bound_seconds: Some(self.stream.staleness_bound.as_secs_f64()),
            gauges: self.stream.stale_gauges,
        }
    }

    /// What the Genesys client needs; base URL overrides win over the region.
    pub fn client_settings(&self) -> ClientSettings {
        self.client.clone()
    }

    /// The effective settings for `check-config`, secrets redacted.
    pub fn to_redacted_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The region in its SDK spelling, as the default is written.
fn region_name<S: Serializer>(region: &Option<Region>, out: S) -> Result<S::Ok, S::Error> {
    region.map(|r| r.sdk_name()).serialize(out)
}

fn label_texts<S: Serializer, L: LabelValue>(values: &[L], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(values.iter().map(|value| value.as_str()))
}

fn metric_names<S: Serializer>(metrics: &[GenesysMetric], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(metrics.iter().map(|metric| metric.as_str()))
}

fn iso_duration<S: Serializer>(duration: &Duration, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(&format_iso_duration(*duration))
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

#[cfg(test)]
mod tests;
