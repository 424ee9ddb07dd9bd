//! A RabbitMQ node of the test's own, next to the machine's: the Debian package's
//! `rabbitmq-server` run as a child process with its own node name, AMQP and distribution
//! ports, and its data, logs and configuration in a temporary folder, no plugins.
//!
//! Nothing of the machine's node is shared but `epmd` (one per machine: the node registers
//! its name there and the registration ends with the process) and the Erlang cookie, copied
//! into the node's own `HOME`, so the machine's `rabbitmqctl -n <node>` reaches it too.
//!
//! A confirmed persistent message in a durable queue survives `kill`. A queue *declared*
//! milliseconds before a `kill` was, a few times, gone after the restart (the definition is
//! in Mnesia, not in the message store): a test that means to lose only messages lets its
//! topology settle first (a `stop` and `restart` does it).

use std::fs::OpenOptions;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

use super::child::{ServerProcess, Slot};

/// The start script in the package's own folder: the one in `/usr/sbin` switches to the
/// `rabbitmq` user, whose `HOME` and files are the machine node's.
const SERVER_SCRIPT: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL_SCRIPT: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const MACHINE_COOKIE: &str = "/var/lib/rabbitmq/.erlang.cookie";
/// Measured on a two-core machine busy compiling: a first boot 5-27 s, a restart 3-25 s
/// (48 s with the CPUs saturated on purpose).
const READY_LIMIT: Duration = Duration::from_secs(120);
/// A graceful stop takes a second or two; closing many queues may take longer.
const STOP_LIMIT: Duration = Duration::from_secs(60);
/// One AMQP probe; a frozen node must not hold the wait past its deadline.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

pub struct PrivateRabbit {
    node: String,
    port: u16,
    dist_port: u16,
    dir: tempfile::TempDir,
    process: Slot,
}

