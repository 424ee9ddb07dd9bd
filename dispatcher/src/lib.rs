//! The dispatcher: consumes job requests and decides where each job runs. For now it
//! connects to its parts and waits for shutdown; scheduling arrives with the jobs issue.

use anyhow::Context;
use mist_common::config::Settings;
use mist_common::store::Store;
use tokio_util::sync::CancellationToken;

/// Runs until `shutdown` trips.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = Store::new(&settings.redis, &settings.namespace)?;
    store.ping().await.context("Redis (redis.url)")?;
    let connection = mist_common::amqp::connect(&settings.amqp.url, "mist-dispatcher")
        .await
        .context("RabbitMQ (amqp.url)")?;
    tracing::info!(namespace = %settings.namespace, "dispatcher connected to Redis and RabbitMQ");
    shutdown.cancelled().await;
    connection.close(200, "shutdown".into()).await.ok();
    Ok(())
}
