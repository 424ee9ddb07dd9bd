//! Scenario 6: listing with a large history: `--history` job records are written into Redis (see
//! `history`: copies of a real finished and a real failed job, 1% failed), then
//! `GET /jobs?limit=25` and `GET /jobs?status=failed&limit=25` are timed, one request at
//! a time. Redis bytes per job: `used_memory` before and after the writes, divided by the
//! jobs written (it counts the records, the logs and every index); and, for the record
//! alone, `MEMORY USAGE` of a sample of copies' hashes and logs.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use redis::AsyncCommands;

use super::Bench;
use crate::history::{self, Template, Written};
use crate::stats::Percentiles;

pub const FINISHED_ENDPOINT: &str = "history";
pub const FAILED_ENDPOINT: &str = "history-failing";

/// The two pages timed, as the issue names them.
pub const QUERIES: [&str; 2] = ["/jobs?limit=25", "/jobs?status=failed&limit=25"];
const PAGE: usize = 25;
const WARM_UP_CALLS: usize = 20;
const TEMPLATE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Figures {
    pub written: Written,
    /// Every job in the namespace's history when the pages were timed.
    pub history_total: u64,
    /// One per `QUERIES`.
    pub pages: Vec<Percentiles>,
    pub redis_bytes_per_job: f64,
    /// `MEMORY USAGE` of a copy's hash and log (mean of the sample), and of the real
    /// finished job it copies, to show the copies are the size of the real thing.
    pub record_bytes: f64,
    pub template_record_bytes: u64,
}

pub async fn run(bench: &Bench<'_>) -> anyhow::Result<Figures> {
    let mut conn = bench.redis.clone();
    let finished = template(bench, FINISHED_ENDPOINT, "finished").await?;
    let failed = template(bench, FAILED_ENDPOINT, "failed").await?;

    let memory_before = history::used_memory(&mut conn).await?;
    let now = mist_common::time::now_millis();
    let (written, sample) = history::write(&conn, &bench.keys, &finished, &failed, bench.plan.history, now).await?;
    let memory_after = history::used_memory(&mut conn).await?;
    let redis_bytes_per_job = (memory_after as f64 - memory_before as f64) / written.jobs.max(1) as f64;

    let mut sizes = Vec::new();
    for id in &sample {
        sizes.push(history::record_bytes(&mut conn, &bench.keys, id).await?);
    }
    let record_bytes = sizes.iter().sum::<u64>() as f64 / sizes.len().max(1) as f64;
    let template_record_bytes = history::record_bytes(&mut conn, &bench.keys, &finished.job_id).await?;
    let history_total: u64 = conn.zcard(bench.keys.jobs_all()).await?;

    let mut pages = Vec::new();
    for query in QUERIES {
        pages.push(time_page(bench, query).await?);
    }
    Ok(Figures { written, history_total, pages, redis_bytes_per_job, record_bytes, template_record_bytes })
}

/// Runs one job of `endpoint` through Mist and reads it back as a template.
async fn template(bench: &Bench<'_>, endpoint: &str, expected: &str) -> anyhow::Result<Template> {
    let id = bench.api.submit(endpoint).await?;
    let status = bench.api.wait_job(&id, TEMPLATE_LIMIT).await?;
    if status != expected {
        bail!("the template job of {endpoint} ended {status}, not {expected}");
    }
    let mut conn = bench.redis.clone();
    let template = Template::read(&mut conn, &bench.keys, &id).await.context("reading a template job")?;
    template.check_indexes(&mut conn, &bench.keys).await?;
    Ok(template)
}

async fn time_page(bench: &Bench<'_>, query: &str) -> anyhow::Result<Percentiles> {
    let check = |page: &serde_json::Value| -> anyhow::Result<()> {
        let size = page.as_array().map(Vec::len);
        if size != Some(PAGE) {
            bail!("GET {query} answered {size:?} jobs, not a page of {PAGE}");
        }
        Ok(())
    };
    for _ in 0..WARM_UP_CALLS {
        check(&bench.api.get(query).await?)?;
    }
    let mut samples = Vec::with_capacity(bench.plan.listing_samples);
    for _ in 0..bench.plan.listing_samples {
        let started = Instant::now();
        let page = bench.api.get(query).await?;
        samples.push(started.elapsed());
        check(&page)?;
    }
    Percentiles::of(&samples).ok_or_else(|| anyhow::anyhow!("no samples"))
}
