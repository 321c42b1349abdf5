//! The exporter under its image's constraints, with no container engine: bubblewrap builds a
//! root laid out as the image (the binary at /usr/local/bin, glibc, CA certificates, an empty
//! /tmp), the config and the client secret where the Deployment mounts them, and one writable
//! directory, the state volume; then remounts everything else read-only and runs the real
//! binary as 65532:65532 with no capabilities, as PID 1 of its own namespaces (the network
//! shared, so the test reaches it on loopback).
//!
//! NB: as root the test first drops to the real host uid 65532 with setpriv and bwrap creates
//! the namespaces unprivileged, so the uid is 65532 on the host as in a pod, not merely inside
//! a user namespace. As another user bwrap maps that user to 65532, as rootless engines do.
//! Debian's glibc 2.36 here is the one distroless/cc-debian12 ships.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::layout::{BINARY, CONFIG, SECRET, STATE_DIR, UID};
use super::tools;

/// Mounts a process may write through that are kernel interfaces, not storage.
pub const KERNEL_MOUNTS: [&str; 8] = [
    "/proc",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/pts",
];

pub struct Sandbox {
    /// On the host: the binary, config, secret and the state directory.
    dir: tempfile::TempDir,
    pub state: PathBuf,
    /// Root drops to the real uid 65532 first (see the module doc).
    as_root: bool,
}

/// Whether bwrap can build a sandbox here (it needs unprivileged user namespaces).
pub fn available() -> bool {
    if !tools::require("bwrap", &["--version"], "Debian package bubblewrap") {
        return false;
    }
    let output = tools::run(
        Command::new("bwrap").args(["--unshare-all", "--ro-bind", "/", "/", "true"]),
        tools::TOOL_DEADLINE,
    );
    if !output.status.success() {
        let why = format!(
            "bwrap cannot create namespaces here (user namespaces disabled?): {}",
            output.report()
        );
        assert!(!tools::under_ci(), "{why}");
        tools::shout(&format!("*** SKIPPING: {why} ***"));
    }
    output.status.success()
}

impl Sandbox {
    /// Lays out the files the sandbox mounts: the exporter binary, `config` and `secret`.
    pub fn new(config: &str, secret: &str) -> Sandbox {
        // NB: in /tmp, whatever TMPDIR says: uid 65532 must be able to reach these paths.
        let dir = tempfile::Builder::new()
            .prefix("genesys-exporter-sandbox")
            .tempdir_in("/tmp")
            .unwrap();
        set_mode(dir.path(), 0o755);
        let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        let binary = dir.path().join("genesys-exporter");
        let built = Path::new(env!("CARGO_BIN_EXE_genesys-exporter"));
        if std::fs::hard_link(built, &binary).is_err() {
            std::fs::copy(built, &binary).unwrap();
        }
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        set_mode(&dir.path().join("config.yaml"), 0o644);
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let secret_file = dir.path().join("client-secret");
        std::fs::write(&secret_file, secret).unwrap();
        // As in the pod: the state volume and the secret belong to 65532; the secret is 0440.
        set_mode(&secret_file, 0o440);
        if as_root {
            for path in [&state, &secret_file] {
                std::os::unix::fs::chown(path, Some(UID), Some(UID)).unwrap();
            }
        }
        Sandbox {
            dir,
            state,
            as_root,
        }
    }

    /// The uid the sandboxed process has on the host: 65532, or the user running the test.
    pub fn host_uid(&self) -> u32 {
        if self.as_root {
            UID
        } else {
            std::fs::metadata("/proc/self").unwrap().uid()
        }
    }

