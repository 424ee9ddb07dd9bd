//! Every scheduling decision, as a pure function of the model and what just happened: it
//! updates the model and returns the actions to take. Nothing here talks to the broker
//! or the store, so every rule is unit-tested below.
//!
//! Shared context: one worker runs up to `maxJobs` jobs at once. Exclusive: a worker per
//! job, at most `maxJobs` at once. Jobs beyond capacity wait, in order, per context.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mist_common::duration::MistDuration;
use mist_common::model::context::WorkerMode;
use mist_common::model::messages::{AgentCommand, JobRequest, Notice};

use crate::model::{ContextQueue, Job, Model, Worker, WorkerState};

/// What happened.
#[derive(Debug, Clone)]
pub enum Input {
    Request(JobRequest),
    /// The job is done (finished, failed, canceled), or was refused by its worker.
    JobEnded { job_id: String },
    /// A user asked to cancel a started job (or, seen again by the periodic check, the job
    /// is still `cancelling` long after its cancel was sent).
    Cancelling { job_id: String },
    /// An agent missed its heartbeats: its workers are gone.
    AgentLost { agent_id: String },
    Notice(Notice),
    Tick,
    /// The job was sent to its worker a while ago and has still not started: its command
    /// may have been lost, so it is sent again (an agent ignores a job it already runs).
    NotStarted { job_id: String },
}

/// What to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send { agent_id: String, command: AgentCommand },
    FailJob { job_id: String, endpoint: String, error: String },
    Assigned { job_id: String, endpoint: String, worker_id: String },
    /// Record the worker as stopped: it died with its agent.
    WorkerGone { worker_id: String },
    /// Take the agent off the register, so that it re-registers (and stops what it ran)
    /// if it ever comes back.
    EvictAgent { agent_id: String },
    /// Record that the context is broken: new jobs for it are refused until it is updated.
    MarkBroken { context: String, error: String },
    /// Put a failed job back in the queue, as its next attempt, after its backoff.
    RetryJob { request: JobRequest, error: String },
}

pub fn handle(model: &mut Model, input: Input, now: Instant) -> Vec<Action> {
    let mut actions = Vec::new();
    match input {
        Input::Request(request) => accept(model, request, &mut actions),
        Input::JobEnded { job_id } => job_ended(model, &job_id, now, &mut actions),
        Input::Cancelling { job_id } => cancel(model, job_id, now, &mut actions),
        Input::AgentLost { agent_id } => {
            model.agents.remove(&agent_id);
            workers_lost(model, &agent_id, &format!("agent {agent_id} lost (no heartbeat)"), &mut actions);
            actions.push(Action::EvictAgent { agent_id });
        }
        Input::Notice(notice) => on_notice(model, notice, now, &mut actions),
        Input::Tick => {
            stop_idle_workers(model, now, &mut actions);
            fail_late_starts(model, &mut actions);
        }
        Input::NotStarted { job_id } => resend(model, &job_id, now, &mut actions),
    }
    schedule(model, now, &mut actions);
    model.compact();
    actions
}

fn accept(model: &mut Model, mut request: JobRequest, actions: &mut Vec<Action>) {
    if model.jobs.contains_key(&request.job_id) {
        return; // a redelivery: the job is already known
    }
    let name = request.context.name.clone();
    let queue = model.contexts.entry(name).or_insert_with(|| ContextQueue::new(request.context.clone()));
    if let Some(error) = &queue.broken {
        let error = error.clone();
        return actions.push(Action::FailJob { job_id: request.job_id, endpoint: request.endpoint, error });
    }
    if queue.config == request.context {
        request.context = queue.config.clone(); // one copy for every job with these settings
    } else {
        queue.config = request.context.clone(); // the newest request carries the newest settings
    }
    queue.pending.push_back(request.job_id.clone());
    model.jobs.insert(request.job_id.clone(), Box::new(Job::waiting(request)));
}

