use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn corp_routes(no_proxy: &str) -> Routes {
    let https = Proxy::parse("http://proxy.corp:3128", "HTTPS_PROXY").unwrap();
    let http = Proxy::parse("proxy.corp:8080", "HTTP_PROXY").unwrap();
    Routes::new(Some(http), Some(https), Bypass::parse(no_proxy))
}

#[test]
fn the_scheme_picks_the_proxy_and_wss_goes_as_https() {
    let routes = corp_routes("");
    let via = |u: &str| routes.for_url(&url(u)).map(|p| p.url().to_owned());
    assert_eq!(
        via("https://api.mypurecloud.ie/x").as_deref(),
        Some("http://proxy.corp:3128/")
    );
    assert_eq!(
        via("wss://streaming.mypurecloud.ie/channels/1").as_deref(),
        Some("http://proxy.corp:3128/")
    );
    assert_eq!(
        via("ws://sim.corp/channels/1").as_deref(),
        Some("http://proxy.corp:8080/")
    );
}

#[test]
fn no_proxy_entries_match_as_go_reads_them() {
    let routes = corp_routes("mypurecloud.ie, .example.com,10.0.0.0/8,192.168.1.5,internal:8443");
    let direct = |u: &str| routes.for_url(&url(u)).is_none();
    assert!(direct("https://api.mypurecloud.ie/"));
    assert!(direct("https://mypurecloud.ie/"));
    assert!(
        !direct("https://notmypurecloud.ie/"),
        "a suffix is not a subdomain"
    );
    assert!(direct("https://a.b.example.com/"));
    assert!(direct("https://example.com/"));
    assert!(direct("https://10.2.3.4/"));
    assert!(!direct("https://11.2.3.4/"));
    assert!(direct("https://192.168.1.5:9000/"));
    assert!(direct("https://internal:8443/"));
    assert!(
        !direct("https://internal/"),
        "the entry names port 8443 only"
    );
    assert!(direct("https://127.0.0.1:9/"), "loopback is never proxied");
    assert!(direct("http://localhost:9/"));
    assert!(direct("http://[::1]:9/"));
    assert!(
        corp_routes("*")
            .for_url(&url("https://anything/"))
            .is_none()
    );
}

#[test]
fn credentials_leave_the_url_and_never_print() {
    let proxy = Proxy::parse("http://svc%40corp:p%3Ass@proxy:3128", "proxy.url").unwrap();
    assert_eq!(proxy.url(), "http://proxy:3128/");
    assert_eq!(proxy.basic_auth().unwrap(), {
        base64::engine::general_purpose::STANDARD.encode("svc@corp:p:ss")
    });
    let printed = format!("{proxy:?}");
    assert!(
        !printed.contains("p:ss") && !printed.contains("p%3Ass"),
        "{printed}"
    );
    assert_eq!(
        redact_url("http://u:hunter2@proxy:3128").unwrap(),
        "http://u:[redacted]@proxy:3128/"
    );
}

#[test]
fn only_plain_http_proxies_with_a_host_are_taken() {
    assert!(Proxy::parse("socks5://proxy:1080", "ALL_PROXY").is_err());
    assert!(Proxy::parse("https://proxy:443", "HTTPS_PROXY").is_err());
    assert!(Proxy::parse("http://", "HTTPS_PROXY").is_err());
    assert_eq!(Proxy::parse("proxy", "x").unwrap().authority(), "proxy:80");
}
