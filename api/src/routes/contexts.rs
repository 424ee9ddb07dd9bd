//! `/contexts`: Spark settings and worker policy. `default` comes from the configuration
//! file and is read-only here.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use mist_common::model::context::ContextConfig;
use mist_common::model::messages::Notice;
use mist_common::store::contexts::Deleted;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contexts, create_context))
        .routes(routes!(get_context, update_context, delete_context))
}

/// `default` first, then the others by name.
#[utoipa::path(get, path = "/contexts", tag = "contexts", responses((status = 200, body = [ContextConfig])))]
async fn list_contexts(State(state): State<AppState>) -> Result<Json<Vec<ContextConfig>>, ApiError> {
    let mut contexts = vec![state.default_context()];
    contexts.extend(state.store.list_contexts().await?);
    Ok(Json(contexts))
}

#[utoipa::path(get, path = "/contexts/{id}", tag = "contexts",
    params(("id" = String, Path, description = "context name")),
    responses((status = 200, body = ContextConfig), (status = 404, description = "no such context")))]
async fn get_context(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<ContextConfig>, ApiError> {
    super::path_name(&id)?;
    if id == ContextConfig::DEFAULT_NAME {
        return Ok(Json(state.default_context()));
    }
    state.store.get_context(&id).await?.map(Json).ok_or_else(|| not_found(&id))
}

/// Creates or replaces a context; only `name` is needed, the rest comes from `default`.
#[utoipa::path(post, path = "/contexts", tag = "contexts", request_body = ContextConfig,
    responses((status = 200, body = ContextConfig), (status = 400, description = "a bad field, or the name default")))]
async fn create_context(State(state): State<AppState>, body: Bytes) -> Result<Json<ContextConfig>, ApiError> {
    let context = ContextConfig::from_body(&body, &state.default_context(), None).map_err(ApiError::BadRequest)?;
    refuse_default(&context.name)?;
    state.store.put_context(&context).await?;
    state.broker.notify_dispatcher(&Notice::ContextChanged { context: context.clone() }).await;
    Ok(Json(context))
}

/// Replaces an existing context; missing fields come from `default`.
#[utoipa::path(put, path = "/contexts/{id}", tag = "contexts", request_body = ContextConfig,
    params(("id" = String, Path, description = "context name")),
    responses((status = 200, body = ContextConfig), (status = 400, description = "a bad field"), (status = 404, description = "no such context")))]
async fn update_context(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Result<Json<ContextConfig>, ApiError> {
    super::path_name(&id)?;
    refuse_default(&id)?;
    let context = ContextConfig::from_body(&body, &state.default_context(), Some(&id)).map_err(ApiError::BadRequest)?;
    if !state.store.context_exists(&id).await? {
        return Err(not_found(&id));
    }
    state.store.put_context(&context).await?;
    state.broker.notify_dispatcher(&Notice::ContextChanged { context: context.clone() }).await;
    Ok(Json(context))
}

/// Deletes a context no endpoint uses as its default; answers with what it was.
#[utoipa::path(delete, path = "/contexts/{id}", tag = "contexts",
    params(("id" = String, Path, description = "context name")),
    responses((status = 200, body = ContextConfig), (status = 404, description = "no such context"),
        (status = 409, description = "an endpoint names it as its default")))]
async fn delete_context(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<ContextConfig>, ApiError> {
    super::path_name(&id)?;
    refuse_default(&id)?;
    match state.store.delete_context(&id).await? {
        Deleted::Yes(json) => {
            state.broker.notify_dispatcher(&Notice::ContextDeleted { name: id.clone() }).await;
            serde_json::from_str(&json)
                .map(Json)
                .map_err(|e| ApiError::Internal(format!("context {id} was stored unreadable: {e}")))
        }
        Deleted::Missing => Err(not_found(&id)),
        Deleted::InUseBy(endpoint) => Err(ApiError::Conflict(format!(
            "context {id} is the defaultContext of endpoint {endpoint}; point that endpoint elsewhere or delete it first"
        ))),
    }
}

fn refuse_default(name: &str) -> Result<(), ApiError> {
    if name == ContextConfig::DEFAULT_NAME {
        return Err(ApiError::BadRequest(
            "the default context is set in the configuration file ([contexts.default]), not through the API".into(),
        ));
    }
    Ok(())
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("context {name} not found"))
}
