//! A large job history, written straight into Redis in the layout Mist itself writes.
//!
//! Running a million jobs through Mist would take longer than the rest of the bench, so
//! the records are copied from *templates*: real jobs that ran through Mist (one that
//! finished, one that failed). Each copy gets its own id and times and is written with the
//! same commands in the same order as `Store::create_job` and the agent's two transitions
//! (`HSET` of the fields, the `ZADD`s into every index, one `APPEND` per log write), so the
//! keys, the fields, the indexes and even the strings' spare capacity match a real job's.
//! The writes are pipelined, a batch of jobs per round trip, a few batches in flight.

use std::collections::HashMap;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{bail, Context};
use mist_common::joblog::{line, Level};
use mist_common::model::job::JobStatus;
use mist_common::store::keys::Keys;
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use serde_json::Value;

/// Jobs per pipeline, and pipelines in flight: enough to keep Redis busy, few enough that
/// no single reply is large.
const BATCH: u64 = 1_000;
const IN_FLIGHT: usize = 4;

/// A real job to copy.
#[derive(Debug, Clone)]
pub struct Template {
    pub job_id: String,
    fields: HashMap<String, String>,
    /// Its log lines, each with its time relative to the job's creation.
    log: Vec<(Level, i64, String)>,
    create_time: i64,
    endpoint: String,
    status: String,
    worker_id: Option<String>,
}

impl Template {
    /// Reads a done job's record and log.
    pub async fn read(conn: &mut MultiplexedConnection, keys: &Keys, job_id: &str) -> anyhow::Result<Template> {
        let fields: HashMap<String, String> = conn.hgetall(keys.job(job_id)).await?;
        let text: String = conn.get(keys.job_log(job_id)).await?;
        let field = |name: &str| fields.get(name).cloned().with_context(|| format!("job {job_id} has no field {name}"));
        let create_time: i64 = field("createTime")?.parse().context("createTime")?;
        let log = text
            .lines()
            .map(|l| parse_log_line(l, job_id).map(|(level, time, message)| (level, time - create_time, message)))
            .collect::<Option<Vec<_>>>()
            .with_context(|| format!("job {job_id}: a log line not in the API's format: {text:?}"))?;
        let status = field("status")?;
        anyhow::ensure!(status.parse::<JobStatus>().is_ok_and(JobStatus::is_done), "template job {job_id} is {status}, not done");
        Ok(Template {
            job_id: job_id.to_string(),
            endpoint: field("endpoint")?,
            worker_id: fields.get("workerId").cloned(),
            status,
            create_time,
            log,
            fields,
        })
    }

    /// The indexes a job of this template is in.
    fn indexes(&self, keys: &Keys) -> Vec<String> {
        let mut indexes = vec![
            keys.jobs_all(),
            keys.jobs_by_status(&self.status),
            keys.jobs_by_endpoint(&self.endpoint),
            keys.jobs_by_endpoint_status(&self.endpoint, &self.status),
        ];
        indexes.extend(self.worker_id.as_deref().map(|w| keys.worker_jobs(w)));
        indexes
    }

    /// Checks that the template itself is in every index a copy is written to, so a
    /// change of Mist's layout shows here rather than as a quietly wrong figure.
    pub async fn check_indexes(&self, conn: &mut MultiplexedConnection, keys: &Keys) -> anyhow::Result<()> {
        for index in self.indexes(keys) {
            let score: Option<f64> = conn.zscore(&index, &self.job_id).await?;
            if score != Some(self.create_time as f64) {
                bail!("job {} is not in {index} with its create time as Mist's layout has it (score {score:?})", self.job_id);
            }
        }
        Ok(())
    }

    /// Queues the commands that make a copy with `id`, created at `create_time`.
    fn write_copy(&self, pipe: &mut redis::Pipeline, keys: &Keys, id: &str, create_time: i64) -> anyhow::Result<()> {
        let shift = |field: &str| -> Option<String> {
            let t: i64 = self.fields.get(field)?.parse().ok()?;
            Some((t - self.create_time + create_time).to_string())
        };
        let mut fields: Vec<(String, String)> = Vec::with_capacity(self.fields.len());
        for (name, value) in &self.fields {
            let value = match name.as_str() {
                "jobId" => id.to_string(),
                "createTime" => create_time.to_string(),
                "startTime" | "endTime" => shift(name).unwrap_or_else(|| value.clone()),
                "request" => {
                    let mut request: Value = serde_json::from_str(value).context("the template's request is not JSON")?;
                    request["jobId"] = Value::from(id);
                    request["createTime"] = Value::from(create_time);
                    request.to_string()
                }
                _ => value.clone(),
            };
            fields.push((name.clone(), value));
        }
        pipe.hset_multiple(keys.job(id), &fields).ignore();
        for index in self.indexes(keys) {
            pipe.zadd(index, id, create_time).ignore();
        }
        // As Mist writes it: the two creation lines in one APPEND, then one per write.
        let text = |(level, offset, message): &(Level, i64, String)| line(*level, create_time + offset, id, message);
        let first: String = self.log.iter().take(2).map(text).collect();
        pipe.append(keys.job_log(id), first).ignore();
        for later in self.log.iter().skip(2) {
            pipe.append(keys.job_log(id), text(later)).ignore();
        }
        Ok(())
    }
}

