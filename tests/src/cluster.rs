//! A whole Mist — the real `mist-api`, `mist-dispatcher` and `mist-agent` binaries — in its
//! own namespace, against the real RabbitMQ, Redis and Spark. Each process is started
//! with `--exit-on-stdin-close` and a pipe on its stdin, so when the test process ends,
//! however it ends, they stop too. Their logs are kept in `target/e2e/<namespace>/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::http::ApiClient;

/// The parts of a Mist, by binary name.
pub const API: &str = "mist-api";
pub const DISPATCHER: &str = "mist-dispatcher";
pub const AGENT: &str = "mist-agent";

pub struct Cluster {
    pub namespace: String,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    processes: Mutex<HashMap<String, Child>>,
}

impl Cluster {
    /// Starts API, dispatcher and one agent; `overrides` are extra `MIST__…` variables
    /// (they may point the parts at other RabbitMQ and Redis servers).
    pub async fn start(overrides: &[(&str, &str)]) -> Cluster {
        let namespace = crate::fresh_namespace();
        let dir = target_dir().join("e2e").join(&namespace);
        std::fs::create_dir_all(&dir).expect("a folder for the cluster");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut env: Vec<(String, String)> = [
            ("MIST__NAMESPACE", namespace.as_str()),
            ("MIST__HTTP__HOST", "127.0.0.1"),
            ("MIST__HTTP__PORT", &port.to_string()),
            ("MIST__PYTHON__BIN", &crate::python_bin()),
            ("MIST__ARTIFACTS__DIR", &dir.join("artifacts").to_string_lossy()),
            ("MIST__AGENT__API_URL", &base),
            ("MIST__AGENT__WORK_DIR", &dir.join("agent").to_string_lossy()),
            ("MIST__AGENT__ID", &format!("agent-{}", &namespace[5..13])),
            // The broker drops a test's queues once they are unused this long. Longer than
            // any test, so a queue nobody consumes meanwhile (the dead letters) is still
            // there when the test looks into it.
            ("MIST__AMQP__EXPIRE_UNUSED", "15m"),
            ("MIST__DISPATCHER__TICK", "200ms"),
            ("MIST__LOG__LEVEL", "info,mist_agent=debug"),
            ("SPARK_LOCAL_IP", "127.0.0.1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let cluster = Cluster { namespace, base, dir, env, processes: Mutex::new(HashMap::new()) };
        cluster.spawn(API);
        cluster.wait_until("the API answers", Duration::from_secs(30), |status| status.is_some()).await;
        cluster.spawn(DISPATCHER);
        cluster.spawn(AGENT);
        cluster
            .wait_until("the agent registers", Duration::from_secs(60), |status| {
                status.is_some_and(|s| s["agents"].as_u64() == Some(1))
            })
            .await;
        cluster
    }

    /// A client for this test (clients belong to the runtime that made them).
    pub fn api(&self) -> ApiClient {
        ApiClient::new(&self.base)
    }

    /// Starts (or restarts) one part.
    pub fn spawn(&self, binary: &str) {
        self.spawn_as(binary, binary, &[]);
    }

    /// Starts a part under a name of its own (a second dispatcher, say), with extra
    /// `MIST__…` variables. Its log is `<name>.log` (appended to across restarts).
    pub fn spawn_as(&self, name: &str, binary: &str, extra: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))
            .expect("a log file");
        let child = Command::new(binary_path(binary))
            .arg("--exit-on-stdin-close")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        self.processes.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), child);
    }

    /// Starts another API instance, on a port of its own, and returns a client for it
    /// once it answers. API instances share nothing but Redis and RabbitMQ.
    pub async fn spawn_api(&self, name: &str) -> ApiClient {
        let port = free_port().to_string();
        self.spawn_as(name, API, &[("MIST__HTTP__PORT", &port)]);
        let api = ApiClient::new(&format!("http://127.0.0.1:{port}"));
        crate::wait_for(&format!("{name} to answer"), Duration::from_secs(30), || async {
            let status = api.client.get(api.url("/status")).send().await;
            status.is_ok_and(|s| s.status().is_success()).then_some(())
        })
        .await;
        api
    }

    /// Waits until the log of the part started under `name` has a line containing `text`
    /// (a fault point reached, say).
    pub async fn wait_for_log(&self, name: &str, text: &str, limit: Duration) {
        let log = self.dir.join(format!("{name}.log"));
        crate::wait_for(&format!("{name} to log {text:?}"), limit, || async {
            std::fs::read_to_string(&log).unwrap_or_default().contains(text).then_some(())
        })
        .await
    }

    /// The pid of a part started under `name`.
    pub fn pid(&self, name: &str) -> u32 {
        self.processes.lock().unwrap_or_else(|p| p.into_inner()).get(name).map(Child::id).unwrap_or_else(|| panic!("no process {name}"))
    }

    /// `kill -9` of a part; returns once it is gone.
    pub fn kill(&self, name: &str) {
        let mut processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = processes.remove(name) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until `/status` satisfies `ready` (the API must be up).
    pub async fn wait_for_status(&self, what: &str, limit: Duration, ready: impl Fn(&serde_json::Value) -> bool) {
        self.wait_until(what, limit, |status| status.is_some_and(&ready)).await
    }

    /// The tail of a part's log, for failure messages.
    pub fn log_tail(&self, binary: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{binary}.log"))).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    async fn wait_until(&self, what: &str, limit: Duration, ready: impl Fn(Option<&serde_json::Value>) -> bool) {
        let api = self.api();
        let deadline = Instant::now() + limit;
        loop {
            let status = match api.client.get(format!("{}/v2/api/status", self.base)).send().await {
                Ok(response) => response.json::<serde_json::Value>().await.ok(),
                Err(_) => None,
            };
            if ready(status.as_ref()) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting until {what} (logs in {}):\n{}\n{}",
                    self.dir.display(),
                    self.log_tail(API, 20),
                    self.log_tail(AGENT, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Cluster {
    /// Closing stdin asks each part to stop cleanly; whatever is left after a while is killed.
    fn drop(&mut self) {
        let mut processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        for child in processes.values_mut() {
            drop(child.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for child in processes.values_mut() {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// `target/<profile>`, found from the test executable (`target/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).expect("the test runs from target/<profile>/deps")
}

fn binary_path(binary: &str) -> PathBuf {
    let path = target_dir().join(binary);
    assert!(path.exists(), "{} is missing: build the binaries first (cargo build --bins)", path.display());
    path
}
