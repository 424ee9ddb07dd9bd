//! Requests that wait for their job to be done (`force=true`). One Redis subscription per
//! API instance hears every job that reaches a done status (`transition.lua` publishes its
//! id), and wakes whoever waits for it: no polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::oneshot;

/// Longest pause between attempts to resubscribe after Redis went away.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Fires when the job may be done.
pub type Woken = oneshot::Receiver<()>;

#[derive(Clone, Default)]
pub struct Waiters {
    waiting: Arc<Mutex<HashMap<String, Vec<oneshot::Sender<()>>>>>,
}

impl Waiters {
    /// Starts listening on `channel` in the background.
    pub fn start(redis_url: &str, channel: String) -> anyhow::Result<Self> {
        let client = redis::Client::open(redis_url)?;
        let waiters = Self::default();
        tokio::spawn(listen(client, channel, waiters.clone()));
        Ok(waiters)
    }

    /// Register before the job can end, so its end cannot be missed. The receiver also
    /// fires (spuriously) after the subscription was re-established: then check again.
    pub fn register(&self, job_id: &str) -> Woken {
        let (sender, receiver) = oneshot::channel();
        self.lock().entry(job_id.to_string()).or_default().push(sender);
        receiver
    }

    /// Drops the registrations of a job nobody waits for any more.
    pub fn forget(&self, job_id: &str) {
        self.lock().remove(job_id);
    }

    fn wake(&self, job_id: &str) {
        if let Some(senders) = self.lock().remove(job_id) {
            senders.into_iter().for_each(|s| {
                let _ = s.send(());
            });
        }
    }

    fn wake_all(&self) {
        let all: Vec<_> = self.lock().drain().flat_map(|(_, senders)| senders).collect();
        all.into_iter().for_each(|s| {
            let _ = s.send(());
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<oneshot::Sender<()>>>> {
        // A panic while holding this lock leaves plain data behind; keep using it.
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn listen(client: redis::Client, channel: String, waiters: Waiters) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    // Ends may have been published while we were not listening.
                    waiters.wake_all();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(job_id) = message.get_payload::<String>() {
                            waiters.wake(&job_id);
                        }
                    }
                    tracing::warn!("job-done subscription ended; resubscribing");
                }
                Err(err) => tracing::warn!(error = %err, "cannot subscribe to job-done notices"),
            },
            Err(err) => tracing::warn!(error = %err, "cannot connect to Redis for job-done notices"),
        }
        waiters.wake_all();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
