//! A whole Mist for one bench run: the release `mist-api`, `mist-dispatcher` and
//! `mist-agent` in a namespace of their own, against the machine's RabbitMQ and Redis.
//! Each part gets `--exit-on-stdin-close` and a pipe on its stdin, so it stops when the
//! bench stops, however the bench stops. Logs land in `target/bench/<namespace>/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

use crate::plan::Places;

/// The parts, by binary name, in the order they start.
pub const PARTS: [&str; 3] = ["mist-api", "mist-dispatcher", "mist-agent"];

/// How long the parts get to stop after their stdin closes before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

pub struct Mist {
    pub namespace: String,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `target/bench/<namespace>`
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    bin_dir: PathBuf,
    children: Vec<(&'static str, Child)>,
}

impl Mist {
    /// Starts the API, then the dispatcher and one agent, and waits until the agent has
    /// registered. `history_room` keeps retention from trimming the history scenario 6
    /// writes while it is measured.
    pub async fn start(places: &Places, namespace: &str, history_room: u64) -> anyhow::Result<Mist> {
        for part in PARTS {
            let path = places.bin_dir.join(part);
            anyhow::ensure!(path.exists(), "{} is missing: build first (cargo build --release --bins)", path.display());
        }
        let dir = places.work_root.join(namespace);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let env = environment(places, namespace, &dir, port, &base, history_room);
        let mut mist = Mist { namespace: namespace.to_string(), base, dir, env, bin_dir: places.bin_dir.clone(), children: Vec::new() };
        mist.spawn("mist-api")?;
        mist.wait_until("the API answers", Duration::from_secs(30), |status| status.is_some()).await?;
        mist.spawn("mist-dispatcher")?;
        mist.spawn("mist-agent")?;
        mist.wait_until("the agent registers", Duration::from_secs(90), |status| status.is_some_and(|s| s["agents"].as_u64() == Some(1))).await?;
        Ok(mist)
    }

    fn spawn(&mut self, part: &'static str) -> anyhow::Result<()> {
        let log_path = self.dir.join(format!("{part}.log"));
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(self.bin_dir.join(part))
            .arg("--exit-on-stdin-close")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {part}"))?;
        self.children.push((part, child));
        Ok(())
    }

    /// The process id of each part that runs.
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        self.children.iter().filter_map(|(part, child)| child.id().map(|pid| (*part, pid))).collect()
    }

    /// The last `lines` of a part's log, for error messages.
    pub fn log_tail(&self, part: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{part}.log"))).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Log lines at WARN or ERROR of every part, for the report.
    pub fn complaints(&self, limit: usize) -> Vec<String> {
        let mut found = Vec::new();
        for part in PARTS {
            let text = std::fs::read_to_string(self.dir.join(format!("{part}.log"))).unwrap_or_default();
            // `<time> <LEVEL> <target>: …`: the level is the second field (the logs are plain, NO_COLOR).
            found.extend(
                text.lines().filter(|line| matches!(line.split_whitespace().nth(1), Some("WARN" | "ERROR"))).map(|line| format!("{part}: {line}")),
            );
        }
        let total = found.len();
        found.truncate(limit);
        if total > limit {
            found.push(format!("… and {} more", total - limit));
        }
        found
    }

    async fn wait_until(&self, what: &str, limit: Duration, ready: impl Fn(Option<&serde_json::Value>) -> bool) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            let status = match client.get(format!("{}/v2/api/status", self.base)).send().await {
                Ok(response) => response.json::<serde_json::Value>().await.ok(),
                Err(_) => None,
            };
            if ready(status.as_ref()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "timed out after {limit:?} waiting until {what} (logs in {}):\n{}\n{}",
                    self.dir.display(),
                    self.log_tail("mist-api", 10),
                    self.log_tail("mist-agent", 10)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Closes every part's stdin (each stops cleanly; the agent stops its workers), waits,
    /// and kills whatever is still there after the grace period. Returns what had to be killed.
    pub async fn stop(mut self) -> Vec<String> {
        for (_, child) in &mut self.children {
            drop(child.stdin.take());
        }
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        let mut killed = Vec::new();
        for (part, child) in &mut self.children {
            if tokio::time::timeout_at(deadline, child.wait()).await.is_err() {
                let _ = child.kill().await;
                killed.push(part.to_string());
            }
        }
        killed
    }
}

/// The configuration of every part, as `MIST__…` variables.
fn environment(places: &Places, namespace: &str, dir: &Path, port: u16, base: &str, history_room: u64) -> Vec<(String, String)> {
    let short = namespace.rsplit('-').next().unwrap_or(namespace);
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    [
        ("MIST__NAMESPACE", namespace.to_string()),
        ("MIST__HTTP__HOST", "127.0.0.1".to_string()),
        ("MIST__HTTP__PORT", port.to_string()),
        ("MIST__REDIS__URL", places.redis_url.clone()),
        ("MIST__AMQP__URL", places.amqp_url.clone()),
        ("MIST__AMQP__EXPIRE_UNUSED", "120s".to_string()),
        ("MIST__PYTHON__BIN", places.python.clone()),
        ("MIST__ARTIFACTS__DIR", path(dir.join("artifacts"))),
        ("MIST__AGENT__API_URL", base.to_string()),
        ("MIST__AGENT__WORK_DIR", path(dir.join("agent"))),
        ("MIST__AGENT__ID", format!("bench-{short}")),
        // The default (1,000,000) would start trimming the history while it is measured.
        ("MIST__JOBS__RETENTION_MAX_COUNT", (1_000_000 + 2 * history_room).to_string()),
        ("MIST__LOG__LEVEL", places.log_level.clone()),
        ("SPARK_LOCAL_IP", "127.0.0.1".to_string()),
        // Plain log files, so they can be searched for warnings.
        ("NO_COLOR", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Processes whose command line mentions `needle` (the run's folder): workers the agent
/// should have stopped. Read from `/proc`, so nothing else is needed.
pub fn processes_mentioning(needle: &str) -> Vec<(u32, String)> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(needle).then(|| (pid, line.chars().take(160).collect()))
        })
        .collect()
}
