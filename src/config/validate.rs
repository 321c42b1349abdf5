//! [`RawSettings`] into [`Settings`]: every value the type system could not check is parsed or
//! checked here, in one pass, and the first problem is the one-line error naming its key.

use std::collections::HashSet;
use std::time::Duration;

use super::{
    AggregatesConfig, ConfigError, FlowsSettings, RawSettings, Settings, TelephonySettings,
    env_var_for,
};
use crate::genesys::model::{AGGREGATE_METRICS, MAX_TOPICS_PER_CHANNEL};
use crate::genesys::region::Region;
use crate::genesys::time::parse_iso_duration;
use crate::genesys::{ApiError, ClientSettings};
use crate::secret::Secret;
use crate::vocabulary::labels::{Direction, LabelValue, MediaType};
use crate::vocabulary::metric::GenesysMetric;
use crate::vocabulary::telephony::TrunkType;

impl Settings {
    /// Validates `raw` into the settings the program runs on: the secret file read, the CA
    /// bundle and the proxy routes loaded, every duration, metric, label set and region parsed.
    pub fn from_raw(raw: RawSettings) -> Result<Settings, ConfigError> {
        let client_secret = client_secret(&raw)?;
        let region = Region::parse(&raw.region);
        let api_base_url = base_url(&raw, &raw.api_base_url, region, Region::api_base_url)?;
        let login_base_url = base_url(&raw, &raw.login_base_url, region, Region::login_base_url)?;
        for (key, url) in [
            ("api_base_url", &raw.api_base_url),
            ("login_base_url", &raw.login_base_url),
        ] {
            if let Some(url) = url {
                check_base_url(key, url)?;
            }
        }
        if raw.client_id.trim().is_empty() {
            return Err(ConfigError::new(
                "client_id",
                "is empty",
                format!("set it in the config file or {}", env_var_for("client_id")),
            ));
        }
        if client_secret.is_empty() {
            return Err(ConfigError::new(
                "client_secret",
                "is empty",
                format!(
                    "set client_secret ({}) or client_secret_file to the OAuth client's secret",
                    env_var_for("client_secret")
                ),
            ));
        }
        let media_types = media_types(&raw.media_types)?;
        let directions = directions(&raw.directions)?;
        let metrics = aggregate_metrics(&raw.aggregates.metrics)?;
        check_queue_ids(&raw)?;
        check_agents(&raw)?;
        let telephony = telephony(&raw)?;
        let flows = flows(&raw)?;
        let granularity = granularity(&raw.aggregates.granularity)?;
        check_window(&raw, granularity)?;
        check_positive(&raw)?;
        let trust = raw.tls.trust()?;
        let proxy = raw.proxy.routes()?;
        check_web(&raw)?;
        check_staleness(&raw)?;
        check_log(&raw)?;
        let client = ClientSettings {
            api_base_url,
            login_base_url,
            client_id: raw.client_id.clone(),
            client_secret: client_secret.clone(),
            request_timeout: raw.http.request_timeout,
            max_retries: raw.http.max_retries,
            retry_backoff_base: raw.http.retry_backoff_base,
            retry_backoff_cap: raw.http.retry_backoff_max,
            trust,
            proxy,
        };
        let aggregates = AggregatesConfig {
            poll_interval: raw.aggregates.poll_interval,
            window: raw.aggregates.window,
            granularity,
            metrics,
            state_flush_interval: raw.aggregates.state_flush_interval,
        };
        Ok(Settings {
            region,
            client_id: raw.client_id,
            client_secret,
            client_secret_file: raw.client_secret_file,
            api_base_url: raw.api_base_url,
            login_base_url: raw.login_base_url,
            queues: raw.queues,
            shard: raw.shard,
            media_types,
            directions,
            listen_address: raw.listen_address,
            queue_refresh_interval: raw.queue_refresh_interval,
            stream: raw.stream,
            aggregates,
            agents: raw.agents,
            telephony,
            flows,
            actions: raw.actions.clone(),
            state_dir: raw.state_dir,
            http: raw.http,
            tls: raw.tls,
            proxy: raw.proxy,
            web: raw.web,
            log: raw.log,
            ignored_env: raw.ignored_env,
            client,
        })
    }
}

