//! Leaving nothing behind: the run's Redis keys (`<ns>:*`), its RabbitMQ queues, and any
//! worker process that outlived its agent.

use std::time::Duration;

use anyhow::Context;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use mist_common::amqp::topology::Topology;
use mist_common::store::keys::Keys;

/// Keys per `SCAN` step and per `UNLINK`: a million-job history goes in a few hundred
/// short commands instead of one that blocks Redis for seconds.
const SCAN_COUNT: usize = 10_000;

/// Deletes every key of the namespace; returns how many there were.
pub async fn redis_keys(redis_url: &str, namespace: &str) -> anyhow::Result<u64> {
    let mut conn = crate::progress::connect(redis_url).await?;
    let pattern = Keys::new(namespace).pattern_all();
    let mut cursor: u64 = 0;
    let mut deleted = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(&mut conn)
            .await
            .context("scanning the run's keys")?;
        if !keys.is_empty() {
            let gone: u64 = redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await.context("deleting the run's keys")?;
            deleted += gone;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

/// Deletes the namespace's durable queues at once rather than leaving them to
/// `amqp.expire_unused`; the exchanges were declared auto-delete and go with their bindings.
pub async fn amqp_queues(amqp_url: &str, namespace: &str) -> anyhow::Result<()> {
    let topology = Topology::new(namespace);
    let connection = tokio::time::timeout(Duration::from_secs(10), mist_common::amqp::connect(amqp_url, "mist-bench cleanup"))
        .await
        .context("connecting to RabbitMQ timed out")??;
    let channel = connection.create_channel().await?;
    for queue in [topology.requests_queue(), topology.dead_letter_queue(), topology.dispatcher_queue()] {
        channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.with_context(|| format!("deleting queue {queue}"))?;
    }
    let _ = connection.close(200, "bench done".into()).await;
    Ok(())
}

/// Deletes a queue and an exchange of the same name (what a Celery app declares for its
/// default queue).
pub async fn amqp_queue_and_exchange(amqp_url: &str, name: &str) -> anyhow::Result<()> {
    let connection = tokio::time::timeout(Duration::from_secs(10), mist_common::amqp::connect(amqp_url, "mist-bench cleanup"))
        .await
        .context("connecting to RabbitMQ timed out")??;
    let channel = connection.create_channel().await?;
    channel.queue_delete(name.into(), QueueDeleteOptions::default()).await.with_context(|| format!("deleting queue {name}"))?;
    channel.exchange_delete(name.into(), ExchangeDeleteOptions::default()).await.with_context(|| format!("deleting exchange {name}"))?;
    let _ = connection.close(200, "bench done".into()).await;
    Ok(())
}

/// Kills (SIGKILL) processes by id: the workers of this run that outlived their agent.
pub fn kill(pids: &[u32]) {
    for pid in pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid as i32), nix::sys::signal::Signal::SIGKILL);
    }
}
