//! The binary's contract: exit codes, one-line config errors, redacted `check-config`.

use std::process::{Command, Output};

fn exporter(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
    command.args(args);
    let inherited = |name: &str| {
        name.starts_with("GENESYS_EXPORTER") || name.to_ascii_lowercase().ends_with("_proxy")
    };
    for (name, _) in std::env::vars().filter(|(name, _)| inherited(name)) {
        command.env_remove(name);
    }
    command
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

#[test]
fn check_config_prints_the_effective_config_with_the_secret_redacted() {
    let output = exporter(
        &["check-config"],
        &[
            ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
            ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"client_id\": \"my-client\""), "{stdout}");
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert!(!stdout.contains("top-secret-value"), "{stdout}");
}

/// A proxy login, from a variable or the keys, shows in neither `check-config`'s output nor
/// the one-line refusal of a proxy the exporter cannot use.
#[test]
fn check_config_never_shows_a_proxy_login() {
    let credentials = [
        ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
        ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
    ];
    let through = "https://api.mypurecloud.com goes through the proxy http://proxy.corp.test:3128/";
    let runs: [(&[(&str, &str)], &str); 4] = [
        (
            &[(
                "HTTPS_PROXY",
                "http://svc:env-pr0xy-pass@proxy.corp.test:3128",
            )],
            "(set by HTTPS_PROXY, with a login)",
        ),
        (
            &[
                (
                    "GENESYS_EXPORTER_PROXY__URL",
                    "http://svc:url-pr0xy-pass@proxy.corp.test:3128",
                ),
                (
                    "https_proxy",
                    "http://other:unused-pr0xy-pass@proxy.corp.test:3128",
                ),
            ],
            "\"url\": \"http://svc:[redacted]@proxy.corp.test:3128/\"",
        ),
        (
            &[
                ("GENESYS_EXPORTER_PROXY__URL", "http://proxy.corp.test:3128"),
                ("GENESYS_EXPORTER_PROXY__USERNAME", "svc"),
                ("GENESYS_EXPORTER_PROXY__PASSWORD", "key-pr0xy-pass"),
            ],
            "(set by proxy.url, with a login)",
        ),
        (
            &[
                ("HTTPS_PROXY", "http://proxy.corp.test:3128"),
                ("NO_PROXY", ".mypurecloud.com"),
            ],
            "https://api.mypurecloud.com connects directly (loopback or no_proxy)",
        ),
    ];
    for (proxy, shown) in runs {
        let env: Vec<_> = credentials.iter().chain(proxy).copied().collect();
        let output = exporter(&["check-config"], &env);
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{proxy:?}: {printed}");
        assert!(!printed.contains("pr0xy-pass"), "{printed}");
        assert!(printed.contains(shown), "{proxy:?}: {printed}");
        if !shown.contains("directly") {
            assert!(printed.contains(through), "{printed}");
        }
    }
    let env: Vec<_> = credentials
        .iter()
        .chain(&[(
            "HTTPS_PROXY",
            "socks5://svc:socks-pr0xy-pass@proxy.corp.test:1080",
        )])
        .copied()
        .collect();
    let output = exporter(&["check-config"], &env);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("HTTPS_PROXY"), "{stderr}");
    assert!(!stderr.contains("pr0xy-pass"), "{stderr}");
}

