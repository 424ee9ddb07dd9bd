//! What every fault scenario shares: a Mist with short timeouts, the test functions
//! deployed, and the checks and figures each scenario reports.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::http::ApiClient;
use crate::jobs::e2e_fixture;

/// Short timeouts, so failures are detected in seconds.
pub const FAST: [(&str, &str); 7] = [
    ("MIST__DISPATCHER__AGENT_TIMEOUT", "3s"),
    ("MIST__AGENT__HEARTBEAT_INTERVAL", "500ms"),
    ("MIST__DISPATCHER__LEASE_TTL", "2s"),
    ("MIST__DISPATCHER__RECONCILE_INTERVAL", "1s"),
    ("MIST__DISPATCHER__SETTLE", "3s"),
    ("MIST__JOBS__CANCEL_GRACE", "3s"),
    ("MIST__AGENT__START_TIMEOUT", "60s"),
];

/// A Mist with the `FAST` timeouts and `extra` settings (or `FAILPOINTS`, see
/// `mist_common::fault`).
pub async fn cluster(extra: &[(&str, &str)]) -> Cluster {
    let mut all: Vec<(&str, &str)> = FAST.to_vec();
    all.extend_from_slice(extra);
    Cluster::start(&all).await
}

/// The test functions, a small shared context `ctx` (`maxJobs` 2) and an endpoint per
/// function.
pub async fn deploy(api: &ApiClient) {
    api.deploy_file(&e2e_fixture("e2e_jobs.py")).await;
    api.context("ctx", 2, "shared").await;
    for function in ["nap", "quick", "spark_nap"] {
        api.endpoint(function, "e2e_jobs.py", function, "ctx").await;
    }
}

/// Prints a recovery time as a `RECOVERY <scenario>: <ms>` line (docs/failures.md
/// collects them).
pub fn report(scenario: &str, since: Instant) {
    eprintln!("RECOVERY {scenario}: {} ms", since.elapsed().as_millis());
}

/// How many times the job's log says it started: a job runs at most once per attempt.
pub async fn starts(api: &ApiClient, id: &str) -> usize {
    api.logs(id).await.lines().filter(|l| l.ends_with("assigned; started")).count()
}

/// Submits `quick` until the API accepts it again (after an outage); returns the job id.
pub async fn submit_once_accepted(api: &ApiClient) -> String {
    crate::wait_for("a submission to be accepted again", Duration::from_secs(60), || async {
        let answer = api.post("/endpoints/quick/jobs", "{}").await;
        (answer.status == 200).then(|| answer.json()["id"].as_str().unwrap_or_default().to_string())
    })
    .await
}

/// A failed job's error.
pub fn error_of(job: &Value) -> String {
    job["jobResult"].as_str().unwrap_or_default().to_string()
}

/// Workers serving `context`, as `/workers` lists them.
pub async fn workers_of(api: &ApiClient, context: &str) -> usize {
    let workers = api.get("/workers").await.ok_json();
    workers.as_array().map_or(0, |all| all.iter().filter(|w| w["context"] == context).count())
}

/// Waits until every job of the namespace is done — none left `queued`, `started` or
/// `cancelling` — and returns how many there are.
pub async fn all_done(api: &ApiClient) -> usize {
    crate::wait_for("every job to be done", Duration::from_secs(90), || async {
        let jobs = api.get("/jobs?limit=1000").await.ok_json();
        let jobs = jobs.as_array().cloned().unwrap_or_default();
        let done = ["finished", "failed", "canceled"];
        jobs.iter().all(|job| job["status"].as_str().is_some_and(|s| done.contains(&s))).then_some(jobs.len())
    })
    .await
}

/// The pid of the worker JVM (`spark-submit`) the agent is starting or running, once there
/// is one.
pub async fn worker_jvm(mist: &Cluster) -> u32 {
    let agent = mist.pid(crate::cluster::AGENT);
    crate::wait_for("a worker JVM under the agent", Duration::from_secs(90), || async {
        super::process::find_descendant(agent, "SparkSubmit")
    })
    .await
}

/// Runs `quick` and checks that it finished on another worker than `old` (a job record).
pub async fn next_job_runs_on_a_new_worker(api: &ApiClient, old: &Value) {
    let next = api.submit("quick", serde_json::json!({})).await;
    let next = api.wait_done(&next).await;
    assert_eq!(next["status"], "finished", "{next}");
    assert_ne!(next["workerId"], old["workerId"], "a new worker: {next}");
}

/// Submits `quick`, kills `part` (`kill -9`) while the job's worker JVM is starting, and
/// starts it again. Returns the job once done, and when the kill was.
pub async fn restart_while_the_worker_starts(mist: &Cluster, api: &ApiClient, part: &str) -> (Value, Instant) {
    let id = api.submit("quick", serde_json::json!({})).await;
    worker_jvm(mist).await;
    let killed = Instant::now();
    mist.kill(part);
    mist.spawn(part);
    let job = api.wait_done(&id).await;
    assert_eq!(job["status"], "finished", "{job}");
    assert_eq!(starts(api, &id).await, 1, "it ran once");
    (job, killed)
}
