//! A real Prometheus scraping the exporter over TLS with basic auth, configured by an
//! exporter-toolkit web config file; the same Prometheus with a wrong password, and over
//! plain HTTP, is refused.

mod common;

use common::prometheus::{self, Prometheus};
use common::{Harness, eventually};
use genesys_exporter::sim::SimConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_over_tls_with_basic_auth() {
    if !prometheus::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("server.crt");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    let key = dir.path().join("server.key");
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let hash = bcrypt::hash("scrape-password", 4).unwrap();
    let web_config = dir.path().join("web.yml");
    std::fs::write(
        &web_config,
        format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: \"{hash}\"\n"
        ),
    )
    .unwrap();
    let harness = Harness::start_with(SimConfig::fast_for_tests(61), |settings| {
        settings.web.config_file = Some(web_config.clone());
    })
    .await;
    let target = harness
        .exporter_url
        .trim_start_matches("http://")
        .to_owned();
    let job = |name: &str, scheme: &str, password: &str| {
        format!(
            "  - job_name: {name}\n    scheme: {scheme}\n    tls_config:\n      ca_file: '{}'\n      server_name: localhost\n    basic_auth:\n      username: prometheus\n      password: {password}\n    static_configs:\n      - targets: ['{target}']\n",
            cert.display()
        )
    };
    let jobs = [
        job("secured", "https", "scrape-password"),
        job("wrong_password", "https", "guess"),
        job("plain", "http", "scrape-password"),
    ]
    .concat();
    let prometheus = Prometheus::start_with_jobs(&jobs, &[]).await;
    prometheus.wait_for("up{job=\"secured\"}", 1.0).await;
    eventually("queue series scraped over TLS", || async {
        let series = prometheus
            .value("count(genesys_queue_info{job=\"secured\"})", None)
            .await;
        match series {
            Some(n) if n >= 3.0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    for refused in ["wrong_password", "plain"] {
        prometheus
            .wait_for(&format!("up{{job=\"{refused}\"}}"), 0.0)
            .await;
        let scraped = prometheus
            .value(
                &format!("count(genesys_queue_info{{job=\"{refused}\"}})"),
                None,
            )
            .await;
        assert_eq!(scraped, None, "{refused} saw no series");
    }
    harness.stop().await;
}
