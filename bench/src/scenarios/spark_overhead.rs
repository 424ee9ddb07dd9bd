//! Scenario 4: warm Spark overhead: `sc.parallelize(range(1000)).sum()` through Mist in the warm
//! shared context, one call at a time with `force=true`. The overhead is this p50 minus
//! the same job's p50 inside a warm session, which `spark-baseline.sh` measures.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::Bench;
use crate::stats::Percentiles;

pub const ENDPOINT: &str = "spark-sum";

/// `sum(range(1000))`: every answer is checked, so a wrong one cannot pass as fast.
const EXPECTED: u64 = 499_500;
/// As the baseline: one job to warm up, then the timed ones (`Plan::spark_samples`, 50
/// like the baseline's), so both sides' Spark has run the same jobs when timed.
const WARM_UP_CALLS: usize = 1;
const CALL_LIMIT: Duration = Duration::from_secs(120);

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Percentiles> {
    for _ in 0..WARM_UP_CALLS {
        call(bench).await?;
    }
    let mut samples = Vec::with_capacity(bench.plan.spark_samples);
    for _ in 0..bench.plan.spark_samples {
        let started = Instant::now();
        call(bench).await?;
        samples.push(started.elapsed());
    }
    Percentiles::of(&samples).ok_or_else(|| anyhow::anyhow!("no samples"))
}

async fn call(bench: &Bench<'_>) -> anyhow::Result<()> {
    let payload = bench.api.run(ENDPOINT, CALL_LIMIT).await?;
    if payload != json!(EXPECTED) {
        bail!("spark_sum answered {payload}, not {EXPECTED}");
    }
    Ok(())
}
