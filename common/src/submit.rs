//! Turning a call of an endpoint into a job: the same checks whether it came over HTTP or
//! was published to the broker, so both refuse the same things with the same words.

use serde_json::{Map, Value};

use crate::config::Settings;
use crate::model::arguments::check_arguments;
use crate::model::context::{ContextConfig, WorkerMode};
use crate::model::endpoint::Lang;
use crate::model::job::{JobDetails, JobParams, JobStatus, Source};
use crate::joblog::{line, Level};
use crate::model::messages::{ArtifactRef, EventKind, JobEvent, JobRequest, RetryPolicy};
use crate::store::submission::SubmissionRecords;
use crate::store::{Store, StoreError};

/// A call to check.
#[derive(Debug, Clone)]
pub struct Submission {
    pub endpoint: String,
    pub arguments: Map<String, Value>,
    /// Overrides the endpoint's default context.
    pub context: Option<String>,
    pub worker_id: Option<String>,
    pub external_id: Option<String>,
    pub source: Source,
    /// `startTimeout` and `performTimeout`.
    pub start_timeout: Option<std::time::Duration>,
    pub perform_timeout: Option<std::time::Duration>,
    /// A job id chosen by the caller: from an AMQP message id, so a redelivered request
    /// makes the same job, or by a caller that waits for the job before it exists
    /// (`force=true`, see `new_job_id`); otherwise a new one.
    pub job_id: Option<String>,
}

/// A new job's id (a UUID v4, as API.md promises).
pub fn new_job_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Why a call cannot become a job; the API maps each to its status code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked call: the record to write and the request to queue.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub details: JobDetails,
    pub request: JobRequest,
}

pub async fn prepare(store: &Store, settings: &Settings, submission: Submission) -> Result<Prepared, Refusal> {
    let SubmissionRecords { endpoint, context_name, context, broken, artifact } = store
        .submission_records(&submission.endpoint, submission.context.as_deref())
        .await?
        .ok_or_else(|| Refusal::NotFound(format!("endpoint {} not found", submission.endpoint)))?;
    let context = if context_name == ContextConfig::DEFAULT_NAME {
        settings.default_context()
    } else {
        context.ok_or_else(|| Refusal::BadRequest(format!("context {context_name} does not exist")))?
    };
    if let Some(error) = broken {
        return Err(Refusal::Conflict(error));
    }
    if endpoint.lang != Lang::Python {
        return Err(Refusal::BadRequest(format!(
            "endpoint {} is a {:?} artifact; running jar endpoints is not supported yet",
            endpoint.name, endpoint.lang
        )));
    }
    let arguments = check_arguments(&endpoint, submission.arguments).map_err(Refusal::BadRequest)?;
    let artifact = artifact.ok_or_else(|| {
        Refusal::BadRequest(format!("artifact {} of endpoint {} is gone; upload it again", endpoint.path, endpoint.name))
    })?;
    if let Some(worker_id) = &submission.worker_id {
        if context.worker_mode == WorkerMode::Shared && !store.worker_is_live_in(worker_id, &context.name).await? {
            return Err(Refusal::BadRequest(format!(
                "workerId {worker_id} is not a live worker of context {}",
                context.name
            )));
        }
    }
    let job_id = submission.job_id.unwrap_or_else(new_job_id);
    let create_time = crate::time::now_millis();
    let details = JobDetails {
        job_id: job_id.clone(),
        endpoint: endpoint.name.clone(),
        function: endpoint.name.clone(),
        context: context.name.clone(),
        params: JobParams {
            file_path: endpoint.path.clone(),
            class_name: endpoint.class_name.clone(),
            arguments: arguments.clone(),
            action: "execute".into(),
        },
        external_id: submission.external_id,
        source: submission.source,
        create_time,
        start_time: None,
        end_time: None,
        status: JobStatus::Queued,
        job_result: None,
        worker_id: None,
        attempt: 1,
    };
    let request = JobRequest {
        job_id,
        endpoint: endpoint.name,
        context: context.into(),
        artifact: ArtifactRef { name: artifact.name, sha1: artifact.sha1 },
        class_name: endpoint.class_name,
        arguments,
        worker_id: submission.worker_id,
        create_time,
        attempt: 1,
        retry: RetryPolicy {
            retries: endpoint.retries,
            backoff_ms: endpoint.retry_backoff.and_then(|d| d.as_std()).map(|d| d.as_millis() as u64).unwrap_or(1000),
            on_error: endpoint.retry_on_error,
        },
        start_timeout_ms: submission.start_timeout.map(|d| d.as_millis() as u64),
        perform_timeout_ms: submission.perform_timeout.map(|d| d.as_millis() as u64),
    };
    Ok(Prepared { details, request })
}

/// Writes the job's record, already `queued`: its request is published next, and a record
/// whose request never made it is either removed by the caller or adopted by the
/// dispatcher from the `request` stored with it. One write, so a job costs one round trip
/// here.
pub async fn record(store: &Store, prepared: &Prepared) -> Result<(), StoreError> {
    let job = &prepared.details;
    let created = format!(
        "job created: endpoint {}, context {}, source {}",
        job.endpoint,
        job.context,
        job.source.as_str()
    );
    let lines = line(Level::Info, job.create_time, &job.job_id, &created) + &line(Level::Info, job.create_time, &job.job_id, "queued");
    store.create_job(job, &prepared.request, &lines).await
}

/// The events that announce a new job: `initialized` (with its params) and `queued`.
pub fn announcements(job: &JobDetails) -> [JobEvent; 2] {
    let mut initialized = JobEvent::new(EventKind::Initialized, &job.job_id, &job.endpoint);
    initialized.params = serde_json::to_value(&job.params).ok();
    initialized.external_id = job.external_id.clone();
    [initialized, JobEvent::new(EventKind::Queued, &job.job_id, &job.endpoint)]
}
