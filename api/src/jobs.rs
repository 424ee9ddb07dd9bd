//! Submitting and cancelling jobs: the two writes the API makes to a job's life.

use mist_common::amqp::publish::{PublishError, Publisher};
use mist_common::joblog::{line, Level};
use mist_common::model::job::{JobDetails, JobStatus};
use mist_common::model::messages::{EventKind, JobEvent};
use mist_common::store::jobs::{Moved, Transition};
use mist_common::submit::{announcements, prepare, record, Refusal, Submission};
use mist_common::time::now_millis;

use crate::error::ApiError;
use crate::state::AppState;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound(m) => ApiError::NotFound(m),
            Refusal::BadRequest(m) => ApiError::BadRequest(m),
            Refusal::Conflict(m) => ApiError::Conflict(m),
            Refusal::Store(e) => e.into(),
        }
    }
}

/// Records the job and queues its request: both or neither. Returns the job as recorded.
pub async fn submit(state: &AppState, submission: Submission) -> Result<JobDetails, ApiError> {
    let prepared = prepare(&state.store, &state.settings, submission).await?;
    let publisher = state.broker.publisher().await.map_err(|e| ApiError::Unavailable(format!("cannot queue the job: {e}")))?;
    record(&state.store, &prepared).await?;
    let (job, request) = (prepared.details, prepared.request);
    let topology = state.broker.topology();
    let events = topology.events_exchange();
    // Announced first, on the same channel as the request, so every event of the job
    // follows these; all three are confirmed together.
    mist_common::fault::hold("api.before_publish").await;
    let sent = async {
        let mut confirms = Vec::new();
        for event in announcements(&job) {
            confirms.push(publisher.send_confirmable(&events, &event.routing_key(), &event).await?);
        }
        confirms.push(publisher.send_confirmable(&topology.requests_exchange(), topology.run_routing_key(), &request).await?);
        for confirm in confirms {
            Publisher::settle(confirm).await?;
        }
        Ok::<(), PublishError>(())
    };
    if let Err(err) = sent.await {
        let error = format!("cannot queue the job: {err}");
        if let Err(cleanup) = state.store.delete_job(&job.job_id, &job.endpoint).await {
            // The dispatcher adopts it from its record later; the client hears 503 either way.
            tracing::warn!(job.id = %job.job_id, error = %cleanup, "could not remove a job whose request was not queued");
        }
        let mut failed = JobEvent::new(EventKind::Failed, &job.job_id, &job.endpoint);
        failed.error = Some(error.clone());
        let _ = publisher.publish(&events, &failed.routing_key(), &failed).await;
        return Err(ApiError::Unavailable(error));
    }
    Ok(job)
}

/// A queued job is canceled at once; a started one becomes `cancelling` and the dispatcher
/// has its Spark work stopped; a done one is left as it is.
pub async fn cancel(state: &AppState, id: &str) -> Result<JobDetails, ApiError> {
    let not_found = || ApiError::NotFound(format!("job {id} not found"));
    // Each round either changes the job or sees it move on by itself; three are plenty.
    for _ in 0..3 {
        let job = state.store.get_job(id).await?.ok_or_else(not_found)?;
        let (change, event) = match job.status {
            status if status.is_done() => return Ok(job),
            JobStatus::Cancelling => return Ok(job),
            JobStatus::Initialized | JobStatus::Queued => (
                Transition::to(id, JobStatus::Canceled)
                    .from(&[JobStatus::Initialized, JobStatus::Queued])
                    .set("endTime", now_millis())
                    .log(line(Level::Info, now_millis(), id, "canceled before it started")),
                EventKind::Canceled,
            ),
            _ => (
                Transition::to(id, JobStatus::Cancelling)
                    .from(&[JobStatus::Started])
                    .log(line(Level::Info, now_millis(), id, "cancel requested; stopping its Spark work")),
                EventKind::Cancelling,
            ),
        };
        if let Moved::Yes(_) = state.store.transition(&change).await? {
            let publisher = state.broker.publisher().await.map_err(ApiError::Unavailable)?;
            let mut notice = JobEvent::new(event, id, &job.endpoint);
            notice.worker_id = job.worker_id.clone();
            notice.time = Some(now_millis());
            let events = state.broker.topology().events_exchange();
            publisher
                .publish_confirmed(&events, &notice.routing_key(), &notice)
                .await
                .map_err(|e| ApiError::Unavailable(format!("the cancel was recorded but could not be sent: {e}")))?;
            return state.store.get_job(id).await?.ok_or_else(not_found);
        }
    }
    state.store.get_job(id).await?.ok_or_else(not_found)
}
