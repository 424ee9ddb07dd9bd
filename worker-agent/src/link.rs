//! Keeping the agent connected to RabbitMQ. It connects (with backoff), declares the
//! topology and its own command queue, announces the agent, and forwards commands to the
//! agent's loop until the connection drops; then it starts over. Workers keep running all
//! the while: what they report goes to Redis, and the dispatcher reconciles with Redis.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::{AMQPValue, FieldTable};
use mist_common::amqp::declare::declare_shared;
use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::config::Settings;
use mist_common::model::messages::{AgentCommand, Notice};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agent::{CurrentInfo, Input};
use crate::report::Reporter;

/// How long an agent's command queue lives without an agent consuming it.
const AGENT_QUEUE_EXPIRY: Duration = Duration::from_secs(120);
/// Longest pause between attempts to reach RabbitMQ.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub async fn stay_connected(settings: std::sync::Arc<Settings>, reporter: Reporter, info: CurrentInfo, inputs: mpsc::Sender<Input>, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(200);
    // The life (start time) whose leftover commands were purged.
    let mut purged = None;
    loop {
        let session = session(&settings, &reporter, &info, &inputs, &stop, &mut purged);
        match session.await {
            Ok(()) => return,
            Err(err) => tracing::warn!(error = format!("{err:#}"), "RabbitMQ connection lost; reconnecting"),
        }
        reporter.publisher.set(None);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: `Ok` when stopped, `Err` when the connection failed.
async fn session(
    settings: &Settings,
    reporter: &Reporter,
    info: &CurrentInfo,
    inputs: &mpsc::Sender<Input>,
    stop: &CancellationToken,
    purged: &mut Option<i64>,
) -> anyhow::Result<()> {
    let info = info.get();
    let agent_id = &info.agent_id;
    let connection = mist_common::amqp::connect(&settings.amqp.url, &format!("mist-agent {agent_id}")).await?;
    let topology: &Topology = &reporter.topology;
    let channel = connection.create_channel().await?;
    declare_shared(&channel, topology, settings.amqp.expire_unused.as_std()).await?;
    // The agent's queue outlives its connection, so commands sent while it reconnects wait
    // for it; it expires once no agent has used it for a while.
    let queue = topology.agent_queue(agent_id);
    let own = QueueDeclareOptions { durable: true, ..Default::default() };
    let mut arguments = FieldTable::default();
    arguments.insert("x-expires".into(), AMQPValue::LongLongInt(AGENT_QUEUE_EXPIRY.as_millis() as i64));
    let declared = channel.queue_declare(queue.clone().into(), own, arguments).await?;
    // Commands left from an earlier life of this agent are not for this one.
    if *purged != Some(info.start_time) {
        if declared.message_count() > 0 {
            channel.queue_purge(queue.clone().into(), QueuePurgeOptions::default()).await?;
        }
        *purged = Some(info.start_time);
    }
    channel
        .queue_bind(
            queue.clone().into(),
            topology.control_exchange().into(),
            topology.agent_routing_key(agent_id).into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    reporter.publisher.set(Some(Publisher::open(&connection).await?));
    reporter.notice(&Notice::AgentUp { agent: info.clone() }).await;
    tracing::info!(agent.id = %agent_id, "connected to RabbitMQ; taking commands");
    let mut consumer = channel.basic_consume(queue.into(), "mist-agent".into(), BasicConsumeOptions::default(), FieldTable::default()).await?;
    loop {
        let delivery = tokio::select! {
            _ = stop.cancelled() => {
                connection.close(200, "stopping".into()).await.ok();
                return Ok(());
            }
            next = consumer.next() => match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(err)) => anyhow::bail!("command consumer failed: {err}"),
                None => anyhow::bail!("command consumer ended"),
            },
        };
        match serde_json::from_slice::<AgentCommand>(&delivery.data) {
            Ok(command) => {
                if inputs.send(Input::Command(command)).await.is_err() {
                    return Ok(());
                }
            }
            Err(err) => tracing::warn!(error = %err, "unreadable command dropped"),
        }
        let _ = delivery.ack(BasicAckOptions::default()).await;
    }
}