/// `client_secret`, or the content of `client_secret_file`, so the rest of the program sees
/// one value.
fn client_secret(raw: &RawSettings) -> Result<Secret, ConfigError> {
    match (&raw.client_secret, &raw.client_secret_file) {
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
            Ok(Secret::new(text.trim()))
        }
        (secret, None) => Ok(secret.clone().unwrap_or_default()),
    }
}

/// The override `given`, else the region's URL; the region is read only when a URL needs it.
fn base_url(
    raw: &RawSettings,
    given: &Option<String>,
    region: Option<Region>,
    of_region: fn(&Region) -> String,
) -> Result<String, ConfigError> {
    match (given, region) {
        (Some(url), _) => Ok(url.trim_end_matches('/').to_owned()),
        (None, Some(region)) => Ok(of_region(&region)),
        (None, None) => Err(ConfigError::new(
            "region",
            format!("`{}` is not a Genesys Cloud region", raw.region),
            format!("use one of: {}", Region::all_sdk_names()),
        )),
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

fn media_types(texts: &[String]) -> Result<Vec<MediaType>, ConfigError> {
    if texts.is_empty() {
        return Err(ConfigError::new(
            "media_types",
            "is empty",
            "list at least one media type, e.g. voice",
        ));
    }
    texts
        .iter()
        .map(|text| {
            MediaType::parse(text).ok_or_else(|| {
                ConfigError::new(
                    "media_types",
                    format!("`{text}` is not a Genesys Cloud media type"),
                    format!("use some of: {}", all_texts::<MediaType>(", ")),
                )
            })
        })
        .collect()
}

fn directions(texts: &[String]) -> Result<Vec<Direction>, ConfigError> {
    let mut directions = Vec::with_capacity(texts.len());
    for text in texts {
        let Some(direction) = Direction::parse(text) else {
            return Err(ConfigError::new(
                "directions",
                format!("`{text}` is not a conversation direction"),
                format!(
                    "use {} (or leave it unset to count every direction)",
                    all_texts::<Direction>(" and/or ")
                ),
            ));
        };
        if directions.contains(&direction) {
            return Err(ConfigError::new(
                "directions",
                format!("`{text}` is listed twice"),
                "list each direction once",
            ));
        }
        directions.push(direction);
    }
    Ok(directions)
}

fn telephony(raw: &RawSettings) -> Result<TelephonySettings, ConfigError> {
    let mut trunk_types = Vec::new();
    for text in &raw.telephony.trunk_types {
        let Some(trunk_type) = TrunkType::parse(text) else {
            return Err(ConfigError::new(
                "telephony.trunk_types",
                format!("`{text}` is not a trunk type"),
                format!("use {}", all_texts::<TrunkType>(", ")),
            ));
        };
        if !trunk_types.contains(&trunk_type) {
            trunk_types.push(trunk_type);
        }
    }
    if raw.telephony.enabled && trunk_types.is_empty() {
        return Err(ConfigError::new(
            "telephony.trunk_types",
            "is empty with telephony.enabled",
            "list the trunk types to watch, or leave the key unset for all three",
        ));
    }
    Ok(TelephonySettings {
        enabled: raw.telephony.enabled,
        trunk_types,
        trunk_names: raw.telephony.trunk_names.clone(),
        edge_sites: raw.telephony.edge_sites.clone(),
    })
}

fn flows(raw: &RawSettings) -> Result<FlowsSettings, ConfigError> {
    use crate::vocabulary::flows::FLOW_TYPES;
    let mut types: Vec<String> = Vec::new();
    for text in &raw.flows.types {
        let Some(known) = FLOW_TYPES.iter().find(|t| t.eq_ignore_ascii_case(text)) else {
            return Err(ConfigError::new(
                "flows.types",
                format!("`{text}` is not a flow type"),
                format!("use {}", FLOW_TYPES.join(", ")),
            ));
        };
        if !types.iter().any(|t| t == known) {
            types.push((*known).to_owned());
        }
    }
    if raw.flows.enabled && types.is_empty() {
        return Err(ConfigError::new(
            "flows.types",
            "is empty with flows.enabled",
            "list the flow types to watch, or leave the key unset for the inbound ones",
        ));
    }
    Ok(FlowsSettings {
        enabled: raw.flows.enabled,
        types,
        names: raw.flows.names.clone(),
        milestones: raw.flows.milestones,
        observation_interval: raw.flows.observation_interval,
    })
}

/// Every value of a label set, for the fix of a value outside it.
fn all_texts<L: LabelValue>(separator: &str) -> String {
    let texts: Vec<&str> = L::ALL.iter().map(|value| value.as_str()).collect();
    texts.join(separator)
}

fn aggregate_metrics(names: &[String]) -> Result<Vec<GenesysMetric>, ConfigError> {
    if names.is_empty() {
        return Err(ConfigError::new(
            "aggregates.metrics",
            "is empty",
            "list at least one metric, e.g. nOffered",
        ));
    }
    let known = |name: &str| GenesysMetric::parse(name).filter(|m| AGGREGATE_METRICS.contains(m));
    names
        .iter()
        .map(|name| {
            known(name).ok_or_else(|| {
                ConfigError::new(
                    "aggregates.metrics",
                    format!("`{name}` is not a conversation aggregate metric we export"),
                    format!(
                        "use some of: {}",
                        AGGREGATE_METRICS
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Queue ids are UUIDs; anything else would be sent as a URL path segment and could not
/// name a queue (`..` even escapes the path).
fn check_queue_ids(raw: &RawSettings) -> Result<(), ConfigError> {
    if let Some(bad) = raw.queues.ids.iter().find(|id| !is_uuid(id)) {
        return Err(ConfigError::new(
            "queues.ids",
            format!("`{bad}` is not a queue id (a UUID)"),
            "copy the id from the queue's URL in Genesys Cloud admin, or list the queue under queues.names",
        ));
    }
    // NB: a repeat is harmless to the exporter but is usually a copy-paste slip hiding a
    // queue that was meant; ids and names compare as Genesys and the matcher do, ignoring case.
    for (key, list) in [
        ("queues.ids", &raw.queues.ids),
        ("queues.names", &raw.queues.names),
    ] {
        let mut seen = HashSet::new();
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

fn check_agents(raw: &RawSettings) -> Result<(), ConfigError> {
    let agents = &raw.agents;
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
    let queue_channels = raw.queues.ids.len().div_ceil(MAX_TOPICS_PER_CHANNEL).max(1);
    // NB: one channel per 1,000 of `agents.max`, the most the agents' topics may need.
    let agent_channels = match agents.enabled {
        true => agents.max.div_ceil(MAX_TOPICS_PER_CHANNEL),
        false => 0,
    };
    if queue_channels + agent_channels > super::CHANNELS_PER_CLIENT {
        return Err(ConfigError::new(
            "agents.max",
            format!(
                "needs {agent_channels} notification channels beside the queues' {queue_channels}, past the {} one OAuth client may hold",
                super::CHANNELS_PER_CLIENT
            ),
            format!(
                "lower agents.max (or queues.ids) to fit {} topics, or split the org with shard",
                super::CHANNELS_PER_CLIENT * MAX_TOPICS_PER_CHANNEL
            ),
        ));
    }
    Ok(())
}

/// The aggregates bucket width: an ISO-8601 duration of whole minutes.
fn granularity(text: &str) -> Result<Duration, ConfigError> {
    parse_iso_duration(text)
        .filter(|d| d.as_secs() >= 60 && d.as_secs() % 60 == 0)
        .ok_or_else(|| {
            ConfigError::new(
                "aggregates.granularity",
                format!("`{text}` is not an ISO-8601 duration of whole minutes"),
                "use PT5M, PT15M, PT30M or PT1H",
            )
        })
}

fn check_window(raw: &RawSettings, granularity: Duration) -> Result<(), ConfigError> {
    let window = raw.aggregates.window;
    if window < granularity || !window.as_secs().is_multiple_of(granularity.as_secs()) {
        return Err(ConfigError::new(
            "aggregates.window",
            format!(
                "{} is not a whole number of {} buckets",
                humantime::format_duration(window),
                raw.aggregates.granularity
            ),
            "use a multiple of the granularity, e.g. 2h for PT30M",
        ));
    }
    Ok(())
}

fn check_positive(raw: &RawSettings) -> Result<(), ConfigError> {
    let positive = [
        ("aggregates.poll_interval", raw.aggregates.poll_interval),
        (
            "agents.time_in_status_interval",
            raw.agents.time_in_status_interval,
        ),
        ("queue_refresh_interval", raw.queue_refresh_interval),
        ("flows.observation_interval", raw.flows.observation_interval),
        ("stream.heartbeat_timeout", raw.stream.heartbeat_timeout),
        (
            "stream.reconnect_backoff_base",
            raw.stream.reconnect_backoff_base,
        ),
        (
            "stream.fallback_poll_interval",
            raw.stream.fallback_poll_interval,
        ),
        ("http.request_timeout", raw.http.request_timeout),
        ("web.header_read_timeout", raw.web.header_read_timeout),
        ("web.request_timeout", raw.web.request_timeout),
        (
            "aggregates.state_flush_interval",
            raw.aggregates.state_flush_interval,
        ),
    ];
    match positive.iter().find(|(_, value)| value.is_zero()) {
        Some((key, _)) => Err(ConfigError::new(
            key,
            "is zero",
            "use a positive duration such as 30s",
        )),
        None => Ok(()),
    }
}

fn check_web(raw: &RawSettings) -> Result<(), ConfigError> {
    if raw.web.max_connections == 0 {
        return Err(ConfigError::new(
            "web.max_connections",
            "is zero, so no scrape could connect",
            "use a positive number such as 256",
        ));
    }
    if raw.web.max_header_bytes < 8192 {
        return Err(ConfigError::new(
            "web.max_header_bytes",
            format!("{} is below 8192 bytes", raw.web.max_header_bytes),
            "use at least 8192, e.g. 16384",
        ));
    }
    Ok(())
}

fn check_staleness(raw: &RawSettings) -> Result<(), ConfigError> {
    let stream = &raw.stream;
    if stream.staleness_bound <= stream.fallback_poll_interval {
        return Err(ConfigError::new(
            "stream.staleness_bound",
            format!(
                "{} is not longer than stream.fallback_poll_interval ({}), so queues would turn stale between two fallback resyncs",
                humantime::format_duration(stream.staleness_bound),
                humantime::format_duration(stream.fallback_poll_interval)
            ),
            "use at least three fallback intervals, e.g. 90s for 30s",
        ));
    }
    Ok(())
}

fn check_log(raw: &RawSettings) -> Result<(), ConfigError> {
    tracing_subscriber::EnvFilter::try_new(&raw.log.level)
        .map(|_| ())
        .map_err(|e| {
            ConfigError::new(
                "log.level",
                format!("`{}` is not a valid filter: {e}", raw.log.level),
                "use info, debug, warn or a directive like genesys_exporter=debug",
            )
        })
}

/// `8-4-4-4-12` hexadecimal digits, as Genesys Cloud ids are.
pub(super) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}
