//! The end-to-end harness: each test gets its own namespace in the real Redis (and
//! RabbitMQ), its own artifact folder, and a Mist API serving on a free port.

pub mod api;
pub mod cluster;
pub mod faults;
pub mod http;
pub mod jobs;

use std::time::{Duration, Instant};

/// The Python of the workers' environment: `MIST_TEST_PYTHON`, else the one
/// `deploy/python-env.sh` makes, else `python3`.
pub fn python_bin() -> String {
    if let Ok(python) = std::env::var("MIST_TEST_PYTHON") {
        return python;
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let made = format!("{home}/.cache/mist/pyenv/bin/python");
    if std::path::Path::new(&made).exists() {
        made
    } else {
        "python3".into()
    }
}

/// A namespace no other test uses, so tests run in parallel on one Redis and broker.
pub fn fresh_namespace() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` until it returns `Some`, or panics with `what` after `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The path of a fixture function file, shared with the Python runtime's own tests.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../worker-agent/python/tests/functions").join(name)
}

/// A zip archive (also a jar, egg or wheel) of `entries` (path inside, bytes), built with
/// Python's `zipfile` since the workspace has no zip crate.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let source = tempfile::tempdir().expect("a temporary folder");
    for (name, bytes) in entries {
        let path = source.path().join(name);
        std::fs::create_dir_all(path.parent().expect("entry in a folder")).expect("folder");
        std::fs::write(&path, bytes).expect("entry written");
    }
    zip_folder(source.path())
}

/// A zip archive of a folder's contents (not the folder itself), as packages are built.
pub fn zip_folder(source: &std::path::Path) -> Vec<u8> {
    let target = tempfile::tempdir().expect("a temporary folder");
    let archive = target.path().join("archive.zip");
    const SCRIPT: &str = "import os, sys, zipfile\n\
        src, dst = sys.argv[1], sys.argv[2]\n\
        with zipfile.ZipFile(dst, 'w') as z:\n\
        \x20   for root, _, files in os.walk(src):\n\
        \x20       for f in files:\n\
        \x20           if not f.endswith('.pyc'):\n\
        \x20               full = os.path.join(root, f)\n\
        \x20               z.write(full, os.path.relpath(full, src))\n";
    let status = std::process::Command::new(python_bin())
        .args(["-c", SCRIPT])
        .arg(source)
        .arg(&archive)
        .status()
        .expect("Python runs");
    assert!(status.success(), "zipping {} failed", source.display());
    std::fs::read(&archive).expect("archive written")
}

/// SHA-1 of `bytes`, lower-case hex.
pub fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}
