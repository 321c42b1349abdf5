//! What this binary is, for `--version`, the start-up log line and
//! `genesys_exporter_build_info` (facts gathered by `build.rs`).

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit built, `-modified` when the tree had uncommitted changes.
pub const REVISION: &str = env!("GENESYS_EXPORTER_REVISION");
pub const BRANCH: &str = env!("GENESYS_EXPORTER_BRANCH");
pub const RUSTC_VERSION: &str = env!("GENESYS_EXPORTER_RUSTC_VERSION");
/// The target triple built for, e.g. `x86_64-unknown-linux-gnu`.
pub(crate) const TARGET: &str = env!("GENESYS_EXPORTER_TARGET");

/// What `--version` prints after the program name, in node_exporter's layout.
pub const LONG_VERSION: &str = concat!(
    "version ",
    env!("CARGO_PKG_VERSION"),
    " (branch: ",
    env!("GENESYS_EXPORTER_BRANCH"),
    ", revision: ",
    env!("GENESYS_EXPORTER_REVISION"),
    ")\n  rustc version:  ",
    env!("GENESYS_EXPORTER_RUSTC_VERSION"),
    "\n  target:         ",
    env!("GENESYS_EXPORTER_TARGET"),
);

/// The labels of `genesys_exporter_build_info`, names and values.
pub(crate) const LABELS: [(&str, &str); 5] = [
    ("version", VERSION),
    ("revision", REVISION),
    ("branch", BRANCH),
    ("rustversion", RUSTC_VERSION),
    ("target", TARGET),
];