#[test]
fn bad_config_exits_2_with_one_line_naming_the_key() {
    let output = exporter(
        &["check-config"],
        &[
            ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
            ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
            ("GENESYS_EXPORTER_REGION", "atlantis"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`region`") && stderr.contains("eu_west_1"),
        "{stderr}"
    );
    assert!(!stderr.contains("top-secret-value"));
}

/// Each kind of bad value, from the environment or a file: exit 2 and one line on stderr that
/// names the key (or the file and line) and holds `expected`.
#[test]
fn every_invalid_value_exits_2_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(
        path("web-bad.yml"),
        "tls_server_config:\n  cert_file: a.crt\n",
    )
    .unwrap();
    std::fs::write(
        path("web-nocert.yml"),
        "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
    )
    .unwrap();
    std::fs::write(path("broken.yaml"), "client_id: x\nqueues:\n  ids: [a\n").unwrap();
    let uuid = "0d3e9a2b-7c1f-4e5a-9b8d-123456789abc";
    let twice = format!("{uuid},{uuid}");
    let web_bad = path("web-bad.yml");
    let web_nocert = path("web-nocert.yml");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("GENESYS_EXPORTER_REGION", "atlantis")],
            "`region`: `atlantis` is not",
        ),
        (
            vec![("GENESYS_EXPORTER_API_BASE_URL", "ftp://x")],
            "`api_base_url`",
        ),
        (
            vec![("GENESYS_EXPORTER_STREAM__HEARTBEAT_TIMEOUT", "0s")],
            "`stream.heartbeat_timeout`: is zero",
        ),
        (
            vec![("GENESYS_EXPORTER_TELEPHONY__TRUNK_TYPES", "EXTERNAL,SIP")],
            "`telephony.trunk_types`: `SIP` is not a trunk type",
        ),
        (
            vec![("GENESYS_EXPORTER_WEB__REQUEST_TIMEOUT", "-5s")],
            "`web.request_timeout`",
        ),
        (
            vec![("GENESYS_EXPORTER_CLIENT_SECRET", "")],
            "`client_secret`",
        ),
        (
            vec![("GENESYS_EXPORTER_CLIENT_SECRET_FILE", "/nonexistent/secret")],
            "`client_secret_file`",
        ),
        (
            vec![("GENESYS_EXPORTER_QUEUES__IDS", &twice)],
            "`queues.ids`: `0d3e9a2b",
        ),
        (
            vec![("GENESYS_EXPORTER_QUEUES__NAMES", "Sales,sales")],
            "`queues.names`: `sales` is listed twice",
        ),
        (
            vec![("GENESYS_EXPORTER_WEB__CONFIG_FILE", &web_bad)],
            "missing one of key or key_file",
        ),
        (
            vec![("GENESYS_EXPORTER_WEB__CONFIG_FILE", &web_nocert)],
            "tls_server_config.cert_file",
        ),
        (
            vec![("GENESYS_EXPORTER_AGGREGATES__GRANULARITY", "PT90S")],
            "`aggregates.granularity`: `PT90S` is not",
        ),
        (
            vec![("GENESYS_EXPORTER_AGGREGATES__METRICS", "nOffered,oWaiting")],
            "`aggregates.metrics`: `oWaiting` is not",
        ),
        (
            vec![("GENESYS_EXPORTER_MEDIA_TYPES", "voice,fax")],
            "`media_types`: `fax` is not",
        ),
        (
            vec![("GENESYS_EXPORTER_WEB__MAX_CONNECTIONS", "0")],
            "`web.max_connections`",
        ),
        (
            vec![("GENESYS_EXPORTER_TLS__CA_FILE", "/nonexistent/ca.pem")],
            "`tls.ca_file`: /nonexistent/ca.pem: cannot read it",
        ),
        (
            vec![("GENESYS_EXPORTER_TLS__CA_FILE", &web_bad)],
            "`tls.ca_file`",
        ),
    ];
    for (env, expected) in cases {
        let mut all = vec![("GENESYS_EXPORTER_CLIENT_ID", "my-client")];
        if !env
            .iter()
            .any(|(k, _)| k.starts_with("GENESYS_EXPORTER_CLIENT_SECRET"))
        {
            all.push(("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"));
        }
        all.extend(env.iter().copied());
        let output = exporter(&["check-config"], &all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{env:?}: {stderr}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("top-secret-value"), "{stderr}");
    }

    let broken = path("broken.yaml");
    let output = exporter(&["--config", &broken, "check-config"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("config file {broken}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3") || stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("config key"),
        "a file's syntax is not a key: {stderr}"
    );
}

