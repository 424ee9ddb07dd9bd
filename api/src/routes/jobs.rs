//! `/jobs`, and running an endpoint: `/endpoints/{id}/jobs`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mist_common::duration::MistDuration;
use mist_common::model::body::kind_of;
use mist_common::model::job::{JobDetails, JobStatus, Source};
use mist_common::model::worker::WorkerLink;
use mist_common::store::jobs::JobQuery;
use mist_common::submit::{new_job_id, Submission};
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::jobs::{cancel, submit};
use crate::query::QueryParams;
use crate::state::AppState;
use crate::waiters::Woken;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job, cancel_job))
        .routes(routes!(job_logs))
        .routes(routes!(job_worker))
        .routes(routes!(run_endpoint, list_endpoint_jobs))
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/jobs", tag = "jobs",
    params(("limit" = Option<u32>, Query, description = "1-1000, default 25"), ("offset" = Option<u32>, Query),
        ("status" = Option<Vec<String>>, Query, description = "repeatable"), ("paginate" = Option<bool>, Query, description = "answer {jobs, total}")),
    responses((status = 200, body = [JobDetails]), (status = 400, description = "bad status, limit or offset")))]
async fn list_jobs(State(state): State<AppState>, query: QueryParams) -> Result<Response, ApiError> {
    page(&state, None, &query).await
}

#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobDetails), (status = 404, description = "no such job")))]
async fn get_job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobDetails>, ApiError> {
    state.store.get_job(&id).await?.map(Json).ok_or_else(|| job_not_found(&id))
}

/// The job's log lines so far; `offset` (bytes) continues from an earlier read.
#[utoipa::path(get, path = "/jobs/{id}/logs", tag = "jobs", params(("id" = String, Path), ("offset" = Option<u64>, Query)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, description = "no such job")))]
async fn job_logs(State(state): State<AppState>, Path(id): Path<String>, query: QueryParams) -> Result<Response, ApiError> {
    let offset = match query.one("offset") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| ApiError::BadRequest(format!("offset must be a whole number of bytes, got {v:?}")))?,
    };
    let text = state.store.read_log(&id, offset).await?.ok_or_else(|| job_not_found(&id))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The worker that ran the job, as recorded.
#[utoipa::path(get, path = "/jobs/{id}/worker", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = WorkerLink), (status = 404, description = "no such job, or not yet on a worker")))]
async fn job_worker(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<WorkerLink>, ApiError> {
    let job = state.store.get_job(&id).await?.ok_or_else(|| job_not_found(&id))?;
    let worker_id = job.worker_id.ok_or_else(|| ApiError::NotFound(format!("job {id} has not been assigned a worker yet")))?;
    let record = state
        .store
        .get_worker_record(&worker_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("the record of worker {worker_id} that ran job {id} has expired")))?;
    Ok(Json(record.link))
}

/// Cancels the job: a queued one at once, a started one once its Spark work stopped.
#[utoipa::path(delete, path = "/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobDetails), (status = 404, description = "no such job")))]
async fn cancel_job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobDetails>, ApiError> {
    cancel(&state, &id).await.map(Json)
}

/// Runs the endpoint's function with the body's arguments.
#[utoipa::path(post, path = "/endpoints/{id}/jobs", tag = "jobs",
    params(("id" = String, Path, description = "endpoint name"),
        ("context" = Option<String>, Query, description = "run in this context instead of the endpoint's default"),
        ("workerId" = Option<String>, Query), ("externalId" = Option<String>, Query),
        ("force" = Option<bool>, Query, description = "wait for the result"),
        ("timeout" = Option<String>, Query, description = "how long force=true waits, default jobs.default_wait"),
        ("startTimeout" = Option<String>, Query, description = "fail the job if it has not started this long after it was created"),
        ("performTimeout" = Option<String>, Query, description = "fail the job, stopping its Spark work, if it runs longer than this")),
    request_body(content = Object, description = "the function's arguments"),
    responses((status = 200, description = "{\"id\"}, or with force=true {\"success\",\"payload\",\"errors\"}"),
        (status = 400, description = "arguments do not fit"), (status = 404, description = "no such endpoint"),
        (status = 408, description = "force=true and the job did not end in time"),
        (status = 409, description = "the context is broken"), (status = 503, description = "broker or store unreachable")))]
async fn run_endpoint(State(state): State<AppState>, Path(id): Path<String>, query: QueryParams, body: Bytes) -> Result<Response, ApiError> {
    let force = query.flag("force", false)?;
    let wait = match query.one("timeout") {
        None => state.settings.jobs.default_wait,
        Some(v) => v.parse::<MistDuration>().map_err(|e| ApiError::BadRequest(format!("timeout: {e}")))?,
    };
    let limit = |name: &str| -> Result<Option<Duration>, ApiError> {
        match query.one(name) {
            None => Ok(None),
            Some(v) => v.parse::<MistDuration>().map(|d| d.as_std()).map_err(|e| ApiError::BadRequest(format!("{name}: {e}"))),
        }
    };
    let submission = Submission {
        start_timeout: limit("startTimeout")?,
        perform_timeout: limit("performTimeout")?,
        endpoint: id,
        arguments: arguments_of(&body)?,
        context: query.one("context").filter(|c| !c.is_empty()).map(str::to_string),
        worker_id: query.one("workerId").filter(|w| !w.is_empty()).map(str::to_string),
        external_id: query.one("externalId").map(str::to_string),
        source: Source::Http,
        job_id: None,
    };
    if !force {
        let job = submit(&state, submission).await?;
        return Ok(Json(json!({ "id": job.job_id })).into_response());
    }
    wait_for_result(&state, submission, wait.as_std()).await
}

