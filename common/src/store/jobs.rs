//! Job records, their status indexes and their logs.
//!
//! A record is a hash; listing uses sorted sets scored by create time (all jobs, per
//! status, per endpoint, per endpoint and status), so a page costs O(limit) whatever the
//! history. Every status change goes through `transition.lua`, which keeps the indexes
//! right and refuses to move a job backwards.

use std::collections::HashMap;
use std::sync::LazyLock;

use deadpool_redis::redis::{self, AsyncCommands, Script};
use serde_json::Value;

use super::{decode, encode, Store, StoreError};
use crate::model::job::{JobDetails, JobParams, JobStatus, Source};
use crate::model::messages::JobRequest;

static TRANSITION: LazyLock<Script> =
    LazyLock::new(|| Script::new(concat!(include_str!("lua/append_within.lua"), include_str!("lua/transition.lua"))));
static APPEND_LOG: LazyLock<Script> =
    LazyLock::new(|| Script::new(concat!(include_str!("lua/append_within.lua"), include_str!("lua/append_log.lua"))));

/// A status change to apply.
#[derive(Debug, Clone)]
pub struct Transition {
    pub job_id: String,
    pub to: JobStatus,
    /// The statuses it may come from; empty means any earlier status that is not done.
    pub from: Vec<JobStatus>,
    /// An orchestrator line for the job's log.
    pub log_line: Option<String>,
    /// The function's output to append before it, and the log's byte limit.
    pub output: Option<(String, u64)>,
    /// Fields set with the status (`startTime`, `jobResult`…).
    pub fields: Vec<(&'static str, String)>,
    /// A worker whose job list gains this job.
    pub on_worker: Option<String>,
    /// Applies only if this field holds this value.
    pub only_if: Option<(&'static str, String)>,
}

impl Transition {
    pub fn to(job_id: &str, to: JobStatus) -> Self {
        Self {
            job_id: job_id.to_string(),
            to,
            from: Vec::new(),
            log_line: None,
            output: None,
            fields: Vec::new(),
            on_worker: None,
            only_if: None,
        }
    }

    pub fn from(mut self, from: &[JobStatus]) -> Self {
        self.from = from.to_vec();
        self
    }

    pub fn log(mut self, line: String) -> Self {
        self.log_line = Some(line);
        self
    }

    /// Appends the function's `lines` (kept within `limit` bytes, like `Store::append_log`)
    /// in the same step, whether or not the change applies.
    pub fn output(mut self, lines: String, limit: u64) -> Self {
        self.output = Some((lines, limit));
        self
    }

    pub fn on_worker(mut self, worker_id: &str) -> Self {
        self.on_worker = Some(worker_id.to_string());
        self
    }

    pub fn only_if(mut self, field: &'static str, value: &str) -> Self {
        self.only_if = Some((field, value.to_string()));
        self
    }

    pub fn set(mut self, field: &'static str, value: impl ToString) -> Self {
        self.fields.push((field, value.to_string()));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// Applied; carries the status it left.
    Yes(JobStatus),
    Missing,
    /// Not applied: the job is in this status, from which the change is not allowed.
    Refused(JobStatus),
}

/// A page of jobs: which, filtered how.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub endpoint: Option<String>,
    pub statuses: Vec<JobStatus>,
    pub limit: usize,
    pub offset: usize,
}

impl Store {
    /// Writes a new job, in its status, with its indexes and first log lines, atomically.
    pub async fn create_job(&self, job: &JobDetails, request: &JobRequest, log_lines: &str) -> Result<(), StoreError> {
        let keys = self.keys();
        let id = &job.job_id;
        let status = job.status.as_str();
        let mut fields: Vec<(&str, String)> = vec![
            ("jobId", id.clone()),
            ("endpoint", job.endpoint.clone()),
            ("context", job.context.clone()),
            ("params", encode(&job.params)),
            ("source", job.source.as_str().to_string()),
            ("createTime", job.create_time.to_string()),
            ("status", status.to_string()),
            ("attempt", job.attempt.to_string()),
            ("request", encode(request)),
        ];
        if let Some(external_id) = &job.external_id {
            fields.push(("externalId", external_id.clone()));
        }
        let score = job.create_time;
        let _: () = redis::pipe()
            .atomic()
            .hset_multiple(keys.job(id), &fields)
            .zadd(keys.jobs_all(), id, score)
            .zadd(keys.jobs_by_status(status), id, score)
            .zadd(keys.jobs_by_endpoint(&job.endpoint), id, score)
            .zadd(keys.jobs_by_endpoint_status(&job.endpoint, status), id, score)
            .append(keys.job_log(id), log_lines)
            .ignore()
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    /// Removes a job that never became real (its request could not be queued).
    pub async fn delete_job(&self, id: &str, endpoint: &str) -> Result<(), StoreError> {
        let keys = self.keys();
        let mut pipe = redis::pipe();
        pipe.atomic().del(keys.job(id)).del(keys.job_log(id)).zrem(keys.jobs_all(), id).zrem(keys.jobs_by_endpoint(endpoint), id);
        for status in JobStatus::ALL {
            pipe.zrem(keys.jobs_by_status(status.as_str()), id)
                .zrem(keys.jobs_by_endpoint_status(endpoint, status.as_str()), id);
        }
        let _: () = pipe.query_async(&mut self.conn().await?).await?;
        Ok(())
    }

    pub async fn transition(&self, change: &Transition) -> Result<Moved, StoreError> {
        let keys = self.keys();
        let from: Vec<&str> = change.from.iter().map(|s| s.as_str()).collect();
        let mut invocation = TRANSITION.key(keys.job(&change.job_id));
        invocation
            .key(keys.job_log(&change.job_id))
            .arg(keys.prefix())
            .arg(&change.job_id)
            .arg(change.to.as_str())
            .arg(from.join(","))
            .arg(change.log_line.as_deref().unwrap_or(""))
            .arg(keys.done_channel())
            .arg(change.on_worker.as_deref().map(|w| keys.worker_jobs(w)).unwrap_or_default())
            .arg(change.only_if.as_ref().map(|(field, _)| *field).unwrap_or(""))
            .arg(change.only_if.as_ref().map(|(_, value)| value.as_str()).unwrap_or(""));
        match &change.output {
            Some((lines, limit)) => invocation.arg(lines).arg(limit).arg(cut_marker(&change.job_id, *limit)),
            None => invocation.arg("").arg(0).arg(""),
        };
        for (field, value) in &change.fields {
            invocation.arg(*field).arg(value);
        }
        let (outcome, status): (String, String) = invocation.invoke_async(&mut self.conn().await?).await?;
        let parsed = |s: &str| s.parse::<JobStatus>().map_err(|e| StoreError::Corrupt { key: keys.job(&change.job_id), message: e });
        Ok(match outcome.as_str() {
            "ok" => Moved::Yes(parsed(&status)?),
            "refused" => Moved::Refused(parsed(&status)?),
            _ => Moved::Missing,
        })
    }

    pub async fn get_job(&self, id: &str) -> Result<Option<JobDetails>, StoreError> {
        let key = self.keys().job(id);
        let fields: HashMap<String, String> = self.conn().await?.hgetall(&key).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        job_from_fields(&key, &fields).map(Some)
    }

    /// Only the status and the result (the error text of a failed job): what a caller
    /// waiting for the job answers with, without reading and decoding the whole record.
    pub async fn job_outcome(&self, id: &str) -> Result<Option<(JobStatus, Option<Value>)>, StoreError> {
        let key = self.keys().job(id);
        let (status, result): (Option<String>, Option<String>) = self.conn().await?.hmget(&key, &["status", "jobResult"]).await?;
        let Some(status) = status else { return Ok(None) };
        let status = status.parse().map_err(|message| StoreError::Corrupt { key: key.clone(), message })?;
        // An empty result is one a retry cleared.
        let result = result.filter(|r| !r.is_empty()).map(|json| decode::<Value>(&key, &json)).transpose()?;
        Ok(Some((status, result)))
    }

    /// The request a job runs, for rebuilding the dispatcher's queues after a restart.
    pub async fn get_job_request(&self, id: &str) -> Result<Option<JobRequest>, StoreError> {
        let key = self.keys().job(id);
        let json: Option<String> = self.conn().await?.hget(&key, "request").await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    /// Ids of the jobs in a status, oldest first.
    pub async fn job_ids_in_status(&self, status: JobStatus) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().await?.zrange(self.keys().jobs_by_status(status.as_str()), 0, -1).await?)
    }

    /// Ids of the jobs in a status created before `cutoff` (epoch ms), oldest first.
    pub async fn job_ids_in_status_before(&self, status: JobStatus, cutoff: i64) -> Result<Vec<String>, StoreError> {
        Ok(self.conn().await?.zrangebyscore(self.keys().jobs_by_status(status.as_str()), "-inf", cutoff).await?)
    }

    /// A page of jobs, newest first, and how many match in all.
    pub async fn list_jobs(&self, query: &JobQuery) -> Result<(Vec<JobDetails>, u64), StoreError> {
        let keys = self.keys();
        let mut statuses = query.statuses.clone();
        statuses.sort();
        statuses.dedup();
        let index_keys: Vec<String> = match (&query.endpoint, statuses.is_empty()) {
            (None, true) => vec![keys.jobs_all()],
            (Some(endpoint), true) => vec![keys.jobs_by_endpoint(endpoint)],
            (None, false) => statuses.iter().map(|s| keys.jobs_by_status(s.as_str())).collect(),
            (Some(endpoint), false) => statuses.iter().map(|s| keys.jobs_by_endpoint_status(endpoint, s.as_str())).collect(),
        };
        let mut conn = self.conn().await?;
        let last = (query.offset + query.limit) as isize - 1;
        // One index: the page is cut by Redis. Several: each gives its newest, and the
        // page is cut from their merge.
        let first = if index_keys.len() == 1 { query.offset as isize } else { 0 };
        let mut pipe = redis::pipe();
        for key in &index_keys {
            pipe.zrevrange_withscores(key, first, last).zcard(key);
        }
        let flat: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        let mut page: Vec<(String, f64)> = Vec::new();
        let mut total = 0u64;
        let answers = flat.chunks(2).map(|pair| {
            let members = redis::from_redis_value::<Vec<(String, f64)>>(pair[0].clone()).unwrap_or_default();
            let count = pair.get(1).and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok()).unwrap_or(0);
            (members, count)
        });
        for (members, count) in answers {
            page.extend(members);
            total += count;
        }
        if index_keys.len() > 1 {
            page.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
            page = page.into_iter().skip(query.offset).take(query.limit).collect();
        }
        let ids: Vec<String> = page.into_iter().map(|(id, _)| id).collect();
        let jobs = self.jobs_by_ids(&mut conn, &ids).await?;
        Ok((jobs, total))
    }

    /// Records for `ids`, in that order, skipping any deleted meanwhile.
    pub async fn jobs_by_ids(&self, conn: &mut deadpool_redis::Connection, ids: &[String]) -> Result<Vec<JobDetails>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(self.keys().job(id));
        }
        let records: Vec<HashMap<String, String>> = pipe.query_async(conn).await?;
        ids.iter()
            .zip(records)
            .filter(|(_, fields)| !fields.is_empty())
            .map(|(id, fields)| job_from_fields(&self.keys().job(id), &fields))
            .collect()
    }

    /// Appends function output to a job's log, within `limit` bytes.
    pub async fn append_log(&self, id: &str, lines: &str, limit: u64) -> Result<(), StoreError> {
        let _: u64 = APPEND_LOG
            .key(self.keys().job_log(id))
            .arg(lines)
            .arg(limit)
            .arg(cut_marker(id, limit))
            .invoke_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    /// The log from byte `offset` on; `None` when the job does not exist.
    pub async fn read_log(&self, id: &str, offset: u64) -> Result<Option<String>, StoreError> {
        let keys = self.keys();
        let (exists, text): (bool, String) = redis::pipe()
            .exists(keys.job(id))
            .getrange(keys.job_log(id), offset as isize, -1)
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(exists.then_some(text))
    }
}

