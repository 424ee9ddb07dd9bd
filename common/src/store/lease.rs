//! The dispatcher lease in Redis (see the dispatcher's `lease` module).

use std::sync::LazyLock;
use std::time::Duration;

use deadpool_redis::redis::{self, Script};

use super::{Store, StoreError};

/// Extends the lease only if this instance holds it.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0")
});
/// Deletes the lease only if this instance holds it.
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"));

impl Store {
    /// Takes the lease if nobody holds it.
    pub async fn take_lease(&self, instance: &str, ttl: Duration) -> Result<bool, StoreError> {
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.keys().dispatcher_lease())
            .arg(instance)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(taken.is_some())
    }

    /// `false` when the lease is not this instance's any more.
    pub async fn renew_lease(&self, instance: &str, ttl: Duration) -> Result<bool, StoreError> {
        let renewed: i64 = RENEW
            .key(self.keys().dispatcher_lease())
            .arg(instance)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut self.conn().await?)
            .await?;
        Ok(renewed == 1)
    }

    pub async fn release_lease(&self, instance: &str) -> Result<(), StoreError> {
        let _: i64 = RELEASE.key(self.keys().dispatcher_lease()).arg(instance).invoke_async(&mut self.conn().await?).await?;
        Ok(())
    }
}
