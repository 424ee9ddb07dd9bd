//! Publishing JSON messages: persistent, and either confirmed by the broker (job requests,
//! where "accepted" must mean durable) or sent without waiting (notifications whose truth
//! lives in Redis anyway).

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

/// A channel in confirm mode.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
}

impl Publisher {
    pub async fn new(channel: Channel) -> Result<Self, lapin::Error> {
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(Self { channel })
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    pub fn is_open(&self) -> bool {
        self.channel.status().connected()
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
        let confirm = self.send(exchange, routing_key, message, properties).await?;
        if confirm.await?.is_nack() {
            return Err(PublishError::Nacked);
        }
        Ok(())
    }

    /// Hands the message to the broker without waiting for its confirm.
    pub async fn publish<T: Serialize>(&self, exchange: &str, routing_key: &str, message: &T) -> Result<(), PublishError> {
        self.send(exchange, routing_key, message, BasicProperties::default()).await?;
        Ok(())
    }

    async fn send<T: Serialize>(
        &self,
        exchange: &str,
        routing_key: &str,
        message: &T,
        properties: BasicProperties,
    ) -> Result<PublisherConfirm, lapin::Error> {
        let payload = serde_json::to_vec(message).unwrap_or_default();
        let properties = properties.with_delivery_mode(PERSISTENT).with_content_type("application/json".into());
        self.channel.basic_publish(exchange.into(), routing_key.into(), BasicPublishOptions::default(), &payload, properties).await
    }
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
