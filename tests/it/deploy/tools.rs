//! The external tools of tests/it/deploy.rs as child processes: found or reported missing (a
//! failure under CI=true, a loud skip elsewhere), and run to completion within a deadline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::required::tool_missing;
pub use crate::common::required::{shout, under_ci};

/// How long one tool run may take before the test fails (kubectl and promtool take well under
/// a second; kubernetes-validate loads its schemas in about one).
pub const TOOL_DEADLINE: Duration = Duration::from_secs(60);

/// Whether `program` runs (`args` print its version). Missing under CI=true fails the test;
/// elsewhere it says so, and which test skips, and the caller returns.
pub fn require(program: &str, args: &[&str], install_hint: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        tool_missing(program, install_hint);
    }
    found
}

/// Whether python3 imports `modules`; the same rules as [`require`].
pub fn require_python(modules: &[&str], install_hint: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {}", modules.join(", "))])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        tool_missing(
            &format!("python3 with {}", modules.join(", ")),
            install_hint,
        );
    }
    found
}

#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Both streams, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `command` to its end, or kills it and fails the test at `deadline`.
pub fn run(command: &mut Command, deadline: Duration) -> Output {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} cannot start: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, deadline).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} did not finish within {deadline:?}");
    });
    Output {
        status,
        stdout: stdout.join().expect("the stdout reader ends"),
        stderr: stderr.join().expect("the stderr reader ends"),
    }
}

/// Like [`run`], failing the test unless the command succeeds.
pub fn run_ok(command: &mut Command) -> Output {
    let what = format!("{command:?}");
    let output = run(command, TOOL_DEADLINE);
    assert!(
        output.status.success(),
        "{what} failed: {}",
        output.report()
    );
    output
}

/// The child's exit status, or `None` once `deadline` has passed.
pub fn wait(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            return Some(status);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// A path of the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies the directory tree at `from` into `to` (which may not exist yet).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
