//! `/workers`: the live Spark drivers.

use axum::extract::{Path, State};
use axum::Json;
use mist_common::model::messages::Notice;
use mist_common::model::worker::{WorkerFullInfo, WorkerLink, WorkerStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// Jobs listed in a worker's full info.
const WORKER_JOBS_SHOWN: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_workers)).routes(routes!(get_worker, stop_worker))
}

#[utoipa::path(get, path = "/workers", tag = "workers", responses((status = 200, body = [WorkerLink])))]
async fn list_workers(State(state): State<AppState>) -> Result<Json<Vec<WorkerLink>>, ApiError> {
    Ok(Json(state.store.list_workers().await?.into_iter().map(|w| w.link).collect()))
}

/// A live worker with the settings it started with and the jobs it ran (newest first).
#[utoipa::path(get, path = "/workers/{id}", tag = "workers", params(("id" = String, Path)),
    responses((status = 200, body = WorkerFullInfo), (status = 404, description = "no such live worker")))]
async fn get_worker(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<WorkerFullInfo>, ApiError> {
    let record = state.store.get_live_worker(&id).await?.ok_or_else(|| not_found(&id))?;
    let jobs = state.store.worker_jobs(&id, WORKER_JOBS_SHOWN).await?;
    Ok(Json(WorkerFullInfo { link: record.link, jobs, init_info: record.init_info }))
}

/// Stops the worker; its running jobs fail with "worker stopped by request".
#[utoipa::path(delete, path = "/workers/{id}", tag = "workers", params(("id" = String, Path)),
    responses((status = 200, body = WorkerLink), (status = 404, description = "no such live worker")))]
async fn stop_worker(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<WorkerLink>, ApiError> {
    let record = state.store.get_live_worker(&id).await?.ok_or_else(|| not_found(&id))?;
    let publisher = state.broker.publisher().await.map_err(ApiError::Unavailable)?;
    let topology = state.broker.topology();
    let notice = Notice::StopWorker { worker_id: id.clone(), reason: "worker stopped by request".into() };
    publisher
        .publish_confirmed(&topology.control_exchange(), topology.dispatcher_routing_key(), &notice)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot ask the dispatcher to stop worker {id}: {e}")))?;
    let mut link = record.link;
    link.status = WorkerStatus::Stopping;
    Ok(Json(link))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("worker {id} not found (it may have stopped)"))
}
