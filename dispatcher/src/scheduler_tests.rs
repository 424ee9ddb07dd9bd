//! The scheduling rules, without a broker.

use std::time::{Duration, Instant};

use mist_common::duration::MistDuration;
use mist_common::model::context::{ContextConfig, WorkerMode};
use mist_common::model::messages::{AgentCommand, ArtifactRef, JobRequest, Notice};
use mist_common::model::worker::AgentInfo;

use super::{handle, Action, Input};
use crate::model::Model;

fn context(name: &str, mode: WorkerMode, max_jobs: u32) -> ContextConfig {
    ContextConfig {
        name: name.into(),
        spark_conf: Default::default(),
        downtime: MistDuration::from_secs(60),
        max_jobs,
        precreated: false,
        run_options: String::new(),
        worker_mode: mode,
        streaming_duration: MistDuration::from_secs(1),
        max_conn_failures: 5,
    }
}

fn request(id: &str, ctx: &ContextConfig) -> Input {
    Input::Request(JobRequest {
        job_id: id.into(),
        endpoint: "e".into(),
        context: ctx.clone().into(),
        artifact: ArtifactRef { name: "a.py".into(), sha1: "0".into() },
        class_name: "f".into(),
        arguments: Default::default(),
        worker_id: None,
        create_time: 0,
        start_timeout_ms: None,
        perform_timeout_ms: None,
        attempt: 1,
        retry: Default::default(),
    })
}

fn agent(id: &str, capacity: u32) -> Input {
    agent_life(id, capacity, 0)
}

/// An agent's `AgentUp`, in the life that started at `start_time`.
fn agent_life(id: &str, capacity: u32, start_time: i64) -> Input {
    Input::Notice(Notice::AgentUp {
        agent: AgentInfo { agent_id: id.into(), host: "h".into(), capacity, spark_version: "4".into(), start_time },
    })
}

fn ready(worker_id: &str) -> Input {
    Input::Notice(Notice::WorkerReady { worker_id: worker_id.into(), agent_id: "a1".into() })
}

fn started_workers(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { command: AgentCommand::StartWorker { worker_id, .. }, .. } => Some(worker_id.clone()),
            _ => None,
        })
        .collect()
}

fn runs(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { command: AgentCommand::RunJob { job_id, worker_id, .. }, .. } => Some((job_id.clone(), worker_id.clone())),
            _ => None,
        })
        .collect()
}

fn stops(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { command: AgentCommand::StopWorker { worker_id, .. }, .. } => Some(worker_id.clone()),
            _ => None,
        })
        .collect()
}

struct Sim {
    model: Model,
    now: Instant,
}

impl Sim {
    fn new() -> Self {
        Self { model: Model::new("t"), now: Instant::now() }
    }

    fn feed(&mut self, input: Input) -> Vec<Action> {
        handle(&mut self.model, input, self.now)
    }
}

#[test]
fn a_shared_context_starts_one_worker_and_runs_jobs_once_it_is_ready() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 2);
    sim.feed(agent("a1", 4));
    let first = sim.feed(request("j1", &ctx));
    let workers = started_workers(&first);
    assert_eq!(workers.len(), 1);
    assert!(runs(&first).is_empty(), "no job runs before the worker is ready");
    assert!(started_workers(&sim.feed(request("j2", &ctx))).is_empty(), "one worker per shared context");
    let on_ready = sim.feed(ready(&workers[0]));
    assert_eq!(runs(&on_ready), vec![("j1".into(), workers[0].clone()), ("j2".into(), workers[0].clone())]);
}

#[test]
fn max_jobs_one_runs_jobs_one_after_the_other_in_order() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j2", &ctx));
    sim.feed(request("j3", &ctx));
    assert_eq!(runs(&sim.feed(ready(&worker))), vec![("j1".into(), worker.clone())]);
    assert_eq!(runs(&sim.feed(Input::JobEnded { job_id: "j1".into() })), vec![("j2".into(), worker.clone())]);
    assert_eq!(runs(&sim.feed(Input::JobEnded { job_id: "j2".into() })), vec![("j3".into(), worker)]);
}

