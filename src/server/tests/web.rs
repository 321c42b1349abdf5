//! The web config end to end on a real socket: basic auth, TLS with and without client
//! certificates, plain HTTP on the TLS port, certificates and users reloaded when their files
//! change, and a broken edit failing closed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::server::{Gate, Limits, ServerState, WebConfigSource, serve};

const DEADLINE: Duration = Duration::from_secs(10);

/// A throwaway certificate authority.
struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Authority {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names`, for a server or a client.
    fn leaf(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        // NB: rcgen reads a string as a DNS name unless it is an IP; a URI must be said so.
        params.subject_alt_names = names
            .iter()
            .map(|name| {
                let text = Ia5String::try_from(*name).unwrap();
                if name.contains("://") {
                    SanType::URI(text)
                } else {
                    SanType::DnsName(text)
                }
            })
            .collect();
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn server(&self) -> (String, String) {
        self.leaf(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client(&self) -> reqwest::Identity {
        self.client_named("prometheus")
    }

    fn client_named(&self, name: &str) -> reqwest::Identity {
        let (cert, key) = self.leaf(&[name], ExtendedKeyUsagePurpose::ClientAuth);
        reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap()
    }
}

struct Served {
    port: u16,
    dir: tempfile::TempDir,
    cancel: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Served {
    /// Serves the exporter's routes under the web config `yaml` (written into a fresh
    /// directory with `files`, paths relative to it).
    async fn start(yaml: &str, files: &[(&str, &str)], unauthenticated_probes: bool) -> Served {
        crate::genesys::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            write(&dir.path().join(name), content);
        }
        let path = dir.path().join("web.yml");
        write(&path, yaml);
        let source = WebConfigSource::open(&path).unwrap();
        let gate = Arc::new(Gate::new(source, unauthenticated_probes));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = ServerState::new(Arc::new(Metrics::new()), Arc::default());
        let limits = Limits {
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            max_connections: 64,
            max_header_bytes: 16_384,
        };
        let cancel = CancellationToken::new();
        tokio::spawn(serve(listener, state, limits, Some(gate), cancel.clone()));
        Served { port, dir, cancel }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://localhost:{}{path}", self.port)
    }
}

/// Replaces a file the way Kubernetes does, so its inode changes.
fn write(path: &Path, content: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, content).unwrap();
    std::fs::rename(&next, path).unwrap();
}

fn client(roots: &[&Authority], identity: Option<reqwest::Identity>) -> reqwest::Client {
    let roots = roots
        .iter()
        .map(|root| reqwest::Certificate::from_pem(root.pem.as_bytes()).unwrap());
    let mut builder = reqwest::Client::builder()
        .tls_certs_only(roots)
        .timeout(DEADLINE);
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    builder.build().unwrap()
}

async fn status(request: reqwest::RequestBuilder) -> Result<u16, String> {
    match request.send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(error) => Err(format!("{error:?}")),
    }
}

fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

#[tokio::test]
async fn basic_auth_refuses_no_and_wrong_passwords_and_serves_the_right_one() {
    let yaml = format!(
        "basic_auth_users:\n  prometheus: \"{}\"\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n",
        hash("right")
    );
    let served = Served::start(&yaml, &[], false).await;
    let http = reqwest::Client::new();
    let metrics = served.url("http", "/metrics");
    let none = http.get(&metrics).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Basic");
    assert_eq!(none.headers()["x-frame-options"], "deny", "on a 401 too");
    let wrong = http.get(&metrics).basic_auth("prometheus", Some("wrong"));
    assert_eq!(status(wrong).await, Ok(401));
    let stranger = http.get(&metrics).basic_auth("mallory", Some("right"));
    assert_eq!(status(stranger).await, Ok(401));
    for _ in 0..2 {
        // NB: the second is answered from the memory of verified credentials.
        let right = http.get(&metrics).basic_auth("prometheus", Some("right"));
        let response = right.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("genesys_exporter_build_info")
        );
    }
    assert_eq!(
        status(http.get(served.url("http", "/healthz"))).await,
        Ok(401)
    );
}

#[tokio::test]
async fn probes_can_be_left_open_while_metrics_need_a_password() {
    let yaml = format!("basic_auth_users:\n  prometheus: \"{}\"\n", hash("right"));
    let served = Served::start(&yaml, &[], true).await;
    let http = reqwest::Client::new();
    assert_eq!(
        status(http.get(served.url("http", "/healthz"))).await,
        Ok(200)
    );
    assert_eq!(
        status(http.get(served.url("http", "/metrics"))).await,
        Ok(401)
    );
    assert_eq!(status(http.get(served.url("http", "/"))).await, Ok(401));
}

#[tokio::test]
async fn tls_serves_https_and_answers_plain_http_with_400() {
    let ca = Authority::new("test CA");
    let (cert, key) = ca.server();
    let yaml = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
    let files = [("server.crt", cert.as_str()), ("server.key", key.as_str())];
    let served = Served::start(yaml, &files, false).await;
    let https = client(&[&ca], None);
    assert_eq!(
        status(https.get(served.url("https", "/metrics"))).await,
        Ok(200)
    );
    let plain = reqwest::Client::new()
        .get(served.url("http", "/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
    assert!(
        plain
            .text()
            .await
            .unwrap()
            .contains("HTTP request to an HTTPS server")
    );
    let untrusting = client(&[&Authority::new("other CA")], None);
    assert!(
        status(untrusting.get(served.url("https", "/metrics")))
            .await
            .is_err()
    );
}

/// TLS requiring client certificates signed by a client CA, with `extra` TLS keys: (the
/// server's CA, the client CA, the server).
async fn requiring_client_certificates(extra: &str) -> (Authority, Authority, Served) {
    let ca = Authority::new("server CA");
    let clients = Authority::new("client CA");
    let (cert, key) = ca.server();
    let yaml = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: clients.pem\n  client_auth_type: RequireAndVerifyClientCert\n{extra}"
    );
    let files = [
        ("server.crt", cert.as_str()),
        ("server.key", key.as_str()),
        ("clients.pem", clients.pem.as_str()),
    ];
    let served = Served::start(&yaml, &files, false).await;
    (ca, clients, served)
}

#[tokio::test]
async fn a_client_certificate_is_required_when_configured() {
    let (ca, clients, served) = requiring_client_certificates("").await;
    let url = served.url("https", "/metrics");
    let anonymous = client(&[&ca], None);
    assert!(status(anonymous.get(&url)).await.is_err(), "no certificate");
    let forged = client(&[&ca], Some(Authority::new("rogue CA").client()));
    assert!(
        status(forged.get(&url)).await.is_err(),
        "a certificate from another CA"
    );
    let trusted = client(&[&ca], Some(clients.client()));
    assert_eq!(status(trusted.get(&url)).await, Ok(200));
}

#[tokio::test]
async fn client_allowed_sans_admits_only_the_certificates_that_name_one() {
    let sans = "  client_allowed_sans: [prometheus.monitoring.svc, spiffe://cluster/ns/monitoring/sa/prometheus]\n";
    let (ca, clients, served) = requiring_client_certificates(sans).await;
    let url = served.url("https", "/metrics");
    let dns = client(
        &[&ca],
        Some(clients.client_named("prometheus.monitoring.svc")),
    );
    assert_eq!(status(dns.get(&url)).await, Ok(200));
    let uri = clients.client_named("spiffe://cluster/ns/monitoring/sa/prometheus");
    assert_eq!(status(client(&[&ca], Some(uri)).get(&url)).await, Ok(200));
    let other = client(&[&ca], Some(clients.client_named("grafana.monitoring.svc")));
    assert!(
        status(other.get(&url)).await.is_err(),
        "verified, but not allowed"
    );
}

#[tokio::test]
async fn a_renewed_certificate_and_changed_users_apply_without_a_restart() {
    let old = Authority::new("old CA");
    let (cert, key) = old.server();
    let yaml = |password: &str| {
        format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: \"{}\"\n",
            hash(password)
        )
    };
    let files = [("server.crt", cert.as_str()), ("server.key", key.as_str())];
    let served = Served::start(&yaml("first"), &files, false).await;
    let url = served.url("https", "/metrics");
    let trusts_old = client(&[&old], None);
    let first = trusts_old.get(&url).basic_auth("prometheus", Some("first"));
    assert_eq!(status(first).await, Ok(200));

    let new = Authority::new("new CA");
    let (cert, key) = new.server();
    write(&served.path("server.key"), &key);
    write(&served.path("server.crt"), &cert);
    write(&served.path("web.yml"), &yaml("second"));
    let trusts_new = client(&[&new], None);
    let second = trusts_new
        .get(&url)
        .basic_auth("prometheus", Some("second"));
    assert_eq!(
        status(second).await,
        Ok(200),
        "the new certificate and password"
    );
    let stale = client(&[&old], None)
        .get(&url)
        .basic_auth("prometheus", Some("second"));
    assert!(status(stale).await.is_err(), "the old certificate is gone");
    let old_password = trusts_new.get(&url).basic_auth("prometheus", Some("first"));
    assert_eq!(status(old_password).await, Ok(401));
}

#[tokio::test]
async fn a_broken_edit_fails_closed_until_it_is_fixed() {
    let yaml = format!("basic_auth_users:\n  prometheus: \"{}\"\n", hash("right"));
    let served = Served::start(&yaml, &[], false).await;
    let http = reqwest::Client::new();
    let metrics = served.url("http", "/metrics");
    write(&served.path("web.yml"), "basic_auth_users: [\n");
    let broken = http.get(&metrics).basic_auth("prometheus", Some("right"));
    assert_eq!(status(broken).await, Ok(500));
    write(&served.path("web.yml"), &yaml);
    let fixed = http.get(&metrics).basic_auth("prometheus", Some("right"));
    assert_eq!(status(fixed).await, Ok(200));
}
