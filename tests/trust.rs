//! Trust upstream: the simulator serving HTTPS and `wss://` under a throwaway CA is accepted by
//! REST (OAuth included) and by the WebSocket only when `tls.ca_file` names that CA.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::checks::{ready, value_now};
use common::{Harness, eventually};
use genesys_exporter::genesys::trust::Trust;
use genesys_exporter::sim::SimConfig;
use genesys_exporter::stream::connection::connect;

/// A CA (its PEM) and a server config for 127.0.0.1 and localhost signed by it.
fn private_ca() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    genesys_exporter::genesys::install_crypto_provider();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der.into())
        .unwrap();
    (ca_pem, Arc::new(config))
}

fn tls_sim(config: Arc<rustls::ServerConfig>) -> SimConfig {
    SimConfig {
        tls: Some(config),
        ..SimConfig::fast_for_tests(81)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_the_websocket_trust_the_private_ca_only_when_configured() {
    let (ca_pem, server) = private_ca();
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
    let (ca_pem, server) = private_ca();
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
    let system_only = Trust::default().websocket_config().unwrap();
    let refused = connect(&uri, timeout, Some(system_only)).await;
    let refusal = match refused {
        Ok(_) => panic!("connected without the CA"),
        Err(error) => format!("{error:?}"),
    };
    assert!(refusal.contains("UnknownIssuer"), "{refusal}");
    let trusted = connect(&uri, timeout, Some(trust.websocket_config().unwrap())).await;
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
