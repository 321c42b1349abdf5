//! The toolkit's format as node_exporter reads it: what parses, and the key each bad file names.

use std::path::Path;

use super::{ClientAuth, Pem, WebConfig};

/// A cost-4 hash of "secret" (cheap in tests; the format is the same at any cost).
fn hash() -> String {
    bcrypt::hash("secret", 4).unwrap()
}

fn parse(text: &str) -> Result<WebConfig, String> {
    WebConfig::parse(text, Path::new("/etc/exporter")).map_err(|e| e.0)
}

#[test]
fn an_empty_file_means_plain_http_and_no_auth() {
    for text in ["", "---\n", "# nothing\n"] {
        let config = parse(text).unwrap();
        assert!(config.tls.is_none() && config.users.is_empty() && config.headers.is_empty());
    }
}

#[test]
fn a_node_exporter_file_parses_with_paths_relative_to_its_directory() {
    let hash = hash();
    let text = format!(
        r#"
tls_server_config:
  cert_file: tls/server.crt
  key_file: /abs/server.key
  client_ca_file: ca.pem
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: "{hash}"
rate_limit:
  interval: 0s
"#
    );
    let config = parse(&text).unwrap();
    let tls = config.tls.unwrap();
    assert_eq!(tls.cert, Pem::File("/etc/exporter/tls/server.crt".into()));
    assert_eq!(tls.key, Pem::File("/abs/server.key".into()));
    assert_eq!(
        tls.client_ca,
        Some(Pem::File("/etc/exporter/ca.pem".into()))
    );
    assert_eq!(tls.client_auth, ClientAuth::RequireAndVerifyClientCert);
    assert_eq!(tls.versions, [&rustls::version::TLS13]);
    assert_eq!(tls.cipher_suites.len(), 1);
    assert_eq!(tls.curves.len(), 2);
    assert!(!tls.prefer_server_cipher_suites);
    assert_eq!(config.users["prometheus"], hash);
    assert_eq!(config.headers.len(), 2);
}

#[test]
fn inline_pem_is_read_and_the_file_form_wins() {
    let config =
        parse("tls_server_config:\n  cert: CERT\n  key: KEY\n  cert_file: c.pem\n").unwrap();
    let tls = config.tls.unwrap();
    assert_eq!(tls.cert, Pem::File("/etc/exporter/c.pem".into()));
    assert_eq!(tls.key, Pem::Inline("KEY".into()));
    assert_eq!(tls.versions.len(), 2, "TLS12 to TLS13 by default");
}

#[test]
fn each_bad_file_names_its_key() {
    let cases = [
        (
            "tls_server_config:\n  cert_file: a\n  colour: red\n",
            "tls_server_config.colour: unknown key",
        ),
        ("tsl_server_config: {}\n", "tsl_server_config: unknown key"),
        (
            "tls_server_config:\n  cert_file: a\n",
            "missing one of key or key_file",
        ),
        (
            "tls_server_config:\n  key_file: a\n",
            "missing one of cert or cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
            "tls_server_config.client_auth_type: a client CA is configured without a client auth type",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
            "tls_server_config.client_ca_file:",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n",
            "`Maybe` is not a client auth type",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n  client_auth_type: RequireAnyClientCert\n",
            "RequireAnyClientCert accepts certificates without verifying them",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
            "tls_server_config.client_allowed_sans: names client certificates, but none is asked for",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
            "TLS10 is insecure",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS14\n",
            "`TLS14` is not a TLS version",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
            "min_version: is above max_version",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
            "tls_server_config.cipher_suites: `TLS_RSA_WITH_RC4_128_SHA` is not a supported cipher suite",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP521]\n",
            "`CurveP521` is not a supported curve",
        ),
        (
            "http_server_config:\n  headers:\n    Server: me\n",
            "http_server_config.headers.Server: can not be configured",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "http_server_config.headers.X-Frame-Options: `allow` is not one of deny, sameorigin",
        ),
        (
            "http_server_config:\n  http2: maybe\n",
            "http_server_config.http2: is not true or false",
        ),
        (
            "basic_auth_users:\n  alice: plaintext\n",
            "basic_auth_users.alice: is not a bcrypt hash",
        ),
        (
            "rate_limit:\n  interval: 1s\n  burst: 10\n",
            "rate_limit: is not supported",
        ),
        (
            "basic_auth_users: [alice]\n",
            "basic_auth_users: is not a mapping",
        ),
        (
            "tls_server_config:\n  cert_file: [a\n",
            "YAML syntax error at line 3",
        ),
    ];
    for (text, expected) in cases {
        let error = parse(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert!(error.contains(expected), "{text:?}: {error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }
}

#[test]
fn a_plaintext_password_given_as_a_hash_is_never_echoed() {
    let error = parse("basic_auth_users:\n  alice: hunter2-very-secret\n")
        .err()
        .unwrap();
    assert!(!error.contains("hunter2"), "{error}");
}