/// Jobs of one endpoint, newest first; the same query as `/jobs`.
#[utoipa::path(get, path = "/endpoints/{id}/jobs", tag = "jobs",
    params(("id" = String, Path, description = "endpoint name"), ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query),
        ("status" = Option<Vec<String>>, Query), ("paginate" = Option<bool>, Query)),
    responses((status = 200, body = [JobDetails]), (status = 404, description = "no such endpoint"), (status = 400, description = "bad query")))]
async fn list_endpoint_jobs(State(state): State<AppState>, Path(id): Path<String>, query: QueryParams) -> Result<Response, ApiError> {
    if !state.store.endpoint_exists(&id).await? {
        return Err(ApiError::NotFound(format!("endpoint {id} not found")));
    }
    page(&state, Some(id), &query).await
}

async fn page(state: &AppState, endpoint: Option<String>, query: &QueryParams) -> Result<Response, ApiError> {
    let whole = |name: &str, default: usize, range: std::ops::RangeInclusive<usize>| -> Result<usize, ApiError> {
        match query.one(name) {
            None => Ok(default),
            Some(v) => v.parse::<usize>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                ApiError::BadRequest(format!("{name} must be a whole number from {} to {}, got {v:?}", range.start(), range.end()))
            }),
        }
    };
    let statuses = query
        .all("status")
        .into_iter()
        .map(|s| s.parse::<JobStatus>().map_err(ApiError::BadRequest))
        .collect::<Result<Vec<_>, _>>()?;
    let job_query = JobQuery { endpoint, statuses, limit: whole("limit", 25, 1..=1000)?, offset: whole("offset", 0, 0..=10_000_000)? };
    let (jobs, total) = state.store.list_jobs(&job_query).await?;
    Ok(if query.flag("paginate", false)? {
        Json(json!({ "jobs": jobs, "total": total })).into_response()
    } else {
        Json(jobs).into_response()
    })
}

/// `force=true`: submit, then wait for the job to be done, woken by its done notice.
async fn wait_for_result(state: &AppState, mut submission: Submission, limit: Option<Duration>) -> Result<Response, ApiError> {
    // The id is chosen here so that the wait is registered before the job exists: its end
    // cannot be missed, and the job is read only once it is done.
    let id = new_job_id();
    submission.job_id = Some(id.clone());
    let woken = state.waiters.register(&id);
    let answer = match submit(state, submission).await {
        Ok(_) => wait_until_done(state, &id, woken, limit).await,
        Err(err) => Err(err),
    };
    state.waiters.forget(&id);
    answer
}

async fn wait_until_done(state: &AppState, id: &str, mut woken: Woken, limit: Option<Duration>) -> Result<Response, ApiError> {
    let deadline = limit.map(|l| tokio::time::Instant::now() + l);
    loop {
        let timed_out = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, woken).await.is_err(),
            None => woken.await.is_err(),
        };
        if timed_out {
            let waited = limit.map(|l| MistDuration::Finite(l).to_string()).unwrap_or_default();
            let body = json!({ "error": format!("job {id} did not end within {waited}; it keeps running, follow it at /v2/api/jobs/{id}"), "id": id });
            return Ok((StatusCode::REQUEST_TIMEOUT, Json(body)).into_response());
        }
        // A wake can be spurious (Redis was resubscribed): registered again before the
        // read, so an end right after it is not missed.
        woken = state.waiters.register(id);
        let (status, result) = state.store.job_outcome(id).await?.ok_or_else(|| job_not_found(id))?;
        if status.is_done() {
            return Ok(Json(outcome(status, result)).into_response());
        }
    }
}

/// `{"success","payload","errors"}` of a done job.
fn outcome(status: JobStatus, result: Option<Value>) -> Value {
    match status {
        JobStatus::Finished => json!({ "success": true, "payload": result.unwrap_or(json!({})), "errors": [] }),
        JobStatus::Canceled => json!({ "success": false, "payload": {}, "errors": ["the job was canceled"] }),
        _ => {
            let error = result.map(|r| r.as_str().map(str::to_string).unwrap_or_else(|| r.to_string()));
            json!({ "success": false, "payload": {}, "errors": [error.unwrap_or_else(|| "the job failed".into())] })
        }
    }
}

/// The body must be a JSON object of arguments.
fn arguments_of(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("request body is empty: send the arguments as a JSON object ({} for none)".into()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(arguments)) => Ok(arguments),
        Ok(other) => Err(ApiError::BadRequest(format!(
            "request body must be a JSON object of arguments ({{}} for none), got {}",
            kind_of(&other)
        ))),
        Err(err) => Err(ApiError::BadRequest(format!("request body is not valid JSON: {err}"))),
    }
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("job {id} not found"))
}
