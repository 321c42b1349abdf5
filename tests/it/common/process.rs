//! The exporter binary as a child process (`run`, configured through the environment), for
//! tests that restart or kill it as an orchestrator would.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use genesys_exporter::sim::SimHandle;

pub struct ExporterProcess {
    pub url: String,
    child: Child,
}

/// `GENESYS_EXPORTER_*` settings pointing the binary at `sim`, listening on `port`.
pub fn sim_env(sim: &SimHandle, port: u16, media_types: &[String]) -> Vec<(String, String)> {
    [
        ("CLIENT_ID", sim.client_id.clone()),
        ("CLIENT_SECRET", sim.client_secret.clone()),
        ("API_BASE_URL", sim.base_url.clone()),
        ("LOGIN_BASE_URL", sim.base_url.clone()),
        ("LISTEN_ADDRESS", format!("127.0.0.1:{port}")),
        ("MEDIA_TYPES", media_types.join(",")),
        ("AGGREGATES__POLL_INTERVAL", "300ms".to_owned()),
        ("STREAM__HEARTBEAT_TIMEOUT", "3s".to_owned()),
        ("LOG__LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (format!("GENESYS_EXPORTER_{key}"), value))
    .collect()
}

impl ExporterProcess {
    pub fn spawn(env: &[(String, String)], port: u16) -> ExporterProcess {
        Self::spawn_with(&["run"], env, port)
    }

    /// `demo` (simulator and exporter in one process), the exporter on `port`, the simulator
    /// on `sim_port`, with `extra` arguments.
    pub fn demo(port: u16, sim_port: u16, extra: &[&str]) -> ExporterProcess {
        let listen = format!("127.0.0.1:{port}");
        let sim_listen = format!("127.0.0.1:{sim_port}");
        let mut args = vec!["demo", "--listen", &listen, "--sim-listen", &sim_listen];
        args.extend_from_slice(extra);
        let quiet = [("RUST_LOG".to_owned(), "warn".to_owned())];
        Self::spawn_with(&args, &quiet, port)
    }

    /// `args` with `env`, stdout and stderr both written to `output` (which is truncated).
    pub fn spawn_logging(
        args: &[&str],
        env: &[(String, String)],
        port: u16,
        output: &std::path::Path,
    ) -> ExporterProcess {
        let file = std::fs::File::create(output).expect("the output file");
        let stdout = Stdio::from(file.try_clone().expect("the output file, twice"));
        Self::spawn_into(args, env, port, stdout, Stdio::from(file))
    }

    /// `args` (a `run` with flags) with `env`.
    pub fn spawn_with(args: &[&str], env: &[(String, String)], port: u16) -> ExporterProcess {
        Self::spawn_into(args, env, port, Stdio::null(), Stdio::inherit())
    }

    fn spawn_into(
        args: &[&str],
        env: &[(String, String)],
        port: u16,
        stdout: Stdio,
        stderr: Stdio,
    ) -> ExporterProcess {
        // NB: the tests' own HTTP clients need the process-wide TLS provider too.
        genesys_exporter::genesys::install_crypto_provider();
        let mut command = Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
        command.args(args);
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("GENESYS_EXPORTER")) {
            command.env_remove(name);
        }
        command.env_remove("RUST_LOG");
        // NB: the machine's proxy settings are not the test's.
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"] {
            command
                .env_remove(name)
                .env_remove(name.to_ascii_lowercase());
        }
        let child = command
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("the exporter binary starts");
        ExporterProcess {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// Waits for `/readyz` on its port, and that the process answering is this one: one that
    /// could not bind its port has exited, and another may answer there.
    pub async fn wait_ready(&self) {
        let url = format!("{}/readyz", self.url);
        super::answers_ok(&super::client(), &url, "the exporter process").await;
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
        let state = stat.ok().and_then(|s| {
            let (_, after_name) = s.rsplit_once(')')?;
            after_name.split_whitespace().next().map(str::to_owned)
        });
        assert!(
            state.as_deref().is_some_and(|s| s != "Z"),
            "the exporter on {} exited (state {state:?}): another process answers on its port",
            self.url
        );
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGTERM, then waits for a clean exit.
    pub async fn stop(mut self) {
        self.signal("-TERM");
        let status = wait(&mut self.child).await;
        assert!(status.success(), "exit status {status}");
    }

    /// SIGKILL, as an OOM kill or a node failure would end it (sent directly, so it lands
    /// within microseconds of the call).
    pub async fn kill(mut self) {
        self.child.kill().expect("SIGKILL is sent");
        wait(&mut self.child).await;
    }
}

async fn wait(child: &mut Child) -> std::process::ExitStatus {
    let every = Duration::from_millis(20);
    super::poll_until("the exporter exits", every, || {
        let exited = child.try_wait().expect("the child can be waited on");
        std::future::ready(exited.ok_or_else(|| "still running".to_owned()))
    })
    .await
}

impl Drop for ExporterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
