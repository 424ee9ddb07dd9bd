//! The agent's artifact cache: files fetched from the API once, kept by SHA-1, checked
//! against it, so a replaced artifact is fetched anew and a corrupt download never runs.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use tokio::sync::Mutex;

use mist_common::model::messages::ArtifactRef;

pub struct ArtifactCache {
    dir: PathBuf,
    api_url: String,
    client: reqwest::Client,
    /// One download at a time: two jobs of a new artifact fetch it once.
    downloading: Mutex<()>,
}

impl ArtifactCache {
    pub fn new(dir: PathBuf, api_url: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, api_url: api_url.trim_end_matches('/').to_string(), client: reqwest::Client::new(), downloading: Mutex::new(()) })
    }

    /// The local path of the artifact, fetching it if it is not cached.
    pub async fn path(&self, artifact: &ArtifactRef) -> Result<PathBuf, String> {
        let path = self.dir.join(&artifact.sha1).join(&artifact.name);
        if path.is_file() {
            return Ok(path);
        }
        let _one_at_a_time = self.downloading.lock().await;
        if path.is_file() {
            return Ok(path);
        }
        self.fetch(artifact, &path).await?;
        Ok(path)
    }

    async fn fetch(&self, artifact: &ArtifactRef, path: &Path) -> Result<(), String> {
        let url = format!("{}/v2/api/artifacts/{}", self.api_url, artifact.name);
        let failed = |e: String| format!("cannot fetch artifact {} from {url}: {e}", artifact.name);
        let response = self.client.get(&url).send().await.map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status())));
        }
        let bytes = response.bytes().await.map_err(|e| failed(e.to_string()))?;
        let sha1 = hex::encode(Sha1::digest(&bytes));
        if sha1 != artifact.sha1 {
            return Err(failed(format!("its SHA-1 is {sha1}, the job expects {} (replaced meanwhile?)", artifact.sha1)));
        }
        let folder = path.parent().unwrap_or(&self.dir);
        tokio::fs::create_dir_all(folder).await.map_err(|e| failed(e.to_string()))?;
        let partial = folder.join(format!(".{}.partial", artifact.name));
        tokio::fs::write(&partial, &bytes).await.map_err(|e| failed(e.to_string()))?;
        tokio::fs::rename(&partial, path).await.map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}
