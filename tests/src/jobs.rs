//! Helpers for tests that run jobs: deploying functions and following jobs to their end.

use std::time::Duration;

use serde_json::{json, Value};

use crate::http::ApiClient;

/// Long enough for a cold Spark driver on a busy two-core machine.
pub const JOB_DEADLINE: Duration = Duration::from_secs(180);

/// A fixture file of the end-to-end tests (`tests/functions/`).
pub fn e2e_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions").join(name)
}

impl ApiClient {
    /// Uploads (replacing) a file as an artifact.
    pub async fn deploy_file(&self, path: &std::path::Path) -> String {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a file name").to_string();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let answer = self.upload(&name, bytes, true).await;
        assert_eq!(answer.status.as_u16(), 200, "upload of {name}: {answer:?}");
        name
    }

    /// Creates (or replaces) a context with a small local Spark and no UI.
    pub async fn context(&self, name: &str, max_jobs: u32, mode: &str) {
        let body = json!({
            "name": name,
            "maxJobs": max_jobs,
            "workerMode": mode,
            "sparkConf": {"spark.master": "local[2]", "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}
        });
        self.post("/contexts", &body.to_string()).await.ok_json();
    }

    /// Creates an endpoint (replacing one of that name).
    pub async fn endpoint(&self, name: &str, artifact: &str, class_name: &str, context: &str) -> Value {
        let body = json!({"name": name, "path": artifact, "className": class_name, "defaultContext": context});
        let _ = self.delete(&format!("/endpoints/{name}")).await;
        self.post("/endpoints", &body.to_string()).await.ok_json()
    }

    /// Submits a job and returns its id.
    pub async fn submit(&self, endpoint: &str, arguments: Value) -> String {
        let answer = self.post(&format!("/endpoints/{endpoint}/jobs"), &arguments.to_string()).await;
        answer.ok_json()["id"].as_str().expect("an id").to_string()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.get(&format!("/jobs/{id}")).await.ok_json()
    }

    /// Waits until the job's status is one of `statuses`, and returns the job.
    pub async fn wait_status(&self, id: &str, statuses: &[&str]) -> Value {
        crate::wait_for(&format!("job {id} to be {statuses:?}"), JOB_DEADLINE, || async {
            let job = self.job(id).await;
            statuses.contains(&job["status"].as_str().unwrap_or("")).then_some(job)
        })
        .await
    }

    /// Waits until the job is done (finished, failed or canceled).
    pub async fn wait_done(&self, id: &str) -> Value {
        self.wait_status(id, &["finished", "failed", "canceled"]).await
    }

    pub async fn logs(&self, id: &str) -> String {
        self.get(&format!("/jobs/{id}/logs")).await.text
    }
}
