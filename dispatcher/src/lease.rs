//! The dispatcher lease: a Redis key holding the active dispatcher's instance id with a
//! time to live. The holder renews it; standbys try to take it; a holder that cannot renew
//! in time stops acting before anyone else can have taken over.

use std::time::{Duration, Instant};

use mist_common::store::Store;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct Lease {
    store: Store,
    instance: String,
    ttl: Duration,
}

impl Lease {
    pub fn new(store: Store, instance: &str, ttl: Duration) -> Self {
        Self { store, instance: instance.to_string(), ttl }
    }

    /// Waits until this instance holds the lease (`true`) or `shutdown` trips (`false`).
    pub async fn acquire(&self, shutdown: &CancellationToken) -> bool {
        let mut waiting_logged = false;
        loop {
            match self.store.take_lease(&self.instance, self.ttl).await {
                Ok(true) => return true,
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
        let mut renewed = Instant::now();
        loop {
            tokio::select! {
                _ = active.cancelled() => return,
                _ = tokio::time::sleep(self.ttl / 5) => {}
            }
            match self.store.renew_lease(&self.instance, self.ttl).await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    tracing::warn!("the dispatcher lease was taken over");
                    return active.cancel();
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot renew the dispatcher lease");
                    // Stop before the key can expire: then nobody else holds it yet.
                    if renewed.elapsed() > self.ttl * 3 / 4 {
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