/// `LEVEL <RFC 3339 time> [<id>] <message>` → its parts, time in epoch ms.
fn parse_log_line(text: &str, job_id: &str) -> Option<(Level, i64, String)> {
    let (level, rest) = text.split_once(' ')?;
    let (time, rest) = rest.split_once(' ')?;
    let message = rest.strip_prefix(&format!("[{job_id}] "))?;
    let time = humantime::parse_rfc3339(time).ok()?.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64;
    Some((Level::parse(level), time, message.to_string()))
}

/// What writing the history took.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub jobs: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

/// The ids of a few finished copies (the first of each batch), to measure.
pub type Sample = Vec<String>;

/// Writes `count` copies, every hundredth of `failed` and the rest of `finished`,
/// created one millisecond apart and ending before `before` (epoch ms). Returns what it
/// wrote and a sample of finished copies' ids.
pub async fn write(
    conn: &MultiplexedConnection,
    keys: &Keys,
    finished: &Template,
    failed: &Template,
    count: u64,
    before: i64,
) -> anyhow::Result<(Written, Sample)> {
    let started = Instant::now();
    let mut sample = Sample::new();
    let first_create = before - count as i64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut failed_count = 0;
    let mut start = 0;
    while start < count {
        let end = (start + BATCH).min(count);
        let mut pipe = redis::pipe();
        for i in start..end {
            let is_failed = i % 100 == 99;
            failed_count += u64::from(is_failed);
            let template = if is_failed { failed } else { finished };
            let id = uuid::Uuid::new_v4().to_string();
            template.write_copy(&mut pipe, keys, &id, first_create + i as i64)?;
            if i == start {
                sample.push(id);
            }
        }
        if tasks.len() >= IN_FLIGHT {
            joined(tasks.join_next().await)?;
        }
        let mut conn = conn.clone();
        tasks.spawn(async move { pipe.query_async::<()>(&mut conn).await });
        start = end;
    }
    while let Some(result) = tasks.join_next().await {
        joined(Some(result))?;
    }
    Ok((Written { jobs: count, failed: failed_count, elapsed: started.elapsed() }, sample))
}

fn joined(result: Option<Result<redis::RedisResult<()>, tokio::task::JoinError>>) -> anyhow::Result<()> {
    match result {
        Some(Ok(Ok(()))) | None => Ok(()),
        Some(Ok(Err(err))) => Err(err).context("writing history to Redis"),
        Some(Err(err)) => Err(err).context("a history writer stopped"),
    }
}

/// `used_memory` of Redis's `INFO memory`, in bytes.
pub async fn used_memory(conn: &mut MultiplexedConnection) -> anyhow::Result<u64> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).context("INFO memory has no used_memory")
}

/// `MEMORY USAGE` of a job's record and log together, counted exactly (`SAMPLES 0`).
pub async fn record_bytes(conn: &mut MultiplexedConnection, keys: &Keys, job_id: &str) -> anyhow::Result<u64> {
    let (hash, log): (Option<u64>, Option<u64>) = redis::pipe()
        .cmd("MEMORY")
        .arg("USAGE")
        .arg(keys.job(job_id))
        .arg("SAMPLES")
        .arg(0)
        .cmd("MEMORY")
        .arg("USAGE")
        .arg(keys.job_log(job_id))
        .arg("SAMPLES")
        .arg(0)
        .query_async(conn)
        .await?;
    Ok(hash.unwrap_or(0) + log.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_read_back_as_written() {
        let text = line(Level::Error, 1_700_000_000_123, "j-1", "failed: boom");
        assert_eq!(parse_log_line(text.trim_end(), "j-1"), Some((Level::Error, 1_700_000_000_123, "failed: boom".to_string())));
        assert_eq!(parse_log_line(text.trim_end(), "other"), None);
    }
}
