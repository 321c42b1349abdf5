//! Failure injection inside the exporter's own tasks, so a test can prove that a dead task is
//! noticed (ARCHITECTURE.md#cross-cutting-concerns). Compiled only with the `failpoints` feature
//! (the test command turns it on); without it [`hit`] is empty and costs nothing. Armed through
//! `GENESYS_EXPORTER_FAILPOINTS`, a comma-separated list of names; an armed point panics.

/// Panics when `name` is armed.
#[cfg(feature = "failpoints")]
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

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn hit(_name: &str) {}
