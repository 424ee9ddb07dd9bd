//! Reporting what happens on this host: job status changes and logs into Redis (the
//! truth), job events on the events exchange, and notices to the dispatcher.

use mist_common::amqp::publish::PublisherSlot;
use mist_common::amqp::topology::Topology;
use mist_common::joblog::{line, Level};
use mist_common::model::job::JobStatus;
use mist_common::model::messages::{EventKind, JobEvent, LogEvent, Notice};
use mist_common::store::jobs::{Moved, Transition};
use mist_common::store::{persist, Store};
use mist_common::time::now_millis;
use serde_json::Value;

/// How a job ended, as the agent records it.
#[derive(Debug, Clone)]
pub enum Ending {
    Finished(Value),
    Failed(String),
    Canceled(String),
}

#[derive(Clone)]
pub struct Reporter {
    pub store: Store,
    /// Swapped by the connection keeper (`link`) as RabbitMQ comes and goes.
    pub publisher: PublisherSlot,
    pub topology: Topology,
    pub max_log_bytes: u64,
}

impl Reporter {
    pub async fn notice(&self, notice: &Notice) {
        let result = match self.publisher.get() {
            Ok(publisher) => {
                publisher.publish_confirmed(&self.topology.control_exchange(), self.topology.dispatcher_routing_key(), notice).await
            }
            Err(away) => Err(away),
        };
        if let Err(err) = result {
            tracing::error!(error = %err, ?notice, "cannot tell the dispatcher");
        }
    }

    async fn event(&self, event: &JobEvent) {
        let published = match self.publisher.get() {
            Ok(publisher) => publisher.publish(&self.topology.events_exchange(), &event.routing_key(), event).await,
            Err(away) => Err(away),
        };
        // A lost event costs only timeliness: Redis has the truth, and the dispatcher
        // checks its model against it.
        if let Err(err) = published {
            tracing::warn!(job.id = %event.id, error = %err, "cannot publish a job event");
        }
    }

    /// Marks the job started on `worker_id`; `false` when it may not start (canceled
    /// meanwhile, or already started by an earlier delivery).
    pub async fn started(&self, job_id: &str, endpoint: &str, worker_id: &str, agent_id: &str) -> bool {
        let now = now_millis();
        let change = Transition::to(job_id, JobStatus::Started)
            .from(&[JobStatus::Initialized, JobStatus::Queued])
            .set("startTime", now)
            .set("workerId", worker_id)
            .on_worker(worker_id)
            .log(line(Level::Info, now, job_id, &format!("worker {worker_id} (agent {agent_id}) assigned; started")));
        match persist("marking a job started", || self.store.transition(&change)).await {
            Ok(Moved::Yes(_)) => {
                let mut event = JobEvent::new(EventKind::Started, job_id, endpoint);
                event.time = Some(now);
                event.worker_id = Some(worker_id.to_string());
                self.event(&event).await;
                true
            }
            Ok(outcome) => {
                tracing::info!(job.id = %job_id, ?outcome, "job not started");
                false
            }
            Err(err) => {
                tracing::error!(job.id = %job_id, error = %err, "cannot mark a job started");
                false
            }
        }
    }

    /// Appends log lines and publishes them as a `logs` event.
    pub async fn logs(&self, job_id: &str, endpoint: &str, lines: Vec<(Level, i64, String)>) {
        if lines.is_empty() {
            return;
        }
        let text = log_text(job_id, &lines);
        if let Err(err) = persist("appending to a job's log", || self.store.append_log(job_id, &text, self.max_log_bytes)).await {
            tracing::warn!(job.id = %job_id, error = %err, "cannot append to a job's log");
        }
        self.log_event(job_id, endpoint, lines).await;
    }

    async fn log_event(&self, job_id: &str, endpoint: &str, lines: Vec<(Level, i64, String)>) {
        if lines.is_empty() {
            return;
        }
        let mut event = JobEvent::new(EventKind::Logs, job_id, endpoint);
        event.events = Some(
            lines
                .into_iter()
                .map(|(level, time, message)| LogEvent { message, time_stamp: time, level: level.as_str().to_string() })
                .collect(),
        );
        self.event(&event).await;
    }

