//! The agent's one control loop: it owns the workers of this host and turns every input —
//! a command from the dispatcher, a line from a worker, a process exit, a timer — into
//! process actions and reports. Slow work (fetching artifacts, writing Redis) runs in
//! spawned tasks that report back as inputs, so the loop never waits on the network for
//! long.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mist_common::config::Settings;
use mist_common::duration::MistDuration;
use mist_common::joblog::Level;
use mist_common::model::context::ContextConfig;
use mist_common::model::messages::{AgentCommand, ArtifactRef, Notice};
use mist_common::model::worker::{AgentInfo, WorkerLink, WorkerStatus};
use mist_common::store::workers::WorkerRecord;
use mist_common::time::now_millis;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::artifacts::ArtifactCache;
use crate::process::{kill_group, spawn, Tail};
use crate::protocol::{FromWorker, ToWorker};
use crate::report::{End, Ending, Report, ReportQueue, Reporter};
use crate::spark::{submit_arguments, WorkerLaunch};

/// How long a worker asked to stop may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);
/// Output lines quoted when a worker fails.
const QUOTED_LINES: usize = 12;

/// A job as the dispatcher sends it.
struct JobToRun {
    job_id: String,
    endpoint: String,
    artifact: ArtifactRef,
    class_name: String,
    arguments: Map<String, Value>,
    perform_timeout: Option<Duration>,
    retry_on_error: bool,
    attempt: u32,
}

/// Everything the loop hears about.
#[derive(Debug)]
pub enum Input {
    Command(AgentCommand),
    WorkerHello { worker_id: String, spark_version: Option<String>, spark_ui: Option<String>, to_worker: mpsc::UnboundedSender<String> },
    FromWorker { worker_id: String, message: FromWorker },
    WorkerDisconnected { worker_id: String },
    WorkerOutput { worker_id: String, line: String },
    WorkerExited { worker_id: String, status: String },
    /// A job could not be started (canceled meanwhile, say): its slot is free.
    JobRefused { worker_id: String, job_id: String },
    StartTimedOut { worker_id: String },
    CancelGraceOver { worker_id: String, job_id: String },
    /// The job's `performTimeout` is over.
    PerformTimeout { worker_id: String, job_id: String, limit: Duration },
    StopGraceOver { worker_id: String },
    FlushLogs,
    /// The dispatcher declared this agent lost (it missed its heartbeats): its jobs have
    /// failed, so its workers must go before it registers anew.
    Evicted,
}

/// What every task of the agent shares.
pub struct Shared {
    pub settings: Arc<Settings>,
    pub agent_id: String,
    pub host: String,
    pub reporter: Reporter,
    pub artifacts: ArtifactCache,
    pub runtime_dir: PathBuf,
    /// `agent.work_dir`, made absolute.
    pub work_dir: PathBuf,
    pub spark_submit: PathBuf,
    pub port: u16,
    pub inputs: mpsc::Sender<Input>,
    /// Writes about jobs, in order per job.
    pub reports: ReportQueue,
    /// What the agent registers as; its `start_time` changes when it registers anew after
    /// being declared lost (a new life), and the connection keeper announces the current one.
    pub info: CurrentInfo,
}

/// The agent's registration, shared by its loop and its connection keeper.
#[derive(Clone)]
pub struct CurrentInfo(std::sync::Arc<std::sync::Mutex<AgentInfo>>);

