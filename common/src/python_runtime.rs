//! The Python half of Mist (the worker runtime, the function inspector and the
//! `mist.mist_job` compatibility module), embedded in every binary so an installed binary
//! needs nothing beside it but a Python with pyspark.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir, DirEntry};

static RUNTIME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../worker-agent/python");

/// Folders of the source tree that are not part of the runtime.
const LEFT_OUT: [&str; 3] = ["tests", "__pycache__", ".pytest_cache"];

/// The inspector script, relative to the extracted runtime.
pub const INSPECT_SCRIPT: &str = "mist_inspect.py";
/// The worker entry point given to spark-submit, relative to the extracted runtime.
pub const WORKER_SCRIPT: &str = "mist_worker.py";

/// Writes the runtime under `dir` (created if needed) and returns it, so scripts can be
/// run from there. Each process extracts its own copy: no stale files from another version.
pub fn extract(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    write_dir(&RUNTIME, dir)?;
    Ok(dir.to_path_buf())
}

fn write_dir(source: &Dir<'_>, target: &Path) -> std::io::Result<()> {
    for entry in source.entries() {
        let name = entry.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if LEFT_OUT.contains(&name.as_str()) || name.ends_with(".pyc") {
            continue;
        }
        let path = target.join(&name);
        match entry {
            DirEntry::Dir(dir) => {
                std::fs::create_dir_all(&path)?;
                write_dir(dir, &path)?;
            }
            DirEntry::File(file) => std::fs::write(&path, file.contents())?,
        }
    }
    Ok(())
}
