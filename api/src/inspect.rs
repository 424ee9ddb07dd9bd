//! Reads a function's signature from its artifact by running the project's Python
//! inspector in a subprocess, with the interpreter the workers use, so what the API
//! accepts is what the worker can import. No Spark is started; a timeout bounds it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mist_common::model::endpoint::Signature;
use mist_common::python_runtime::INSPECT_SCRIPT;
use serde::Deserialize;
use tokio::process::Command;

use crate::error::ApiError;

#[derive(Clone)]
pub struct Inspector {
    python: String,
    runtime_dir: PathBuf,
    timeout: Option<Duration>,
}

/// The inspector's exit code when it was called wrongly: our fault, not the artifact's.
const USAGE_ERROR: i32 = 64;

/// The last lines of a process's stderr, on one line.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// The inspector's refusal: `kind` is "artifact" or "class".
#[derive(Deserialize)]
struct Refusal {
    error: String,
}

impl Inspector {
    pub fn new(python: String, runtime_dir: PathBuf, timeout: Option<Duration>) -> Self {
        Self { python, runtime_dir, timeout }
    }

    /// `Err(BadRequest)` when the artifact cannot be read or the name is not a function in
    /// it; `Err(Internal)` when the inspector itself cannot run.
    pub async fn signature(&self, artifact: &Path, artifact_name: &str, class_name: &str) -> Result<Signature, ApiError> {
        let mut command = Command::new(&self.python);
        command
            .arg(self.runtime_dir.join(INSPECT_SCRIPT))
            .arg(artifact)
            .arg(class_name)
            .current_dir(&self.runtime_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|e| {
            ApiError::Internal(format!("cannot run the Python inspector with python.bin {:?}: {e}", self.python))
        })?;
        let output = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, child.wait_with_output()).await.map_err(|_| {
                ApiError::BadRequest(format!(
                    "reading {class_name} from artifact {artifact_name} took longer than {}s; does the module do heavy work when imported?",
                    limit.as_secs_f64()
                ))
            })?,
            None => child.wait_with_output().await,
        }
        .map_err(|e| ApiError::Internal(format!("the Python inspector failed: {e}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last_line = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        match output.status.code() {
            Some(0) => serde_json::from_str(last_line)
                .map_err(|e| ApiError::Internal(format!("the Python inspector answered {last_line:?}: {e}"))),
            Some(2) => {
                let refusal: Refusal = serde_json::from_str(last_line)
                    .map_err(|e| ApiError::Internal(format!("the Python inspector answered {last_line:?}: {e}")))?;
                Err(ApiError::BadRequest(format!("artifact {artifact_name}: {}", refusal.error)))
            }
            // The user's module ended the process while being imported.
            Some(code) if code != USAGE_ERROR => Err(ApiError::BadRequest(format!(
                "artifact {artifact_name}: the Python process exited with code {code} while importing it to read {class_name}: {}",
                stderr_tail(&output.stderr)
            ))),
            _ => Err(ApiError::Internal(format!(
                "the Python inspector ({:?}) exited with {}: {}",
                self.python,
                output.status,
                stderr_tail(&output.stderr)
            ))),
        }
    }
}