fn job_ended(model: &mut Model, job_id: &str, now: Instant, actions: &mut Vec<Action>) {
    let Some(job) = model.jobs.remove(job_id) else { return };
    match job.worker.and_then(|w| model.workers.get_mut(&w)) {
        Some(worker) => {
            worker.running.remove(job_id);
            if worker.is_exclusive() && worker.state != WorkerState::Stopping {
                worker.state = WorkerState::Stopping;
                actions.push(stop(worker, "its job is done"));
            } else if worker.retiring && worker.running.is_empty() && worker.state != WorkerState::Stopping {
                worker.state = WorkerState::Stopping;
                actions.push(stop(worker, "its context was deleted"));
            } else if worker.running.is_empty() {
                worker.idle_since = Some(now);
            }
        }
        None => {
            if let Some(queue) = model.contexts.get_mut(&job.request.context.name) {
                queue.pending.retain(|id| id != job_id);
            }
        }
    }
}

fn on_notice(model: &mut Model, notice: Notice, now: Instant, actions: &mut Vec<Action>) {
    match notice {
        Notice::AgentUp { agent } => {
            // The same life reconnecting keeps its workers; those of an earlier life of
            // this agent died with it.
            let agent_id = agent.agent_id.clone();
            let same_life = model.agents.get(&agent_id).is_some_and(|known| known.start_time == agent.start_time);
            if !same_life {
                workers_lost(model, &agent_id, &format!("agent {agent_id} restarted"), actions);
            }
            model.agents.insert(agent_id, agent);
        }
        Notice::AgentDown { agent_id } => {
            model.agents.remove(&agent_id);
            let gone: Vec<String> = model.workers.values().filter(|w| w.agent_id == agent_id).map(|w| w.id.clone()).collect();
            for worker_id in gone {
                forget_worker(model, &worker_id, Some(Vec::new()), "", actions);
            }
        }
        Notice::WorkerReady { worker_id, .. } => {
            if let Some(queue) = model.workers.get(&worker_id).and_then(|w| model.contexts.get_mut(&w.context)) {
                queue.failed_starts = 0;
            }
            if let Some(worker) = model.workers.get_mut(&worker_id) {
                if worker.state == WorkerState::Starting {
                    worker.state = WorkerState::Ready;
                    worker.idle_since = Some(now);
                }
                if let Some(job_id) = worker.exclusive_job.clone() {
                    if worker.running.is_empty() && worker.state == WorkerState::Ready {
                        run(model, &job_id, &worker_id, now, actions);
                    }
                }
            }
        }
        Notice::WorkerFailed { worker_id, error, .. } => {
            let Some(worker) = model.workers.remove(&worker_id) else { return };
            let mut error = error;
            let mut waiting: Vec<String> = worker.exclusive_job.iter().cloned().collect();
            if let Some(queue) = model.contexts.get_mut(&worker.context) {
                queue.failed_starts += 1;
                if queue.failed_starts >= queue.config.max_conn_failures {
                    error = format!("context {} is broken: {error}; update it to try again", worker.context);
                    queue.broken = Some(error.clone());
                    actions.push(Action::MarkBroken { context: worker.context.clone(), error: error.clone() });
                }
                // The jobs waiting for this worker cannot run: say why rather than retry blindly.
                if worker.exclusive_job.is_none() || queue.broken.is_some() {
                    waiting.extend(queue.pending.drain(..));
                }
            }
            for job_id in waiting {
                if let Some(job) = model.jobs.remove(&job_id) {
                    actions.push(Action::FailJob { job_id, endpoint: job.request.endpoint, error: error.clone() });
                }
            }
        }
        Notice::WorkerStopped { worker_id, error, lost_jobs, .. } => {
            let reason = error.unwrap_or_else(|| format!("worker {worker_id} stopped"));
            forget_worker(model, &worker_id, lost_jobs, &reason, actions)
        }
        Notice::JobFailed { job_id, error, .. } => {
            if let Some(job) = model.jobs.get(&job_id).cloned() {
                job_ended(model, &job_id, now, actions);
                actions.push(retry_or_fail(job.request, error, true));
            }
        }
        Notice::JobRefused { job_id, .. } => job_ended(model, &job_id, now, actions),
        Notice::ContextChanged { context } => {
            let context = Arc::new(context);
            let queue = model.contexts.entry(context.name.clone()).or_insert_with(|| ContextQueue::new(context.clone()));
            queue.config = context;
            // An update is how a user says "try again".
            queue.failed_starts = 0;
            queue.broken = None;
        }
        Notice::ContextDeleted { name } => {
            if let Some(queue) = model.contexts.remove(&name) {
                for job_id in queue.pending {
                    if let Some(job) = model.jobs.remove(&job_id) {
                        actions.push(Action::FailJob { job_id, endpoint: job.request.endpoint, error: "context deleted".into() });
                    }
                }
            }
            for worker in model.workers.values_mut().filter(|w| w.context == name) {
                worker.retiring = true;
                if worker.running.is_empty() && worker.state != WorkerState::Stopping {
                    worker.state = WorkerState::Stopping;
                    actions.push(stop(worker, "its context was deleted"));
                }
            }
        }
        Notice::StopWorker { worker_id, reason } => {
            if let Some(worker) = model.workers.get_mut(&worker_id) {
                if worker.state != WorkerState::Stopping {
                    worker.state = WorkerState::Stopping;
                    actions.push(Action::Send {
                        agent_id: worker.agent_id.clone(),
                        command: AgentCommand::StopWorker { worker_id, reason },
                    });
                }
            }
        }
    }
}