impl PrivateRabbit {
    /// Starts a fresh node (one vhost `/`, user guest/guest from 127.0.0.1) and waits until
    /// it accepts an AMQP connection.
    pub async fn start() -> PrivateRabbit {
        let dir = tempfile::Builder::new().prefix("mist-rabbit-").tempdir().expect("a temporary folder for RabbitMQ");
        let ports = super::free_ports(2);
        let node = format!("mist-test-{}@localhost", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let rabbit = PrivateRabbit { node, port: ports[0], dist_port: ports[1], dir, process: Slot::default() };
        rabbit.write_files();
        rabbit.launch().await;
        rabbit
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mist-test-<8 hex>@localhost`
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The node's `beam.smp`, while it runs (for `process::sigstop` and the like).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The node's own log (the console output is in `rabbitmq.out` next to `log/`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log").join(format!("{}.log", self.node))
    }

    /// The process is alive (it may be frozen, or still booting).
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// `SIGKILL` to the node and everything under it; returns once all of it is gone.
    pub fn kill(&self) {
        self.process.kill();
    }

    /// `SIGTERM`: the node stops gracefully, as `rabbitmqctl stop` would. Panics if it does
    /// not within the limit (it is killed then).
    pub async fn stop(&self) {
        let graceful = self.process.terminate(STOP_LIMIT).await;
        assert!(graceful, "RabbitMQ {} did not stop within {STOP_LIMIT:?}; killed:\n{}", self.node, self.log_tail(30));
    }

    /// Starts it again, after `kill` or `stop`, with the same name, ports and data, so
    /// durable queues and their persistent messages are back; returns once it accepts AMQP.
    pub async fn restart(&self) {
        assert!(!self.is_running(), "RabbitMQ {} is still running: kill() or stop() it first", self.node);
        self.launch().await;
    }

    /// Runs `rabbitmqctl -n <node> <args>` (e.g. `list_queues name messages`).
    pub async fn rabbitmqctl(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(CTL_SCRIPT)
            .env_clear()
            .envs(self.environment())
            .args(["-n", &self.node])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run {CTL_SCRIPT}: {e}"))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let node_log = super::log_tail(&self.log_path(), lines);
        let console = super::log_tail(&self.dir.path().join("rabbitmq.out"), lines);
        format!("{node_log}\n--- console ---\n{console}")
    }

    /// The configuration, the (empty) plugin list, and a `HOME` holding the cookie.
    fn write_files(&self) {
        let dir = self.dir.path();
        for sub in ["home", "mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).expect("a RabbitMQ folder");
        }
        let config = format!(
            "# A private node for fault-injection tests.\n\
             listeners.tcp.default = 127.0.0.1:{}\n\
             loopback_users.guest = true\n",
            self.port
        );
        std::fs::write(dir.join("rabbitmq.conf"), config).expect("rabbitmq.conf written");
        std::fs::write(dir.join("enabled_plugins"), "[].\n").expect("enabled_plugins written");
        // Read instead of /etc/rabbitmq/rabbitmq-env.conf, which names the machine's node.
        std::fs::write(dir.join("rabbitmq-env.conf"), "# Everything is set in the environment.\n").expect("env file written");
        let cookie_path = dir.join("home").join(".erlang.cookie");
        // Any cookie works for the node alone; the machine's lets its tools reach it too.
        let cookie =
            std::fs::read_to_string(MACHINE_COOKIE).unwrap_or_else(|_| uuid::Uuid::new_v4().simple().to_string().to_uppercase());
        std::fs::write(&cookie_path, cookie.trim()).expect("the Erlang cookie written");
        // Erlang refuses a cookie file others can read.
        std::fs::set_permissions(&cookie_path, std::fs::Permissions::from_mode(0o400)).expect("cookie permissions");
    }

    /// The whole environment of the node and of `rabbitmqctl` (nothing is inherited).
    fn environment(&self) -> Vec<(&'static str, String)> {
        let dir = self.dir.path().to_string_lossy().to_string();
        vec![
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()),
            ("LANG", "C.UTF-8".into()),
            ("LC_ALL", "C.UTF-8".into()),
            // Erlang reads the cookie from $HOME/.erlang.cookie.
            ("HOME", format!("{dir}/home")),
            ("RABBITMQ_NODENAME", self.node.clone()),
            ("RABBITMQ_DIST_PORT", self.dist_port.to_string()),
            ("RABBITMQ_MNESIA_BASE", format!("{dir}/mnesia")),
            ("RABBITMQ_LOG_BASE", format!("{dir}/log")),
            ("RABBITMQ_CONFIG_FILE", format!("{dir}/rabbitmq.conf")),
            ("RABBITMQ_ADVANCED_CONFIG_FILE", format!("{dir}/advanced.config")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", format!("{dir}/enabled_plugins")),
            ("RABBITMQ_CONF_ENV_FILE", format!("{dir}/rabbitmq-env.conf")),
            // epmd, if the node has to start it, listens where the machine's does.
            ("ERL_EPMD_ADDRESS", "127.0.0.1".into()),
        ]
    }

    async fn launch(&self) {
        let dir = self.dir.path();
        let log = OpenOptions::new().create(true).append(true).open(dir.join("rabbitmq.out")).expect("a RabbitMQ log file");
        let mut command = Command::new(SERVER_SCRIPT);
        command
            .env_clear()
            .envs(self.environment())
            // With input allowed the script `exec`s the VM instead of waiting on it in a
            // shell, so our child is the node's `beam.smp` itself. Input is then turned off
            // again (`-noinput`), and the VM ignores SIGINT (`+B i`) as it does by default;
            // SIGTERM still stops it gracefully.
            .env("RABBITMQ_ALLOW_INPUT", "true")
            .env("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-noinput +B i -kernel inet_dist_use_interface {127,0,0,1}")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a RabbitMQ log file handle"))
            .stderr(log);
        let process = ServerProcess::spawn(&mut command).unwrap_or_else(|e| panic!("cannot start {SERVER_SCRIPT}: {e}"));
        self.process.set(process);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let (what, url) = (format!("RabbitMQ {}", self.node), self.url());
        self.process.wait_ready(&what, READY_LIMIT, Duration::from_millis(100), &self.log_path(), || accepts_amqp(&url)).await
    }
}

impl Drop for PrivateRabbit {
    /// Killed before its folder is removed.
    fn drop(&mut self) {
        self.process.kill();
    }
}

async fn accepts_amqp(url: &str) -> bool {
    let properties = ConnectionProperties::default().with_connection_name("mist-fault-probe".into());
    match tokio::time::timeout(PROBE_LIMIT, Connection::connect(url, properties)).await {
        Ok(Ok(connection)) => {
            let _ = tokio::time::timeout(PROBE_LIMIT, connection.close(200, "ready".into())).await;
            true
        }
        _ => false,
    }
}
