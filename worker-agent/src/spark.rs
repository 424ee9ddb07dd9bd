//! Finding Spark and building the `spark-submit` command line of a worker. Arguments are
//! passed to the process as a list, never through a shell.

use std::path::{Path, PathBuf};

use mist_common::model::context::{split_run_options, ContextConfig};
use mist_common::python_runtime::WORKER_SCRIPT;

/// `spark-submit` from configuration, else `$SPARK_HOME`, else the pyspark package of the
/// workers' Python.
pub async fn find_spark_submit(configured: &str, python: &str) -> anyhow::Result<PathBuf> {
    if !configured.is_empty() {
        return Ok(PathBuf::from(configured));
    }
    if let Ok(home) = std::env::var("SPARK_HOME") {
        let candidate = Path::new(&home).join("bin/spark-submit");
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    let package = python_says(python, "import os, pyspark; print(os.path.dirname(pyspark.__file__))").await?;
    let candidate = Path::new(&package).join("bin/spark-submit");
    anyhow::ensure!(candidate.exists(), "no spark-submit at {}; set agent.spark_submit or SPARK_HOME", candidate.display());
    Ok(candidate)
}

/// The version of pyspark the workers' Python has, as agents report it.
pub async fn spark_version(python: &str) -> anyhow::Result<String> {
    python_says(python, "import pyspark; print(pyspark.__version__)").await
}

async fn python_says(python: &str, code: &str) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(python).arg("-c").arg(code).output().await.map_err(|e| {
        anyhow::anyhow!("cannot run python.bin {python:?}: {e}")
    })?;
    anyhow::ensure!(
        output.status.success(),
        "python.bin {python:?} cannot import pyspark: {}",
        String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("")
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Where the worker connects back to its agent, and who it is.
pub struct WorkerLaunch<'a> {
    pub worker_id: &'a str,
    pub context: &'a ContextConfig,
    pub runtime_dir: &'a Path,
    pub agent_port: u16,
}

/// The arguments after `spark-submit`: the context's settings as `--conf` pairs, its
/// `runOptions` split like a shell would, then the worker script and its own options.
pub fn submit_arguments(launch: &WorkerLaunch<'_>) -> Result<Vec<String>, String> {
    let context = launch.context;
    let mut args = vec!["--name".to_string(), format!("mist-{}", launch.worker_id)];
    for (key, value) in &context.spark_conf {
        args.push("--conf".into());
        args.push(format!("{key}={value}"));
    }
    args.extend(split_run_options(&context.run_options)?);
    let streaming = context.streaming_duration.as_std().map(|d| d.as_secs_f64()).unwrap_or(1.0);
    args.extend([
        launch.runtime_dir.join(WORKER_SCRIPT).to_string_lossy().into_owned(),
        "--agent".into(),
        format!("127.0.0.1:{}", launch.agent_port),
        "--worker-id".into(),
        launch.worker_id.to_string(),
        "--max-jobs".into(),
        context.max_jobs.to_string(),
        "--mode".into(),
        match context.worker_mode {
            mist_common::model::context::WorkerMode::Shared => "shared".into(),
            mist_common::model::context::WorkerMode::Exclusive => "exclusive".into(),
        },
        "--streaming-duration-s".into(),
        streaming.to_string(),
    ]);
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mist_common::duration::MistDuration;
    use mist_common::model::context::WorkerMode;
    use std::collections::BTreeMap;

    #[test]
    fn settings_become_conf_pairs_and_run_options_are_split_not_shelled() {
        let context = ContextConfig {
            name: "c".into(),
            spark_conf: BTreeMap::from([("spark.master".into(), "local[2]".into())]),
            downtime: MistDuration::Inf,
            max_jobs: 3,
            precreated: false,
            run_options: "--driver-memory 1g --conf 'spark.app.x=a b' ; rm -rf /".into(),
            worker_mode: WorkerMode::Shared,
            streaming_duration: MistDuration::from_secs(1),
            max_conn_failures: 5,
        };
        let launch = WorkerLaunch { worker_id: "w1", context: &context, runtime_dir: Path::new("/rt"), agent_port: 9 };
        let args = submit_arguments(&launch).unwrap();
        let expected: Vec<&str> = vec![
            "--name", "mist-w1", "--conf", "spark.master=local[2]", "--driver-memory", "1g", "--conf", "spark.app.x=a b", ";",
            "rm", "-rf", "/", "/rt/mist_worker.py", "--agent", "127.0.0.1:9", "--worker-id", "w1", "--max-jobs", "3", "--mode",
            "shared", "--streaming-duration-s", "1",
        ];
        assert_eq!(args, expected);
    }
}
