//! `mist-bench`: measures a whole Mist — the release binaries, started in a namespace of
//! their own — on the seven scenarios, in the same run as the peers' baselines
//! (`../shared/bench/`), and reports every figure against its target.
//!
//! A run: Mist starts; idle memory; the functions are deployed and the shared driver
//! warmed; scenario 1; the Celery baseline, then 2 and 3; the Spark baseline, then 4 and 5
//! (each peer right before the scenarios it is compared with, Mist idle meanwhile); then
//! 7's jobs (they also show the sustained rate), then 6 (its million records would only
//! weigh on the others); then Mist stops, leftovers are checked, and the run's Redis keys
//! and queues go.

pub mod api;
pub mod cleanup;
pub mod cpu;
pub mod history;
pub mod mist;
pub mod peers;
pub mod plan;
pub mod progress;
pub mod report;
pub mod rss;
pub mod scenarios;
pub mod stats;

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use mist_common::store::keys::Keys;

use crate::api::Api;
use crate::mist::Mist;
use crate::plan::{Plan, Scenario};
use crate::progress::Progress;
use crate::report::Report;
use crate::scenarios::Bench;

/// Worker processes get this long to go after their agent stopped before they are killed.
const LEFTOVER_GRACE: Duration = Duration::from_secs(10);

/// Runs the plan. A failure that stops the run (Mist does not start, the functions cannot
/// be deployed) is recorded in the report as `fatal`, after Mist was stopped and cleaned up.
pub async fn run(plan: &Plan) -> anyhow::Result<Report> {
    let started = Instant::now();
    let namespace = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let dir = plan.places.work_root.join(&namespace);
    std::fs::create_dir_all(&dir)?;
    let mut report = Report { namespace: namespace.clone(), ..Default::default() };
    report.load.push(load_average());
    tracing::info!(namespace, dir = %dir.display(), "bench run");

    let mut outcome: anyhow::Result<()> = Ok(());
    tracing::info!("starting Mist");
    match Mist::start(&plan.places, &namespace, plan.history).await {
        Ok(mist) => {
            if let Some(measured) = interruptible(measure(plan, &mist, &mut report)).await {
                outcome = measured;
            }
            report.notes.extend(mist.complaints(20).into_iter().map(|l| format!("Mist logged {l}")));
            stop(mist, &dir, &mut report).await;
        }
        Err(err) => outcome = Err(err),
    }
    clean(plan, &namespace, &mut report).await;
    report.load.push(load_average());
    report.elapsed = started.elapsed();
    report.fatal = outcome.err().map(|e| format!("{e:#}"));
    Ok(report)
}

/// The Celery baseline, right before scenarios 2 and 3 (Mist idle meanwhile), so both
/// sides meet the same load from whatever else runs on the machine.
async fn celery(plan: &Plan, dir: &Path, report: &mut Report) {
    if plan.run_peers && (plan.runs(Scenario::Throughput) || plan.runs(Scenario::Latency)) {
        tracing::info!(jobs = plan.jobs, latency = plan.latency_samples, "celery-baseline.sh");
        report.celery = Some(
            peers::celery(&plan.places.peers_dir, dir, &plan.places.amqp_url, plan.jobs, plan.latency_samples).await.map_err(|e| format!("{e:#}")),
        );
    }
}

/// The Spark baseline, right before scenarios 4 and 5, for the same reason.
async fn spark(plan: &Plan, dir: &Path, report: &mut Report) {
    if plan.run_peers && (plan.runs(Scenario::SparkOverhead) || plan.runs(Scenario::Exclusive)) {
        tracing::info!("spark-baseline.sh");
        report.spark = Some(peers::spark(&plan.places.peers_dir, dir, &plan.places.python).await.map_err(|e| format!("{e:#}")));
    }
}

