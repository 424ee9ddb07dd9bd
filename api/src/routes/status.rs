//! `/status`: is Mist up, and are the parts it needs answering.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use mist_common::model::status::MistStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// Versions, start time, the health of Redis and RabbitMQ, and how many agents and
/// workers are live. Answers 200 even when a part is down: the body says which.
#[utoipa::path(get, path = "/status", tag = "status", responses((status = 200, body = MistStatus)))]
async fn status(State(state): State<AppState>) -> Json<MistStatus> {
    let (redis, broker) = tokio::join!(state.store.ping(), state.broker.health());
    let counts = state.store.count_agents_and_workers().await;
    let components = BTreeMap::from([
        ("redis".to_string(), redis.map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string())),
        ("rabbitmq".to_string(), broker.map(|_| "ok".to_string()).unwrap_or_else(|e| e)),
    ]);
    let (agents, workers) = counts.unwrap_or((0, 0));
    Json(MistStatus {
        mist_version: mist_common::MIST_VERSION.to_string(),
        spark_version: state.store.spark_version().await.ok().flatten(),
        started: state.started.clone(),
        components,
        agents,
        workers,
    })
}
