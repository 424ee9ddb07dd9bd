//! A Mist API running in the test process against the real Redis, in its own namespace.

use std::net::SocketAddr;
use std::path::PathBuf;

use mist_common::config::Settings;
use tokio_util::sync::CancellationToken;

use crate::http::ApiClient;

pub struct TestApi {
    pub address: SocketAddr,
    pub namespace: String,
    pub settings: Settings,
    pub http: ApiClient,
    shutdown: CancellationToken,
    artifacts_dir: tempfile::TempDir,
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
            vec![("namespace", &namespace), ("artifacts.dir", &dir), ("python.bin", &python), ("http.port", "1"), ("amqp.expire_unused", "60s")];
        all.extend_from_slice(overrides);
        let settings = Settings::load(None, &all).expect("test settings are valid");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound");
        let state = mist_api::AppState::new(settings.clone()).expect("API state");
        let shutdown = CancellationToken::new();
        tokio::spawn(mist_api::serve(listener, state, shutdown.clone()));
        let http = ApiClient::new(&format!("http://{address}"));
        Self { address, namespace, settings, http, shutdown, artifacts_dir }
    }

    pub fn artifacts_dir(&self) -> PathBuf {
        self.artifacts_dir.path().to_path_buf()
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

/// The HTTP helpers (`get`, `post`, `upload`…) of the API under test.
impl std::ops::Deref for TestApi {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.http
    }
}