/// The workers of `agent_id` are gone with it: their running jobs fail with `reason`, and
/// a job an exclusive worker was started for, which never ran, waits again at the front.
fn workers_lost(model: &mut Model, agent_id: &str, reason: &str, actions: &mut Vec<Action>) {
    let lost: Vec<String> = model.workers.values().filter(|w| w.agent_id == agent_id).map(|w| w.id.clone()).collect();
    for worker_id in lost {
        let Some(worker) = model.workers.remove(&worker_id) else { continue };
        for job_id in &worker.running {
            if let Some(job) = model.jobs.remove(job_id) {
                actions.push(retry_or_fail(job.request, reason.to_string(), false));
            }
        }
        if let Some(job_id) = worker.exclusive_job.clone().filter(|j| !worker.running.contains(j)) {
            if let Some(queue) = model.contexts.get_mut(&worker.context) {
                queue.pending.push_front(job_id);
            }
        }
        // Should the driver still be alive somewhere (an agent that comes back), it must go:
        // a shared context never has two.
        actions.push(stop(&worker, reason));
        actions.push(Action::WorkerGone { worker_id });
    }
}

/// A worker is gone. Its agent has ended the jobs it was running, but for `lost` ones
/// (`None`: all of them), which are retried or failed with `reason` here.
fn forget_worker(model: &mut Model, worker_id: &str, lost: Option<Vec<String>>, reason: &str, actions: &mut Vec<Action>) {
    let Some(worker) = model.workers.remove(worker_id) else { return };
    for job_id in worker.running {
        let Some(job) = model.jobs.remove(&job_id) else { continue };
        if lost.as_ref().is_none_or(|lost| lost.contains(&job_id)) {
            actions.push(retry_or_fail(job.request, reason.to_string(), false));
        }
    }
}

/// A job failed: by the infrastructure, or by its own code (`own_code`). It is retried if
/// its endpoint asked for it and attempts remain; otherwise it fails with `error`.
fn retry_or_fail(request: JobRequest, error: String, own_code: bool) -> Action {
    if request.may_retry(own_code) {
        let mut next = request;
        next.attempt += 1;
        Action::RetryJob { request: next, error }
    } else {
        Action::FailJob { job_id: request.job_id, endpoint: request.endpoint, error }
    }
}

