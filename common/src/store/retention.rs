//! History retention: done jobs older than a maximum age, or beyond the newest maximum
//! count, are deleted with their logs, a batch at a time, so history stays bounded.

use std::sync::LazyLock;

use deadpool_redis::redis::{AsyncCommands, Script};

use super::{Store, StoreError};

static FORGET_JOBS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/forget_jobs.lua")));

impl Store {
    /// Deletes up to `batch` done jobs created before `older_than` (epoch ms) or beyond the
    /// newest `max_count`; returns how many went.
    pub async fn trim_history(&self, older_than: Option<i64>, max_count: u64, batch: usize) -> Result<u64, StoreError> {
        let keys = self.keys();
        let mut conn = self.conn().await?;
        let total: u64 = conn.zcard(keys.jobs_all()).await?;
        let mut ids: Vec<String> = Vec::new();
        if total > max_count {
            let excess = (total - max_count).min(batch as u64) as isize;
            ids = conn.zrange(keys.jobs_all(), 0, excess - 1).await?;
        }
        if let Some(cutoff) = older_than {
            let room = batch.saturating_sub(ids.len());
            if room > 0 {
                let before = format!("({cutoff}");
                let old: Vec<String> = conn.zrangebyscore_limit(keys.jobs_all(), "-inf", before, 0, room as isize).await?;
                ids.extend(old.into_iter().filter(|id| !ids.contains(id)).collect::<Vec<_>>());
            }
        }
        if ids.is_empty() {
            return Ok(0);
        }
        let mut invocation = FORGET_JOBS.arg(keys.prefix());
        for id in &ids {
            invocation.arg(id);
        }
        Ok(invocation.invoke_async(&mut conn).await?)
    }
}
