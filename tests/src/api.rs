//! A Mist API running in the test process against the real Redis, in its own namespace.

use std::net::SocketAddr;
use std::path::PathBuf;

use mist_common::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub struct TestApi {
    pub address: SocketAddr,
    pub namespace: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    artifacts_dir: tempfile::TempDir,
}

/// An answer: status, content type and body (parsed as JSON when it is JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `error` message of a JSON error body; panics if the body is not one.
    pub fn error(&self) -> String {
        assert!(self.content_type.starts_with("application/json"), "error body not JSON: {self:?}");
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error field: {}", self.text)).to_string()
    }

    /// The JSON body of a 200 answer; panics on any other status or content type.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "expected 200: {self:?}");
        assert!(self.content_type.starts_with("application/json"), "not JSON: {self:?}");
        self.json()
    }

    /// The message of an error answer with `status`; panics on any other answer.
    pub fn error_with(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {self:?}");
        self.error()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApi {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// `overrides` are dotted configuration keys, applied after the test's own.
    pub async fn start_with(overrides: &[(&str, &str)]) -> Self {
        let namespace = crate::fresh_namespace();
        let artifacts_dir = tempfile::tempdir().expect("a temporary folder");
        let python = crate::python_bin();
        let dir = artifacts_dir.path().to_string_lossy().to_string();
        let mut all: Vec<(&str, &str)> =
            vec![("namespace", &namespace), ("artifacts.dir", &dir), ("python.bin", &python), ("http.port", "1")];
        all.extend_from_slice(overrides);
        let settings = Settings::load(None, &all).expect("test settings are valid");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound");
        let state = mist_api::AppState::new(settings.clone()).expect("API state");
        let shutdown = CancellationToken::new();
        tokio::spawn(mist_api::serve(listener, state, shutdown.clone()));
        Self { address, namespace, settings, client: reqwest::Client::new(), shutdown, artifacts_dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/v2/api{}", self.address, path)
    }

    pub fn artifacts_dir(&self) -> PathBuf {
        self.artifacts_dir.path().to_path_buf()
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        answer(request.send().await.expect("the API answers")).await
    }

    /// A request with raw bytes and an explicit `Content-Type` (or none).
    pub async fn send(&self, method: Method, path: &str, body: Vec<u8>, content_type: Option<&str>) -> Answer {
        let mut request = self.client.request(method, self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(request.send().await.expect("the API answers")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &str) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Uploads `bytes` as the multipart part `file` named `file_name`.
    pub async fn upload(&self, file_name: &str, bytes: Vec<u8>, force: bool) -> Answer {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let path = if force { "/artifacts?force=true" } else { "/artifacts" };
        answer(self.client.post(self.url(path)).multipart(form).send().await.expect("the API answers")).await
    }

    /// Uploads a fixture file from the Python runtime's test functions.
    pub async fn upload_fixture(&self, name: &str) -> Answer {
        let bytes = std::fs::read(crate::fixture(name)).expect("fixture exists");
        self.upload(name, bytes, false).await
    }

    /// Every file under the artifacts folder (temporary uploads included), as paths
    /// relative to it, sorted.
    pub fn artifact_files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned());
                }
            }
        }
        let root = self.artifacts_dir();
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        files.sort();
        files
    }

    /// Files of uploads still being received.
    pub fn incoming_files(&self) -> Vec<String> {
        self.artifact_files().into_iter().filter(|f| f.starts_with(".incoming")).collect()
    }

    /// A connection to the test's Redis, to plant records other processes would write.
    pub fn redis(&self) -> redis::Connection {
        redis_connection(&self.settings)
    }

    /// Every key of this test's namespace, for asserting nothing was written.
    pub fn redis_keys(&self) -> Vec<String> {
        let mut conn = redis_connection(&self.settings);
        redis::cmd("KEYS").arg(format!("{}:*", self.namespace)).query(&mut conn).expect("KEYS")
    }

    /// A snapshot of everything this test's namespace holds, to compare before and after.
    pub fn redis_dump(&self) -> Vec<(String, Vec<(String, String)>)> {
        let mut conn = redis_connection(&self.settings);
        let mut keys = self.redis_keys();
        keys.sort();
        keys.into_iter()
            .map(|key| {
                let mut fields: Vec<(String, String)> = redis::cmd("HGETALL").arg(&key).query(&mut conn).unwrap_or_default();
                fields.sort();
                (key, fields)
            })
            .collect()
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let keys = self.redis_keys();
        if !keys.is_empty() {
            let mut conn = redis_connection(&self.settings);
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

fn redis_connection(settings: &Settings) -> redis::Connection {
    redis::Client::open(settings.redis.url.as_str())
        .and_then(|c| c.get_connection())
        .expect("Redis at redis.url answers")
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = response.text().await.unwrap_or_default();
    Answer { status, content_type, text, headers }
}
