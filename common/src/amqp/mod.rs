//! RabbitMQ: the topology (every name in `topology`) and connecting.

pub mod declare;
pub mod publish;
pub mod topology;

use lapin::{Connection, ConnectionProperties};

use crate::config::redact_url;

/// Opens a connection that names the process in the broker's management UI.
pub async fn connect(url: &str, process: &str) -> Result<Connection, lapin::Error> {
    tracing::debug!(amqp.url = %redact_url(url), "connecting to RabbitMQ");
    let properties = ConnectionProperties::default().with_connection_name(process.into());
    Connection::connect(url, properties).await
}
