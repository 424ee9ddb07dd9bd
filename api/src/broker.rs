//! The API's link to RabbitMQ: one connection, opened on first use and reopened after it
//! drops, so the API starts (and keeps answering reads) while the broker is away.

use std::time::Duration;

use lapin::Connection;
use tokio::sync::Mutex;

/// How long a status check waits for the broker before calling it down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Broker {
    url: String,
    connection: Mutex<Option<Connection>>,
}

impl Broker {
    pub fn new(url: String) -> Self {
        Self { url, connection: Mutex::new(None) }
    }

    /// `Ok` when connected (connecting now if need be), else what went wrong.
    pub async fn health(&self) -> Result<(), String> {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|c| c.status().connected()) {
            return Ok(());
        }
        let connecting = mist_common::amqp::connect(&self.url, "mist-api");
        match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok(connection)) => {
                *slot = Some(connection);
                Ok(())
            }
            Ok(Err(err)) => Err(format!("RabbitMQ is unreachable: {err}")),
            Err(_) => Err(format!("RabbitMQ did not answer within {}s", CONNECT_TIMEOUT.as_secs())),
        }
    }
}
