//! What the parts say to each other over RabbitMQ: job requests (API or any program →
//! dispatcher), commands (dispatcher → an agent), notices (agents → dispatcher), and the
//! public job events.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::ContextConfig;
use super::worker::AgentInfo;

/// An artifact as a worker needs it: the name to fetch, the hash to cache it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRef {
    pub name: String,
    pub sha1: String,
}

/// A job that is recorded in Redis and waits to be scheduled. It carries everything the
/// dispatcher needs, so scheduling costs no read of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRequest {
    pub job_id: String,
    pub endpoint: String,
    /// The context's settings when the job was submitted. Shared: the dispatcher keeps one
    /// copy for all the jobs waiting with the same settings, however long its backlog.
    pub context: Arc<ContextConfig>,
    pub artifact: ArtifactRef,
    pub class_name: String,
    pub arguments: Map<String, Value>,
    /// A worker the caller asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    pub create_time: i64,
    /// How long it may wait to start, from `create_time` (`startTimeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timeout_ms: Option<u64>,
    /// How long it may run, from its start (`performTimeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perform_timeout_ms: Option<u64>,
    /// Which attempt this is, from 1.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// The endpoint's retry policy when the job was submitted.
    #[serde(default)]
    pub retry: RetryPolicy,
}

fn first_attempt() -> u32 {
    1
}

impl JobRequest {
    /// Whether a failure of the kind given may be retried, attempts remaining.
    pub fn may_retry(&self, own_code: bool) -> bool {
        self.attempt <= self.retry.retries && (!own_code || self.retry.on_error)
    }
}

/// How an endpoint's jobs are retried: a job failed by the infrastructure (its worker or
/// agent lost) is retried up to `retries` times, `backoff` apart; one failed by its own
/// code only when `on_error` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    pub retries: u32,
    pub backoff_ms: u64,
    pub on_error: bool,
}

/// A run request a program publishes straight to the broker (API.md, "Submitting over AMQP").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalRunRequest {
    pub endpoint_id: String,
    #[serde(default)]
    pub parameters: Map<String, Value>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub run_settings: Option<RunSettings>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunSettings {
    #[serde(default)]
    pub context_id: Option<String>,
    #[serde(default)]
    pub worker_id: Option<String>,
}

/// Dispatcher → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AgentCommand {
    #[serde(rename_all = "camelCase")]
    StartWorker { worker_id: String, context: ContextConfig },
    #[serde(rename_all = "camelCase")]
    RunJob {
        job_id: String,
        worker_id: String,
        endpoint: String,
        artifact: ArtifactRef,
        class_name: String,
        arguments: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        perform_timeout_ms: Option<u64>,
        /// The job's own failure goes to the dispatcher to be retried, not recorded.
        #[serde(default)]
        retry_on_error: bool,
        /// Which attempt this is: only its own end is recorded.
        #[serde(default = "first_attempt")]
        attempt: u32,
    },
    #[serde(rename_all = "camelCase")]
    CancelJob { job_id: String, worker_id: String },
    #[serde(rename_all = "camelCase")]
    StopWorker { worker_id: String, reason: String },
}

/// Agents and the API → dispatcher: what changed on a Spark host, or what a user asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Notice {
    #[serde(rename_all = "camelCase")]
    AgentUp { agent: AgentInfo },
    #[serde(rename_all = "camelCase")]
    AgentDown { agent_id: String },
    #[serde(rename_all = "camelCase")]
    WorkerReady { worker_id: String, agent_id: String },
    /// The worker never came up (start timeout, spark-submit exited).
    #[serde(rename_all = "camelCase")]
    WorkerFailed { worker_id: String, agent_id: String, error: String },
    /// A worker that was up is gone; `error` when it died rather than was stopped. The
    /// jobs it was running that nobody has ended are in `lost_jobs` (`None`: every job the
    /// dispatcher thinks it ran): the dispatcher retries or fails them.
    #[serde(rename_all = "camelCase")]
    WorkerStopped { worker_id: String, agent_id: String, error: Option<String>, #[serde(default)] lost_jobs: Option<Vec<String>> },
    /// A job failed by its own code, and may be retried (see `RetryPolicy::on_error`).
    #[serde(rename_all = "camelCase")]
    JobFailed { job_id: String, worker_id: String, error: String },
    /// A job the dispatcher sent could not start (it was canceled meanwhile, say): its slot is free.
    #[serde(rename_all = "camelCase")]
    JobRefused { job_id: String, worker_id: String },
    /// A user asked for a worker to stop (`DELETE /workers/{id}`).
    #[serde(rename_all = "camelCase")]
    StopWorker { worker_id: String, reason: String },
    /// A context was created or changed.
    #[serde(rename_all = "camelCase")]
    ContextChanged { context: ContextConfig },
    /// A context was deleted: its waiting jobs fail, its workers stop once idle.
    #[serde(rename_all = "camelCase")]
    ContextDeleted { name: String },
}

/// The public events of a job (API.md "Events"): `{"event": ..., "id": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Initialized,
    Queued,
    WorkerAssigned,
    Started,
    Cancelling,
    Canceled,
    Finished,
    Failed,
    Logs,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Initialized => "initialized",
            EventKind::Queued => "queued",
            EventKind::WorkerAssigned => "worker-assigned",
            EventKind::Started => "started",
            EventKind::Cancelling => "cancelling",
            EventKind::Canceled => "canceled",
            EventKind::Finished => "finished",
            EventKind::Failed => "failed",
            EventKind::Logs => "logs",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    pub event: EventKind,
    pub id: String,
    /// Not part of the v2 event, but every consumer routes by it.
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<LogEvent>>,
}

impl JobEvent {
    pub fn new(event: EventKind, id: &str, endpoint: &str) -> Self {
        Self {
            event,
            id: id.to_string(),
            endpoint: endpoint.to_string(),
            worker_id: None,
            time: None,
            result: None,
            error: None,
            params: None,
            external_id: None,
            events: None,
        }
    }

    /// `<event>.<endpoint>`, the routing key on the events exchange.
    pub fn routing_key(&self) -> String {
        format!("{}.{}", self.event.as_str(), self.endpoint)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub message: String,
    pub time_stamp: i64,
    pub level: String,
}
