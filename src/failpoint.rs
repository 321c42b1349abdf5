//! Failure injection inside the exporter's own tasks, so a test can prove that a dead task is
//! noticed (ARCHITECTURE.md#cross-cutting-concerns). Compiled into debug builds only, as debug
//! assertions are: a release build (the image, the demo) has an empty [`hit`] that costs nothing.
//! Armed through `GENESYS_EXPORTER_FAILPOINTS`, a comma-separated list of names; an armed point
//! panics. NB: the profile, not a cargo feature, keeps it out of releases, so one `cargo clippy`
//! pass and one test build cover it.

/// Panics when `name` is armed.
#[cfg(debug_assertions)]
pub(crate) fn hit(name: &str) {
    static ARMED: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        std::env::var("GENESYS_EXPORTER_FAILPOINTS")
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect()
    });
    if ARMED.iter().any(|armed| armed == name) {
        panic!("failpoint {name} hit");
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn hit(_name: &str) {}
