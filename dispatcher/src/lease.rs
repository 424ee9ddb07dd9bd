//! The dispatcher lease: a Redis key holding the active dispatcher's instance id with a
//! time to live. The holder renews it; standbys try to take it; a holder that cannot renew
//! in time stops acting before anyone else can have taken over.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mist_common::store::Store;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct Lease {
    store: Store,
    instance: String,
    ttl: Duration,
    /// When the lease was last taken or renewed (epoch ms).
    renewed: Arc<AtomicI64>,
}

impl Lease {
    pub fn new(store: Store, instance: &str, ttl: Duration) -> Self {
        Self { store, instance: instance.to_string(), ttl, renewed: Arc::new(AtomicI64::new(0)) }
    }

    /// Whether the lease is surely still ours: renewed within 3/4 of its time to live. The
    /// control loop checks it before acting on anything, so a dispatcher that was paused
    /// (and may have been replaced) does nothing before its keeper has caught up.
    pub fn is_held(&self) -> bool {
        let age = mist_common::time::now_millis() - self.renewed.load(Ordering::Relaxed);
        age < (self.ttl.as_millis() as i64) * 3 / 4
    }

    fn mark_renewed(&self) {
        self.renewed.store(mist_common::time::now_millis(), Ordering::Relaxed);
    }

    /// Waits until this instance holds the lease (`true`) or `shutdown` trips (`false`).
    pub async fn acquire(&self, shutdown: &CancellationToken) -> bool {
        let mut waiting_logged = false;
        loop {
            match self.store.take_lease(&self.instance, self.ttl).await {
                Ok(true) => {
                    self.mark_renewed();
                    return true;
                }
                Ok(false) if !waiting_logged => {
                    tracing::info!("another dispatcher is active; standing by");
                    waiting_logged = true;
                }
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "cannot reach Redis for the dispatcher lease"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(self.ttl / 5) => {}
            }
        }
    }

    /// Renews the lease until `active` is cancelled; cancels `active` as soon as the lease
    /// is lost or cannot be renewed within its time to live.
    pub async fn keep(self, active: CancellationToken) {
        loop {
            tokio::select! {
                _ = active.cancelled() => return,
                _ = tokio::time::sleep(self.ttl / 5) => {}
            }
            match self.store.renew_lease(&self.instance, self.ttl).await {
                Ok(true) => self.mark_renewed(),
                Ok(false) => {
                    tracing::warn!("the dispatcher lease was taken over");
                    return active.cancel();
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot renew the dispatcher lease");
                    // Stop before the key can expire: then nobody else holds it yet.
                    if !self.is_held() {
                        return active.cancel();
                    }
                }
            }
        }
    }

    pub async fn release(&self) {
        if let Err(err) = self.store.release_lease(&self.instance).await {
            tracing::warn!(error = %err, "cannot release the dispatcher lease; it expires by itself");
        }
    }
}
