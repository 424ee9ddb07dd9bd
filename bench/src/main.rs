//! `mist-bench`: wires the command line to a bench run and prints its report: the table,
//! then one line of JSON with every figure. Progress goes to stderr.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use mist_bench::plan::{parse_only, Places, Plan, Sizes};

#[derive(Parser)]
#[command(name = "mist-bench", version, about = "Measures Mist against its targets and the Celery and Spark baselines")]
struct Args {
    /// Scenarios to run, by number or name: 1 submit, 2 throughput, 3 latency, 4 spark,
    /// 5 exclusive, 6 listing, 7 memory (default: all).
    #[arg(long, value_name = "SCENARIO,...")]
    only: Option<String>,
    /// Jobs of scenario 2, and submissions of scenario 1 [default: 5000].
    #[arg(long)]
    jobs: Option<u64>,
    /// Job records in history for scenario 6 [default: 1000000].
    #[arg(long)]
    history: Option<u64>,
    /// No-op jobs before scenario 7's second memory reading [default: 100000].
    #[arg(long)]
    memory_jobs: Option<u64>,
    /// Do not run the Celery and Spark baselines.
    #[arg(long)]
    skip_peers: bool,
    /// Small counts, for a smoke run (explicit counts still win).
    #[arg(long)]
    quick: bool,
    /// Concurrent HTTP connections of the submitting scenarios.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// The workers' Python, with pyspark [default: ~/.cache/mist/pyenv/bin/python, else python3].
    #[arg(long, env = "MIST_BENCH_PYTHON")]
    python: Option<String>,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    amqp_url: String,
    /// Where mist-api, mist-dispatcher and mist-agent are [default: this binary's folder,
    /// target/release].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where celery-baseline.sh and spark-baseline.sh are [default: ../shared/bench].
    #[arg(long)]
    peers_dir: Option<PathBuf>,
    /// Mist's log level (`log.level`) for the run's logs in target/bench/<namespace>/.
    #[arg(long, default_value = "info")]
    mist_log: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_target(false).init();
    let plan = plan(Args::parse())?;
    let report = mist_bench::run(&plan).await?;
    println!("{}", report.table());
    println!("{}", report.json());
    if !report.complete() {
        // A figure that could not be measured, unlike a target missed, fails the run.
        std::process::exit(1);
    }
    Ok(())
}

fn plan(args: Args) -> anyhow::Result<Plan> {
    let counts = if args.quick { Sizes::QUICK } else { Sizes::FULL };
    let exe = std::env::current_exe().context("finding this executable")?;
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => exe.parent().context("this executable has no folder")?.to_path_buf(),
    };
    let work_root = bin_dir.parent().map(|target| target.join("bench")).unwrap_or_else(|| PathBuf::from("target/bench"));
    let peers_dir = args.peers_dir.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench"));
    Ok(Plan {
        scenarios: parse_only(args.only.as_deref()).map_err(anyhow::Error::msg)?,
        jobs: args.jobs.unwrap_or(counts.jobs),
        connections: args.connections.max(1),
        latency_samples: counts.latency_samples,
        spark_samples: counts.spark_samples,
        exclusive_samples: counts.exclusive_samples,
        history: args.history.unwrap_or(counts.history),
        listing_samples: counts.listing_samples,
        memory_jobs: args.memory_jobs.unwrap_or(counts.memory_jobs),
        run_peers: !args.skip_peers,
        places: Places {
            bin_dir,
            work_root,
            redis_url: args.redis_url,
            amqp_url: args.amqp_url,
            python: python(args.python),
            peers_dir,
            log_level: args.mist_log,
        },
    })
}

/// `--python` / `MIST_BENCH_PYTHON`, else the environment `deploy/python-env.sh` makes,
/// else `python3`.
fn python(given: Option<String>) -> String {
    given.unwrap_or_else(|| {
        let made = PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/mist/pyenv/bin/python");
        if made.exists() {
            made.to_string_lossy().into_owned()
        } else {
            "python3".into()
        }
    })
}
