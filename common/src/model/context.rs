//! Contexts: the Spark settings and worker policy a job runs under.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::Body;
use crate::duration::MistDuration;
use crate::names::check_name;

/// Shared: one warm driver per context serves every job. Exclusive: a driver per job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkerMode {
    Shared,
    Exclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextConfig {
    pub name: String,
    pub spark_conf: BTreeMap<String, String>,
    /// Idle time before a shared worker stops.
    pub downtime: MistDuration,
    /// Jobs run at once in this context.
    pub max_jobs: u32,
    /// Start a shared worker as soon as the context exists.
    pub precreated: bool,
    /// Extra spark-submit arguments, split like a shell would (never run by one).
    pub run_options: String,
    pub worker_mode: WorkerMode,
    pub streaming_duration: MistDuration,
    /// Consecutive failed worker starts before the context is broken.
    pub max_conn_failures: u32,
}

impl ContextConfig {
    pub const DEFAULT_NAME: &'static str = "default";

    const FIELDS: [&'static str; 9] = [
        "name",
        "sparkConf",
        "downtime",
        "maxJobs",
        "precreated",
        "runOptions",
        "workerMode",
        "streamingDuration",
        "maxConnFailures",
    ];

    /// Reads a POST/PUT body; every missing field comes from `default` (a given
    /// `sparkConf` replaces the default's whole map). For a PUT, `path_name` is the name
    /// in the URL: the body may leave `name` out, or must repeat it.
    pub fn from_body(bytes: &[u8], default: &ContextConfig, path_name: Option<&str>) -> Result<Self, String> {
        let mut body = Body::parse(bytes)?;
        let name = match (body.string("name")?, path_name) {
            (Some(name), Some(path)) if name != path => {
                return Err(format!("name in the body ({name:?}) must equal the context in the path ({path:?})"))
            }
            (Some(name), _) => name,
            (None, Some(path)) => path.to_string(),
            (None, None) => return Err("name is required".into()),
        };
        check_name("name", &name)?;
        let worker_mode = match body.string("workerMode")?.as_deref() {
            None => default.worker_mode,
            Some("shared") => WorkerMode::Shared,
            Some("exclusive") => WorkerMode::Exclusive,
            Some(other) => return Err(format!("workerMode must be \"shared\" or \"exclusive\", got {other:?}")),
        };
        let run_options = body.string("runOptions")?.unwrap_or_else(|| default.run_options.clone());
        split_run_options(&run_options).map_err(|e| format!("runOptions: {e}"))?;
        let context = ContextConfig {
            name,
            spark_conf: body.string_map("sparkConf")?.unwrap_or_else(|| default.spark_conf.clone()),
            downtime: body.duration("downtime")?.unwrap_or(default.downtime),
            max_jobs: body.positive_int("maxJobs")?.unwrap_or(default.max_jobs),
            precreated: body.bool("precreated")?.unwrap_or(default.precreated),
            run_options,
            worker_mode,
            streaming_duration: body.duration("streamingDuration")?.unwrap_or(default.streaming_duration),
            max_conn_failures: body.positive_int("maxConnFailures")?.unwrap_or(default.max_conn_failures),
        };
        body.finish(&Self::FIELDS)?;
        Ok(context)
    }
}

/// `runOptions` as spark-submit arguments, split the way a POSIX shell would split them.
pub fn split_run_options(run_options: &str) -> Result<Vec<String>, String> {
    shell_words::split(run_options).map_err(|e| format!("cannot split {run_options:?} like a shell would: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> ContextConfig {
        ContextConfig {
            name: "default".into(),
            spark_conf: BTreeMap::from([("spark.master".into(), "local[*]".into())]),
            downtime: MistDuration::Inf,
            max_jobs: 20,
            precreated: false,
            run_options: String::new(),
            worker_mode: WorkerMode::Shared,
            streaming_duration: MistDuration::from_secs(1),
            max_conn_failures: 5,
        }
    }

    #[test]
    fn missing_fields_come_from_default() {
        let ctx = ContextConfig::from_body(br#"{"name":"c","maxJobs":2,"sparkConf":{"a":1}}"#, &default(), None).unwrap();
        assert_eq!(ctx.max_jobs, 2);
        assert_eq!(ctx.spark_conf, BTreeMap::from([("a".into(), "1".into())]));
        assert_eq!(ctx.downtime, MistDuration::Inf);
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = |body: &str| ContextConfig::from_body(body.as_bytes(), &default(), None).unwrap_err();
        assert_eq!(bad(r#"{"name":"c","maxJobs":-1}"#), "maxJobs must be a positive integer, got -1");
        assert!(bad(r#"{"name":"c","workerMode":"solo"}"#).contains("workerMode"));
        assert!(bad(r#"{"name":"c","downtime":"later"}"#).starts_with("downtime"));
        assert!(bad(r#"{"name":"c","runOptions":"--x 'open"}"#).starts_with("runOptions"));
        assert!(bad(r#"{"name":"c","maxjobs":1}"#).contains("maxjobs"));
        assert!(bad(r#"{"maxJobs":1}"#).contains("name is required"));
        assert!(bad(r#"{"name":"../x"}"#).starts_with("name"));
        let put = ContextConfig::from_body(br#"{"name":"other"}"#, &default(), Some("c")).unwrap_err();
        assert!(put.contains("must equal"), "{put}");
        assert_eq!(ContextConfig::from_body(b"{}", &default(), Some("c")).unwrap().name, "c");
    }
}