fn stop_idle_workers(model: &mut Model, now: Instant, actions: &mut Vec<Action>) {
    for worker in model.workers.values_mut() {
        // A precreated context keeps its worker warm whatever its downtime.
        if worker.config.precreated {
            continue;
        }
        let Some(downtime) = worker.config.downtime.as_std() else { continue };
        let idle_for = worker.idle_since.map(|since| now.saturating_duration_since(since)).unwrap_or(Duration::ZERO);
        if worker.state == WorkerState::Ready && !worker.is_exclusive() && worker.running.is_empty() && idle_for >= downtime && worker.idle_since.is_some() {
            worker.state = WorkerState::Stopping;
            actions.push(stop(worker, "idle for longer than its context's downtime"));
        }
    }
}

fn schedule(model: &mut Model, now: Instant, actions: &mut Vec<Action>) {
    let wanted = |q: &ContextQueue| {
        q.broken.is_none() && (!q.pending.is_empty() || (q.config.precreated && q.config.worker_mode == WorkerMode::Shared))
    };
    let contexts: Vec<String> = model.contexts.iter().filter(|(_, q)| wanted(q)).map(|(n, _)| n.clone()).collect();
    for context in contexts {
        match model.contexts[&context].config.worker_mode {
            WorkerMode::Shared => schedule_shared(model, &context, now, actions),
            WorkerMode::Exclusive => schedule_exclusive(model, &context, now, actions),
        }
    }
}

fn schedule_shared(model: &mut Model, context: &str, now: Instant, actions: &mut Vec<Action>) {
    let config = model.contexts[context].config.clone();
    // A worker started with older settings takes no new jobs once idle; a fresh one does.
    let outdated: Vec<String> = model
        .workers_of(context)
        .filter(|w| w.state == WorkerState::Ready && w.running.is_empty() && w.config != config && !w.retiring)
        .map(|w| w.id.clone())
        .collect();
    for worker_id in outdated {
        if let Some(worker) = model.workers.get_mut(&worker_id) {
            worker.state = WorkerState::Stopping;
            actions.push(stop(worker, "its context's settings changed"));
        }
    }
    let serving = model.workers_of(context).find(|w| w.state != WorkerState::Stopping && !w.retiring).map(|w| (w.id.clone(), w.state));
    let (worker_id, state) = match serving {
        Some(found) => found,
        None => match start_worker(model, context, None, now, actions) {
            Some(started) => (started, WorkerState::Starting),
            None => return,
        },
    };
    if state != WorkerState::Ready {
        return;
    }
    let max_jobs = config.max_jobs as usize;
    while model.workers[&worker_id].running.len() < max_jobs {
        let Some(job_id) = model.contexts.get_mut(context).and_then(|q| q.pending.pop_front()) else { break };
        let wanted = model.jobs.get(&job_id).and_then(|j| j.request.worker_id.clone());
        if let Some(wanted) = wanted.filter(|w| *w != worker_id) {
            if let Some(job) = model.jobs.remove(&job_id) {
                let error = format!("worker {wanted} no longer serves context {context}");
                actions.push(Action::FailJob { job_id, endpoint: job.request.endpoint, error });
            }
            continue;
        }
        run(model, &job_id, &worker_id, now, actions);
    }
}

fn schedule_exclusive(model: &mut Model, context: &str, now: Instant, actions: &mut Vec<Action>) {
    let max_jobs = model.contexts[context].config.max_jobs as usize;
    while model.workers_of(context).count() < max_jobs {
        if model.pick_agent().is_none() {
            return;
        }
        let Some(job_id) = model.contexts.get_mut(context).and_then(|q| q.pending.pop_front()) else { return };
        let wanted = model.jobs.get(&job_id).and_then(|j| j.request.worker_id.clone());
        if let Some(worker_id) = start_worker(model, context, wanted.as_deref(), now, actions) {
            if let Some(worker) = model.workers.get_mut(&worker_id) {
                worker.exclusive_job = Some(job_id);
            }
        }
    }
}

