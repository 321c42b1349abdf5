//! Build facts for `--version` and `genesys_exporter_build_info`: the git revision and branch
//! (from `GENESYS_EXPORTER_REVISION` / `GENESYS_EXPORTER_BRANCH` when set, as in an image build
//! without `.git`, else from git, else `unknown`) and the compiler's version.

use std::process::Command;

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}

fn from_env_or_git(var: &str, git: &[&str]) -> String {
    println!("cargo:rerun-if-env-changed={var}");
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| output("git", git))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    let mut revision = from_env_or_git("GENESYS_EXPORTER_REVISION", &["rev-parse", "HEAD"]);
    // NB: `--no-optional-locks`: a plain `git status` may rewrite .git/index (refreshing its
    // stat cache, as in a fresh clone), and .git/index is watched below, so the next build
    // would run this script again and recompile the crate for nothing.
    let status = [
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
    ];
    let dirty = output("git", &status).is_some();
    if dirty && std::env::var_os("GENESYS_EXPORTER_REVISION").is_none() {
        revision.push_str("-modified");
    }
    let branch = from_env_or_git(
        "GENESYS_EXPORTER_BRANCH",
        &["rev-parse", "--abbrev-ref", "HEAD"],
    );
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = output(&rustc, &["--version"])
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=GENESYS_EXPORTER_REVISION={revision}");
    println!("cargo:rustc-env=GENESYS_EXPORTER_BRANCH={branch}");
    println!("cargo:rustc-env=GENESYS_EXPORTER_RUSTC_VERSION={rustc_version}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=GENESYS_EXPORTER_TARGET={target}");
    // NB: a new commit or checkout moves HEAD or the ref it names; the index changes with
    // staging, which is what the dirty mark follows.
    for path in [".git/HEAD", ".git/index", ".git/refs/heads"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
