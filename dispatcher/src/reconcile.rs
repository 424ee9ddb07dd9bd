//! Checking the model against Redis every few seconds, so no lost message — a request
//! that never reached the broker, an end event or a notice dropped while RabbitMQ was
//! away — can leave a job waiting or a slot taken forever. What it finds goes to the
//! scheduler as ordinary inputs; seeing something twice is harmless there.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use mist_common::model::job::JobStatus;
use mist_common::model::messages::Notice;
use mist_common::model::worker::WorkerStatus;
use mist_common::store::Store;
use tokio::sync::mpsc;

use crate::model::{Model, WorkerState};
use crate::scheduler::Input;

/// What the model believes, taken in the control loop for a check outside it.
pub struct Snapshot {
    jobs: HashSet<String>,
    /// Jobs sent to a worker.
    assigned: Vec<String>,
    /// Jobs sent to a worker longer than `settle` ago (they should have started by now).
    sent_long_ago: HashSet<String>,
    /// Jobs whose cancel was sent less than `settle` ago (it may still be on its way).
    cancels_on_their_way: HashSet<String>,
    /// How old a queued job, a command, or a worker Redis does not know must be before it
    /// is acted on: younger ones may simply be on their way (`dispatcher.settle`).
    settle: Duration,
    /// Worker id → agent id, of workers old enough to be in Redis.
    settled_workers: HashMap<String, String>,
    agents: HashSet<String>,
    /// Workers the model still waits for.
    starting: HashSet<String>,
}

impl Snapshot {
    pub fn of(model: &Model, settle: Duration) -> Self {
        let now = Instant::now();
        let settled = |since: Instant| now.saturating_duration_since(since) > settle;
        Self {
            jobs: model.jobs.keys().cloned().collect(),
            assigned: model.jobs.iter().filter(|(_, j)| j.worker.is_some()).map(|(id, _)| id.clone()).collect(),
            sent_long_ago: model.jobs.iter().filter(|(_, j)| j.sent_at.is_some_and(settled)).map(|(id, _)| id.clone()).collect(),
            cancels_on_their_way: model
                .jobs
                .iter()
                .filter(|(_, j)| j.cancel_sent_at.is_some_and(|at| !settled(at)))
                .map(|(id, _)| id.clone())
                .collect(),
            settle,
            settled_workers: model
                .workers
                .values()
                .filter(|w| settled(w.created))
                .map(|w| (w.id.clone(), w.agent_id.clone()))
                .collect(),
            agents: model.agents.keys().cloned().collect(),
            starting: model.workers.values().filter(|w| w.state == WorkerState::Starting).map(|w| w.id.clone()).collect(),
        }
    }
}

pub async fn reconcile(store: Store, snapshot: Snapshot, inputs: mpsc::Sender<Input>) {
    if let Err(err) = check(&store, snapshot, &inputs).await {
        tracing::warn!(error = %err, "cannot check the model against Redis");
    }
}

async fn check(store: &Store, snapshot: Snapshot, inputs: &mpsc::Sender<Input>) -> anyhow::Result<()> {
    let mut found = Vec::new();
    // Agents registered while their notice was lost.
    for agent in store.list_agents().await? {
        if !snapshot.agents.contains(&agent.agent_id) {
            found.push(Input::Notice(Notice::AgentUp { agent }));
        }
    }
    // Jobs that ended while their end event was lost, and jobs whose command or cancel was
    // lost.
    for id in &snapshot.assigned {
        match store.get_job(id).await? {
            None => found.push(Input::JobEnded { job_id: id.clone() }),
            Some(job) if job.status.is_done() => found.push(Input::JobEnded { job_id: id.clone() }),
            Some(job) if job.status == JobStatus::Queued && snapshot.sent_long_ago.contains(id) => {
                tracing::warn!(job.id = %id, "a job sent to its worker has not started; sending it again");
                found.push(Input::NotStarted { job_id: id.clone() });
            }
            Some(job) if job.status == JobStatus::Cancelling && !snapshot.cancels_on_their_way.contains(id) => {
                tracing::warn!(job.id = %id, "a cancelled job is still running; cancelling it again");
                found.push(Input::Cancelling { job_id: id.clone() });
            }
            Some(_) => {}
        }
    }
    // Workers that are gone from Redis: stopped while their notice was lost, or never
    // started because the command was lost.
    let records = store.list_workers().await?;
    // Workers that came up while their notice was lost.
    for record in records.iter().filter(|r| r.link.status == WorkerStatus::Ready && snapshot.starting.contains(&r.link.name)) {
        found.push(Input::Notice(Notice::WorkerReady { worker_id: record.link.name.clone(), agent_id: record.link.agent_id.clone() }));
    }
    let live: HashSet<String> = records.into_iter().map(|w| w.link.name).collect();
    for (worker_id, agent_id) in snapshot.settled_workers {
        if !live.contains(&worker_id) {
            let error = Some(format!("worker {worker_id} is gone"));
            found.push(Input::Notice(Notice::WorkerStopped { worker_id, agent_id, error, lost_jobs: None }));
        }
    }
    // Queued jobs whose request never reached the broker (an API killed in between).
    let cutoff = mist_common::time::now_millis() - snapshot.settle.as_millis() as i64;
    for id in store.job_ids_in_status_before(JobStatus::Queued, cutoff).await? {
        if !snapshot.jobs.contains(&id) {
            if let Some(request) = store.get_job_request(&id).await? {
                tracing::warn!(job.id = %id, "adopting a queued job whose request never arrived");
                found.push(Input::Request(request));
            }
        }
    }
    for input in found {
        if inputs.send(input).await.is_err() {
            break;
        }
    }
    Ok(())
}
