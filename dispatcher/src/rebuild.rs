//! Rebuilding the model from Redis at start, so a restarted dispatcher picks up where the
//! last one stopped: known agents and workers, running jobs, and the queue in order.

use std::collections::BTreeSet;
use std::time::Instant;

use mist_common::model::context::ContextConfig;
use mist_common::model::job::JobStatus;
use mist_common::model::worker::WorkerStatus;
use mist_common::store::{Store, StoreError};

use crate::model::{ContextQueue, Job, Model, Worker, WorkerState};
use crate::scheduler::Input;

/// Fills `model` with contexts, agents, workers and running jobs; returns the waiting jobs
/// as requests to feed the scheduler, oldest first.
pub async fn rebuild(store: &Store, default: ContextConfig, model: &mut Model) -> Result<Vec<Input>, StoreError> {
    for context in std::iter::once(default).chain(store.list_contexts().await?) {
        let broken = store.context_broken(&context.name).await?;
        let mut queue = ContextQueue::new(context.into());
        queue.broken = broken;
        model.contexts.insert(queue.config.name.clone(), queue);
    }
    for agent in store.list_agents().await? {
        model.agents.insert(agent.agent_id.clone(), agent);
    }
    let now = Instant::now();
    for record in store.list_workers().await? {
        let state = match record.link.status {
            WorkerStatus::Starting => WorkerState::Starting,
            WorkerStatus::Ready => WorkerState::Ready,
            _ => WorkerState::Stopping,
        };
        model.workers.insert(
            record.link.name.clone(),
            Worker {
                id: record.link.name.clone(),
                context: record.link.context.clone(),
                config: record.init_info.clone().into(),
                agent_id: record.link.agent_id.clone(),
                state,
                running: BTreeSet::new(),
                idle_since: Some(now),
                exclusive_job: None,
                retiring: false,
                created: now,
            },
        );
    }
    for status in [JobStatus::Started, JobStatus::Cancelling] {
        for id in store.job_ids_in_status(status).await? {
            let (Some(job), Some(request)) = (store.get_job(&id).await?, store.get_job_request(&id).await?) else { continue };
            if let Some(worker) = job.worker_id.as_ref().and_then(|w| model.workers.get_mut(w)) {
                worker.running.insert(id.clone());
                worker.idle_since = None;
                if worker.is_exclusive() {
                    worker.exclusive_job = Some(id.clone());
                }
            }
            model.jobs.insert(id, Box::new(Job { request, worker: job.worker_id, sent_at: None, cancel_sent_at: None }));
        }
    }
    let mut waiting = Vec::new();
    for status in [JobStatus::Initialized, JobStatus::Queued] {
        for id in store.job_ids_in_status(status).await? {
            if let Some(request) = store.get_job_request(&id).await? {
                waiting.push(request);
            }
        }
    }
    waiting.sort_by_key(|r| r.create_time);
    Ok(waiting.into_iter().map(Input::Request).collect())
}
