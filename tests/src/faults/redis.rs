//! A Redis of the test's own: `redis-server` on a free port of 127.0.0.1 with its data in
//! a temporary folder, writing every command to its append-only file before answering
//! (`appendfsync always`), so what it acknowledged survives a `SIGKILL`.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::child::{ServerProcess, Slot};

/// A fresh or AOF-reloading Redis answers within milliseconds; this is for a loaded machine.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// A graceful `SHUTDOWN` (on `SIGTERM`) only has to flush the AOF.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// One readiness probe; a frozen server must not hold the wait past its deadline.
const PROBE_LIMIT: Duration = Duration::from_secs(2);

pub struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    process: Slot,
}

impl PrivateRedis {
    /// Starts a fresh, empty Redis and waits until it answers.
    pub async fn start() -> PrivateRedis {
        let dir = tempfile::Builder::new().prefix("mist-redis-").tempdir().expect("a temporary folder for Redis");
        let port = super::free_ports(1)[0];
        let redis = PrivateRedis { port, dir, process: Slot::default() };
        redis.launch().await;
        redis
    }

    /// `redis://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `redis-server` process, while it runs (for `process::sigstop` and the like).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The data folder (`appendonlydir/` inside) and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// The process is alive (it may be frozen, or still loading).
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// `SIGKILL`, as a crash or the OOM killer would; returns once the process is gone.
    pub fn kill(&self) {
        self.process.kill();
    }

    /// `SIGTERM`: Redis flushes its AOF and exits. Panics if it does not within the limit.
    pub async fn stop(&self) {
        let graceful = self.process.terminate(STOP_LIMIT).await;
        assert!(graceful, "Redis on port {} did not stop within {STOP_LIMIT:?}; killed:\n{}", self.port, self.log_tail(20));
    }

    /// Starts it again, after `kill` or `stop`, on the same port and folder: it reloads its
    /// AOF, and this returns once loading is done.
    pub async fn restart(&self) {
        assert!(!self.is_running(), "Redis on port {} is still running: kill() or stop() it first", self.port);
        self.launch().await;
    }

    pub fn log_tail(&self, lines: usize) -> String {
        super::log_tail(&self.log_path(), lines)
    }

    async fn launch(&self) {
        let log = OpenOptions::new().create(true).append(true).open(self.log_path()).expect("a Redis log file");
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .args(["--daemonize", "no", "--logfile", ""])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a Redis log file handle"))
            .stderr(log);
        let process = ServerProcess::spawn(&mut command).unwrap_or_else(|e| panic!("cannot start redis-server: {e}"));
        self.process.set(process);
        self.wait_ready().await;
    }

    /// Until it answers `PING` and `INFO persistence` says `loading:0`.
    async fn wait_ready(&self) {
        let (what, url) = (format!("Redis on port {}", self.port), self.url());
        self.process.wait_ready(&what, READY_LIMIT, Duration::from_millis(20), &self.log_path(), || answers(&url)).await
    }
}

impl Drop for PrivateRedis {
    /// Killed before its folder is removed.
    fn drop(&mut self) {
        self.process.kill();
    }
}

async fn answers(url: &str) -> bool {
    let probe = async {
        let client = redis::Client::open(url).ok()?;
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        let pong: String = redis::cmd("PING").query_async(&mut connection).await.ok()?;
        let info: String = redis::cmd("INFO").arg("persistence").query_async(&mut connection).await.ok()?;
        Some(pong == "PONG" && info.lines().any(|line| line.trim() == "loading:0"))
    };
    matches!(tokio::time::timeout(PROBE_LIMIT, probe).await, Ok(Some(true)))
}