/// Asks the least loaded agent for a new worker of `context`; `None` when no agent has room.
fn start_worker(model: &mut Model, context: &str, requested: Option<&str>, now: Instant, actions: &mut Vec<Action>) -> Option<String> {
    let agent_id = model.pick_agent()?;
    let config = model.contexts[context].config.clone();
    let worker_id = model.new_worker_id(context, requested);
    model.workers.insert(
        worker_id.clone(),
        Worker {
            id: worker_id.clone(),
            context: context.to_string(),
            config: config.clone(),
            agent_id: agent_id.clone(),
            state: WorkerState::Starting,
            running: BTreeSet::new(),
            idle_since: None,
            exclusive_job: None,
            retiring: false,
            created: now,
        },
    );
    actions.push(Action::Send { agent_id, command: AgentCommand::StartWorker { worker_id: worker_id.clone(), context: (*config).clone() } });
    Some(worker_id)
}

fn run(model: &mut Model, job_id: &str, worker_id: &str, now: Instant, actions: &mut Vec<Action>) {
    let (Some(job), Some(worker)) = (model.jobs.get_mut(job_id), model.workers.get_mut(worker_id)) else { return };
    job.worker = Some(worker_id.to_string());
    job.sent_at = Some(now);
    worker.running.insert(job_id.to_string());
    worker.idle_since = None;
    // Announced before the command, so the event precedes the agent's `started`.
    actions.push(Action::Assigned { job_id: job_id.to_string(), endpoint: job.request.endpoint.clone(), worker_id: worker_id.to_string() });
    actions.push(run_command(job_id, worker, &job.request));
}

fn resend(model: &mut Model, job_id: &str, now: Instant, actions: &mut Vec<Action>) {
    let Some(job) = model.jobs.get_mut(job_id) else { return };
    let Some(worker) = job.worker.as_ref().and_then(|w| model.workers.get(w)) else { return };
    if worker.state == WorkerState::Ready {
        job.sent_at = Some(now);
        actions.push(run_command(job_id, worker, &job.request));
    }
}

fn cancel(model: &mut Model, job_id: String, now: Instant, actions: &mut Vec<Action>) {
    let Some(job) = model.jobs.get_mut(&job_id) else { return };
    let Some(worker) = job.worker.as_ref().and_then(|w| model.workers.get(w)) else { return };
    job.cancel_sent_at = Some(now);
    let command = AgentCommand::CancelJob { job_id, worker_id: worker.id.clone() };
    actions.push(Action::Send { agent_id: worker.agent_id.clone(), command });
}

fn run_command(job_id: &str, worker: &Worker, request: &JobRequest) -> Action {
    Action::Send {
        agent_id: worker.agent_id.clone(),
        command: AgentCommand::RunJob {
            job_id: job_id.to_string(),
            worker_id: worker.id.clone(),
            endpoint: request.endpoint.clone(),
            artifact: request.artifact.clone(),
            class_name: request.class_name.clone(),
            arguments: request.arguments.clone(),
            perform_timeout_ms: request.perform_timeout_ms,
            retry_on_error: request.may_retry(true),
            attempt: request.attempt,
        },
    }
}

/// Waiting jobs past their `startTimeout` fail, naming the limit.
fn fail_late_starts(model: &mut Model, actions: &mut Vec<Action>) {
    let now = mist_common::time::now_millis();
    let late: Vec<(String, u64)> = model
        .jobs
        .iter()
        .filter(|(_, job)| job.worker.is_none())
        .filter_map(|(id, job)| {
            let limit = job.request.start_timeout_ms?;
            (now - job.request.create_time >= limit as i64).then(|| (id.clone(), limit))
        })
        .collect();
    for (job_id, limit) in late {
        let Some(job) = model.jobs.remove(&job_id) else { continue };
        if let Some(queue) = model.contexts.get_mut(&job.request.context.name) {
            queue.pending.retain(|id| *id != job_id);
        }
        let limit = MistDuration::Finite(std::time::Duration::from_millis(limit));
        let error = format!("the job did not start within {limit} (startTimeout)");
        actions.push(Action::FailJob { job_id, endpoint: job.request.endpoint, error });
    }
}

fn stop(worker: &Worker, reason: &str) -> Action {
    Action::Send {
        agent_id: worker.agent_id.clone(),
        command: AgentCommand::StopWorker { worker_id: worker.id.clone(), reason: reason.to_string() },
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