    /// Records how the job ended, with its last log lines in the same write (done is final:
    /// a late end after a cancel changes nothing but the log), and tells everyone.
    pub async fn ended(&self, end: End) {
        let End { job_id, endpoint, worker_id, attempt, lines, ending, ran_ms } = end;
        mist_common::fault::hold("agent.before_end").await;
        let now = now_millis();
        let after = ran_ms.map(|ms| format!(" after {:.2}s", ms.max(0) as f64 / 1000.0)).unwrap_or_default();
        let (status, kind, log) = match &ending {
            Ending::Finished(_) => (JobStatus::Finished, EventKind::Finished, line(Level::Info, now, &job_id, &format!("finished{after}"))),
            Ending::Failed(error) => (JobStatus::Failed, EventKind::Failed, line(Level::Error, now, &job_id, &format!("failed{after}: {error}"))),
            Ending::Canceled(why) => (JobStatus::Canceled, EventKind::Canceled, line(Level::Info, now, &job_id, &format!("canceled{after}: {why}"))),
        };
        let result = match &ending {
            Ending::Finished(result) => result.clone(),
            Ending::Failed(error) => Value::String(error.clone()),
            Ending::Canceled(_) => Value::Null,
        };
        let mut change = Transition::to(&job_id, status).only_if("attempt", &attempt.to_string()).set("endTime", now).log(log);
        if !lines.is_empty() {
            change = change.output(log_text(&job_id, &lines), self.max_log_bytes);
        }
        if !result.is_null() {
            change = change.set("jobResult", result.to_string());
        }
        let recorded = persist("recording how a job ended", || self.store.transition(&change)).await;
        if let Err(err) = &recorded {
            tracing::error!(job.id = %job_id, error = %err, "cannot record how a job ended");
        }
        self.log_event(&job_id, &endpoint, lines).await;
        // Unless it moved here, it was already done: whoever ended it told everyone.
        let Ok(Moved::Yes(_)) = recorded else { return };
        let mut event = JobEvent::new(kind, &job_id, &endpoint);
        event.time = Some(now);
        event.worker_id = Some(worker_id);
        match ending {
            Ending::Finished(value) => event.result = Some(value),
            Ending::Failed(error) => event.error = Some(error),
            Ending::Canceled(_) => {}
        }
        self.event(&event).await;
    }
}

/// Log lines in the format of the job log.
fn log_text(job_id: &str, lines: &[(Level, i64, String)]) -> String {
    lines.iter().map(|(level, time, message)| line(*level, *time, job_id, message)).collect()
}

/// How a job ended, with what it printed since the last flush.
#[derive(Debug)]
pub struct End {
    pub job_id: String,
    pub endpoint: String,
    pub worker_id: String,
    pub attempt: u32,
    pub lines: Vec<(Level, i64, String)>,
    pub ending: Ending,
    /// How long it ran on its worker, when the worker said it started.
    pub ran_ms: Option<i64>,
}

/// A write about one job, queued so that a job's writes land in the order they were made
/// (its log lines before its end) while different jobs are written in parallel.
#[derive(Debug)]
pub enum Report {
    Logs { job_id: String, endpoint: String, lines: Vec<(Level, i64, String)> },
    End(End),
}

/// Writer tasks, each owning the jobs whose id hashes to it.
#[derive(Clone)]
pub struct ReportQueue {
    shards: Vec<tokio::sync::mpsc::UnboundedSender<Report>>,
}

impl ReportQueue {
    pub fn start(reporter: Reporter, shards: usize) -> Self {
        let shards = (0..shards.max(1))
            .map(|_| {
                let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Report>();
                let reporter = reporter.clone();
                tokio::spawn(async move {
                    while let Some(report) = receiver.recv().await {
                        reporter.write(report).await;
                    }
                });
                sender
            })
            .collect();
        Self { shards }
    }

    pub fn send(&self, report: Report) {
        let job_id = match &report {
            Report::Logs { job_id, .. } | Report::End(End { job_id, .. }) => job_id,
        };
        let shard = job_id.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)) % self.shards.len();
        let _ = self.shards[shard].send(report);
    }
}

impl Reporter {
    async fn write(&self, report: Report) {
        match report {
            Report::Logs { job_id, endpoint, lines } => self.logs(&job_id, &endpoint, lines).await,
            Report::End(end) => self.ended(end).await,
        }
    }
}
