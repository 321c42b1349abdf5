//! The deployment kit, checked by the tools that consume it: hadolint on the Dockerfile;
//! `kubectl kustomize` and the Kubernetes schemas (kubernetes-validate) on the base and the
//! example overlay; promtool on the PrometheusRule.
//!
//! Under CI=true a missing tool fails; elsewhere the test skips and says so loudly.

/// Where the image puts the exporter and what it reads and writes (the Dockerfile), which the
/// Deployment mounts and the sandbox mirrors.
mod layout {
    /// The image's user and group.
    pub const UID: u32 = 65532;
    pub const BINARY: &str = "/usr/local/bin/genesys-exporter";
    pub const CONFIG: &str = "/etc/genesys-exporter/config.yaml";
    pub const SECRET: &str = "/var/run/secrets/genesys/client-secret";
    /// The image's one VOLUME, the config's `state_dir`.
    pub const STATE_DIR: &str = "/var/lib/genesys-exporter";
}

// Helpers.
#[path = "deploy/kustomize.rs"]
mod kustomize;
#[path = "deploy/tools.rs"]
mod tools;
#[path = "deploy/yaml.rs"]
mod yaml;

// Tests, by what they check.
#[path = "deploy/image.rs"]
mod image;
#[path = "deploy/manifests.rs"]
mod manifests;
