use super::*;

fn config(env: &[(&str, &str)]) -> ProxyConfig {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ProxyConfig {
        environment: proxy_environment(&env),
        ..ProxyConfig::default()
    }
}

fn via(routes: &Routes, url: &str) -> Option<String> {
    routes
        .for_url(&reqwest::Url::parse(url).unwrap())
        .map(|p| format!("{} from {}", p.url(), p.source()))
}

#[test]
fn either_case_is_read_upper_first_and_all_proxy_fills_in() {
    let routes = config(&[
        ("https_proxy", "http://lower:1"),
        ("HTTPS_PROXY", "http://upper:2"),
    ])
    .routes()
    .unwrap();
    assert_eq!(
        via(&routes, "https://api/").unwrap(),
        "http://upper:2/ from HTTPS_PROXY"
    );
    assert_eq!(via(&routes, "http://api/"), None, "no HTTP_PROXY");
    let routes = config(&[
        ("all_proxy", "http://all:3"),
        ("http_proxy", "http://web:4"),
    ])
    .routes()
    .unwrap();
    assert_eq!(
        via(&routes, "wss://api/").unwrap(),
        "http://all:3/ from all_proxy"
    );
    assert_eq!(
        via(&routes, "http://api/").unwrap(),
        "http://web:4/ from http_proxy"
    );
    let routes = config(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", ".corp")])
        .routes()
        .unwrap();
    assert_eq!(via(&routes, "https://api.corp/"), None);
}

#[test]
fn the_config_key_overrides_the_environment() {
    let mut proxy = config(&[("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "api")]);
    proxy.url = Some(ProxyUrl("http://pinned:3128".into()));
    proxy.no_proxy = Some(String::new());
    let routes = proxy.routes().unwrap();
    assert_eq!(
        via(&routes, "https://api/").unwrap(),
        "http://pinned:3128/ from proxy.url"
    );
}

#[test]
fn logins_come_from_the_url_or_the_keys_never_both() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let mut proxy = config(&[("HTTPS_PROXY", "http://p:1")]);
    proxy.username = Some("svc".into());
    proxy.password_file = Some(file);
    let routes = proxy.routes().unwrap();
    let printed = format!("{routes:?}");
    assert!(
        printed.contains("svc") && !printed.contains("s3cret"),
        "{printed}"
    );

    let mut both = config(&[("HTTPS_PROXY", "http://u:pw@p:1")]);
    both.username = Some("svc".into());
    assert_eq!(both.routes().unwrap_err().key, "proxy.username");

    let orphan = ProxyConfig {
        password: Some(Secret::new("pw")),
        ..ProxyConfig::default()
    };
    assert_eq!(orphan.routes().unwrap_err().key, "proxy.username");
}

#[test]
fn a_bad_value_names_its_variable_and_never_its_password() {
    let error = config(&[("ALL_PROXY", "socks5://u:hunter2@p:1080")])
        .routes()
        .unwrap_err();
    assert_eq!(error.key, "ALL_PROXY");
    let line = error.to_string();
    assert!(
        !line.contains("hunter2") && line.contains("socks5"),
        "{line}"
    );
    let url = ProxyUrl("http://u:hunter2@p:1".into());
    let json = serde_json::to_string(&url).unwrap();
    assert!(!json.contains("hunter2") && !format!("{url:?}").contains("hunter2"));
}
