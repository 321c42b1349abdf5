use super::*;
use crate::vocabulary::labels::{Direction, MediaType};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn minimal() -> Vec<(String, String)> {
    env(&[
        ("GENESYS_EXPORTER_CLIENT_ID", "abc"),
        ("GENESYS_EXPORTER_CLIENT_SECRET", "s3cret"),
    ])
}

fn file_with(extension: &str, text: &str) -> tempfile_lite::TempFile {
    tempfile_lite::TempFile::new(extension, text)
}

/// A tiny self-deleting temp file, so the tests need no extra crate.
mod tempfile_lite {
    use std::path::PathBuf;

    pub(crate) struct TempFile(pub PathBuf);

    impl TempFile {
        pub(crate) fn new(extension: &str, text: &str) -> Self {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "genesys-exporter-test-{}-{n}.{extension}",
                std::process::id()
            ));
            std::fs::write(&path, text).expect("temp dir is writable");
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn defaults_plus_credentials_are_valid() {
    let settings = Settings::load_from(None, minimal()).unwrap();
    assert_eq!(settings.region.unwrap().name, "us-east-1");
    assert_eq!(settings.listen_address.port(), 9856);
    assert_eq!(settings.aggregates.granularity, Duration::from_secs(1800));
    let client = settings.client_settings();
    assert_eq!(client.api_base_url, "https://api.mypurecloud.com");
    assert_eq!(client.login_base_url, "https://login.mypurecloud.com");
}

#[test]
fn the_example_config_in_the_repo_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config.example.yaml");
    let secret = file_with("txt", "  from-file\n");
    let example = std::fs::read_to_string(&path).unwrap();
    let secret_path = "/var/run/secrets/genesys/client-secret";
    assert!(
        example.contains(secret_path),
        "the example should show client_secret_file"
    );
    let copy = file_with(
        "yaml",
        &example.replace(secret_path, &secret.0.display().to_string()),
    );
    let settings = Settings::load_from(Some(&copy.0), Vec::new()).unwrap();
    assert_eq!(settings.region.unwrap().name, "eu-west-1");
    assert_eq!(settings.client_secret.expose(), "from-file");
    assert_eq!(settings.queues.names, vec!["Support", "Sales *"]);
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.stream.heartbeat_timeout, Duration::from_secs(75));
}

#[test]
fn directions_are_off_by_default_and_read_as_a_list_from_a_file_or_the_environment() {
    let settings = Settings::load_from(None, minimal()).unwrap();
    assert!(
        settings.directions.is_empty(),
        "no direction label unless asked"
    );
    let mut pairs = minimal();
    pairs.extend(env(&[("GENESYS_EXPORTER_DIRECTIONS", "outbound, inbound")]));
    let settings = Settings::load_from(None, pairs).unwrap();
    assert_eq!(
        settings.directions,
        [Direction::Outbound, Direction::Inbound]
    );
    let file = file_with(
        "yaml",
        "client_id: a\nclient_secret: b\ndirections: [inbound]\n",
    );
    let settings = Settings::load_from(Some(&file.0), Vec::new()).unwrap();
    assert_eq!(settings.directions, [Direction::Inbound]);
}

#[test]
fn toml_files_work_and_the_environment_overrides_them() {
    let file = file_with(
        "toml",
        "region = \"ap_southeast_2\"\nclient_id = \"from-file\"\nclient_secret = \"x\"\n[stream]\nheartbeat_timeout = \"40s\"\n",
    );
    let env = env(&[
        ("GENESYS_EXPORTER_CLIENT_ID", "from-env"),
        ("GENESYS_EXPORTER_STREAM__HEARTBEAT_TIMEOUT", "50s"),
        (
            "GENESYS_EXPORTER_QUEUES__IDS",
            "11111111-2222-3333-4444-555555555555, 21111111-2222-3333-4444-555555555555",
        ),
    ]);
    let settings = Settings::load_from(Some(&file.0), env).unwrap();
    assert_eq!(settings.region.unwrap().domain, "mypurecloud.com.au");
    assert_eq!(settings.client_id, "from-env");
    assert_eq!(settings.stream.heartbeat_timeout, Duration::from_secs(50));
    assert_eq!(
        settings.queues.ids,
        vec![
            "11111111-2222-3333-4444-555555555555",
            "21111111-2222-3333-4444-555555555555"
        ]
    );
}

fn error_for(pairs: &[(&str, &str)]) -> ConfigError {
    let mut all = minimal();
    all.extend(env(pairs));
    Settings::load_from(None, all).unwrap_err()
}

