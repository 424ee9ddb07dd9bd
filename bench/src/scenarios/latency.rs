//! Scenario 3: sequential latency: one no-op job at a time with `force=true` (the answer carries
//! the result), timed from sending the request to having the whole answer.

use std::time::{Duration, Instant};

use super::Bench;
use crate::stats::Percentiles;

pub const ENDPOINT: &str = "latency";

/// Untimed calls first: connection set-up and the endpoint's first load in the driver.
const WARM_UP_CALLS: usize = 10;
/// A no-op job that takes longer than this is a fault, not a sample.
const CALL_LIMIT: Duration = Duration::from_secs(60);

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Percentiles> {
    for _ in 0..WARM_UP_CALLS {
        bench.api.run(ENDPOINT, CALL_LIMIT).await?;
    }
    let mut samples = Vec::with_capacity(bench.plan.latency_samples);
    for _ in 0..bench.plan.latency_samples {
        let started = Instant::now();
        bench.api.run(ENDPOINT, CALL_LIMIT).await?;
        samples.push(started.elapsed());
    }
    Percentiles::of(&samples).ok_or_else(|| anyhow::anyhow!("no samples"))
}
