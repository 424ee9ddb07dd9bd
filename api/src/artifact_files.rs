//! Artifact bytes on disk. A file lives at `<dir>/<sha1>/<name>`: named by its content, it
//! is complete before any record points at it, and replacing an artifact never rewrites a
//! file a reader may have open. Uploads are written to a temporary file first, so one cut
//! off half-way leaves nothing behind.

use std::path::PathBuf;

use sha1::{Digest, Sha1};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// Extensions Mist can run.
pub const EXTENSIONS: [&str; 5] = [".py", ".zip", ".egg", ".whl", ".jar"];

#[derive(Clone)]
pub struct ArtifactFiles {
    dir: PathBuf,
    max_size: u64,
}

/// An upload written in full, not yet in its final place.
pub struct Staged {
    file: NamedTempFile,
    pub sha1: String,
    pub size: u64,
}

/// Where a staged upload went.
pub struct Placed {
    /// The same file was already in place, so it may not be removed on failure.
    pub existed_before: bool,
}

/// Receives an upload chunk by chunk, hashing as it goes.
pub struct Upload {
    file: tokio::fs::File,
    temp: NamedTempFile,
    hasher: Sha1,
    size: u64,
    max_size: u64,
}

impl ArtifactFiles {
    pub fn new(dir: PathBuf, max_size: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.join(".incoming"))?;
        // Absolute, because the function inspector runs in a folder of its own.
        let dir = std::fs::canonicalize(dir)?;
        Ok(Self { dir, max_size })
    }

    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    pub fn path_of(&self, sha1: &str, name: &str) -> PathBuf {
        self.dir.join(sha1).join(name)
    }

    pub fn begin(&self) -> Result<Upload, ApiError> {
        let temp = NamedTempFile::new_in(self.dir.join(".incoming")).map_err(io_error)?;
        let file = tokio::fs::File::from_std(temp.reopen().map_err(io_error)?);
        Ok(Upload { file, temp, hasher: Sha1::new(), size: 0, max_size: self.max_size })
    }

    /// Moves a staged upload to its final place. The same content under the same name may
    /// be there already (a re-upload): then a record may point at it, and it must stay.
    pub fn place(&self, staged: Staged, name: &str) -> Result<Placed, ApiError> {
        let target = self.path_of(&staged.sha1, name);
        let existed_before = target.is_file();
        std::fs::create_dir_all(target.parent().unwrap_or(&self.dir)).map_err(io_error)?;
        staged.file.persist(&target).map_err(|e| io_error(e.error))?;
        Ok(Placed { existed_before })
    }

    /// Removes a file no record points at any more (and its folder once empty).
    pub fn remove(&self, sha1: &str, name: &str) {
        let path = self.path_of(sha1, name);
        if let Err(err) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %err, "could not remove an unused artifact file");
        }
        let _ = std::fs::remove_dir(self.dir.join(sha1));
    }
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_size {
            return Err(ApiError::TooLarge(format!(
                "artifact is larger than the limit of {} bytes (artifacts.max_size_bytes)",
                self.max_size
            )));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(io_error)
    }

    pub async fn finish(mut self) -> Result<Staged, ApiError> {
        self.file.flush().await.map_err(io_error)?;
        self.file.sync_all().await.map_err(io_error)?;
        Ok(Staged { file: self.temp, sha1: hex::encode(self.hasher.finalize()), size: self.size })
    }
}

/// `Err` names the rule an uploaded file's name breaks.
pub fn check_file_name(name: &str) -> Result<(), ApiError> {
    mist_common::names::check_name("artifact name", name).map_err(ApiError::BadRequest)?;
    if !EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
        return Err(ApiError::BadRequest(format!(
            "artifact name {name:?} must end with one of {}",
            EXTENSIONS.join(", ")
        )));
    }
    Ok(())
}

fn io_error(err: std::io::Error) -> ApiError {
    ApiError::Internal(format!("artifact storage: {err}"))
}

