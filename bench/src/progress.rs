//! Following jobs by their status indexes in Redis: the count of an endpoint's jobs in each
//! status is one `ZCARD` each (the keys come from `mist_common`'s `Keys`), so watching
//! thousands of jobs costs one small round trip per look.

use std::time::{Duration, Instant};

use anyhow::bail;
use mist_common::model::job::JobStatus;
use mist_common::store::keys::Keys;
use redis::aio::MultiplexedConnection;

/// How long one Redis answer may take. The client's default (500 ms) is shorter than a
/// pipeline of a thousand history records takes on a busy two-core machine.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection for the bench's own reads and writes.
pub async fn connect(redis_url: &str) -> anyhow::Result<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
    Ok(redis::Client::open(redis_url)?.get_multiplexed_async_connection_with_config(&config).await?)
}

/// How often a wait looks: short next to the runs it times (seconds), cheap for Redis.
const LOOK_EVERY: Duration = Duration::from_millis(5);

#[derive(Clone)]
pub struct Progress {
    keys: Keys,
    conn: MultiplexedConnection,
}

/// An endpoint's jobs by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub all: u64,
    pub queued: u64,
    pub started: u64,
    pub finished: u64,
    pub failed: u64,
    pub canceled: u64,
}

impl Counts {
    pub fn done(&self) -> u64 {
        self.finished + self.failed + self.canceled
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} recorded: {} queued, {} started, {} finished, {} failed, {} canceled",
            self.all, self.queued, self.started, self.finished, self.failed, self.canceled
        )
    }
}

impl Progress {
    pub async fn connect(redis_url: &str, namespace: &str) -> anyhow::Result<Progress> {
        Ok(Progress { keys: Keys::new(namespace), conn: connect(redis_url).await? })
    }

    pub async fn counts(&self, endpoint: &str) -> anyhow::Result<Counts> {
        let status_key = |s: JobStatus| self.keys.jobs_by_endpoint_status(endpoint, s.as_str());
        let (all, queued, started, finished, failed, canceled): (u64, u64, u64, u64, u64, u64) = redis::pipe()
            .zcard(self.keys.jobs_by_endpoint(endpoint))
            .zcard(status_key(JobStatus::Queued))
            .zcard(status_key(JobStatus::Started))
            .zcard(status_key(JobStatus::Finished))
            .zcard(status_key(JobStatus::Failed))
            .zcard(status_key(JobStatus::Canceled))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(Counts { all, queued, started, finished, failed, canceled })
    }

    /// Waits until `expected` jobs of the endpoint are done and returns the counts and
    /// when that was first seen. Gives up when nothing moved for `stall`.
    pub async fn wait_done(&self, endpoint: &str, expected: u64, stall: Duration) -> anyhow::Result<(Counts, Instant)> {
        let mut last = Counts::default();
        let mut moved = Instant::now();
        loop {
            let counts = self.counts(endpoint).await?;
            let now = Instant::now();
            if counts.done() >= expected {
                return Ok((counts, now));
            }
            if counts != last {
                last = counts;
                moved = now;
            } else if now - moved > stall {
                bail!("waited for {expected} done jobs of endpoint {endpoint}; nothing moved for {stall:?}: {counts}");
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }
}
