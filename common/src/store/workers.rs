//! Workers and agents in Redis: the live ones in hashes (what `/workers` and `/status`
//! show), and each worker's record kept after it stopped (what `/jobs/{id}/worker` shows).

use deadpool_redis::redis::{self, AsyncCommands};
use serde::{Deserialize, Serialize};

use super::{decode, encode, Store, StoreError};
use crate::model::context::ContextConfig;
use crate::model::job::JobDetails;
use crate::model::worker::{AgentInfo, WorkerLink, WorkerStatus};

/// A worker as stored: what `/workers/{id}` shows but its jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerRecord {
    #[serde(flatten)]
    pub link: WorkerLink,
    pub init_info: ContextConfig,
}

static HEARTBEAT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) return 1 end return 0",
    )
});

/// How long a stopped worker's record stays readable.
const STOPPED_WORKER_TTL_SECS: i64 = 30 * 24 * 3600;

impl Store {
    /// Writes a live worker's record (starting, ready or stopping).
    pub async fn put_worker(&self, record: &WorkerRecord) -> Result<(), StoreError> {
        let keys = self.keys();
        let json = encode(record);
        let _: () = redis::pipe()
            .hset(keys.workers(), &record.link.name, &json)
            .set(keys.worker(&record.link.name), &json)
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    /// The worker is gone: off the live list, its record marked stopped and kept a while.
    pub async fn worker_stopped(&self, record: &WorkerRecord) -> Result<(), StoreError> {
        let keys = self.keys();
        let mut stopped = record.clone();
        stopped.link.status = WorkerStatus::Stopped;
        let id = &record.link.name;
        let _: () = redis::pipe()
            .hdel(keys.workers(), id)
            .set_ex(keys.worker(id), encode(&stopped), STOPPED_WORKER_TTL_SECS as u64)
            .expire(keys.worker_jobs(id), STOPPED_WORKER_TTL_SECS)
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn list_workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        let key = self.keys().workers();
        let all: Vec<String> = self.conn().await?.hvals(&key).await?;
        let mut workers = all.iter().map(|j| decode::<WorkerRecord>(&key, j)).collect::<Result<Vec<_>, _>>()?;
        workers.sort_by(|a, b| a.link.start_time.cmp(&b.link.start_time).then(a.link.name.cmp(&b.link.name)));
        Ok(workers)
    }

    pub async fn get_live_worker(&self, id: &str) -> Result<Option<WorkerRecord>, StoreError> {
        let key = self.keys().workers();
        let json: Option<String> = self.conn().await?.hget(&key, id).await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    /// A worker's record, live or stopped.
    pub async fn get_worker_record(&self, id: &str) -> Result<Option<WorkerRecord>, StoreError> {
        let key = self.keys().worker(id);
        let json: Option<String> = self.conn().await?.get(&key).await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    pub async fn worker_is_live_in(&self, id: &str, context: &str) -> Result<bool, StoreError> {
        Ok(self.get_live_worker(id).await?.is_some_and(|w| w.link.context == context && w.link.status != WorkerStatus::Stopped))
    }

    /// The jobs a worker ran, newest first, at most `limit`.
    pub async fn worker_jobs(&self, id: &str, limit: usize) -> Result<Vec<JobDetails>, StoreError> {
        let mut conn = self.conn().await?;
        let ids: Vec<String> = conn.zrevrange(self.keys().worker_jobs(id), 0, limit as isize - 1).await?;
        self.jobs_by_ids(&mut conn, &ids).await
    }

    pub async fn register_agent(&self, agent: &AgentInfo) -> Result<(), StoreError> {
        let keys = self.keys();
        let _: () = redis::pipe()
            .hset(keys.agents(), &agent.agent_id, encode(agent))
            .zadd(keys.agent_heartbeats(), &agent.agent_id, crate::time::now_millis())
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    /// Records that the agent is alive; `false` when it is not registered any more (the
    /// dispatcher declared it lost): it must then stop its workers and register anew.
    pub async fn agent_heartbeat(&self, agent_id: &str) -> Result<bool, StoreError> {
        let registered: i64 = HEARTBEAT
            .key(self.keys().agent_heartbeats())
            .arg(agent_id)
            .arg(crate::time::now_millis())
            .invoke_async(&mut self.conn().await?)
            .await?;
        Ok(registered == 1)
    }

    /// Agents whose last heartbeat is older than `cutoff` (epoch ms).
    pub async fn agents_silent_since(&self, cutoff: i64) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().await?.zrangebyscore(self.keys().agent_heartbeats(), "-inf", cutoff).await?)
    }

    pub async fn unregister_agent(&self, agent_id: &str) -> Result<(), StoreError> {
        let keys = self.keys();
        let _: () = redis::pipe()
            .hdel(keys.agents(), agent_id)
            .zrem(keys.agent_heartbeats(), agent_id)
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn list_agents(&self) -> Result<Vec<AgentInfo>, StoreError> {
        let key = self.keys().agents();
        let all: Vec<String> = self.conn().await?.hvals(&key).await?;
        all.iter().map(|j| decode(&key, j)).collect()
    }
}
