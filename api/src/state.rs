//! What every handler shares.

use std::sync::Arc;

use anyhow::Context;
use mist_common::config::Settings;
use mist_common::model::context::ContextConfig;
use mist_common::amqp::topology::Topology;
use mist_common::store::Store;

use crate::artifact_files::ArtifactFiles;
use crate::broker::Broker;
use crate::inspect::Inspector;
use crate::waiters::Waiters;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub artifacts: ArtifactFiles,
    pub inspector: Inspector,
    pub broker: Arc<Broker>,
    /// Requests waiting for their job to be done (`force=true`).
    pub waiters: Waiters,
    /// When this instance started, ISO-8601, for `/status`.
    pub started: String,
    /// Keeps the extracted Python runtime on disk for as long as the state lives.
    _runtime_dir: Arc<tempfile::TempDir>,
}

impl AppState {
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::new(&settings.redis, &settings.namespace).context("Redis settings")?;
        let artifacts = ArtifactFiles::new(settings.artifacts.dir.clone(), settings.artifacts.max_size_bytes)
            .with_context(|| format!("cannot create artifacts.dir {}", settings.artifacts.dir.display()))?;
        let runtime_dir = tempfile::Builder::new().prefix("mist-api-runtime-").tempdir()?;
        mist_common::python_runtime::extract(runtime_dir.path()).context("cannot write the Python runtime")?;
        let inspector = Inspector::new(
            settings.python.bin.clone(),
            runtime_dir.path().to_path_buf(),
            settings.python.inspect_timeout.as_std(),
        );
        Ok(Self {
            broker: Arc::new(Broker::new(
                settings.amqp.url.clone(),
                Topology::new(&settings.namespace),
                settings.amqp.expire_unused.as_std(),
            )),
            waiters: Waiters::start(&settings.redis.url, store.keys().done_channel())?,
            started: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            settings: Arc::new(settings),
            store,
            artifacts,
            inspector,
            _runtime_dir: Arc::new(runtime_dir),
        })
    }

    pub fn default_context(&self) -> ContextConfig {
        self.settings.default_context()
    }
}
