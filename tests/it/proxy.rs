//! Behind a forward proxy: OAuth, REST and the notifications WebSocket all go through it (the
//! API host names resolve only at the proxy), and a proxy that refuses says why, by cause.

use crate::common;

use std::time::Duration;

use common::checks::{ready, value_now};
use common::forward_proxy::{ForwardProxy, Policy};
use common::private_ca::private_ca;
use genesys_exporter::genesys::egress::Egress;
use genesys_exporter::genesys::proxy::{Bypass, Proxy, Routes};
use genesys_exporter::secret::Secret;
use genesys_exporter::sim::SimConfig;
use genesys_exporter::stream::connection::connect;

const API_HOST: &str = "api.genesys.test";
const LOGIN_HOST: &str = "login.genesys.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_rest_and_the_websocket_all_go_through_the_proxy() {
    let (ca_pem, server) = private_ca(&[API_HOST, LOGIN_HOST]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let proxy =
        ForwardProxy::start(&[API_HOST, LOGIN_HOST], Policy::Login("svc:pr0xy".into())).await;
    let config = SimConfig {
        tls: Some(server),
        ..SimConfig::fast_for_tests(82)
    };
    let mut port = 0;
    let harness = common::Harness::start_with(config, |settings| {
        port = reqwest::Url::parse(settings.api_base_url.as_deref().unwrap())
            .unwrap()
            .port()
            .unwrap();
        settings.api_base_url = Some(format!("https://{API_HOST}:{port}"));
        settings.login_base_url = Some(format!("https://{LOGIN_HOST}:{port}"));
        settings.tls.ca_file = Some(ca_file.clone());
        settings.proxy.url = Some(serde_json::from_value(proxy.url.clone().into()).unwrap());
        settings.proxy.username = Some("svc".into());
        settings.proxy.password = Some(Secret::new("pr0xy"));
    })
    .await;
    ready(&harness).await;
    let connected = value_now(
        &harness,
        "genesys_exporter_stream_connected",
        &[("channel", "0")],
    )
    .await;
    assert_eq!(
        connected, 1.0,
        "the wss:// socket streams through the proxy"
    );
    assert!(
        proxy.opened_to(&format!("{LOGIN_HOST}:{port}")) >= 1,
        "{:?}",
        proxy.tunnels()
    );
    assert!(
        proxy.opened_to(&format!("{API_HOST}:{port}")) >= 2,
        "REST and the WebSocket each tunnel: {:?}",
        proxy.tunnels()
    );
    for cause in [
        "proxy_unreachable",
        "proxy_auth",
        "proxy_refused",
        "tls_trust",
    ] {
        let failures = value_now(
            &harness,
            "genesys_exporter_connectivity_failures_total",
            &[("cause", cause)],
        )
        .await;
        assert_eq!(failures, 0.0, "{cause}");
    }
    harness.stop().await;
}

fn through(proxy_url: &str, login: Option<(&str, &str)>) -> Egress {
    let mut proxy = Proxy::parse(proxy_url, "proxy.url").unwrap();
    if let Some((user, password)) = login {
        proxy = proxy.with_auth(user.to_owned(), Secret::new(password));
    }
    let routes = Routes::new(Some(proxy.clone()), Some(proxy), Bypass::default());
    Egress::new(routes, None, None)
}

#[tokio::test]
async fn a_websocket_tunnel_that_does_not_open_names_its_cause_and_the_key_to_fix() {
    let uri = format!("ws://{API_HOST}:9/channels/x");
    let timeout = Duration::from_secs(5);
    let refusing = ForwardProxy::start(&[API_HOST], Policy::Refuse(403)).await;
    let wanting = ForwardProxy::start(&[API_HOST], Policy::Login("svc:right".into())).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let cases = [
        (
            through(&refusing.url, None),
            "proxy_refused",
            "proxy.no_proxy",
        ),
        (through(&wanting.url, None), "proxy_auth", "proxy.username"),
        (
            through(&wanting.url, Some(("svc", "wrong"))),
            "proxy_auth",
            "proxy.password",
        ),
        (through(&closed, None), "proxy_unreachable", "proxy.url"),
    ];
    for (egress, cause, key) in cases {
        let error = match connect(&uri, timeout, &egress).await {
            Ok(_) => panic!("{cause}: a socket"),
            Err(error) => error,
        };
        assert_eq!(error.kind(), cause, "{error}");
        let line = error.to_string();
        assert!(line.contains(key) && !line.contains('\n'), "{line}");
        assert!(!line.contains("wrong") && !line.contains("right"), "{line}");
    }
    assert_eq!(refusing.tunnels().len(), 1);
    assert_eq!(
        wanting.tunnels().iter().filter(|t| t.status == 407).count(),
        2
    );
}

