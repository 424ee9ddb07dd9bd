//! The dispatcher's picture of the world: agents, workers, and the jobs waiting or running,
//! per context. Only the scheduler changes it; it is rebuilt from Redis at start.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use mist_common::model::context::{ContextConfig, WorkerMode};
use mist_common::model::messages::JobRequest;
use mist_common::model::worker::AgentInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    Starting,
    Ready,
    /// Asked to stop; takes no new jobs.
    Stopping,
}

#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub context: String,
    /// The settings it was started with.
    pub config: Arc<ContextConfig>,
    pub agent_id: String,
    pub state: WorkerState,
    pub running: BTreeSet<String>,
    /// Since when a shared worker has had nothing to do.
    pub idle_since: Option<Instant>,
    /// The one job an exclusive worker was started for.
    pub exclusive_job: Option<String>,
    /// Its context is gone: it takes no new jobs and stops once its running jobs end.
    pub retiring: bool,
    /// When the dispatcher asked for it (or learnt of it).
    pub created: Instant,
}

impl Worker {
    pub fn is_exclusive(&self) -> bool {
        self.config.worker_mode == WorkerMode::Exclusive
    }
}

/// The jobs of one context that wait for a slot, oldest first, and the context's latest
/// settings.
#[derive(Debug, Clone)]
pub struct ContextQueue {
    pub config: Arc<ContextConfig>,
    pub pending: VecDeque<String>,
    /// Worker starts that failed in a row.
    pub failed_starts: u32,
    /// Set once `maxConnFailures` starts failed in a row: the message jobs fail with.
    pub broken: Option<String>,
}

impl ContextQueue {
    pub fn new(config: Arc<ContextConfig>) -> Self {
        Self { config, pending: VecDeque::new(), failed_starts: 0, broken: None }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub request: JobRequest,
    /// Set once the job was sent to a worker.
    pub worker: Option<String>,
    /// When its command was last sent: a job still `queued` long after is sent again,
    /// in case the command was lost (see `reconcile`).
    pub sent_at: Option<Instant>,
    /// When its cancel was last sent: a job still `cancelling` long after is cancelled
    /// again, in case the command was lost.
    pub cancel_sent_at: Option<Instant>,
}

impl Job {
    pub fn waiting(request: JobRequest) -> Self {
        Self { request, worker: None, sent_at: None, cancel_sent_at: None }
    }
}

#[derive(Debug, Default)]
pub struct Model {
    pub agents: BTreeMap<String, AgentInfo>,
    pub workers: HashMap<String, Worker>,
    pub contexts: BTreeMap<String, ContextQueue>,
    /// Boxed: a backlog of waiting jobs grows the table by a pointer per job, not by a
    /// whole request (and its load-factor slack).
    pub jobs: HashMap<String, Box<Job>>,
    /// Makes worker ids unique across dispatcher restarts.
    pub instance: String,
    pub worker_seq: u64,
}

impl Model {
    pub fn new(instance: &str) -> Self {
        Self { instance: instance.to_string(), ..Default::default() }
    }

    pub fn new_worker_id(&mut self, context: &str, requested: Option<&str>) -> String {
        self.worker_seq += 1;
        match requested {
            Some(wanted) => format!("{context}-{wanted}-{}{}", self.instance, self.worker_seq),
            None => format!("{context}-{}{}", self.instance, self.worker_seq),
        }
    }

    /// Gives back the job table's room once a backlog has drained.
    pub fn compact(&mut self) {
        if self.jobs.capacity() > 4096 && self.jobs.len() < self.jobs.capacity() / 4 {
            self.jobs.shrink_to_fit();
        }
    }

    /// Workers an agent runs (stopping ones included: they still hold a driver).
    pub fn load_of(&self, agent_id: &str) -> usize {
        self.workers.values().filter(|w| w.agent_id == agent_id).count()
    }

    /// The least loaded agent with room for one more worker.
    pub fn pick_agent(&self) -> Option<String> {
        self.agents
            .values()
            .map(|a| (self.load_of(&a.agent_id), a))
            .filter(|(load, a)| (*load as u32) < a.capacity)
            .min_by_key(|(load, a)| (*load, a.agent_id.clone()))
            .map(|(_, a)| a.agent_id.clone())
    }

    pub fn workers_of<'a>(&'a self, context: &'a str) -> impl Iterator<Item = &'a Worker> + 'a {
        self.workers.values().filter(move |w| w.context == context)
    }
}
