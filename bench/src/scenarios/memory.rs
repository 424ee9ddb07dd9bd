//! Scenario 7: resident memory (`VmRSS`) of `mist-api`, `mist-dispatcher` and `mist-agent` (the
//! agent itself, not the Spark drivers it starts): idle, right after start and before any
//! job; and after `--memory-jobs` no-op jobs submitted over HTTP (no `force`), all done.
//! The peak (`VmHWM`) is reported with the second reading, and a reading every few seconds
//! during the run with the jobs recorded and done so far, which tells memory held per job
//! (it keeps growing while the backlog drains) from memory held by the backlog.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use super::{Bench, STALL};
use crate::cpu;
use crate::progress::Counts;
use crate::rss::{self, Resident};

pub const ENDPOINT: &str = "memory";

/// After the last job, time for per-job buffers to be released before the reading.
const SETTLE: Duration = Duration::from_secs(3);
/// Between readings during the run.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// One reading per part.
pub type Reading = Vec<(&'static str, Resident)>;

#[derive(Debug, Clone)]
pub struct After {
    pub reading: Reading,
    pub jobs: u64,
    /// The jobs' sustained rate, first submission to last done: a by-product.
    pub jobs_per_s: f64,
    pub outcome: Counts,
    pub series: Vec<Point>,
    /// CPU seconds each process used during the jobs (see `cpu`).
    pub cpu: BTreeMap<String, f64>,
}

/// A reading during the run.
#[derive(Debug, Clone)]
pub struct Point {
    pub seconds: f64,
    /// Jobs accepted (recorded) and done so far: their difference is the backlog.
    pub recorded: u64,
    pub done: u64,
    pub reading: Reading,
}

pub fn reading(pids: &[(&'static str, u32)]) -> anyhow::Result<Reading> {
    pids.iter().map(|(part, pid)| Ok((*part, rss::read(*pid)?))).collect()
}

pub async fn after_jobs(bench: &Bench<'_>) -> anyhow::Result<After> {
    let jobs = bench.plan.memory_jobs;
    let watched = cpu::watched(&bench.parts, &bench.run_dir);
    let cpu_before = cpu::snapshot(&watched);
    let started = Instant::now();
    let mut series = Vec::new();
    let (burst, done) = {
        let work = async { tokio::join!(bench.api.burst(ENDPOINT, jobs, bench.plan.connections), bench.progress.wait_done(ENDPOINT, jobs, STALL)) };
        let sampling = sample(bench, started, &mut series);
        tokio::select! {
            outcome = work => outcome,
            never = sampling => match never {},
        }
    };
    if let Some(error) = burst.first_error {
        anyhow::bail!("{} of {jobs} submissions refused; first: {error}", burst.refused);
    }
    let (outcome, last_done) = done?;
    let (_, cpu) = cpu::between(&cpu_before, &cpu::snapshot(&watched));
    let jobs_per_s = jobs as f64 / (last_done - started).as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    Ok(After { reading: reading(&bench.parts)?, jobs, jobs_per_s, outcome, series, cpu })
}

/// Appends a reading every `SAMPLE_EVERY`, for as long as it is polled.
async fn sample(bench: &Bench<'_>, started: Instant, series: &mut Vec<Point>) -> Infallible {
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        if let (Ok(counts), Ok(reading)) = (bench.progress.counts(ENDPOINT).await, reading(&bench.parts)) {
            series.push(Point { seconds: started.elapsed().as_secs_f64(), recorded: counts.all, done: counts.done(), reading });
        }
    }
}