#[test]
fn run_with_bad_config_exits_2_before_doing_anything() {
    let output = exporter(&["run"], &[("GENESYS_EXPORTER_CLIENT_ID", "x")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`client_secret`"));
}

#[test]
fn a_missing_config_file_is_named() {
    let output = exporter(
        &["--config", "/nonexistent/exporter.yaml", "check-config"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/exporter.yaml"));
}

/// Reads the child's stdout until the line announcing the metrics URL.
async fn metrics_url(stdout: tokio::process::ChildStdout) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.expect("stdout is readable") {
        if let Some(rest) = line.strip_prefix("metrics: ") {
            return rest
                .split_whitespace()
                .next()
                .expect("a URL follows")
                .to_owned();
        }
    }
    panic!("the demo never printed its metrics URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_ready_metrics_and_exits_0_on_sigterm() {
    use std::time::Duration;
    genesys_exporter::genesys::install_crypto_provider();
    let deadline = Duration::from_secs(30);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"))
        .args(["demo", "--listen", "127.0.0.1:0", "--queues", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the demo starts");
    let stdout = child.stdout.take().unwrap();
    let url = tokio::time::timeout(deadline, metrics_url(stdout))
        .await
        .expect("URL printed in time");
    let ready_url = url.replace("/metrics", "/readyz");
    let http = crate::common::client();
    let ready = async {
        loop {
            if let Ok(response) = http.get(&ready_url).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(deadline, ready)
        .await
        .expect("the demo becomes ready");
    let body = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("genesys_queue_interactions{"), "{body}");
    let trunks_and_edges = async {
        loop {
            let body = http.get(&url).send().await.unwrap().text().await.unwrap();
            if body.contains("genesys_trunk_calls{") && body.contains("genesys_edge_online{") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(deadline, trunks_and_edges)
        .await
        .expect("the demo shows trunks and Edges");

    let pid = child.id().expect("the demo is running").to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the demo stops within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn version_names_the_revision_and_the_compiler() {
    let output = exporter(&["--version"], &[]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(
            "genesys-exporter version {}",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
    for part in ["revision: ", "branch: ", "rustc version:  1.", "target: "] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
}

/// node_exporter's flags on `demo`: two listen addresses, logfmt at info, and build_info with
/// the labels `--version` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_takes_node_exporter_s_flags() {
    use std::time::Duration;
    use tokio::io::AsyncBufReadExt;
    genesys_exporter::genesys::install_crypto_provider();
    let ports = [free_port(), free_port()];
    let addresses = ports.map(|p| format!("127.0.0.1:{p}"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"))
        .args([
            "demo",
            "--queues",
            "1",
            "--log.level",
            "info",
            "--log.format",
            "logfmt",
        ])
        .args(["--web.listen-address", &addresses[0]])
        .args(["--web.listen-address", &addresses[1]])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the demo starts");
    let mut log = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), log.next_line())
        .await
        .expect("a log line in time")
        .unwrap()
        .expect("the demo logs");
    assert!(
        first.starts_with("time=") && first.contains(" level=info ") && first.contains(" msg="),
        "logfmt: {first}"
    );
    let http = crate::common::client();
    for address in &addresses {
        let url = format!("http://{address}/metrics");
        let every = Duration::from_millis(50);
        let body = crate::common::poll_until(&format!("{url} answers"), every, || async {
            let response = http.get(&url).send().await.map_err(|e| e.to_string())?;
            response.text().await.map_err(|e| e.to_string())
        })
        .await;
        let info = body
            .lines()
            .find(|l| l.starts_with("genesys_exporter_build_info{"))
            .expect("build_info is exported");
        for label in [
            "branch=",
            "revision=",
            "rustversion=\"1.",
            "target=",
            "version=",
        ] {
            assert!(info.contains(label), "{label}: {info}");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn the_release_profile_keeps_overflow_checks_on() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let release = manifest
        .split("\n[")
        .find(|section| section.starts_with("profile.release]"))
        .expect("a [profile.release] section");
    assert!(
        release
            .lines()
            .any(|l| l.trim() == "overflow-checks = true"),
        "{release}"
    );
}

/// `run`'s flags go through the same validation as the keys they override.
#[test]
fn run_takes_the_flags_and_validates_them_as_keys() {
    let env = [
        ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
        ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
    ];
    let missing = ["run", "--web.config.file", "/nonexistent/web.yml"];
    let output = exporter(&missing, &env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`web.config_file`: /nonexistent/web.yml"),
        "{stderr}"
    );
    let output = exporter(&["run", "--log.level", "loud"], &env);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--log.level"));
    let output = exporter(&["run", "--web.listen-address", "nowhere"], &env);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`nowhere` is not an address"));
}
