//! A tool the tests need (prometheus, promtool, chromium, the Python SDK, the kit's linters):
//! tests/run.sh installs each, so a missing one fails under CI=true and elsewhere skips the test
//! loudly. One helper, so every test treats a missing tool the same way.

/// Whether this is a CI run, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `what` was not found: under CI=true the test fails; elsewhere it says so past the harness'
/// capture, and the caller returns. `install_hint` says where it comes from.
pub fn tool_missing(what: &str, install_hint: &str) {
    assert!(
        !under_ci(),
        "{what} is required under CI=true ({install_hint}; tests/run.sh installs it)"
    );
    shout(&format!(
        "*** SKIPPING: {what} not found ({install_hint}; tests/run.sh installs it). \
         This test proves nothing on this machine. ***"
    ));
}

/// Writes to the terminal past the test harness' capture of `eprintln!`, so a skip or a
/// check left out is seen in a passing run too.
pub fn shout(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n{message}\n");
}
