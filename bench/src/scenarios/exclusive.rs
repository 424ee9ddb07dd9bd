//! Scenario 5: an exclusive job's wall time: the same `spark_sum` in the exclusive context, where
//! every job starts its own driver with `spark-submit` and stops it at its end, timed from
//! the `force=true` request to its answer. Compared with one cold `spark-submit` of the
//! job (`spark-baseline.sh`, median of 3); here too the median is reported.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::{Bench, COLD_START};
use crate::stats::median;

pub const ENDPOINT: &str = "spark-sum-exclusive";

const EXPECTED: u64 = 499_500;

#[derive(Debug, Clone)]
pub struct Figures {
    pub median: Duration,
    pub samples: Vec<Duration>,
}

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Figures> {
    let mut samples = Vec::with_capacity(bench.plan.exclusive_samples);
    for _ in 0..bench.plan.exclusive_samples {
        let started = Instant::now();
        let payload = bench.api.run(ENDPOINT, COLD_START).await?;
        samples.push(started.elapsed());
        if payload != json!(EXPECTED) {
            bail!("spark_sum answered {payload}, not {EXPECTED}");
        }
    }
    let median = median(&samples).ok_or_else(|| anyhow::anyhow!("no samples"))?;
    Ok(Figures { median, samples })
}
