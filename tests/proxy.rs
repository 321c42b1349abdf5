//! Behind a forward proxy: OAuth, REST and the notifications WebSocket all go through it (the
//! API host names resolve only at the proxy), and a proxy that refuses says why, by cause.

mod common;

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
