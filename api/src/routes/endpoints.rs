//! `/endpoints` (also served as `/functions`): deployed functions.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use mist_common::model::context::ContextConfig;
use mist_common::model::endpoint::{EndpointConfig, EndpointInfo, Signature};
use mist_common::store::endpoints::{PutMode, PutOutcome};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint, update_endpoint))
        .routes(routes!(get_endpoint, delete_endpoint))
}

/// All endpoints, by name.
#[utoipa::path(get, path = "/endpoints", tag = "endpoints",
    responses((status = 200, body = [EndpointInfo])))]
async fn list_endpoints(State(state): State<AppState>) -> Result<Json<Vec<EndpointInfo>>, ApiError> {
    Ok(Json(state.store.list_endpoints().await?))
}

#[utoipa::path(get, path = "/endpoints/{id}", tag = "endpoints",
    params(("id" = String, Path, description = "endpoint name")),
    responses((status = 200, body = EndpointInfo), (status = 404, description = "no such endpoint")))]
async fn get_endpoint(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<EndpointInfo>, ApiError> {
    super::path_name(&id)?;
    state.store.get_endpoint(&id).await?.map(Json).ok_or_else(|| not_found(&id))
}

/// Creates an endpoint; its arguments and tags are read from the function in the artifact.
#[utoipa::path(post, path = "/endpoints", tag = "endpoints",
    params(("force" = Option<bool>, Query, description = "overwrite, skipping the artifact and class checks")),
    request_body = EndpointConfig,
    responses((status = 200, body = EndpointInfo), (status = 400, description = "bad body, artifact missing, class not found"),
        (status = 409, description = "an endpoint of that name exists")))]
async fn create_endpoint(State(state): State<AppState>, query: QueryParams, body: Bytes) -> Result<Json<EndpointInfo>, ApiError> {
    let force = query.flag("force", false)?;
    let mode = if force { PutMode::Replace } else { PutMode::Create };
    save(&state, &body, mode, force).await.map(Json)
}

/// Updates the endpoint named in the body, reading the function again.
#[utoipa::path(put, path = "/endpoints", tag = "endpoints",
    params(("force" = Option<bool>, Query, description = "skip the artifact and class checks")),
    request_body = EndpointConfig,
    responses((status = 200, body = EndpointInfo), (status = 400, description = "bad body, artifact missing, class not found"),
        (status = 404, description = "no such endpoint")))]
async fn update_endpoint(State(state): State<AppState>, query: QueryParams, body: Bytes) -> Result<Json<EndpointInfo>, ApiError> {
    let force = query.flag("force", false)?;
    save(&state, &body, PutMode::Update, force).await.map(Json)
}

/// Deletes the endpoint and answers with what it was.
#[utoipa::path(delete, path = "/endpoints/{id}", tag = "endpoints",
    params(("id" = String, Path, description = "endpoint name")),
    responses((status = 200, body = EndpointInfo), (status = 404, description = "no such endpoint")))]
async fn delete_endpoint(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<EndpointInfo>, ApiError> {
    super::path_name(&id)?;
    let endpoint = state.store.get_endpoint(&id).await?.ok_or_else(|| not_found(&id))?;
    if !state.store.delete_endpoint(&id).await? {
        return Err(not_found(&id));
    }
    Ok(Json(endpoint))
}

/// Checks what can be checked cheaply first (so a user hears of a typo at once), reads
/// the signature, then writes with the same checks repeated atomically in Redis.
async fn save(state: &AppState, body: &[u8], mode: PutMode, force: bool) -> Result<EndpointInfo, ApiError> {
    let config = EndpointConfig::from_body(body).map_err(ApiError::BadRequest)?;
    match mode {
        PutMode::Create if state.store.endpoint_exists(&config.name).await? => return Err(exists(&config.name)),
        PutMode::Update if !state.store.endpoint_exists(&config.name).await? => return Err(not_found(&config.name)),
        _ => {}
    }
    if config.default_context != ContextConfig::DEFAULT_NAME && !state.store.context_exists(&config.default_context).await? {
        return Err(no_context(&config.default_context));
    }
    let signature = if force { Signature::default() } else { read_signature(state, &config).await? };
    let endpoint = EndpointInfo::new(config, signature);
    match state.store.put_endpoint(&endpoint, mode, !force).await? {
        PutOutcome::Stored => Ok(endpoint),
        PutOutcome::AlreadyExists => Err(exists(&endpoint.name)),
        PutOutcome::Missing => Err(not_found(&endpoint.name)),
        PutOutcome::NoSuchContext => Err(no_context(&endpoint.default_context)),
        PutOutcome::NoSuchArtifact => Err(no_artifact(&endpoint.path)),
    }
}

async fn read_signature(state: &AppState, config: &EndpointConfig) -> Result<Signature, ApiError> {
    let record = state.store.get_artifact(&config.path).await?.ok_or_else(|| no_artifact(&config.path))?;
    let file = state.artifacts.path_of(&record.sha1, &record.name);
    state.inspector.signature(&file, &config.path, &config.class_name).await
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("endpoint {name} not found"))
}

fn exists(name: &str) -> ApiError {
    ApiError::Conflict(format!("endpoint {name} already exists; use PUT to update it, or POST with ?force=true to replace it"))
}

fn no_context(name: &str) -> ApiError {
    ApiError::BadRequest(format!("defaultContext {name} does not exist; create it with POST /v2/api/contexts first"))
}

fn no_artifact(name: &str) -> ApiError {
    ApiError::BadRequest(format!("path: artifact {name} not found; upload it with POST /v2/api/artifacts first"))
}