/// The value of the series `name{labels}` on the process's `/metrics`, 0 when absent.
async fn process_value(http: &reqwest::Client, url: &str, series: &str) -> f64 {
    let Ok(response) = http.get(format!("{url}/metrics")).send().await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// How the binary fails to get out in one case: what it is given and what it must say.
struct Failing {
    cause: &'static str,
    /// The key (or variable) the one log line names as the fix.
    fix: &'static str,
    /// A proxy password in the environment, which must appear nowhere.
    secret: Option<&'static str>,
    /// `GENESYS_EXPORTER_*` settings (without the prefix; an empty value unsets one) and plain
    /// variables, over the simulator's.
    settings: Vec<(&'static str, String)>,
    variables: Vec<(&'static str, String)>,
}

/// Runs `run` against a simulator serving TLS under a private CA until `case.cause` has been
/// counted past the bootstrap's own retry, then checks that the process stayed up, not ready,
/// and said it once: one WARN/ERROR line, naming the fix, with no password anywhere. `case`
/// is given the simulator's port.
async fn logged_once_counted_and_retried(case: impl FnOnce(u16) -> Failing) {
    let (ca_pem, server) = private_ca(&[API_HOST, LOGIN_HOST, "localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_port = listener.local_addr().unwrap().port();
    let config = SimConfig {
        tls: Some(server),
        ..SimConfig::fast_for_tests(83)
    };
    let sim = genesys_exporter::sim::start(config, listener, cancel.clone())
        .await
        .unwrap();
    let case = case(sim_port);
    let port = common::free_port();
    let mut env = common::process::sim_env(&sim, port, &["voice".to_owned()]);
    let mut settings = vec![
        ("API_BASE_URL", format!("https://{API_HOST}:{sim_port}")),
        ("LOGIN_BASE_URL", format!("https://{LOGIN_HOST}:{sim_port}")),
        ("TLS__CA_FILE", ca_file.display().to_string()),
        ("HTTP__RETRY_BACKOFF_BASE", "20ms".to_owned()),
        ("HTTP__RETRY_BACKOFF_MAX", "100ms".to_owned()),
        ("HTTP__MAX_RETRIES", "1".to_owned()),
    ];
    settings.extend(case.settings);
    for (key, value) in settings {
        let name = format!("GENESYS_EXPORTER_{key}");
        env.retain(|(existing, _)| existing != &name);
        if !value.is_empty() {
            env.push((name, value));
        }
    }
    env.extend(case.variables.into_iter().map(|(k, v)| (k.to_owned(), v)));
    // NB: plain text, so the log's fields read as written.
    env.push(("NO_COLOR".to_owned(), "1".to_owned()));
    let log = dir.path().join("exporter.log");
    let exporter = common::process::ExporterProcess::spawn_logging(&["run"], &env, port, &log);
    let http = reqwest::Client::new();
    let series = format!(
        "genesys_exporter_connectivity_failures_total{{cause=\"{}\"}}",
        case.cause
    );
    common::eventually("failures counted and retried", || async {
        let failures = process_value(&http, &exporter.url, &series).await;
        // Two per token attempt: past 4, the bootstrap's own retry has run and logged too.
        if failures > 4.0 {
            Ok(())
        } else {
            Err(format!("{failures}"))
        }
    })
    .await;
    let ready = http
        .get(format!("{}/readyz", exporter.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        503,
        "alive, and honest that it is not ready"
    );
    exporter.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    if let Some(secret) = case.secret {
        assert!(!text.contains(secret), "{text}");
    }
    let reports: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(case.fix) && (l.contains("ERROR") || l.contains("WARN")))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "{}: one line while the cause persists: {text}",
        case.cause
    );
    let expected = format!("cause=\"{}\"", case.cause);
    assert!(
        reports[0].contains("ERROR") && reports[0].contains(&expected),
        "{}",
        reports[0]
    );
    cancel.cancel();
    sim.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_is_down_is_logged_once_counted_and_retried_without_exiting() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    logged_once_counted_and_retried(|_| Failing {
        cause: "proxy_unreachable",
        fix: "https_proxy",
        secret: Some("s3cr3t-proxy"),
        settings: vec![],
        variables: vec![("https_proxy", format!("http://svc:s3cr3t-proxy@{closed}"))],
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_wants_another_login_is_logged_once_counted_and_retried() {
    let proxy =
        ForwardProxy::start(&[API_HOST, LOGIN_HOST], Policy::Login("svc:right".into())).await;
    let with_wrong_login = proxy.url.replace("http://", "http://svc:wr0ng-pass@");
    logged_once_counted_and_retried(|_| Failing {
        cause: "proxy_auth",
        fix: "proxy.username",
        secret: Some("wr0ng-pass"),
        settings: vec![],
        variables: vec![("HTTPS_PROXY", with_wrong_login)],
    })
    .await;
    assert!(common::every(proxy.tunnels(), |t| t.status == 407));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_the_tunnel_is_logged_once_counted_and_retried() {
    let proxy = ForwardProxy::start(&[API_HOST, LOGIN_HOST], Policy::Refuse(403)).await;
    let url = proxy.url.clone();
    logged_once_counted_and_retried(|_| Failing {
        cause: "proxy_refused",
        fix: "proxy.no_proxy",
        secret: Some("pa55-ignored"),
        settings: vec![("PROXY__URL", url)],
        // The key overrides the variable, whose login is never used or shown.
        variables: vec![("HTTPS_PROXY", "http://svc:pa55-ignored@192.0.2.1:1".into())],
    })
    .await;
    assert!(!proxy.tunnels().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_the_trust_does_not_vouch_for_is_logged_once_counted_and_retried() {
    // Direct to the simulator, which a CA the exporter is not given vouches for.
    logged_once_counted_and_retried(|sim_port| Failing {
        cause: "tls_trust",
        fix: "tls.ca_file",
        secret: None,
        settings: vec![
            ("API_BASE_URL", format!("https://localhost:{sim_port}")),
            ("LOGIN_BASE_URL", format!("https://localhost:{sim_port}")),
            ("TLS__CA_FILE", String::new()),
        ],
        variables: vec![],
    })
    .await;
}
