//! The REST routes, one module per resource. Each module's `router()` registers its
//! handlers together with their OpenAPI descriptions, so the document cannot miss a route.

pub mod artifacts;
pub mod contexts;
pub mod endpoints;
pub mod jobs;
pub mod status;
pub mod workers;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// A name taken from the path must follow the same rule as one in a body (API.md: 400).
pub(crate) fn path_name(name: &str) -> Result<(), crate::error::ApiError> {
    mist_common::names::check_name("name in the path", name).map_err(crate::error::ApiError::BadRequest)
}

/// Every route under `/v2/api`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(endpoints::router())
        .merge(jobs::router())
        .merge(workers::router())
        .merge(contexts::router())
        .merge(artifacts::router())
        .merge(status::router())
}
