//! The peers' own measurements, run as they are (`../shared/bench/*.sh`) in the same bench
//! run: Celery on the same RabbitMQ and Redis, and Spark without an orchestrator. Their
//! output is kept in the run's folder; the figures come from their last lines.

use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::stats::Percentiles;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Celery {
    pub throughput_jobs_s: f64,
    pub latency: Percentiles,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spark {
    /// One whole `spark-submit --master local[2]` of the job (median of 3).
    pub cold_s: f64,
    /// The job inside an already-started session.
    pub warm_p50_ms: f64,
    pub warm_p95_ms: f64,
}

/// `celery-baseline.sh <throughput jobs> <latency samples>`. The script leaves its queue
/// and exchange (`bench-<its pid>`, durable) in the broker; they are deleted after it.
pub async fn celery(script_dir: &Path, out_dir: &Path, amqp_url: &str, jobs: u64, latency_samples: usize) -> anyhow::Result<Celery> {
    let script = script_dir.join("celery-baseline.sh");
    let (output, pid) = run(&script, &[jobs.to_string(), latency_samples.to_string()], out_dir, "celery-baseline").await?;
    if let Err(err) = crate::cleanup::amqp_queue_and_exchange(amqp_url, &format!("bench-{pid}")).await {
        tracing::warn!(error = %format!("{err:#}"), "cannot delete the Celery baseline's queue");
    }
    parse_celery(&output)
}

/// `spark-baseline.sh <python>`.
pub async fn spark(script_dir: &Path, out_dir: &Path, python: &str) -> anyhow::Result<Spark> {
    let script = script_dir.join("spark-baseline.sh");
    let (output, _) = run(&script, &[python.to_string()], out_dir, "spark-baseline").await?;
    parse_spark(&output)
}

/// Runs a script to its end; returns its stdout and its process id.
async fn run(script: &Path, args: &[String], out_dir: &Path, name: &str) -> anyhow::Result<(String, u32)> {
    anyhow::ensure!(script.exists(), "{} is missing", script.display());
    let stderr_path = out_dir.join(format!("{name}.stderr"));
    let stderr = std::fs::File::create(&stderr_path)?;
    let child = tokio::process::Command::new("bash")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("running {}", script.display()))?;
    let pid = child.id().unwrap_or(0);
    let output = child.wait_with_output().await.with_context(|| format!("running {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(out_dir.join(format!("{name}.out")), &stdout)?;
    if !output.status.success() {
        bail!("{} exited with {} (output in {})", script.display(), output.status, out_dir.display());
    }
    Ok((stdout, pid))
}

/// The last line is `{"celery_throughput_jobs_s": …, "celery_latency_ms": {"p50", "p95", "p99"}}`.
fn parse_celery(output: &str) -> anyhow::Result<Celery> {
    let json = last_json(output)?;
    let number = |v: &Value| v.as_f64().with_context(|| format!("celery-baseline: not the JSON expected: {json}"));
    let latency = &json["celery_latency_ms"];
    Ok(Celery {
        throughput_jobs_s: number(&json["celery_throughput_jobs_s"])?,
        latency: Percentiles { p50_ms: number(&latency["p50"])?, p95_ms: number(&latency["p95"])?, p99_ms: number(&latency["p99"])?, samples: 0 },
    })
}

/// The script prints `spark cold spark-submit: <s> s (median of 3)` and, last,
/// `spark warm job: {"spark_warm_ms": {"p50", "p95"}}` (JSON after a label).
fn parse_spark(output: &str) -> anyhow::Result<Spark> {
    let json = last_json(output)?;
    let warm = &json["spark_warm_ms"];
    let cold_line =
        output.lines().find_map(|l| l.strip_prefix("spark cold spark-submit:")).context("spark-baseline: no \"spark cold spark-submit\" line")?;
    let cold_s = cold_line
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .with_context(|| format!("spark-baseline: cannot read the cold time in {cold_line:?}"))?;
    Ok(Spark {
        cold_s,
        warm_p50_ms: warm["p50"].as_f64().with_context(|| format!("spark-baseline: no warm p50 in {json}"))?,
        warm_p95_ms: warm["p95"].as_f64().unwrap_or(f64::NAN),
    })
}

/// The JSON object on the last non-empty line, after any label before its `{`.
fn last_json(output: &str) -> anyhow::Result<Value> {
    let line = output.lines().rev().find(|l| !l.trim().is_empty()).context("no output")?;
    let start = line.find('{').with_context(|| format!("no JSON on the last line: {line:?}"))?;
    serde_json::from_str(&line[start..]).with_context(|| format!("the last line is not JSON: {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_celery_script() {
        let output = "celery throughput: 903 jobs/s end to end (500 no-op tasks)\n\
            celery latency: p50 1.42 ms p95 49.61 ms p99 222.86 ms (50 sequential)\n\
            {\"celery_throughput_jobs_s\": 903, \"celery_latency_ms\": {\"p50\": 1.422, \"p95\": 49.607, \"p99\": 222.859}}\n";
        let celery = parse_celery(output).expect("parses");
        assert_eq!(celery.throughput_jobs_s, 903.0);
        assert_eq!((celery.latency.p50_ms, celery.latency.p99_ms), (1.422, 222.859));
    }

    #[test]
    fn reads_the_spark_script() {
        let output = "spark cold spark-submit: 17.611424389 s (median of 3)\n\
            spark warm job: {\"spark_warm_ms\": {\"p50\": 122.9, \"p95\": 222.1}}\n";
        let spark = parse_spark(output).expect("parses");
        assert_eq!(spark, Spark { cold_s: 17.611424389, warm_p50_ms: 122.9, warm_p95_ms: 222.1 });
        assert!(parse_spark("spark warm job: {}\n").is_err());
    }
}
