//! `/artifacts`: the files endpoints run (`.py`, `.zip`, `.egg`, `.whl`, `.jar`).

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mist_common::store::artifacts::{ArtifactPut, ArtifactRecord};
use mist_common::store::contexts::Deleted;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::artifact_files::{check_file_name, Upload};
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_artifacts, upload_artifact))
        .routes(routes!(download_artifact, delete_artifact))
        .routes(routes!(artifact_sha))
        // Uploads are bounded by artifacts.max_size_bytes, counted while streaming.
        .layer(DefaultBodyLimit::disable())
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The file; its name becomes the artifact's name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(get, path = "/artifacts", tag = "artifacts", responses((status = 200, body = [String])))]
async fn list_artifacts(State(state): State<AppState>) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(state.store.list_artifacts().await?))
}

/// The artifact's bytes.
#[utoipa::path(get, path = "/artifacts/{name}", tag = "artifacts",
    params(("name" = String, Path, description = "artifact name")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "no such artifact")))]
async fn download_artifact(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    super::path_name(&name)?;
    let record = find(&state, &name).await?;
    let file = tokio::fs::File::open(state.artifacts.path_of(&record.sha1, &record.name))
        .await
        .map_err(|e| ApiError::Internal(format!("artifact {name} is recorded but its file cannot be read: {e}")))?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::CONTENT_LENGTH, record.size.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        (header::ETAG, format!("\"{}\"", record.sha1)),
    ];
    Ok((headers, Body::from_stream(ReaderStream::new(file))).into_response())
}

/// The SHA-1 of the artifact's bytes, hex.
#[utoipa::path(get, path = "/artifacts/{name}/sha", tag = "artifacts",
    params(("name" = String, Path, description = "artifact name")),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, description = "no such artifact")))]
async fn artifact_sha(State(state): State<AppState>, Path(name): Path<String>) -> Result<String, ApiError> {
    super::path_name(&name)?;
    Ok(find(&state, &name).await?.sha1)
}

/// Uploads a file from the multipart part `file`, stored under the part's file name.
#[utoipa::path(post, path = "/artifacts", tag = "artifacts",
    params(("force" = Option<bool>, Query, description = "replace an artifact of the same name")),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 200, content_type = "text/plain", body = String, description = "the stored name"),
        (status = 400, description = "bad name or form"), (status = 409, description = "the name exists"),
        (status = 413, description = "over artifacts.max_size_bytes")))]
async fn upload_artifact(
    State(state): State<AppState>,
    query: QueryParams,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<String, ApiError> {
    let force = query.flag("force", false)?;
    let mut multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!("POST /artifacts takes a multipart/form-data body with a part named \"file\": {e}"))
    })?;
    loop {
        let field = multipart.next_field().await.map_err(cut_off)?.ok_or_else(|| {
            ApiError::BadRequest("the multipart upload has no part named \"file\"".into())
        })?;
        if field.name() == Some("file") {
            return store_upload(&state, field, force).await;
        }
    }
}

async fn store_upload(state: &AppState, mut field: Field<'_>, force: bool) -> Result<String, ApiError> {
    let name = field
        .file_name()
        .map(str::to_string)
        .ok_or_else(|| ApiError::BadRequest("the \"file\" part has no file name; send it as a file".into()))?;
    check_file_name(&name)?;
    if !force && state.store.get_artifact(&name).await?.is_some() {
        return Err(exists(&name));
    }
    let mut upload: Upload = state.artifacts.begin()?;
    while let Some(chunk) = field.chunk().await.map_err(cut_off)? {
        upload.write(&chunk).await?;
    }
    let staged = upload.finish().await?;
    let record = ArtifactRecord {
        name: name.clone(),
        sha1: staged.sha1.clone(),
        size: staged.size,
        create_time: mist_common::time::now_millis(),
    };
    let placed = state.artifacts.place(staged, &name)?;
    let outcome = state.store.put_artifact(&record, force).await;
    let keeps_file = |sha1: &str| sha1 == record.sha1;
    match outcome {
        Ok(ArtifactPut::Stored { previous }) => {
            if let Some(previous) = previous.filter(|p| !keeps_file(&p.sha1)) {
                state.artifacts.remove(&previous.sha1, &name);
            }
            Ok(name)
        }
        Ok(ArtifactPut::AlreadyExists { existing }) => {
            if !placed.existed_before && !keeps_file(&existing.sha1) {
                state.artifacts.remove(&record.sha1, &name);
            }
            Err(exists(&name))
        }
        Err(err) => {
            if !placed.existed_before {
                state.artifacts.remove(&record.sha1, &name);
            }
            Err(err.into())
        }
    }
}

/// Deletes an artifact no endpoint uses.
#[utoipa::path(delete, path = "/artifacts/{name}", tag = "artifacts",
    params(("name" = String, Path, description = "artifact name")),
    responses((status = 200, content_type = "text/plain", body = String, description = "the deleted name"),
        (status = 404, description = "no such artifact"), (status = 409, description = "an endpoint uses it")))]
async fn delete_artifact(State(state): State<AppState>, Path(name): Path<String>) -> Result<String, ApiError> {
    super::path_name(&name)?;
    match state.store.delete_artifact(&name).await? {
        Deleted::Yes(json) => {
            let record = state.store.decode_artifact(&json)?;
            state.artifacts.remove(&record.sha1, &record.name);
            Ok(name)
        }
        Deleted::Missing => Err(not_found(&name)),
        Deleted::InUseBy(endpoint) => Err(ApiError::Conflict(format!(
            "artifact {name} is used by endpoint {endpoint}; delete or update that endpoint first"
        ))),
    }
}

async fn find(state: &AppState, name: &str) -> Result<ArtifactRecord, ApiError> {
    state.store.get_artifact(name).await?.ok_or_else(|| not_found(name))
}

fn cut_off(err: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("the multipart upload could not be read (cut off?): {}", err.body_text()))
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("artifact {name} not found"))
}

fn exists(name: &str) -> ApiError {
    ApiError::Conflict(format!("artifact {name} already exists; upload with ?force=true to replace it"))
}
