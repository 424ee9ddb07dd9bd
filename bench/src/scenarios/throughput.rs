//! Scenario 2: end-to-end no-op jobs per second: `--jobs` jobs into one shared context
//! (`maxJobs` 20), from the first submission to the moment the last one is seen done.
//! Submissions go over the same 64 connections as scenario 1 while the jobs already run;
//! "done" is read from the endpoint's status indexes in Redis every 5 ms (the same Redis
//! a client's result read would go to, as Celery's results do).

use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use super::{Bench, STALL};
use crate::cpu;
use crate::progress::Counts;

pub const ENDPOINT: &str = "throughput";

/// Jobs run through the shared driver before timing, like the Celery baseline's 50.
const WARM_UP_JOBS: u64 = 50;

#[derive(Debug, Clone)]
pub struct Figures {
    pub jobs: u64,
    pub elapsed: Duration,
    pub jobs_per_s: f64,
    /// How long submitting took, inside `elapsed`.
    pub submitting: Duration,
    pub outcome: Counts,
    /// CPU seconds each process used meanwhile (see `cpu`).
    pub cpu: BTreeMap<String, f64>,
}

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Figures> {
    bench.warm_up(WARM_UP_JOBS).await?;
    let jobs = bench.plan.jobs;
    let watched = cpu::watched(&bench.parts, &bench.run_dir);
    let cpu_before = cpu::snapshot(&watched);
    let started = Instant::now();
    let (burst, done) = tokio::join!(bench.api.burst(ENDPOINT, jobs, bench.plan.connections), bench.progress.wait_done(ENDPOINT, jobs, STALL));
    if let Some(error) = burst.first_error {
        anyhow::bail!("{} of {jobs} submissions refused; first: {error}", burst.refused);
    }
    let (outcome, last_done) = done?;
    let (_, cpu) = cpu::between(&cpu_before, &cpu::snapshot(&watched));
    let elapsed = last_done - started;
    Ok(Figures { jobs, elapsed, jobs_per_s: jobs as f64 / elapsed.as_secs_f64(), submitting: burst.elapsed, outcome, cpu })
}
