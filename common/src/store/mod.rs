//! The Redis store: typed operations over the keys of `keys`, with Lua scripts where a
//! check and a write must happen as one step.

pub mod artifacts;
pub mod contexts;
pub mod endpoints;
pub mod jobs;
pub mod keys;
pub mod lease;
pub mod retention;
pub mod submission;
pub mod workers;

use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Connection, Pool, Runtime};

use crate::config::RedisSettings;
use keys::Keys;

/// Redis did not answer as it should; the API turns this into a 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Redis is unreachable: {0}")]
    Unavailable(String),
    #[error("Redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("corrupt record in Redis at {key}: {message}")]
    Corrupt { key: String, message: String },
}

impl StoreError {
    /// Redis is away (down, restarting, unreachable): the same call may work later.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Redis(e) => {
                e.is_io_error() || e.is_timeout() || e.is_connection_refusal() || e.is_connection_dropped()
                    // A Redis still loading its AOF after a restart answers LOADING.
                    || e.code() == Some("LOADING")
            }
            StoreError::Corrupt { .. } => false,
        }
    }
}

/// Retries `operation` while Redis is away, with backoff up to `MAX_RETRY_PAUSE`, so a
/// write that must not be lost (how a job ended) lands once Redis is back. Other errors
/// are returned at once.
pub async fn persist<T, F, Fut>(what: &str, mut operation: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut pause = std::time::Duration::from_millis(100);
    let mut attempts = 0u32;
    loop {
        match operation().await {
            Err(err) if err.is_transient() => {
                attempts += 1;
                if attempts == 1 || attempts % 20 == 0 {
                    tracing::warn!(what, error = %err, attempts, "Redis is away; retrying");
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            }
            other => return other,
        }
    }
}

/// Longest pause between retries of a write while Redis is away.
const MAX_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

impl From<deadpool_redis::PoolError> for StoreError {
    fn from(err: deadpool_redis::PoolError) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    keys: Keys,
}

impl Store {
    /// Builds the pool; no connection is made until the first command, so a process can
    /// start while Redis is still coming up.
    pub fn new(settings: &RedisSettings, namespace: &str) -> Result<Self, StoreError> {
        let timeout = settings.timeout.as_std();
        let connection = redis::AsyncConnectionConfig::new().set_response_timeout(timeout).set_connection_timeout(timeout);
        let manager = deadpool_redis::Manager::new_with_config(settings.url.as_str(), connection)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool, keys: Keys::new(namespace) })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub(crate) async fn conn(&self) -> Result<Connection, StoreError> {
        Ok(self.pool.get().await?)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// Counts for `/status`.
    pub async fn count_agents_and_workers(&self) -> Result<(u64, u64), StoreError> {
        let mut conn = self.conn().await?;
        let (agents, workers): (u64, u64) = redis::pipe()
            .hlen(self.keys.agents())
            .hlen(self.keys.workers())
            .query_async(&mut conn)
            .await?;
        Ok((agents, workers))
    }

    /// Removes every key of the namespace. Tests call it; it scans, so it is not for
    /// production paths.
    pub async fn wipe_namespace(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<String> = conn.scan_match(self.keys.pattern_all()).await?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key?);
            }
            keys
        };
        if !keys.is_empty() {
            let _: () = conn.del(keys).await?;
        }
        Ok(())
    }
}

/// Parses a stored JSON record, naming the key when it does not parse.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(key: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt { key: key.to_string(), message: e.to_string() })
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own plain data types cannot fail (no maps with non-string keys).
    serde_json::to_string(value).unwrap_or_default()
}

impl Store {
    /// The Spark version an agent registered with, if any agent has.
    pub async fn spark_version(&self) -> Result<Option<String>, StoreError> {
        let key = self.keys.agents();
        let agents: Vec<String> = self.conn().await?.hvals(&key).await?;
        Ok(agents
            .iter()
            .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .find_map(|agent| agent.get("sparkVersion").and_then(|v| v.as_str()).map(str::to_string)))
    }
}