    /// Runs `argv` in the sandbox. `with_shell` adds /usr/bin (the image has no shell) for
    /// the write probe.
    pub fn command(&self, env: &[(String, String)], with_shell: bool, argv: &[&str]) -> Command {
        let id = UID.to_string();
        let mut command = if self.as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid", &id, "--regid", &id, "--clear-groups"])
                .args(["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"])
                .arg("bwrap");
            c
        } else {
            Command::new("bwrap")
        };
        let host = |name: &str| self.dir.path().join(name).display().to_string();
        command
            .args([
                "--unshare-all",
                "--share-net",
                "--die-with-parent",
                "--as-pid-1",
            ])
            .args(["--clearenv", "--uid", &id, "--gid", &id]);
        // glibc and the loader, wherever this host keeps them (merged /usr or not).
        command.args(["--ro-bind", "/usr/lib", "/usr/lib"]);
        command.args(["--ro-bind-try", "/usr/lib64", "/usr/lib64"]);
        let mut system_dirs = vec!["/lib", "/lib64"];
        if with_shell {
            command.args(["--ro-bind", "/usr/bin", "/usr/bin"]);
            system_dirs.push("/bin");
        }
        for dir in system_dirs {
            match std::fs::read_link(dir) {
                Ok(target) => command.args(["--symlink", &target.display().to_string(), dir]),
                Err(_) => command.args(["--ro-bind-try", dir, dir]),
            };
        }
        command
            .args(["--ro-bind-try", "/etc/ssl", "/etc/ssl"])
            .args(["--perms", "1777", "--dir", "/tmp"])
            .args(["--ro-bind", &host("genesys-exporter"), BINARY])
            .args(["--ro-bind", &host("config.yaml"), CONFIG])
            .args(["--ro-bind", &host("client-secret"), SECRET])
            .args(["--bind", &host("state"), STATE_DIR])
            .args(["--dev", "/dev", "--proc", "/proc"])
            .args(["--remount-ro", "/dev", "--remount-ro", "/"]);
        for (name, value) in env {
            command.args(["--setenv", name, value]);
        }
        command.arg("--").args(argv);
        command
    }

    /// Tries to create a file in each of `dirs` from inside the sandbox; the ones it could.
    pub fn writable_dirs(&self, dirs: &[&str]) -> Vec<String> {
        let script = r#"for d in "$@"; do if ( : > "$d/.write-probe" ) 2>/dev/null; then echo "$d"; fi; done"#;
        let mut argv = vec!["/bin/sh", "-c", script, "sh"];
        argv.extend_from_slice(dirs);
        let env = [("PATH".to_owned(), "/usr/bin".to_owned())];
        let output = tools::run_ok(&mut self.command(&env, true, &argv));
        let _ = std::fs::remove_file(self.state.join(".write-probe"));
        output.stdout.lines().map(str::to_owned).collect()
    }

    /// Starts the exporter: the image's entrypoint and default command, with `env`.
    pub fn spawn_exporter(&self, env: &[(String, String)]) -> Running {
        let log = self.dir.path().join("exporter.log");
        let child = self
            .command(env, false, &[BINARY, "run", "--config", CONFIG])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("bwrap starts");
        Running { child, log }
    }
}

/// The sandboxed exporter; killed with its sandbox if the test ends early.
pub struct Running {
    pub child: Child,
    log: PathBuf,
}

impl Running {
    /// What the exporter logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exporter's host PID: bwrap's one child (PID 1 inside, with --as-pid-1).
    pub fn exporter_pid(&self) -> Option<u32> {
        let parent = self.child.id();
        let children =
            std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
        let mut pids = children.split_whitespace().map(|p| p.parse().unwrap());
        let pid = pids.next()?;
        assert!(pids.next().is_none(), "bwrap has one child: {children}");
        Some(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // NB: --die-with-parent takes the exporter down with bwrap.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `/proc/<pid>/mountinfo`'s mount points that are writable (no `ro` in the mount options).
pub fn writable_mounts(pid: u32) -> Vec<String> {
    let mountinfo = tools::read(Path::new(&format!("/proc/{pid}/mountinfo")));
    mountinfo
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (mount_point, options) = (fields[4], fields[5]);
            let read_only = options.split(',').any(|o| o == "ro");
            (!read_only).then(|| mount_point.to_owned())
        })
        .collect()
}

/// A `/proc/<pid>/status` field, e.g. `Uid` → "65532\t65532\t65532\t65532".
pub fn status_field(pid: u32, field: &str) -> String {
    let status = tools::read(Path::new(&format!("/proc/{pid}/status")));
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("/proc/{pid}/status has no {field}"))
        .trim()
        .to_owned()
}
