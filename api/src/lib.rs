//! The Mist REST API v2. `app` builds the service from a state; `serve` runs it until the
//! shutdown token trips. `main.rs` only wires these to configuration.

mod artifact_files;
mod broker;
pub mod error;
mod inspect;
mod jobs;
mod middleware;
pub mod openapi;
mod query;
mod routes;
mod waiters;
pub mod state;

use std::sync::LazyLock;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::error_response;
pub use crate::state::AppState;

/// The routes under `/v2/api` and their document, built from the same annotations.
fn routes_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/v2/api", routes::router().routes(routes!(openapi_json)))
        .split_for_parts();
    openapi::add_functions_alias(&mut document);
    (router, document)
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| routes_and_document().1);

/// The OpenAPI document of every route.
pub fn openapi_document() -> &'static utoipa::openapi::OpenApi {
    &DOCUMENT
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "status", responses((status = 200, description = "OpenAPI 3 document")))]
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

/// The router with every layer, before the `/functions` alias is put in front of it.
pub fn app(state: AppState) -> Router {
    let max_body = state.settings.http.max_body_bytes;
    routes_and_document()
        .0
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(axum::middleware::from_fn(middleware::cors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        &format!("no route for {method} {}; the routes are listed at /v2/api/openapi.json", uri.path()),
    )
}

/// Serves until `shutdown` trips, then lets requests in flight finish.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
    let service = app(state).map_request(middleware::functions_alias::<>);
    let make_service = axum::ServiceExt::<Request>::into_make_service(service);
    axum::serve(listener, make_service).with_graceful_shutdown(shutdown.cancelled_owned()).await
}
