//! The API's link to RabbitMQ: one connection and one confirm-mode channel, opened on
//! first use and reopened after they drop, so the API starts (and keeps answering reads)
//! while the broker is away, and a submission then gets a 503 naming the broker.

use std::time::Duration;

use lapin::Connection;
use mist_common::amqp::declare::declare_shared;
use mist_common::amqp::publish::Publisher;
use mist_common::amqp::topology::Topology;
use mist_common::model::messages::Notice;
use tokio::sync::Mutex;

/// How long connecting may take before the broker counts as down for this request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Broker {
    url: String,
    expire_unused: Option<Duration>,
    topology: Topology,
    link: Mutex<Option<(Connection, Publisher)>>,
}

impl Broker {
    pub fn new(url: String, topology: Topology, expire_unused: Option<Duration>) -> Self {
        Self { url, expire_unused, topology, link: Mutex::new(None) }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// A working publisher, connecting (and declaring the topology) if need be.
    pub async fn publisher(&self) -> Result<Publisher, String> {
        let mut slot = self.link.lock().await;
        if let Some((connection, publisher)) = slot.as_ref() {
            if connection.status().connected() && publisher.is_open() {
                return Ok(publisher.clone());
            }
        }
        let link = tokio::time::timeout(CONNECT_TIMEOUT, self.connect())
            .await
            .map_err(|_| format!("RabbitMQ did not answer within {}s", CONNECT_TIMEOUT.as_secs()))?
            .map_err(|e| format!("RabbitMQ is unreachable: {e}"))?;
        let publisher = link.1.clone();
        *slot = Some(link);
        Ok(publisher)
    }

    async fn connect(&self) -> Result<(Connection, Publisher), lapin::Error> {
        let connection = mist_common::amqp::connect(&self.url, "mist-api").await?;
        let channel = connection.create_channel().await?;
        declare_shared(&channel, &self.topology, self.expire_unused).await?;
        let publisher = Publisher::open(&connection).await?;
        Ok((connection, publisher))
    }

    /// Tells the dispatcher something it should know but that Redis already records, so a
    /// lost notice costs only timeliness: the dispatcher reads Redis when it starts.
    pub async fn notify_dispatcher(&self, notice: &Notice) {
        let sent = match self.publisher().await {
            Ok(publisher) => publisher
                .publish_confirmed(&self.topology.control_exchange(), self.topology.dispatcher_routing_key(), notice)
                .await
                .map_err(|e| e.to_string()),
            Err(err) => Err(err),
        };
        if let Err(err) = sent {
            tracing::warn!(error = %err, ?notice, "cannot tell the dispatcher");
        }
    }

    /// `Ok` when connected (connecting now if need be), else what went wrong.
    pub async fn health(&self) -> Result<(), String> {
        self.publisher().await.map(|_| ())
    }
}
