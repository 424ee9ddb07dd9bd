//! Carrying out the scheduler's actions: commands to agents, failing jobs, events. Thin
//! on purpose: every decision was made in `scheduler`.

use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::joblog::{line, Level};
use mist_common::model::job::JobStatus;
use mist_common::model::messages::{AgentCommand, EventKind, JobEvent};
use mist_common::store::jobs::{Moved, Transition};
use mist_common::store::{persist, Store};
use mist_common::time::now_millis;

use std::time::Duration;

use mist_common::duration::MistDuration;
use mist_common::model::messages::JobRequest;
use tokio::sync::mpsc;

use crate::scheduler::{Action, Input};

pub struct Effects {
    pub store: Store,
    pub publisher: Publisher,
    pub topology: Topology,
    /// Where a retried job comes back, once its backoff is over.
    pub inputs: mpsc::Sender<Input>,
}

impl Effects {
    pub async fn perform(&self, action: Action) {
        match action {
            Action::Send { agent_id, command } => {
                let fault_point = match command {
                    AgentCommand::RunJob { .. } => Some("dispatcher.send_run_job"),
                    AgentCommand::CancelJob { .. } => Some("dispatcher.send_cancel_job"),
                    _ => None,
                };
                if fault_point.is_some_and(mist_common::fault::drop_here) {
                    return;
                }
                let key = self.topology.agent_routing_key(&agent_id);
                if let Err(err) = self.publisher.publish(&self.topology.control_exchange(), &key, &command).await {
                    tracing::error!(agent.id = %agent_id, error = %err, "cannot send a command to an agent");
                }
            }
            Action::FailJob { job_id, endpoint, error } => self.fail_job(&job_id, &endpoint, &error).await,
            Action::WorkerGone { worker_id } => {
                let gone = async {
                    if let Some(record) = self.store.get_live_worker(&worker_id).await? {
                        self.store.worker_stopped(&record).await?;
                    }
                    Ok::<(), mist_common::store::StoreError>(())
                };
                if let Err(err) = gone.await {
                    tracing::warn!(worker.id = %worker_id, error = %err, "cannot record a lost worker");
                }
            }
            Action::EvictAgent { agent_id } => {
                tracing::warn!(agent.id = %agent_id, "agent lost: no heartbeat");
                if let Err(err) = self.store.unregister_agent(&agent_id).await {
                    tracing::warn!(agent.id = %agent_id, error = %err, "cannot take a lost agent off the register");
                }
            }
            Action::MarkBroken { context, error } => {
                tracing::warn!(context = %context, error = %error, "context broken");
                if let Err(err) = persist("marking a context broken", || self.store.set_context_broken(&context, &error)).await {
                    tracing::error!(context = %context, error = %err, "cannot record a broken context");
                }
            }
            Action::RetryJob { request, error } => self.retry(request, &error).await,
            Action::Assigned { job_id, endpoint, worker_id } => {
                let mut event = JobEvent::new(EventKind::WorkerAssigned, &job_id, &endpoint);
                event.worker_id = Some(worker_id);
                self.event(&event).await;
            }
        }
    }

    /// Fails a job that never got to run, with the reason in its record and its log.
    pub async fn fail_job(&self, job_id: &str, endpoint: &str, error: &str) {
        let now = now_millis();
        let change = Transition::to(job_id, JobStatus::Failed)
            .set("endTime", now)
            .set("jobResult", serde_json::Value::String(error.to_string()))
            .log(line(Level::Error, now, job_id, &format!("failed: {error}")));
        match persist("recording a job's failure", || self.store.transition(&change)).await {
            Ok(Moved::Yes(_)) => {
                let mut event = JobEvent::new(EventKind::Failed, job_id, endpoint);
                event.time = Some(now);
                event.error = Some(error.to_string());
                self.event(&event).await;
            }
            Ok(_) => {}
            Err(err) => tracing::error!(job.id = %job_id, error = %err, "cannot record a job's failure"),
        }
    }

    /// Records the failed attempt and queues the job again as its next attempt; it is
    /// scheduled once its backoff is over.
    async fn retry(&self, request: JobRequest, error: &str) {
        let now = now_millis();
        let (attempt, of) = (request.attempt, request.retry.retries + 1);
        let backoff = Duration::from_millis(request.retry.backoff_ms);
        let line_text = format!(
            "attempt {} failed: {error}; retrying in {} (attempt {attempt} of {of})",
            attempt - 1,
            MistDuration::Finite(backoff)
        );
        let change = Transition::to(&request.job_id, JobStatus::Queued)
            .from(&[JobStatus::Started, JobStatus::Queued])
            .set("attempt", attempt)
            .set("startTime", "")
            .set("workerId", "")
            .set("request", serde_json::to_string(&request).unwrap_or_default())
            .log(line(Level::Warn, now, &request.job_id, &line_text));
        match persist("queueing a job again", || self.store.transition(&change)).await {
            Ok(Moved::Yes(_)) => {
                tracing::info!(job.id = %request.job_id, attempt, "job retried");
                self.event(&JobEvent::new(EventKind::Queued, &request.job_id, &request.endpoint)).await;
                let inputs = self.inputs.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(backoff).await;
                    let _ = inputs.send(Input::Request(request)).await;
                });
            }
            Ok(_) => {}
            Err(err) => tracing::error!(job.id = %request.job_id, error = %err, "cannot queue a job again"),
        }
    }

    async fn event(&self, event: &JobEvent) {
        if let Err(err) = self.publisher.publish(&self.topology.events_exchange(), &event.routing_key(), event).await {
            tracing::warn!(job.id = %event.id, error = %err, "cannot publish a job event");
        }
    }
}
