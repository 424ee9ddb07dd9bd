//! Declaring the shared topology. Every part declares what it uses at start (declaring is
//! idempotent), so they can start in any order.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use super::topology::Topology;

/// The exchanges, the requests queue, the dead-letter queue and the dispatcher's queue.
/// `expire_unused` (throwaway deployments only) lets the broker drop them once unused.
pub async fn declare_shared(channel: &Channel, topology: &Topology, expire_unused: Option<Duration>) -> Result<(), lapin::Error> {
    let durable_exchange = ExchangeDeclareOptions { durable: true, auto_delete: expire_unused.is_some(), ..Default::default() };
    let durable_queue = QueueDeclareOptions { durable: true, ..Default::default() };
    let mut queue_arguments = FieldTable::default();
    if let Some(expiry) = expire_unused {
        queue_arguments.insert("x-expires".into(), AMQPValue::LongLongInt(expiry.as_millis() as i64));
    }
    channel
        .exchange_declare(topology.requests_exchange().into(), ExchangeKind::Direct, durable_exchange, FieldTable::default())
        .await?;
    channel
        .exchange_declare(topology.events_exchange().into(), ExchangeKind::Topic, durable_exchange, FieldTable::default())
        .await?;
    channel
        .exchange_declare(topology.control_exchange().into(), ExchangeKind::Direct, durable_exchange, FieldTable::default())
        .await?;
    channel.queue_declare(topology.requests_queue().into(), durable_queue, queue_arguments.clone()).await?;
    channel
        .queue_bind(
            topology.requests_queue().into(),
            topology.requests_exchange().into(),
            topology.run_routing_key().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel.queue_declare(topology.dead_letter_queue().into(), durable_queue, queue_arguments.clone()).await?;
    channel.queue_declare(topology.dispatcher_queue().into(), durable_queue, queue_arguments).await?;
    channel
        .queue_bind(
            topology.dispatcher_queue().into(),
            topology.control_exchange().into(),
            topology.dispatcher_routing_key().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    for key in topology.dispatcher_event_keys() {
        channel
            .queue_bind(
                topology.dispatcher_queue().into(),
                topology.events_exchange().into(),
                key.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}