impl CurrentInfo {
    pub fn new(info: AgentInfo) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(info)))
    }

    pub fn get(&self) -> AgentInfo {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Starts a new life: a new start time, so the dispatcher writes off the old one's workers.
    fn renew(&self) -> AgentInfo {
        let mut info = self.0.lock().unwrap_or_else(|p| p.into_inner());
        info.start_time = now_millis().max(info.start_time + 1);
        info.clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starting,
    Ready,
    Stopping,
}

struct RunningJob {
    endpoint: String,
    logs: Vec<(Level, i64, String)>,
    /// How the job ends whatever the worker says, once decided here (timed out, or its
    /// worker killed for ignoring a cancel).
    verdict: Option<Ending>,
    /// A failure of its own code goes to the dispatcher, which retries it.
    retry_on_error: bool,
    attempt: u32,
    /// When the worker began running it (its `started` message), for the end line's "after".
    began: Option<i64>,
}

struct WorkerHandle {
    record: WorkerRecord,
    phase: Phase,
    pgid: i32,
    tail: Tail,
    to_worker: Option<mpsc::UnboundedSender<String>>,
    jobs: HashMap<String, RunningJob>,
    /// Why it is being stopped: what jobs still running on it fail with.
    stop_reason: Option<String>,
    start_timed_out: bool,
}

impl WorkerHandle {
    fn send(&self, message: &ToWorker) {
        if let Some(to_worker) = &self.to_worker {
            let _ = to_worker.send(message.to_line());
        }
    }
}

pub struct Agent {
    shared: Arc<Shared>,
    workers: HashMap<String, WorkerHandle>,
}

impl Agent {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared, workers: HashMap::new() }
    }

    pub fn has_workers(&self) -> bool {
        !self.workers.is_empty()
    }

    pub async fn handle(&mut self, input: Input) {
        match input {
            Input::Command(command) => self.command(command).await,
            Input::WorkerHello { worker_id, spark_ui, to_worker, .. } => self.hello(&worker_id, spark_ui, to_worker).await,
            Input::FromWorker { worker_id, message } => self.from_worker(&worker_id, message),
            Input::WorkerDisconnected { worker_id } => tracing::debug!(worker.id = %worker_id, "worker disconnected"),
            Input::WorkerOutput { worker_id, line } => self.output(&worker_id, line),
            Input::WorkerExited { worker_id, status } => self.exited(&worker_id, &status).await,
            Input::JobRefused { worker_id, job_id } => {
                if let Some(worker) = self.workers.get_mut(&worker_id) {
                    worker.jobs.remove(&job_id);
                }
                self.notify(Notice::JobRefused { job_id, worker_id });
            }
            Input::StartTimedOut { worker_id } => {
                if let Some(worker) = self.workers.get_mut(&worker_id).filter(|w| w.phase == Phase::Starting) {
                    worker.start_timed_out = true;
                    kill_group(worker.pgid);
                }
            }
            Input::CancelGraceOver { worker_id, job_id } => self.cancel_grace_over(&worker_id, &job_id),
            Input::PerformTimeout { worker_id, job_id, limit } => self.perform_timeout(&worker_id, &job_id, limit),
            Input::StopGraceOver { worker_id } => {
                if let Some(worker) = self.workers.get(&worker_id) {
                    tracing::warn!(worker.id = %worker_id, "worker did not stop in time; killing it");
                    kill_group(worker.pgid);
                }
            }
            Input::FlushLogs => self.flush_logs(),
            Input::Evicted => self.evicted().await,
        }
    }

    async fn command(&mut self, command: AgentCommand) {
        match command {
            AgentCommand::StartWorker { worker_id, context } => self.start_worker(worker_id, context).await,
            AgentCommand::RunJob { job_id, worker_id, endpoint, artifact, class_name, arguments, perform_timeout_ms, retry_on_error, attempt } => {
                let perform_timeout = perform_timeout_ms.map(Duration::from_millis);
                let job = JobToRun { job_id, endpoint, artifact, class_name, arguments, perform_timeout, retry_on_error, attempt };
                self.run_job(worker_id, job)
            }
            AgentCommand::CancelJob { job_id, worker_id } => self.cancel(&worker_id, &job_id),
            AgentCommand::StopWorker { worker_id, reason } => self.stop_worker(&worker_id, reason).await,
        }
    }

    async fn start_worker(&mut self, worker_id: String, context: ContextConfig) {
        let shared = self.shared.clone();
        let launch = WorkerLaunch { worker_id: &worker_id, context: &context, runtime_dir: &shared.runtime_dir, agent_port: shared.port };
        let dir = shared.work_dir.join("workers").join(&worker_id);
        let spawned = submit_arguments(&launch).map_err(|e| format!("runOptions of context {}: {e}", context.name)).and_then(|args| {
            spawn(&worker_id, &shared.spark_submit, &args, &dir, &shared.settings.python.bin, shared.inputs.clone())
                .map_err(|e| format!("cannot run {}: {e}", shared.spark_submit.display()))
        });
        let spawned = match spawned {
            Ok(spawned) => spawned,
            Err(error) => {
                let error = format!("worker {worker_id} could not start: {error}");
                return self.notify(Notice::WorkerFailed { worker_id, agent_id: shared.agent_id.clone(), error });
            }
        };
        tracing::info!(worker.id = %worker_id, context = %context.name, "worker starting");
        let record = WorkerRecord {
            link: WorkerLink {
                name: worker_id.clone(),
                address: shared.host.clone(),
                spark_ui: None,
                context: context.name.clone(),
                mode: context.worker_mode,
                agent_id: shared.agent_id.clone(),
                status: WorkerStatus::Starting,
                start_time: now_millis(),
            },
            init_info: context,
        };
        self.save(&record).await;
        self.workers.insert(
            worker_id.clone(),
            WorkerHandle {
                record,
                phase: Phase::Starting,
                pgid: spawned.pgid,
                tail: spawned.tail,
                to_worker: None,
                jobs: HashMap::new(),
                stop_reason: None,
                start_timed_out: false,
            },
        );
        let timeout = shared.settings.agent.start_timeout.as_std().unwrap_or(Duration::from_secs(120));
        self.after(timeout, Input::StartTimedOut { worker_id });
    }

    async fn hello(&mut self, worker_id: &str, spark_ui: Option<String>, to_worker: mpsc::UnboundedSender<String>) {
        let Some(worker) = self.workers.get_mut(worker_id) else {
            let _ = to_worker.send(ToWorker::Stop.to_line());
            return;
        };
        worker.to_worker = Some(to_worker);
        if worker.phase == Phase::Stopping {
            worker.send(&ToWorker::Stop);
            return;
        }
        worker.phase = Phase::Ready;
        worker.record.link.status = WorkerStatus::Ready;
        worker.record.link.spark_ui = spark_ui;
        let record = worker.record.clone();
        tracing::info!(worker.id = %worker_id, "worker ready");
        self.save(&record).await;
        self.notify(Notice::WorkerReady { worker_id: worker_id.to_string(), agent_id: self.shared.agent_id.clone() });
    }

    fn run_job(&mut self, worker_id: String, job: JobToRun) {
        let shared = self.shared.clone();
        let JobToRun { job_id, endpoint, artifact, class_name, arguments, perform_timeout, retry_on_error, attempt } = job;
        let Some(worker) = self.workers.get_mut(&worker_id).filter(|w| w.phase == Phase::Ready) else {
            // Not here any more (or never was): the dispatcher retries or fails its jobs.
            let error = Some(format!("worker {worker_id} is not running on agent {}", shared.agent_id));
            let agent_id = shared.agent_id.clone();
            return self.notify(Notice::WorkerStopped { worker_id, agent_id, error, lost_jobs: None });
        };
        if worker.jobs.contains_key(&job_id) {
            // The dispatcher sends a job again when it has not started for a while, in
            // case its command was lost; this one was not.
            return tracing::info!(job.id = %job_id, worker.id = %worker_id, "job already handed to its worker");
        }
        let running = RunningJob { endpoint: endpoint.clone(), logs: Vec::new(), verdict: None, retry_on_error, attempt, began: None };
        worker.jobs.insert(job_id.clone(), running);
        let to_worker = worker.to_worker.clone();
        tokio::spawn(async move {
            let path = match shared.artifacts.path(&artifact).await {
                Ok(path) => path,
                Err(error) => {
                    let failed = FromWorker::Failed { job_id, time: now_millis(), error };
                    let _ = shared.inputs.send(Input::FromWorker { worker_id, message: failed }).await;
                    return;
                }
            };
            if !shared.reporter.started(&job_id, &endpoint, &worker_id, &shared.agent_id).await {
                let _ = shared.inputs.send(Input::JobRefused { worker_id, job_id }).await;
                return;
            }
            let run = ToWorker::Run { job_id: job_id.clone(), file_path: path.to_string_lossy().into_owned(), class_name, arguments };
            if let Some(to_worker) = to_worker {
                let _ = to_worker.send(run.to_line());
            }
            if let Some(limit) = perform_timeout {
                tokio::time::sleep(limit).await;
                let _ = shared.inputs.send(Input::PerformTimeout { worker_id, job_id, limit }).await;
            }
        });
    }

    /// Cancels the job's Spark work; a job still running after the grace period gets its
    /// worker killed.
    fn cancel(&mut self, worker_id: &str, job_id: &str) {
        let Some(worker) = self.workers.get(worker_id) else { return };
        if worker.jobs.contains_key(job_id) {
            worker.send(&ToWorker::Cancel { job_id: job_id.to_string() });
            let grace = self.shared.settings.jobs.cancel_grace.as_std().unwrap_or(Duration::from_secs(30));
            self.after(grace, Input::CancelGraceOver { worker_id: worker_id.to_string(), job_id: job_id.to_string() });
        }
    }

    fn perform_timeout(&mut self, worker_id: &str, job_id: &str, limit: Duration) {
        let Some(job) = self.workers.get_mut(worker_id).and_then(|w| w.jobs.get_mut(job_id)) else { return };
        let limit = MistDuration::Finite(limit);
        tracing::info!(job.id = %job_id, %limit, "job over its performTimeout; cancelling it");
        job.verdict.get_or_insert(Ending::Failed(format!(
            "the job ran longer than {limit} (performTimeout); its Spark work was cancelled"
        )));
        self.cancel(worker_id, job_id);
    }

    fn from_worker(&mut self, worker_id: &str, message: FromWorker) {
        let Some(worker) = self.workers.get_mut(worker_id) else { return };
        let (job_id, ended_at, ending) = match message {
            FromWorker::Log { job_id, level, time, message } => {
                if let Some(job) = worker.jobs.get_mut(&job_id) {
                    job.logs.push((Level::parse(&level), time, message));
                }
                return;
            }
            FromWorker::Hello { .. } => return,
            FromWorker::Started { job_id, time } => {
                tracing::debug!(job.id = %job_id, worker.id = %worker_id, "job running on its worker");
                if let Some(job) = worker.jobs.get_mut(&job_id) {
                    job.began = Some(time);
                }
                return;
            }
            FromWorker::Finished { job_id, time, result } => {
                let size = result.to_string().len() as u64;
                let limit = self.shared.settings.jobs.max_result_bytes;
                let ending = if size > limit {
                    Ending::Failed(format!("the result is {size} bytes of JSON, over the limit of {limit} (jobs.max_result_bytes)"))
                } else {
                    Ending::Finished(result)
                };
                (job_id, time, ending)
            }
            FromWorker::Failed { job_id, time, error } => (job_id, time, Ending::Failed(error)),
            FromWorker::Canceled { job_id, time } => (job_id, time, Ending::Canceled("its Spark work was stopped".into())),
        };
        tracing::debug!(job.id = %job_id, worker.id = %worker_id, "job ended on its worker");
        let Some(mut job) = worker.jobs.remove(&job_id) else { return };
        match (job.verdict.take(), ending) {
            (None, Ending::Failed(error)) if job.retry_on_error => {
                let lines = std::mem::take(&mut job.logs);
                self.shared.reports.send(Report::Logs { job_id: job_id.clone(), endpoint: job.endpoint, lines });
                self.notify(Notice::JobFailed { job_id, worker_id: worker_id.to_string(), error });
            }
            (verdict, ending) => self.report_end(worker_id, job_id, job, verdict.unwrap_or(ending), ended_at),
        }
    }

    /// `ended_at` is when the job stopped running (the worker's end message, or now).
    fn report_end(&self, worker_id: &str, job_id: String, job: RunningJob, ending: Ending, ended_at: i64) {
        let (worker_id, attempt) = (worker_id.to_string(), job.attempt);
        let ran_ms = job.began.map(|began| ended_at - began);
        self.shared.reports.send(Report::End(End { job_id, endpoint: job.endpoint, worker_id, attempt, lines: job.logs, ending, ran_ms }));
    }

    /// Spark's driver output goes to the log of every job running on the worker.
    fn output(&mut self, worker_id: &str, line: String) {
        let Some(worker) = self.workers.get_mut(worker_id) else { return };
        tracing::debug!(worker.id = %worker_id, line = %line, "worker output");
        let level = driver_line_level(&line);
        let now = now_millis();
        for job in worker.jobs.values_mut() {
            job.logs.push((level, now, line.clone()));
        }
    }

    async fn exited(&mut self, worker_id: &str, status: &str) {
        let Some(mut worker) = self.workers.remove(worker_id) else { return };
        let quoted = worker.tail.last(QUOTED_LINES);
        let agent_id = self.shared.agent_id.clone();
        if worker.phase == Phase::Starting {
            let error = if worker.start_timed_out {
                let limit = self.shared.settings.agent.start_timeout;
                format!("worker {worker_id} did not come up within {limit} (agent.start_timeout); its last output:\n{quoted}")
            } else {
                format!("worker {worker_id} exited ({status}) before it came up; its last output:\n{quoted}")
            };
            tracing::warn!(worker.id = %worker_id, %error, "worker failed to start");
            self.stopped(&worker.record).await;
            return self.notify(Notice::WorkerFailed { worker_id: worker_id.to_string(), agent_id, error });
        }
        let died = worker.stop_reason.is_none();
        let reason = worker.stop_reason.clone().unwrap_or_else(|| {
            format!("worker {worker_id} exited unexpectedly ({status}); its last output:\n{quoted}")
        });
        if died {
            tracing::warn!(worker.id = %worker_id, %status, "worker died");
        } else {
            tracing::info!(worker.id = %worker_id, "worker stopped");
        }
        // Jobs of a worker that died are the dispatcher's to retry or fail; the others end here.
        let mut lost_jobs = Vec::new();
        for (job_id, mut job) in std::mem::take(&mut worker.jobs) {
            match job.verdict.take() {
                Some(verdict) => self.report_end(worker_id, job_id, job, verdict, now_millis()),
                None if died => {
                    self.shared.reports.send(Report::Logs { job_id: job_id.clone(), endpoint: job.endpoint, lines: job.logs });
                    lost_jobs.push(job_id);
                }
                None => self.report_end(worker_id, job_id, job, Ending::Failed(reason.clone()), now_millis()),
            }
        }
        self.stopped(&worker.record).await;
        let dir = self.shared.work_dir.join("workers").join(worker_id);
        tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir));
        let error = died.then_some(reason);
        self.notify(Notice::WorkerStopped { worker_id: worker_id.to_string(), agent_id, error, lost_jobs: Some(lost_jobs) });
    }

    async fn stop_worker(&mut self, worker_id: &str, reason: String) {
        let Some(worker) = self.workers.get_mut(worker_id) else {
            // Not here (an earlier life of this agent ran it): let the dispatcher forget it.
            let agent_id = self.shared.agent_id.clone();
            let error = Some(format!("worker {worker_id} is not running on agent {agent_id}"));
            return self.notify(Notice::WorkerStopped { worker_id: worker_id.to_string(), agent_id, error, lost_jobs: None });
        };
        tracing::info!(worker.id = %worker_id, reason = %reason, "stopping worker");
        worker.stop_reason.get_or_insert(reason);
        if worker.phase == Phase::Stopping {
            return;
        }
        let was_starting = worker.phase == Phase::Starting;
        worker.phase = Phase::Stopping;
        worker.record.link.status = WorkerStatus::Stopping;
        if was_starting {
            kill_group(worker.pgid);
        } else {
            worker.send(&ToWorker::Stop);
        }
        let record = worker.record.clone();
        self.save(&record).await;
        self.after(STOP_GRACE, Input::StopGraceOver { worker_id: worker_id.to_string() });
    }

    /// A job ignored its cancel: kill its worker. An exclusive worker served only it; a
    /// shared one is restarted, and its other jobs fail saying why.
    fn cancel_grace_over(&mut self, worker_id: &str, job_id: &str) {
        let grace = self.shared.settings.jobs.cancel_grace;
        let Some(worker) = self.workers.get_mut(worker_id) else { return };
        let Some(job) = worker.jobs.get_mut(job_id) else { return };
        tracing::warn!(worker.id = %worker_id, job.id = %job_id, "job ignored its cancel; killing its worker");
        job.verdict.get_or_insert_with(|| {
            Ending::Canceled(format!("it did not stop within {grace} of its cancel (jobs.cancel_grace), so worker {worker_id} was killed"))
        });
        worker.stop_reason.get_or_insert_with(|| {
            format!("worker {worker_id} was restarted to stop job {job_id}, which did not stop within {grace} of its cancel")
        });
        worker.phase = Phase::Stopping;
        kill_group(worker.pgid);
    }

    fn flush_logs(&mut self) {
        for worker in self.workers.values_mut() {
            for (job_id, job) in worker.jobs.iter_mut().filter(|(_, j)| !j.logs.is_empty()) {
                let lines = std::mem::take(&mut job.logs);
                self.shared.reports.send(Report::Logs { job_id: job_id.clone(), endpoint: job.endpoint.clone(), lines });
            }
        }
    }

    async fn evicted(&mut self) {
        let agent_id = self.shared.agent_id.clone();
        let store = &self.shared.reporter.store;
        // Heartbeats queued before the last re-registration report an eviction already handled.
        if store.agent_heartbeat(&agent_id).await.unwrap_or(false) {
            return;
        }
        tracing::warn!(agent.id = %agent_id, "declared lost by the dispatcher; stopping workers and registering anew");
        for worker in self.workers.values_mut() {
            worker.stop_reason.get_or_insert_with(|| format!("agent {agent_id} was declared lost"));
            worker.phase = Phase::Stopping;
            kill_group(worker.pgid);
        }
        let info = self.shared.info.renew();
        if let Err(err) = store.register_agent(&info).await {
            tracing::error!(error = %err, "cannot register again");
        }
        self.notify(Notice::AgentUp { agent: info });
    }

    /// Stops every worker; their running jobs fail with `reason`.
    pub fn stop_all(&mut self, reason: &str) {
        for worker in self.workers.values_mut() {
            worker.stop_reason.get_or_insert_with(|| reason.to_string());
            worker.phase = Phase::Stopping;
            if worker.to_worker.is_some() {
                worker.send(&ToWorker::Stop);
            } else {
                kill_group(worker.pgid);
            }
        }
    }

    /// Kills whatever is still running.
    pub fn kill_all(&mut self) {
        for worker in self.workers.values() {
            kill_group(worker.pgid);
        }
    }

    async fn save(&self, record: &WorkerRecord) {
        if let Err(err) = self.shared.reporter.store.put_worker(record).await {
            tracing::error!(worker.id = %record.link.name, error = %err, "cannot record a worker");
        }
    }

    async fn stopped(&self, record: &WorkerRecord) {
        if let Err(err) = self.shared.reporter.store.worker_stopped(record).await {
            tracing::error!(worker.id = %record.link.name, error = %err, "cannot record a stopped worker");
        }
    }

    fn notify(&self, notice: Notice) {
        let shared = self.shared.clone();
        tokio::spawn(async move { shared.reporter.notice(&notice).await });
    }

    fn after(&self, delay: Duration, input: Input) {
        let inputs = self.shared.inputs.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = inputs.send(input).await;
        });
    }
}

/// The level of a log4j line like `25/12/04 16:00:00 WARN TaskSetManager: …`.
fn driver_line_level(line: &str) -> Level {
    line.split_whitespace()
        .take(4)
        .find_map(|word| match word {
            "ERROR" | "FATAL" => Some(Level::Error),
            "WARN" => Some(Level::Warn),
            "DEBUG" | "TRACE" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            _ => None,
        })
        .unwrap_or(Level::Info)
}
