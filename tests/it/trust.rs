//! Trust upstream: the simulator serving HTTPS and `wss://` under a throwaway CA is accepted by
//! REST (OAuth included) and by the WebSocket only when `tls.ca_file` names that CA.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::checks::{ready, value_now};
use common::private_ca::private_ca;
use common::{Harness, eventually};
use genesys_exporter::genesys::egress::Egress;
use genesys_exporter::genesys::proxy::Routes;
use genesys_exporter::genesys::trust::Trust;
use genesys_exporter::sim::SimConfig;
use genesys_exporter::stream::connection::connect;

fn tls_sim(config: Arc<rustls::ServerConfig>) -> SimConfig {
    SimConfig {
        tls: Some(config),
        ..SimConfig::fast_for_tests(81)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_the_websocket_trust_the_private_ca_only_when_configured() {
    let (ca_pem, server) = private_ca(&["127.0.0.1", "localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();

    let trusting = Harness::start_with(tls_sim(server.clone()), |settings| {
        settings.tls.ca_file = Some(ca_file.clone());
    })
    .await;
    assert!(trusting.sim.base_url.starts_with("https://"));
    ready(&trusting).await;
    let connected = value_now(
        &trusting,
        "genesys_exporter_stream_connected",
        &[("channel", "0")],
    )
    .await;
    assert_eq!(connected, 1.0, "the wss:// socket streams");
    trusting.stop().await;

    let untrusting = Harness::start_with(tls_sim(server), |_| {}).await;
    eventually("the login fails on trust", || async {
        let failures = value_now(
            &untrusting,
            "genesys_exporter_token_refreshes_total",
            &[("result", "failure")],
        )
        .await;
        if failures >= 1.0 {
            Ok(())
        } else {
            Err(format!("{failures} failed logins"))
        }
    })
    .await;
    let (status, _) = common::checks::exporter_get(&untrusting, "/readyz").await;
    assert_eq!(status, 503);
    untrusting.stop().await;
}

#[tokio::test]
async fn the_websocket_refuses_a_server_the_trust_does_not_vouch_for() {
    let (ca_pem, server) = private_ca(&["127.0.0.1", "localhost"]);
    let cancel = tokio_util::sync::CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = genesys_exporter::sim::start(tls_sim(server), listener, cancel.clone())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let trust = Trust::from_pem_file(&ca_file).unwrap();
    let uri = sim.base_url.replace("https://", "wss://") + "/channels/none";
    let timeout = Duration::from_secs(5);
    let egress = |trust: Trust| {
        Egress::new(
            Routes::default(),
            Some(trust.websocket_config().unwrap()),
            None,
        )
    };
    let refused = connect(&uri, timeout, &egress(Trust::default())).await;
    let refusal = match refused {
        Ok(_) => panic!("connected without the CA"),
        Err(error) => error,
    };
    assert_eq!(refusal.kind(), "tls_trust", "{refusal:?}");
    let line = refusal.to_string();
    assert!(
        line.contains("UnknownIssuer") && line.contains("tls.ca_file"),
        "{line}"
    );
    let trusted = connect(&uri, timeout, &egress(trust)).await;
    let error = match trusted {
        Ok(_) => panic!("a socket on a channel that does not exist"),
        Err(error) => format!("{error:?}"),
    };
    assert!(
        !error.contains("InvalidCertificate") && error.contains("404"),
        "past TLS to the simulator's answer: {error}"
    );
    cancel.cancel();
    sim.stopped().await;
}
