//! Configuration: built-in defaults, then a TOML file, then `MIST__SECTION__KEY`
//! environment variables. Checked once at start, so a wrong value stops the process with a
//! message that names the key and what is allowed, instead of failing later mid-job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::duration::MistDuration;
use crate::model::context::{ContextConfig, WorkerMode};
use crate::names::check_name;

/// The defaults, as a TOML document: also the reference an operator copies from.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Prefix of every Redis key and AMQP name: deployments (and tests) sharing one broker
    /// and one Redis never see each other.
    pub namespace: String,
    pub http: HttpSettings,
    pub redis: RedisSettings,
    pub amqp: AmqpSettings,
    pub artifacts: ArtifactSettings,
    pub python: PythonSettings,
    pub log: LogSettings,
    pub contexts: ContextsSettings,
    pub jobs: JobSettings,
    pub dispatcher: DispatcherSettings,
    pub agent: AgentSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    pub max_log_bytes: u64,
    pub max_result_bytes: u64,
    pub default_wait: MistDuration,
    pub cancel_grace: MistDuration,
    pub retention_max_age: MistDuration,
    pub retention_max_count: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatcherSettings {
    pub prefetch: u16,
    pub tick: MistDuration,
    pub agent_timeout: MistDuration,
    pub lease_ttl: MistDuration,
    pub reconcile_interval: MistDuration,
    pub settle: MistDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    pub id: String,
    pub host: String,
    pub api_url: String,
    pub work_dir: PathBuf,
    pub spark_submit: String,
    pub max_workers: u32,
    pub start_timeout: MistDuration,
    pub heartbeat_interval: MistDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Largest JSON request body; artifacts have their own limit.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    pub url: String,
    pub pool_size: usize,
    /// How long one command (or connecting) may take before Redis counts as unreachable.
    pub timeout: MistDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpSettings {
    pub url: String,
    /// For throwaway deployments (tests, demos): queues unused this long are deleted by
    /// the broker, and exchanges go with their last binding. `Inf` (the default) keeps them.
    pub expire_unused: MistDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactSettings {
    /// Where uploaded files live; API instances behind one load balancer share it.
    pub dir: PathBuf,
    pub max_size_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonSettings {
    /// The interpreter of the environment workers use (pyspark importable); the API runs
    /// its function inspector with it so both see the same packages.
    pub bin: String,
    pub inspect_timeout: MistDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextsSettings {
    pub default: DefaultContextSettings,
}

/// The `default` context, in the file's snake_case; the API shows it as a `ContextConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultContextSettings {
    pub spark_conf: BTreeMap<String, String>,
    pub downtime: MistDuration,
    pub max_jobs: u32,
    pub precreated: bool,
    pub run_options: String,
    pub worker_mode: WorkerMode,
    pub streaming_duration: MistDuration,
    pub max_conn_failures: u32,
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Settings {
    /// Reads defaults, then `file` (if given), then the environment, then `overrides`
    /// (dotted keys; tests use them to pick a namespace without touching the environment).
    pub fn load(file: Option<&Path>, overrides: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        builder = builder.add_source(
            Environment::with_prefix("MIST").prefix_separator("__").separator("__").try_parsing(true),
        );
        for (key, value) in overrides {
            builder = builder.set_override(*key, *value)?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if let Err(message) = check_name("namespace", &self.namespace) {
            return invalid("namespace", message);
        }
        if self.http.port == 0 {
            return invalid("http.port", "must be 1-65535, got 0".into());
        }
        if self.http.max_body_bytes == 0 {
            return invalid("http.max_body_bytes", "must be positive, got 0".into());
        }
        check_url("redis.url", &self.redis.url, &["redis", "rediss", "redis+unix"])?;
        if self.redis.pool_size == 0 {
            return invalid("redis.pool_size", "must be positive, got 0".into());
        }
        check_url("amqp.url", &self.amqp.url, &["amqp", "amqps"])?;
        if self.artifacts.max_size_bytes == 0 {
            return invalid("artifacts.max_size_bytes", "must be positive, got 0".into());
        }
        if self.python.bin.trim().is_empty() {
            return invalid("python.bin", "must name a Python interpreter".into());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return invalid(
                "log.level",
                format!("must be a level (error, warn, info, debug, trace) or a filter, got {:?}", self.log.level),
            );
        }
        let context = &self.contexts.default;
        if context.max_jobs == 0 {
            return invalid("contexts.default.max_jobs", "must be a positive integer, got 0".into());
        }
        if context.max_conn_failures == 0 {
            return invalid("contexts.default.max_conn_failures", "must be a positive integer, got 0".into());
        }
        if let Err(err) = shell_words_check(&context.run_options) {
            return invalid("contexts.default.run_options", err);
        }
        let finite = |key: &'static str, value: MistDuration| match value.as_std() {
            Some(d) if !d.is_zero() => Ok(()),
            _ => Err(ConfigError::Invalid { key, message: format!("must be a finite, non-zero duration, got {value}") }),
        };
        finite("jobs.cancel_grace", self.jobs.cancel_grace)?;
        finite("redis.timeout", self.redis.timeout)?;
        finite("dispatcher.tick", self.dispatcher.tick)?;
        finite("dispatcher.agent_timeout", self.dispatcher.agent_timeout)?;
        finite("dispatcher.lease_ttl", self.dispatcher.lease_ttl)?;
        finite("dispatcher.reconcile_interval", self.dispatcher.reconcile_interval)?;
        finite("dispatcher.settle", self.dispatcher.settle)?;
        finite("agent.start_timeout", self.agent.start_timeout)?;
        finite("agent.heartbeat_interval", self.agent.heartbeat_interval)?;
        if self.jobs.max_log_bytes < 1024 {
            return invalid("jobs.max_log_bytes", format!("must be at least 1024, got {}", self.jobs.max_log_bytes));
        }
        if self.dispatcher.prefetch == 0 {
            return invalid("dispatcher.prefetch", "must be positive, got 0".into());
        }
        if self.agent.max_workers == 0 {
            return invalid("agent.max_workers", "must be a positive integer, got 0".into());
        }
        check_url("agent.api_url", &self.agent.api_url, &["http", "https"])?;
        Ok(())
    }

    /// The `default` context as the API shows it.
    pub fn default_context(&self) -> ContextConfig {
        let d = &self.contexts.default;
        ContextConfig {
            name: ContextConfig::DEFAULT_NAME.to_string(),
            spark_conf: d.spark_conf.clone(),
            downtime: d.downtime,
            max_jobs: d.max_jobs,
            precreated: d.precreated,
            run_options: d.run_options.clone(),
            worker_mode: d.worker_mode,
            streaming_duration: d.streaming_duration,
            max_conn_failures: d.max_conn_failures,
        }
    }

    /// The effective settings for the start-up log, with passwords in URLs replaced.
    pub fn redacted(&self) -> String {
        let mut copy = self.clone();
        copy.redis.url = redact_url(&copy.redis.url);
        copy.amqp.url = redact_url(&copy.amqp.url);
        format!("{copy:?}")
    }
}

fn check_url(key: &'static str, value: &str, schemes: &[&str]) -> Result<(), ConfigError> {
    let invalid = |message| Err(ConfigError::Invalid { key, message });
    match url::Url::parse(value) {
        Ok(url) if schemes.contains(&url.scheme()) => Ok(()),
        Ok(url) => invalid(format!("scheme must be one of {schemes:?}, got {:?}", url.scheme())),
        Err(err) => invalid(format!("is not a URL ({err}): {:?}", redact_url(value))),
    }
}

fn shell_words_check(run_options: &str) -> Result<(), String> {
    crate::model::context::split_run_options(run_options).map(|_| ())
}

/// `amqp://guest:secret@host` → `amqp://guest:***@host`; anything unparsable is hidden whole.
pub fn redact_url(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "<unparsable URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_pass_the_checks() {
        let settings = Settings::load(None, &[]).expect("defaults are valid");
        assert_eq!(settings.http.port, 2004);
        assert_eq!(settings.contexts.default.max_jobs, 20);
        assert_eq!(settings.default_context().spark_conf["spark.master"], "local[*]");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = Settings::load(None, &[("contexts.default.max_jobs", "0")]).expect_err("0 jobs");
        assert!(err.to_string().contains("contexts.default.max_jobs"), "{err}");
        let err = Settings::load(None, &[("amqp.url", "http://x")]).expect_err("scheme");
        assert!(err.to_string().contains("amqp.url"), "{err}");
        let err = Settings::load(None, &[("namespace", "a/b")]).expect_err("namespace");
        assert!(err.to_string().contains("namespace"), "{err}");
        let err = Settings::load(None, &[("http.port", "many")]).expect_err("port");
        assert!(err.to_string().contains("http.port"), "{err}");
    }

    #[test]
    fn redaction_hides_passwords_only() {
        assert_eq!(redact_url("amqp://guest:secret@h:5672/%2f"), "amqp://guest:***@h:5672/%2f");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
