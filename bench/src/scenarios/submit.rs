//! Scenario 1: accepted submissions per second: `POST /endpoints/{id}/jobs` (no `force`) from 64
//! connections at once, each sending its next request as soon as it has its answer. An
//! answer `{"id"}` means Mist has the record in Redis and the broker confirmed the request,
//! so the rate counts durable jobs only; afterwards every accepted job is followed to its
//! end to show none was lost.

use std::time::Duration;

use super::{Bench, STALL};
use crate::progress::Counts;

pub const ENDPOINT: &str = "submit";

#[derive(Debug, Clone)]
pub struct Figures {
    pub submitted: u64,
    pub accepted: u64,
    pub refused: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub accepted_per_s: f64,
    /// The jobs' ends, once all accepted jobs were done.
    pub outcome: Counts,
}

impl Figures {
    /// Accepted jobs with no record in Redis.
    pub fn lost(&self) -> u64 {
        self.accepted.saturating_sub(self.outcome.all)
    }
}

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Figures> {
    let count = bench.plan.jobs;
    let burst = bench.api.burst(ENDPOINT, count, bench.plan.connections).await;
    let accepted_per_s = burst.accepted as f64 / burst.elapsed.as_secs_f64();
    let (outcome, _) = bench.progress.wait_done(ENDPOINT, burst.accepted, STALL).await?;
    Ok(Figures {
        submitted: count,
        accepted: burst.accepted,
        refused: burst.refused,
        first_error: burst.first_error,
        elapsed: burst.elapsed,
        accepted_per_s,
        outcome,
    })
}
