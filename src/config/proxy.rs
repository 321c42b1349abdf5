//! The `proxy` section and the proxy variables of the environment, resolved into the routes
//! every upstream client shares (src/genesys/proxy.rs). Config wins over the environment, so an
//! operator can pin the exporter's proxy whatever the pod inherits.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;
use crate::genesys::proxy::{Bypass, Proxy, Routes, redact_url};
use crate::secret::Secret;

/// The variables read, upper case before lower, as Go's `net/http/httpproxy` reads them.
const HTTPS_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
const HTTP_VARS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// A forward proxy for OAuth, REST and the WebSocket.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// `http://host:port`, credentials allowed (`http://user:pass@host:port`), for every
    /// upstream URL. Overrides `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY`. Default none: those
    /// variables, else no proxy.
    pub url: Option<ProxyUrl>,
    /// Hosts reached directly, as `NO_PROXY` lists them (`*`, domains, IPs, CIDR ranges).
    /// Overrides `NO_PROXY`.
    pub no_proxy: Option<String>,
    /// Proxy login, instead of credentials in the URL.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// File holding the proxy password (a mounted secret); surrounding whitespace is trimmed.
    pub password_file: Option<PathBuf>,
    /// The proxy variables of the environment at load, values redacted in `Debug`.
    #[serde(skip)]
    pub environment: Vec<(String, Secret)>,
}

/// A proxy URL that may carry a password: printed and serialised with it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(String);

impl ProxyUrl {
    fn redacted(&self) -> String {
        redact_url(&self.0).unwrap_or_else(|| "[not a URL; redacted]".to_owned())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for ProxyUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for ProxyUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ProxyUrl)
    }
}

/// The proxy variables of `env`, for [`ProxyConfig::routes`].
pub(super) fn proxy_environment(env: &[(String, String)]) -> Vec<(String, Secret)> {
    env.iter()
        .filter(|(name, _)| {
            HTTPS_VARS.contains(&name.as_str())
                || HTTP_VARS.contains(&name.as_str())
                || NO_PROXY_VARS.contains(&name.as_str())
        })
        .map(|(name, value)| (name.clone(), Secret::new(value.trim())))
        .collect()
}

impl ProxyConfig {
    /// The first of `names` set to something in the environment: (name, value).
    fn variable<'a>(&'a self, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
        names.iter().find_map(|name| {
            self.environment
                .iter()
                .find(|(set, value)| set == name && !value.is_empty())
                .map(|(_, value)| (*name, value.expose()))
        })
    }

    /// Which URLs go through which proxy, with the login applied; checked.
    pub(crate) fn routes(&self) -> Result<Routes, ConfigError> {
        let login = self.login()?;
        let (http, https) = match &self.url {
            Some(url) => {
                let proxy = parse(&url.0, "proxy.url")?;
                (Some(proxy.clone()), Some(proxy))
            }
            None => {
                let pick = |names: &[&'static str]| {
                    self.variable(names)
                        .map(|(name, value)| parse(value, name))
                        .transpose()
                };
                (pick(&HTTP_VARS)?, pick(&HTTPS_VARS)?)
            }
        };
        let with_login = |proxy: Option<Proxy>| -> Result<Option<Proxy>, ConfigError> {
            match (proxy, &login) {
                (Some(proxy), Some(_)) if proxy.has_auth() => Err(ConfigError::new(
                    "proxy.username",
                    format!(
                        "is set and the proxy URL from {} carries credentials too",
                        proxy.source()
                    ),
                    "keep the proxy login in one place: the URL, or proxy.username and proxy.password",
                )),
                (Some(proxy), Some((user, password))) => {
                    Ok(Some(proxy.with_auth(user.clone(), password.clone())))
                }
                (proxy, _) => Ok(proxy),
            }
        };
        let bypass = match &self.no_proxy {
            Some(list) => Bypass::parse(list),
            None => self
                .variable(&NO_PROXY_VARS)
                .map_or_else(Bypass::default, |(_, list)| Bypass::parse(list)),
        };
        let routes = Routes::new(with_login(http)?, with_login(https)?, bypass);
        if routes.conflicting_auth() {
            return Err(ConfigError::new(
                "HTTP_PROXY",
                "and HTTPS_PROXY name proxies with different logins",
                "use one login for both, or set proxy.url",
            ));
        }
        Ok(routes)
    }

    /// `proxy.username` with `proxy.password` or `proxy.password_file`, if set.
    fn login(&self) -> Result<Option<(String, Secret)>, ConfigError> {
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "proxy.password_file",
                    "is set together with proxy.password",
                    "set only one of proxy.password and proxy.password_file",
                ));
            }
            (Some(password), None) => Some(password.clone()),
            (None, Some(path)) => Some(Secret::new(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        ConfigError::new(
                            "proxy.password_file",
                            format!("cannot read {}: {e}", path.display()),
                            "point it at a readable file holding the proxy password",
                        )
                    })?
                    .trim(),
            )),
            (None, None) => None,
        };
        match (&self.username, password) {
            (Some(user), password) if !user.trim().is_empty() => {
                Ok(Some((user.trim().to_owned(), password.unwrap_or_default())))
            }
            (_, Some(_)) => Err(ConfigError::new(
                "proxy.username",
                "is empty while a proxy password is set",
                "set proxy.username to the proxy login",
            )),
            _ => Ok(None),
        }
    }
}

fn parse(url: &str, source: &str) -> Result<Proxy, ConfigError> {
    Proxy::parse(url, source).map_err(|reason| {
        let shown = redact_url(url).unwrap_or_else(|| "the value".to_owned());
        ConfigError::new(
            source,
            format!("{shown}: {reason}"),
            "use an HTTP proxy URL such as http://proxy.example.com:3128",
        )
    })
}

#[cfg(test)]
mod tests;