#[test]
fn an_exclusive_context_runs_a_worker_per_job_up_to_max_jobs() {
    let mut sim = Sim::new();
    let ctx = context("x", WorkerMode::Exclusive, 2);
    sim.feed(agent("a1", 8));
    let mut workers = Vec::new();
    for id in ["j1", "j2", "j3"] {
        workers.extend(started_workers(&sim.feed(request(id, &ctx))));
    }
    assert_eq!(workers.len(), 2, "at most maxJobs exclusive workers");
    assert_eq!(runs(&sim.feed(ready(&workers[0]))), vec![("j1".into(), workers[0].clone())]);
    let ended = sim.feed(Input::JobEnded { job_id: "j1".into() });
    assert_eq!(stops(&ended), vec![workers[0].clone()], "an exclusive worker stops after its job");
    // The stopping worker still holds its slot until it is gone.
    assert!(started_workers(&ended).is_empty());
    let gone = sim.feed(Input::Notice(Notice::WorkerStopped { worker_id: workers[0].clone(), agent_id: "a1".into(), error: None, lost_jobs: Some(vec![]) }));
    assert_eq!(started_workers(&gone).len(), 1, "the third job gets a worker of its own");
}

#[test]
fn jobs_wait_for_an_agent_and_are_never_rejected() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    assert!(sim.feed(request("j1", &ctx)).is_empty());
    assert_eq!(started_workers(&sim.feed(agent("a1", 1))).len(), 1);
}

#[test]
fn a_redelivered_request_is_ignored() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 5);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j1", &ctx));
    assert_eq!(runs(&sim.feed(ready(&worker))).len(), 1);
}

#[test]
fn a_worker_that_fails_to_start_fails_the_jobs_waiting_for_it() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 5);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j2", &ctx));
    let failed = sim.feed(Input::Notice(Notice::WorkerFailed { worker_id: worker, agent_id: "a1".into(), error: "boom".into() }));
    let failed_ids: Vec<&str> = failed
        .iter()
        .filter_map(|a| match a {
            Action::FailJob { job_id, error, .. } if error == "boom" => Some(job_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(failed_ids, ["j1", "j2"]);
    assert!(started_workers(&failed).is_empty(), "no retry loop: nothing is left waiting");
}

#[test]
fn an_idle_shared_worker_stops_after_its_downtime() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 5);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(ready(&worker));
    sim.feed(Input::JobEnded { job_id: "j1".into() });
    sim.now += Duration::from_secs(59);
    assert!(stops(&sim.feed(Input::Tick)).is_empty());
    sim.now += Duration::from_secs(2);
    assert_eq!(stops(&sim.feed(Input::Tick)), vec![worker]);
}

#[test]
fn a_job_canceled_while_queued_never_runs() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j2", &ctx));
    sim.feed(Input::JobEnded { job_id: "j2".into() });
    sim.feed(ready(&worker));
    assert!(runs(&sim.feed(Input::JobEnded { job_id: "j1".into() })).is_empty());
}

#[test]
fn cancelling_a_running_job_goes_to_its_agent() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(ready(&worker));
    let actions = sim.feed(Input::Cancelling { job_id: "j1".into() });
    assert_eq!(
        actions,
        vec![Action::Send { agent_id: "a1".into(), command: AgentCommand::CancelJob { job_id: "j1".into(), worker_id: worker } }]
    );
}

#[test]
fn workers_go_to_the_least_loaded_agent_within_capacity() {
    let mut sim = Sim::new();
    sim.feed(agent("a1", 1));
    sim.feed(agent("a2", 1));
    for (id, ctx) in [("j1", "c1"), ("j2", "c2"), ("j3", "c3")] {
        sim.feed(request(id, &context(ctx, WorkerMode::Shared, 1)));
    }
    let agents: std::collections::BTreeSet<String> = sim.model.workers.values().map(|w| w.agent_id.clone()).collect();
    assert_eq!(sim.model.workers.len(), 2, "no agent runs more than its capacity");
    assert_eq!(agents.len(), 2);
}

