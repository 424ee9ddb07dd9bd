//! The worker agent: runs on each Spark host, registers and heartbeats, starts and stops
//! workers (`spark-submit` of the PySpark runtime) on the dispatcher's commands, hands
//! them jobs, and reports every change.

pub mod agent;
pub mod artifacts;
pub mod connections;
pub mod link;
pub mod process;
pub mod protocol;
pub mod report;
pub mod spark;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mist_common::amqp::publish::PublisherSlot;
use mist_common::amqp::topology::Topology;
use mist_common::config::Settings;
use mist_common::model::messages::Notice;
use mist_common::model::worker::AgentInfo;
use mist_common::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agent::{Agent, CurrentInfo, Input, Shared};
use crate::artifacts::ArtifactCache;
use crate::report::{ReportQueue, Reporter};

/// How often buffered job log lines are written.
const LOG_FLUSH: Duration = Duration::from_millis(200);
/// Writer tasks for job reports: jobs are written in parallel, each job's in order.
const REPORT_WRITERS: usize = 8;
/// How long workers get to stop when the agent shuts down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Runs until `shutdown` trips, then stops its workers.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let host_name = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".into());
    let agent_id = non_empty(&settings.agent.id).unwrap_or_else(|| host_name.clone());
    mist_common::names::check_name("agent.id", &agent_id).map_err(anyhow::Error::msg)?;
    let host = non_empty(&settings.agent.host).unwrap_or(host_name);

    let store = Store::new(&settings.redis, &settings.namespace)?;
    store.ping().await.context("Redis (redis.url)")?;
    let topology = Topology::new(&settings.namespace);
    let reporter = Reporter {
        store: store.clone(),
        publisher: PublisherSlot::default(),
        topology: topology.clone(),
        max_log_bytes: settings.jobs.max_log_bytes,
    };

    let work_dir = settings.agent.work_dir.clone();
    std::fs::create_dir_all(&work_dir).with_context(|| format!("agent.work_dir {}", work_dir.display()))?;
    // Absolute, because workers run in folders of their own and get artifact paths from here.
    let work_dir = std::fs::canonicalize(&work_dir)?;
    let runtime = tempfile::Builder::new().prefix("runtime-").tempdir_in(&work_dir)?;
    mist_common::python_runtime::extract(runtime.path())?;
    let spark_submit = spark::find_spark_submit(&settings.agent.spark_submit, &settings.python.bin).await?;
    let spark_version = spark::spark_version(&settings.python.bin).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();

    let info = AgentInfo {
        agent_id: agent_id.clone(),
        host: host.clone(),
        capacity: settings.agent.max_workers,
        spark_version,
        start_time: mist_common::time::now_millis(),
    };
    let (inputs, mut received) = mpsc::channel(4096);
    let shared = Arc::new(Shared {
        settings: settings.clone(),
        agent_id: agent_id.clone(),
        host: host.clone(),
        reporter: reporter.clone(),
        artifacts: ArtifactCache::new(work_dir.join("artifacts"), &settings.agent.api_url)?,
        runtime_dir: runtime.path().to_path_buf(),
        work_dir: work_dir.clone(),
        spark_submit: spark_submit.clone(),
        port,
        inputs: inputs.clone(),
        reports: ReportQueue::start(reporter.clone(), REPORT_WRITERS),
        info: CurrentInfo::new(info.clone()),
    });
    store.register_agent(&info).await?;
    tracing::info!(agent.id = %agent_id, spark_submit = %spark_submit.display(), "agent registered");

    let background = CancellationToken::new();
    tokio::spawn(connections::accept(listener, inputs.clone(), background.clone()));
    tokio::spawn(heartbeat(store.clone(), agent_id.clone(), settings.agent.heartbeat_interval.as_std(), inputs.clone(), background.clone()));
    tokio::spawn(every(LOG_FLUSH, inputs.clone(), background.clone()));
    let link = tokio::spawn(link::stay_connected(settings.clone(), reporter.clone(), shared.info.clone(), inputs.clone(), background.clone()));

    let mut agent = Agent::new(shared);
    loop {
        let input = tokio::select! {
            _ = shutdown.cancelled() => break,
            input = received.recv() => match input { Some(input) => input, None => break },
        };
        agent.handle(input).await;
    }

    tracing::info!("stopping workers");
    background.cancel();
    agent.stop_all(&format!("agent {agent_id} stopped"));
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while agent.has_workers() {
        match tokio::time::timeout_at(deadline, received.recv()).await {
            Ok(Some(input)) => agent.handle(input).await,
            _ => break,
        }
    }
    agent.kill_all();
    store.unregister_agent(&agent_id).await.ok();
    reporter.notice(&Notice::AgentDown { agent_id }).await;
    let _ = link.await;
    Ok(())
}

async fn heartbeat(store: Store, agent_id: String, every: Option<Duration>, inputs: mpsc::Sender<Input>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(every.unwrap_or(Duration::from_secs(2)));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = interval.tick() => match store.agent_heartbeat(&agent_id).await {
                Ok(true) => {}
                Ok(false) => {
                    if inputs.send(Input::Evicted).await.is_err() {
                        return;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "heartbeat not written"),
            },
        }
    }
}

async fn every(period: Duration, inputs: mpsc::Sender<Input>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = interval.tick() => if inputs.send(Input::FlushLogs).await.is_err() { return },
        }
    }
}

fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}
