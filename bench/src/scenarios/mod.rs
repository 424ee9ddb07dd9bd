//! One module per scenario of the issue. Each takes the running Mist (`Bench`) and returns
//! its figures; the order they run in and the report are the caller's.

pub mod exclusive;
pub mod latency;
pub mod listing;
pub mod memory;
pub mod spark_overhead;
pub mod submit;
pub mod throughput;

use std::time::Duration;

use anyhow::Context;
use mist_common::store::keys::Keys;
use redis::aio::MultiplexedConnection;

use crate::api::Api;
use crate::plan::Plan;
use crate::progress::Progress;

/// The function file every scenario's endpoints run (`bench/functions/bench_jobs.py`).
const FUNCTIONS: &[u8] = include_bytes!("../../functions/bench_jobs.py");
const ARTIFACT: &str = "bench_jobs.py";

/// The shared context: one warm driver, 20 jobs at once.
pub const SHARED: &str = "bench-shared";
const SHARED_MAX_JOBS: u32 = 20;
/// The exclusive context: a driver per job.
pub const EXCLUSIVE: &str = "bench-exclusive";

/// Each scenario submits to an endpoint of its own, so its jobs are counted apart from
/// every other scenario's by the per-endpoint indexes: (endpoint, function, context).
pub const ENDPOINTS: [(&str, &str, &str); 9] = [
    (WARMUP, "noop", SHARED),
    (submit::ENDPOINT, "noop", SHARED),
    (throughput::ENDPOINT, "noop", SHARED),
    (latency::ENDPOINT, "noop", SHARED),
    (spark_overhead::ENDPOINT, "spark_sum", SHARED),
    (exclusive::ENDPOINT, "spark_sum", EXCLUSIVE),
    (listing::FINISHED_ENDPOINT, "noop", SHARED),
    (listing::FAILED_ENDPOINT, "boom", SHARED),
    (memory::ENDPOINT, "noop", SHARED),
];
const WARMUP: &str = "warmup";

/// Long enough for a cold driver on a busy two-core machine.
pub const COLD_START: Duration = Duration::from_secs(300);
/// A wait for jobs gives up when none of them moved for this long.
pub const STALL: Duration = Duration::from_secs(120);

/// What every scenario works with.
pub struct Bench<'a> {
    pub plan: &'a Plan,
    pub api: Api,
    pub progress: Progress,
    pub redis: MultiplexedConnection,
    pub keys: Keys,
    /// Mist's parts and their process ids.
    pub parts: Vec<(&'static str, u32)>,
    /// `target/bench/<namespace>`: on the command line of every worker of the run.
    pub run_dir: String,
}

impl Bench<'_> {
    /// Uploads the functions, creates the contexts and endpoints, and starts the shared
    /// driver with one job, so no scenario pays for a cold start it does not measure.
    pub async fn deploy(&self) -> anyhow::Result<()> {
        self.api.upload(ARTIFACT, FUNCTIONS.to_vec()).await?;
        self.api.context(SHARED, SHARED_MAX_JOBS, "shared").await?;
        self.api.context(EXCLUSIVE, 1, "exclusive").await?;
        for (endpoint, function, context) in ENDPOINTS {
            self.api.endpoint(endpoint, ARTIFACT, function, context).await?;
        }
        self.api.run(WARMUP, COLD_START).await.context("the first job in the shared context (starts its driver)")?;
        Ok(())
    }

    /// Runs `count` no-op jobs through the shared driver and waits for them, as the Celery
    /// baseline warms its worker before it times anything.
    pub async fn warm_up(&self, count: u64) -> anyhow::Result<()> {
        let before = self.progress.counts(WARMUP).await?.done();
        let burst = self.api.burst(WARMUP, count, self.plan.connections).await;
        if let Some(error) = burst.first_error {
            anyhow::bail!("warm-up submissions refused: {error}");
        }
        self.progress.wait_done(WARMUP, before + count, STALL).await.map(drop)
    }
}