#[test]
fn a_precreated_shared_context_gets_its_worker_before_any_job_and_keeps_it() {
    let mut sim = Sim::new();
    let mut ctx = context("warm", WorkerMode::Shared, 2);
    ctx.precreated = true;
    ctx.downtime = MistDuration::from_secs(1);
    sim.feed(agent("a1", 4));
    let started = started_workers(&sim.feed(Input::Notice(Notice::ContextChanged { context: ctx })));
    assert_eq!(started.len(), 1);
    sim.feed(ready(&started[0]));
    sim.now += Duration::from_secs(3600);
    assert!(stops(&sim.feed(Input::Tick)).is_empty(), "a precreated worker is not stopped for idling");
}

#[test]
fn deleting_a_context_fails_its_waiting_jobs_and_retires_its_worker_after_its_jobs() {
    let mut sim = Sim::new();
    let ctx = context("gone", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j2", &ctx));
    sim.feed(ready(&worker));
    let deleted = sim.feed(Input::Notice(Notice::ContextDeleted { name: "gone".into() }));
    assert!(deleted.contains(&Action::FailJob { job_id: "j2".into(), endpoint: "e".into(), error: "context deleted".into() }));
    assert!(stops(&deleted).is_empty(), "the running job finishes first");
    assert_eq!(stops(&sim.feed(Input::JobEnded { job_id: "j1".into() })), vec![worker]);
}

fn failed_jobs(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::FailJob { job_id, error, .. } => Some((job_id.clone(), error.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_lost_agent_fails_its_running_jobs_and_its_waiting_jobs_go_elsewhere() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(request("j2", &ctx));
    sim.feed(ready(&worker));
    sim.feed(agent("a2", 4));
    let lost = sim.feed(Input::AgentLost { agent_id: "a1".into() });
    assert_eq!(failed_jobs(&lost), vec![("j1".into(), "agent a1 lost (no heartbeat)".into())]);
    assert!(lost.contains(&Action::WorkerGone { worker_id: worker }));
    assert!(lost.contains(&Action::EvictAgent { agent_id: "a1".into() }));
    let replacement = started_workers(&lost);
    assert_eq!(replacement.len(), 1, "the waiting job gets a worker on the other agent");
    assert_eq!(runs(&sim.feed(ready(&replacement[0]))), vec![("j2".into(), replacement[0].clone())]);
}

#[test]
fn an_exclusive_job_whose_worker_never_came_up_waits_again_when_its_agent_is_lost() {
    let mut sim = Sim::new();
    let ctx = context("x", WorkerMode::Exclusive, 1);
    sim.feed(agent("a1", 4));
    sim.feed(request("j1", &ctx));
    let lost = sim.feed(Input::AgentLost { agent_id: "a1".into() });
    assert!(failed_jobs(&lost).is_empty(), "it never ran, so it is not failed");
    assert_eq!(started_workers(&sim.feed(agent("a2", 4))).len(), 1);
}

#[test]
fn an_agent_that_restarts_has_lost_its_workers() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 1);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    sim.feed(ready(&worker));
    assert!(failed_jobs(&sim.feed(agent("a1", 4))).is_empty(), "the same life reconnecting keeps its workers");
    let again = sim.feed(agent_life("a1", 4, 1));
    assert_eq!(failed_jobs(&again), vec![("j1".into(), "agent a1 restarted".into())]);
}

#[test]
fn failed_starts_in_a_row_break_the_context_until_it_is_updated() {
    let mut sim = Sim::new();
    let mut ctx = context("fragile", WorkerMode::Shared, 1);
    ctx.max_conn_failures = 2;
    sim.feed(agent("a1", 4));
    let failed = |worker_id: String| Input::Notice(Notice::WorkerFailed { worker_id, agent_id: "a1".into(), error: "no java".into() });
    let first = started_workers(&sim.feed(request("j1", &ctx)))[0].clone();
    assert_eq!(failed_jobs(&sim.feed(failed(first))), vec![("j1".into(), "no java".into())]);
    let second = started_workers(&sim.feed(request("j2", &ctx)))[0].clone();
    let broke = sim.feed(failed(second));
    let message = "context fragile is broken: no java; update it to try again".to_string();
    assert_eq!(failed_jobs(&broke), vec![("j2".into(), message.clone())]);
    assert!(broke.contains(&Action::MarkBroken { context: "fragile".into(), error: message.clone() }));
    let refused = sim.feed(request("j3", &ctx));
    assert_eq!(failed_jobs(&refused), vec![("j3".into(), message)]);
    assert!(started_workers(&refused).is_empty(), "a broken context starts nothing");
    sim.feed(Input::Notice(Notice::ContextChanged { context: ctx.clone() }));
    assert_eq!(started_workers(&sim.feed(request("j4", &ctx))).len(), 1, "an update clears it");
}

fn with_retries(input: Input, retries: u32, on_error: bool) -> Input {
    match input {
        Input::Request(mut request) => {
            request.retry = mist_common::model::messages::RetryPolicy { retries, backoff_ms: 10, on_error };
            Input::Request(request)
        }
        other => other,
    }
}

fn retried(actions: &[Action]) -> Vec<(String, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RetryJob { request, .. } => Some((request.job_id.clone(), request.attempt)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_job_lost_with_its_worker_is_retried_while_attempts_remain() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 2);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(with_retries(request("j1", &ctx), 1, false)))[0].clone();
    sim.feed(with_retries(request("j2", &ctx), 0, false));
    sim.feed(ready(&worker));
    let died = Input::Notice(Notice::WorkerStopped {
        worker_id: worker,
        agent_id: "a1".into(),
        error: Some("killed".into()),
        lost_jobs: Some(vec!["j1".into(), "j2".into()]),
    });
    let actions = sim.feed(died);
    assert_eq!(retried(&actions), vec![("j1".into(), 2)], "j1 asked for a retry");
    assert_eq!(failed_jobs(&actions), vec![("j2".into(), "killed".into())], "j2 did not");
    // The second attempt that fails too has no retries left.
    let Action::RetryJob { request, .. } = actions.iter().find(|a| matches!(a, Action::RetryJob { .. })).cloned().expect("a retry") else {
        unreachable!()
    };
    let worker = started_workers(&sim.feed(Input::Request(request)))[0].clone();
    sim.feed(ready(&worker));
    let lost = sim.feed(Input::AgentLost { agent_id: "a1".into() });
    assert_eq!(failed_jobs(&lost), vec![("j1".into(), "agent a1 lost (no heartbeat)".into())]);
}