/// Every scenario of the plan, each recording its figures or why it has none. Only a
/// failed deployment ends the run early: nothing could be measured after it.
async fn measure(plan: &Plan, mist: &Mist, report: &mut Report) -> anyhow::Result<()> {
    let redis = progress::connect(&plan.places.redis_url).await?;
    let bench = Bench {
        plan,
        api: Api::new(&mist.base, plan.connections)?,
        progress: Progress::connect(&plan.places.redis_url, &mist.namespace).await?,
        redis,
        keys: Keys::new(&mist.namespace),
        parts: mist.pids(),
        run_dir: mist.dir.to_string_lossy().into_owned(),
    };
    let text = |e: anyhow::Error| format!("{e:#}");
    if plan.runs(Scenario::Memory) {
        report.memory_idle = Some(scenarios::memory::reading(&bench.parts).map_err(text));
    }
    tracing::info!("deploying the functions and starting the shared driver");
    bench.deploy().await?;
    if plan.runs(Scenario::Submit) {
        tracing::info!(submissions = plan.jobs, "1 submit");
        report.submit = Some(scenarios::submit::run(&bench).await.map_err(text));
    }
    celery(plan, &mist.dir, report).await;
    if plan.runs(Scenario::Throughput) {
        tracing::info!(jobs = plan.jobs, "2 throughput");
        report.throughput = Some(scenarios::throughput::run(&bench).await.map_err(text));
    }
    if plan.runs(Scenario::Latency) {
        tracing::info!(samples = plan.latency_samples, "3 latency");
        report.latency = Some(scenarios::latency::run(&bench).await.map_err(text));
    }
    spark(plan, &mist.dir, report).await;
    if plan.runs(Scenario::SparkOverhead) {
        tracing::info!(samples = plan.spark_samples, "4 spark overhead");
        report.spark_overhead = Some(scenarios::spark_overhead::run(&bench).await.map_err(text));
    }
    if plan.runs(Scenario::Exclusive) {
        tracing::info!(samples = plan.exclusive_samples, "5 exclusive");
        report.exclusive = Some(scenarios::exclusive::run(&bench).await.map_err(text));
    }
    if plan.runs(Scenario::Memory) {
        tracing::info!(jobs = plan.memory_jobs, "7 memory after jobs");
        report.memory_after = Some(scenarios::memory::after_jobs(&bench).await.map_err(text));
    }
    if plan.runs(Scenario::Listing) {
        tracing::info!(history = plan.history, "6 listing");
        report.listing = Some(scenarios::listing::run(&bench).await.map_err(text));
    }
    Ok(())
}

/// Stops Mist and makes sure none of its processes outlived it.
async fn stop(mist: Mist, dir: &Path, report: &mut Report) {
    tracing::info!("stopping Mist");
    let killed = mist.stop().await;
    if !killed.is_empty() {
        report.notes.push(format!("{} did not stop within the grace period after stdin closed; killed", killed.join(", ")));
    }
    let needle = dir.to_string_lossy().into_owned();
    let deadline = Instant::now() + LEFTOVER_GRACE;
    let mut left = mist::processes_mentioning(&needle);
    while !left.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = mist::processes_mentioning(&needle);
    }
    if !left.is_empty() {
        let pids: Vec<u32> = left.iter().map(|(pid, _)| *pid).collect();
        cleanup::kill(&pids);
        for (pid, line) in left {
            report.notes.push(format!("process {pid} outlived its agent by {LEFTOVER_GRACE:?}; killed: {line}"));
        }
    }
}

async fn clean(plan: &Plan, namespace: &str, report: &mut Report) {
    match cleanup::redis_keys(&plan.places.redis_url, namespace).await {
        Ok(count) => tracing::info!(keys = count, "deleted the run's Redis keys"),
        Err(err) => report.notes.push(format!("could not delete the Redis keys {namespace}:*: {err:#}")),
    }
    if let Err(err) = cleanup::amqp_queues(&plan.places.amqp_url, namespace).await {
        report.notes.push(format!("could not delete the RabbitMQ queues {namespace}.*: {err:#}"));
    }
}

/// `None` when ctrl-c came first; the caller then stops Mist and cleans up as usual.
async fn interruptible<F: Future>(work: F) -> Option<F::Output> {
    tokio::select! {
        output = work => Some(output),
        _ = tokio::signal::ctrl_c() => {
            tracing::warn!("interrupted; stopping Mist and cleaning up");
            None
        }
    }
}

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "unknown".into())
}
