//! The deployment kit, checked by the tools that consume it: hadolint on the Dockerfile, and
//! the Dockerfile against what the rest of the kit expects of the image.
//!
//! Under CI=true a missing tool fails; elsewhere the test skips and says so loudly.

/// Where the image puts the exporter and what it reads and writes (the Dockerfile), which the
/// Deployment mounts and the sandbox mirrors.
mod layout {
    /// The image's user and group.
    pub const UID: u32 = 65532;
    pub const BINARY: &str = "/usr/local/bin/genesys-exporter";
    pub const CONFIG: &str = "/etc/genesys-exporter/config.yaml";
    /// The image's one VOLUME, the config's `state_dir`.
    pub const STATE_DIR: &str = "/var/lib/genesys-exporter";
}

// Helpers.
#[path = "deploy/tools.rs"]
mod tools;

// Tests, by what they check.
#[path = "deploy/image.rs"]
mod image;
