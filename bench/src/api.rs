//! Talking to Mist's REST API the way a client does: one `reqwest` client whose pool
//! keeps a connection per concurrent caller.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// What a request may take before the bench calls it lost (a `force=true` call passes its
/// own, longer, timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

/// What a burst of submissions got back.
#[derive(Debug, Default)]
pub struct Burst {
    pub accepted: u64,
    pub refused: u64,
    /// The first refusal or transport error, to say why.
    pub first_error: Option<String>,
    /// From the first request sent to the last answer received.
    pub elapsed: Duration,
}

impl Api {
    /// `connections`: how many requests go out at once at most; the pool keeps that many.
    pub fn new(base: &str, connections: usize) -> anyhow::Result<Api> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(Api { base: base.trim_end_matches('/').to_string(), client })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/api{}", self.base, path)
    }

    /// Uploads (replacing) a file as an artifact.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let response = self.client.post(self.url("/artifacts?force=true")).multipart(form).send().await?;
        let status = response.status();
        if !status.is_success() {
            bail!("uploading {name}: {status}: {}", response.text().await.unwrap_or_default());
        }
        Ok(())
    }

    /// Creates (or replaces) a context running Spark in local mode without its UI.
    pub async fn context(&self, name: &str, max_jobs: u32, mode: &str) -> anyhow::Result<()> {
        let body = json!({
            "name": name,
            "maxJobs": max_jobs,
            "workerMode": mode,
            "sparkConf": {"spark.master": "local[2]", "spark.ui.enabled": "false"}
        });
        let response = self.client.post(self.url("/contexts")).body(body.to_string()).send().await?;
        ok_json(response, &format!("creating context {name}")).await.map(drop)
    }

    /// Creates an endpoint (replacing one of that name).
    pub async fn endpoint(&self, name: &str, artifact: &str, function: &str, context: &str) -> anyhow::Result<()> {
        let _ = self.client.delete(self.url(&format!("/endpoints/{name}"))).send().await?;
        let body = json!({"name": name, "path": artifact, "className": function, "defaultContext": context});
        let response = self.client.post(self.url("/endpoints")).body(body.to_string()).send().await?;
        ok_json(response, &format!("creating endpoint {name}")).await.map(drop)
    }

    /// Submits one job without waiting; returns its id.
    pub async fn submit(&self, endpoint: &str) -> anyhow::Result<String> {
        let response = self.client.post(self.url(&format!("/endpoints/{endpoint}/jobs"))).body("{}").send().await?;
        let answer = ok_json(response, "submitting a job").await?;
        answer["id"].as_str().map(str::to_string).context("the answer has no id")
    }

    /// Runs one job with `force=true` and returns its payload; a job that did not finish
    /// is an error that quotes Mist's answer.
    pub async fn run(&self, endpoint: &str, wait: Duration) -> anyhow::Result<Value> {
        let url = self.url(&format!("/endpoints/{endpoint}/jobs?force=true&timeout={}s", wait.as_secs()));
        let response = self.client.post(url).timeout(wait + Duration::from_secs(10)).body("{}").send().await?;
        let answer = ok_json(response, "running a job with force=true").await?;
        if answer["success"] != json!(true) {
            bail!("the job did not finish: {answer}");
        }
        Ok(answer["payload"].clone())
    }

    /// Polls a job until it is done and returns its status.
    pub async fn wait_job(&self, id: &str, limit: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + limit;
        loop {
            let job = self.get(&format!("/jobs/{id}")).await?;
            let status = job["status"].as_str().unwrap_or_default().to_string();
            if matches!(status.as_str(), "finished" | "failed" | "canceled") {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("job {id} is still {status} after {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One GET, its body read to the end; an error unless 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.client.get(self.url(path)).send().await?;
        ok_json(response, path).await
    }

    /// Submits `count` jobs of `endpoint` over `connections` concurrent connections, each
    /// sending its next request as soon as it has an answer.
    pub async fn burst(&self, endpoint: &str, count: u64, connections: usize) -> Burst {
        let next = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let url = self.url(&format!("/endpoints/{endpoint}/jobs"));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections.max(1) {
            let (client, url) = (self.client.clone(), url.clone());
            let (next, accepted, refused, first_error) = (next.clone(), accepted.clone(), refused.clone(), first_error.clone());
            tasks.spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let outcome = match client.post(&url).body("{}").send().await {
                        Ok(response) if response.status().is_success() => response.bytes().await.map(drop).map_err(|e| e.to_string()),
                        Ok(response) => {
                            let status = response.status();
                            Err(format!("{status}: {}", response.text().await.unwrap_or_default()))
                        }
                        Err(err) => Err(err.to_string()),
                    };
                    match outcome {
                        Ok(()) => accepted.fetch_add(1, Ordering::Relaxed),
                        Err(error) => {
                            first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(error);
                            refused.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let first_error = first_error.lock().unwrap_or_else(|p| p.into_inner()).take();
        Burst { accepted: accepted.load(Ordering::Relaxed), refused: refused.load(Ordering::Relaxed), first_error, elapsed: started.elapsed() }
    }
}

async fn ok_json(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response.text().await.with_context(|| format!("{what}: reading the answer"))?;
    if !status.is_success() {
        bail!("{what}: {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: the answer is not JSON: {text}"))
}
