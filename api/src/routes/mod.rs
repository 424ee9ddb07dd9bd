//! The REST routes, one module per resource. Each module's `router()` registers its
//! handlers together with their OpenAPI descriptions, so the document cannot miss a route.

pub mod artifacts;
pub mod contexts;
pub mod endpoints;
pub mod status;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every route under `/v2/api`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(endpoints::router())
        .merge(contexts::router())
        .merge(artifacts::router())
        .merge(status::router())
}
