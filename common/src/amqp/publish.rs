//! Publishing JSON messages: persistent, and either confirmed by the broker (job requests,
//! where "accepted" must mean durable) or sent without waiting (notifications whose truth
//! lives in Redis anyway). The two kinds go on two channels: a confirm-mode channel keeps
//! every confirm nobody awaited (lapin holds it for `wait_for_confirms`), so sending
//! unawaited messages on it would grow memory with every message.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, PublisherConfirm};
use serde::Serialize;

/// Delivery mode 2: the broker writes the message to disk in a durable queue.
const PERSISTENT: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("RabbitMQ did not confirm the message (nacked)")]
    Nacked,
    #[error("RabbitMQ is away; reconnecting")]
    Away,
}

/// A channel in confirm mode for messages that must be durable, and a plain one for the rest.
#[derive(Clone)]
pub struct Publisher {
    confirmed: Channel,
    plain: Channel,
}

impl Publisher {
    pub async fn open(connection: &lapin::Connection) -> Result<Self, lapin::Error> {
        let confirmed = connection.create_channel().await?;
        confirmed.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(Self { confirmed, plain: connection.create_channel().await? })
    }

    pub fn is_open(&self) -> bool {
        self.confirmed.status().connected() && self.plain.status().connected()
    }

    /// Sends on the confirm-mode channel; the caller must `settle` what it gets. Messages
    /// sent this way reach the broker in order, so several can be sent before settling.
    pub async fn send_confirmable<T: Serialize>(&self, exchange: &str, routing_key: &str, message: &T) -> Result<PublisherConfirm, PublishError> {
        Ok(send(&self.confirmed, exchange, routing_key, message, BasicProperties::default()).await?)
    }

    /// Waits for the broker's confirm of a message sent with `send_confirmable`.
    pub async fn settle(confirm: PublisherConfirm) -> Result<(), PublishError> {
        if confirm.await?.is_nack() {
            return Err(PublishError::Nacked);
        }
        Ok(())
    }

    /// Returns once the broker has taken responsibility for the message.
    pub async fn publish_confirmed<T: Serialize>(&self, exchange: &str, routing_key: &str, message: &T) -> Result<(), PublishError> {
        self.publish_with(exchange, routing_key, message, BasicProperties::default()).await
    }

    pub async fn publish_with<T: Serialize>(
        &self,
        exchange: &str,
        routing_key: &str,
        message: &T,
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        Self::settle(send(&self.confirmed, exchange, routing_key, message, properties).await?).await
    }

    /// Hands the message to the broker without waiting for anything.
    pub async fn publish<T: Serialize>(&self, exchange: &str, routing_key: &str, message: &T) -> Result<(), PublishError> {
        send(&self.plain, exchange, routing_key, message, BasicProperties::default()).await?;
        Ok(())
    }
}

async fn send<T: Serialize>(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    message: &T,
    properties: BasicProperties,
) -> Result<PublisherConfirm, lapin::Error> {
    let payload = serde_json::to_vec(message).unwrap_or_default();
    let properties = properties.with_delivery_mode(PERSISTENT).with_content_type("application/json".into());
    channel.basic_publish(exchange.into(), routing_key.into(), BasicPublishOptions::default(), &payload, properties).await
}

/// The current publisher of a process that reconnects: swapped in by its connection
/// keeper, absent while the broker is away (publishing then fails at once).
#[derive(Clone, Default)]
pub struct PublisherSlot(std::sync::Arc<std::sync::RwLock<Option<Publisher>>>);

impl PublisherSlot {
    pub fn set(&self, publisher: Option<Publisher>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = publisher;
    }

    pub fn get(&self) -> Result<Publisher, PublishError> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone().ok_or(PublishError::Away)
    }
}
