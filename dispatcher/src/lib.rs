//! The dispatcher: consumes job requests and agents' notices, keeps the model of agents,
//! workers and jobs, and decides where each job runs (`scheduler`). Several may run; the
//! one holding the lease (`lease`) is active, the others stand by and take over within
//! the lease's time to live. An active dispatcher that loses RabbitMQ or its lease drops
//! its model and starts over from Redis, so it never acts on a stale picture.

pub mod active;
pub mod effects;
pub mod intake;
pub mod lease;
pub mod model;
pub mod rebuild;
pub mod reconcile;
pub mod scheduler;

use std::time::Duration;

use mist_common::config::Settings;
use mist_common::store::Store;
use tokio_util::sync::CancellationToken;

use crate::lease::Lease;

/// Longest pause before trying again after RabbitMQ or Redis failed.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs until `shutdown` trips: stands by until it holds the lease, then dispatches.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let settings = std::sync::Arc::new(settings);
    let store = Store::new(&settings.redis, &settings.namespace)?;
    let instance = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    let ttl = settings.dispatcher.lease_ttl.as_std().unwrap_or(Duration::from_secs(5));
    let lease = Lease::new(store.clone(), &instance, ttl);
    let mut backoff = Duration::from_millis(200);
    loop {
        if !lease.acquire(&shutdown).await {
            return Ok(());
        }
        tracing::info!(instance = %instance, "dispatcher holds the lease; active");
        let active = shutdown.child_token();
        let keeper = tokio::spawn(lease.clone().keep(active.clone()));
        let outcome = active::run(&settings, &store, &lease, &instance, &active).await;
        active.cancel();
        let _ = keeper.await;
        lease.release().await;
        match outcome {
            _ if shutdown.is_cancelled() => return Ok(()),
            Ok(()) => tracing::warn!("lease lost; standing by"),
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), "dispatcher stopped; starting over");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        backoff = Duration::from_millis(200);
    }
}