/// The line that ends a log cut at `limit` bytes.
fn cut_marker(id: &str, limit: u64) -> String {
    crate::joblog::line(crate::joblog::Level::Warn, crate::time::now_millis(), id, &format!(
        "log cut at {limit} bytes (jobs.max_log_bytes); the function's further output is not kept"
    ))
}

/// A job record from its hash fields.
fn job_from_fields(key: &str, fields: &HashMap<String, String>) -> Result<JobDetails, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { key: key.to_string(), message };
    let text = |name: &str| fields.get(name).cloned().ok_or_else(|| corrupt(format!("no field {name}")));
    // An empty field is one a retry cleared.
    let present = |name: &str| fields.get(name).filter(|v| !v.is_empty());
    let number = |name: &str| -> Result<Option<i64>, StoreError> {
        present(name).map(|v| v.parse::<i64>().map_err(|e| corrupt(format!("{name}: {e}")))).transpose()
    };
    let endpoint = text("endpoint")?;
    let params: JobParams = decode(key, &text("params")?)?;
    let source = match fields.get("source").map(String::as_str) {
        Some("Amqp") => Source::Amqp,
        Some("Cli") => Source::Cli,
        Some("Ui") => Source::Ui,
        _ => Source::Http,
    };
    Ok(JobDetails {
        job_id: text("jobId")?,
        function: endpoint.clone(),
        endpoint,
        context: text("context")?,
        params,
        external_id: fields.get("externalId").cloned(),
        source,
        create_time: number("createTime")?.unwrap_or(0),
        start_time: number("startTime")?,
        end_time: number("endTime")?,
        status: text("status")?.parse().map_err(corrupt)?,
        job_result: present("jobResult").map(|j| decode::<Value>(key, j)).transpose()?,
        worker_id: present("workerId").cloned(),
        attempt: number("attempt")?.map(|n| n as u32).unwrap_or(1),
    })
}