#[test]
fn bad_values_name_the_key_and_the_fix_on_one_line() {
    let cases = [
        (
            ("GENESYS_EXPORTER_REGION", "mars-north-1"),
            "region",
            "eu_west_1",
        ),
        (
            ("GENESYS_EXPORTER_MEDIA_TYPES", "voice,fax"),
            "media_types",
            "use some of",
        ),
        (
            ("GENESYS_EXPORTER_DIRECTIONS", "inbound,sideways"),
            "directions",
            "inbound and/or outbound",
        ),
        (
            ("GENESYS_EXPORTER_DIRECTIONS", "outbound,outbound"),
            "directions",
            "each direction once",
        ),
        (
            ("GENESYS_EXPORTER_AGGREGATES__GRANULARITY", "30 minutes"),
            "aggregates.granularity",
            "PT30M",
        ),
        (
            ("GENESYS_EXPORTER_AGGREGATES__WINDOW", "45m"),
            "aggregates.window",
            "multiple",
        ),
        (
            ("GENESYS_EXPORTER_API_BASE_URL", "not a url"),
            "api_base_url",
            "https://",
        ),
        (
            ("GENESYS_EXPORTER_LOG__LEVEL", "loud=="),
            "log.level",
            "info",
        ),
        (
            ("GENESYS_EXPORTER_STREAM__HEARTBEAT_TIMEOUT", "soon"),
            "stream.heartbeat_timeout",
            "docs/configuration.md",
        ),
        (
            ("GENESYS_EXPORTER_AGGREGATES__POLL_INTERVAL", "0s"),
            "aggregates.poll_interval",
            "positive",
        ),
        (
            ("GENESYS_EXPORTER_STREAM__STALENESS_BOUND", "20s"),
            "stream.staleness_bound",
            "three fallback intervals",
        ),
        (
            ("GENESYS_EXPORTER_STREAM__STALE_GAUGES", "hide"),
            "stream.stale_gauges",
            "neither keep nor remove",
        ),
        (
            ("GENESYS_EXPORTER_SHARD", "3/3"),
            "shard",
            "i from 0 to N-1",
        ),
        (
            ("GENESYS_EXPORTER_QUEUES__ABSENT_GRACE_REFRESHES", "-1"),
            "queues.absent_grace_refreshes",
            "",
        ),
    ];
    for ((name, value), key, fix) in cases {
        let error = error_for(&[(name, value)]);
        let line = error.to_string();
        assert_eq!(error.key, key, "{line}");
        assert!(line.contains(fix), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

#[test]
fn missing_credentials_are_reported_with_their_env_var() {
    let error = Settings::load_from(None, Vec::new()).unwrap_err();
    assert_eq!(error.key, "client_id");
    assert!(error.to_string().contains("GENESYS_EXPORTER_CLIENT_ID"));
    let error =
        Settings::load_from(None, env(&[("GENESYS_EXPORTER_CLIENT_ID", "abc")])).unwrap_err();
    assert_eq!(error.key, "client_secret");
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    let file = file_with(
        "yaml",
        "client_id: a\nclient_secret: b\nheartbeat_timeout: 3s\n",
    );
    let error = Settings::load_from(Some(&file.0), Vec::new()).unwrap_err();
    assert_eq!(error.key, "heartbeat_timeout", "{error}");
}

#[test]
fn both_secret_sources_at_once_is_an_error() {
    let secret = file_with("txt", "x");
    let error = error_for(&[(
        "GENESYS_EXPORTER_CLIENT_SECRET_FILE",
        &secret.0.display().to_string(),
    )]);
    assert_eq!(error.key, "client_secret_file");
}

#[test]
fn the_effective_config_never_shows_the_secret() {
    let settings = Settings::load_from(None, minimal()).unwrap();
    let json = settings.to_redacted_json();
    assert!(json.contains("[redacted]"), "{json}");
    assert!(!json.contains("s3cret"), "{json}");
    assert!(!format!("{settings:?}").contains("s3cret"));
}

#[test]
fn base_url_overrides_make_the_region_irrelevant() {
    let mut all = minimal();
    all.extend(env(&[
        ("GENESYS_EXPORTER_REGION", "nowhere"),
        ("GENESYS_EXPORTER_API_BASE_URL", "http://127.0.0.1:8080/"),
        ("GENESYS_EXPORTER_LOGIN_BASE_URL", "http://127.0.0.1:8080"),
    ]));
    let settings = Settings::load_from(None, all).unwrap();
    assert_eq!(
        settings.client_settings().api_base_url,
        "http://127.0.0.1:8080"
    );
    assert!(settings.region.is_none(), "a region never read is not kept");
    assert!(settings.to_redacted_json().contains("\"region\": null"));
}

#[test]
fn env_var_names_follow_the_nesting() {
    assert_eq!(
        env_var_for("stream.heartbeat_timeout"),
        "GENESYS_EXPORTER_STREAM__HEARTBEAT_TIMEOUT"
    );
}

#[test]
fn environment_values_are_taken_as_written() {
    let settings = Settings::load_from(
        None,
        env(&[
            ("GENESYS_EXPORTER_CLIENT_ID", "0012"),
            ("GENESYS_EXPORTER_CLIENT_SECRET", "0012345"),
            ("GENESYS_EXPORTER_QUEUES__NAMES", "0800"),
            ("GENESYS_EXPORTER_HTTP__MAX_RETRIES", "7"),
        ]),
    )
    .unwrap();
    assert_eq!(settings.client_id, "0012");
    assert_eq!(settings.client_secret.expose(), "0012345");
    assert_eq!(settings.queues.names, vec!["0800"]);
    assert_eq!(settings.http.max_retries, 7);
}

#[test]
fn list_items_are_trimmed_and_an_empty_list_means_none() {
    let mut all = minimal();
    all.extend(env(&[
        ("GENESYS_EXPORTER_QUEUES__NAMES", "Sales, Support ,"),
        ("GENESYS_EXPORTER_QUEUES__IDS", ""),
    ]));
    let settings = Settings::load_from(None, all).unwrap();
    assert_eq!(settings.queues.names, vec!["Sales", "Support"]);
    assert!(settings.queues.ids.is_empty());
}

#[test]
fn kubernetes_service_link_variables_are_ignored() {
    let mut all = minimal();
    all.extend(env(&[
        ("GENESYS_EXPORTER_PORT", "tcp://10.0.0.1:9856"),
        ("GENESYS_EXPORTER_SERVICE_HOST", "10.0.0.1"),
        ("GENESYS_EXPORTER_PORT_9856_TCP_ADDR", "10.0.0.1"),
    ]));
    let settings = Settings::load_from(None, all).unwrap();
    assert!(
        settings.ignored_env.is_empty(),
        "{:?}",
        settings.ignored_env
    );
}

#[test]
fn misspelt_variables_are_reported_not_fatal() {
    let mut all = minimal();
    all.extend(env(&[("GENESYS_EXPORTER_LISTEN_ADDR", "0.0.0.0:1")]));
    let settings = Settings::load_from(None, all).unwrap();
    assert_eq!(settings.ignored_env, vec!["GENESYS_EXPORTER_LISTEN_ADDR"]);
    assert_eq!(settings.listen_address.port(), 9856);
}

#[test]
fn base_urls_the_client_cannot_use_are_refused_without_echoing_them() {
    for url in [
        "https://user:pw@api.example.com",
        "https://api.example.com/?a=1",
        "ftp://api.example.com",
    ] {
        let error = error_for(&[("GENESYS_EXPORTER_API_BASE_URL", url)]);
        assert_eq!(error.key, "api_base_url", "{error}");
        assert!(!error.to_string().contains("pw@"), "{error}");
    }
}

#[test]
fn queue_ids_must_be_uuids() {
    let error = error_for(&[("GENESYS_EXPORTER_QUEUES__IDS", "..")]);
    assert_eq!(error.key, "queues.ids", "{error}");
    assert!(validate::is_uuid("11111111-2222-3333-4444-55555555555a"));
    assert!(!validate::is_uuid("11111111-2222-3333-4444-55555555555"));
    assert!(!validate::is_uuid("g1111111-2222-3333-4444-555555555555"));
}

#[test]
fn agents_are_refused_when_they_cannot_fit_the_channels_or_are_chosen_twice() {
    let enabled = ("GENESYS_EXPORTER_AGENTS__ENABLED", "true");
    let error = error_for(&[enabled, ("GENESYS_EXPORTER_AGENTS__MAX", "19001")]);
    assert_eq!(error.key, "agents.max");
    assert!(error.to_string().contains("past the 20"), "{error}");
    let ok = {
        let mut all = minimal();
        all.extend(env(&[enabled, ("GENESYS_EXPORTER_AGENTS__MAX", "19000")]));
        Settings::load_from(None, all)
    };
    assert!(
        ok.is_ok(),
        "19 agent channels and one queue channel fit: {ok:?}"
    );
    let id = "2aa6c0c9-e93b-48b7-95be-9a4f956094d2";
    let error = error_for(&[
        ("GENESYS_EXPORTER_AGENTS__IDS", id),
        ("GENESYS_EXPORTER_AGENTS__DIVISIONS", id),
    ]);
    assert_eq!(error.key, "agents.ids");
    let error = error_for(&[("GENESYS_EXPORTER_AGENTS__IDS", "bob")]);
    assert_eq!(
        (error.key.as_str(), error.to_string().contains("`bob`")),
        ("agents.ids", true)
    );
    let error = error_for(&[enabled, ("GENESYS_EXPORTER_AGENTS__MAX", "0")]);
    assert_eq!(error.key, "agents.max");
}

#[test]
fn loading_parses_every_typed_value_once() {
    let mut all = minimal();
    all.extend(env(&[
        ("GENESYS_EXPORTER_REGION", "EU-WEST-1"),
        ("GENESYS_EXPORTER_MEDIA_TYPES", "chat, voice"),
        ("GENESYS_EXPORTER_DIRECTIONS", "inbound"),
        ("GENESYS_EXPORTER_AGGREGATES__GRANULARITY", "PT15M"),
        ("GENESYS_EXPORTER_AGGREGATES__WINDOW", "1h"),
        ("GENESYS_EXPORTER_AGGREGATES__METRICS", "tHandle,nOffered"),
    ]));
    let settings = Settings::load_from(None, all).unwrap();
    assert_eq!(settings.region.map(|r| r.name), Some("eu-west-1"));
    assert_eq!(settings.media_types, [MediaType::Chat, MediaType::Voice]);
    assert_eq!(settings.directions, [Direction::Inbound]);
    assert_eq!(settings.aggregates.granularity, Duration::from_secs(900));
    assert_eq!(
        settings.aggregates.metrics,
        [GenesysMetric::THandle, GenesysMetric::NOffered]
    );
    assert_eq!(
        settings.client_settings().api_base_url,
        "https://api.mypurecloud.ie"
    );
}

/// Settings built in code (the flags, the demo, tests) go through the conversion a loaded file
/// does: a value that cannot run is refused there, naming its key, and never reaches the program.
#[test]
fn a_value_that_cannot_run_is_refused_by_the_conversion_naming_its_key() {
    let valid = || RawSettings {
        client_id: "a".into(),
        client_secret: Some(Secret::new("b")),
        ..RawSettings::default()
    };
    assert!(Settings::from_raw(valid()).is_ok());
    let mut cases: Vec<(RawSettings, &str, &str)> = Vec::new();
    for granularity in ["PT90S", "PT0M", "30m", ""] {
        let mut raw = valid();
        raw.aggregates.granularity = granularity.into();
        cases.push((raw, "aggregates.granularity", "PT30M"));
    }
    for metric in ["oWaiting", "noffered", "tAgentRoutingStatus"] {
        let mut raw = valid();
        raw.aggregates.metrics = vec!["nOffered".into(), metric.into()];
        cases.push((raw, "aggregates.metrics", "use some of: nOffered"));
    }
    let mut raw = valid();
    raw.aggregates.metrics.clear();
    cases.push((raw, "aggregates.metrics", "at least one"));
    let mut raw = valid();
    raw.media_types = vec!["Voice".into()];
    cases.push((raw, "media_types", "voice, chat, email"));
    let mut raw = valid();
    raw.directions = vec!["in".into()];
    cases.push((raw, "directions", "inbound and/or outbound"));
    let mut raw = valid();
    raw.api_base_url = Some("http://127.0.0.1:1".into());
    raw.region = "moon".into();
    cases.push((raw, "region", "us_east_1"));
    for (raw, key, fix) in cases {
        let error = Settings::from_raw(raw).unwrap_err();
        let line = error.to_string();
        assert_eq!(error.key, key, "{line}");
        assert!(line.contains(fix), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

#[test]
fn the_effective_config_shows_the_typed_values_as_a_file_would_spell_them() {
    let mut all = minimal();
    all.extend(env(&[
        ("GENESYS_EXPORTER_REGION", "eu-west-1"),
        ("GENESYS_EXPORTER_AGGREGATES__GRANULARITY", "PT60M"),
        ("GENESYS_EXPORTER_AGGREGATES__METRICS", "tHandle"),
        ("GENESYS_EXPORTER_DIRECTIONS", "outbound"),
    ]));
    let settings = Settings::load_from(None, all).unwrap();
    let json: serde_json::Value = serde_json::from_str(&settings.to_redacted_json()).unwrap();
    assert_eq!(json["region"], "eu_west_1");
    assert_eq!(json["aggregates"]["granularity"], "PT1H");
    assert_eq!(json["aggregates"]["window"], "2h");
    assert_eq!(
        json["aggregates"]["metrics"],
        serde_json::json!(["tHandle"])
    );
    assert_eq!(json["directions"], serde_json::json!(["outbound"]));
    assert_eq!(
        json["media_types"],
        serde_json::json!(["voice", "chat", "email", "callback", "message"])
    );
    assert_eq!(json["client_secret"], "[redacted]");
    let raw = serde_json::to_value(RawSettings::default()).unwrap();
    let keys = |value: &serde_json::Value| -> Vec<String> {
        value
            .as_object()
            .map_or_else(Vec::new, |o| o.keys().cloned().collect())
    };
    assert_eq!(keys(&json), keys(&raw), "the same keys as the file's");
    assert_eq!(keys(&json["aggregates"]), keys(&raw["aggregates"]));
}