#[test]
fn a_job_failed_by_its_own_code_is_retried_only_when_its_endpoint_asks() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 2);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(with_retries(request("j1", &ctx), 2, true)))[0].clone();
    let on_ready = sim.feed(ready(&worker));
    assert!(on_ready.iter().any(|a| matches!(a, Action::Send { command: AgentCommand::RunJob { retry_on_error: true, attempt: 1, .. }, .. })));
    let failed = sim.feed(Input::Notice(Notice::JobFailed { job_id: "j1".into(), worker_id: worker, error: "boom".into() }));
    assert_eq!(retried(&failed), vec![("j1".into(), 2)]);
}

#[test]
fn a_job_that_has_not_started_is_sent_again_to_the_same_worker_without_a_second_announcement() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 2);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx))).remove(0);
    assert_eq!(runs(&sim.feed(ready(&worker))), vec![("j1".to_string(), worker.clone())]);
    let again = sim.feed(Input::NotStarted { job_id: "j1".into() });
    assert_eq!(runs(&again), vec![("j1".to_string(), worker.clone())]);
    assert!(!again.iter().any(|a| matches!(a, Action::Assigned { .. })), "{again:?}");
    assert_eq!(sim.model.workers[&worker].running.len(), 1, "the job holds one slot");
}

#[test]
fn a_job_that_ended_or_waits_for_a_worker_is_not_sent_again() {
    let mut sim = Sim::new();
    let ctx = context("c", WorkerMode::Shared, 2);
    sim.feed(agent("a1", 4));
    let worker = started_workers(&sim.feed(request("j1", &ctx))).remove(0);
    assert!(runs(&sim.feed(Input::NotStarted { job_id: "j1".into() })).is_empty(), "its worker is still starting");
    sim.feed(ready(&worker));
    sim.feed(Input::JobEnded { job_id: "j1".into() });
    assert!(runs(&sim.feed(Input::NotStarted { job_id: "j1".into() })).is_empty(), "it ended");
}
