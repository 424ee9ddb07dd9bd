//! A worker's operating-system side: the `spark-submit` process in its own process group
//! (so stopping it stops the JVM and the Python driver under it), its output read line by
//! line, and its exit awaited, so no child is ever left a zombie.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::agent::Input;

/// Output lines kept to explain a worker's failure.
const TAIL_LINES: usize = 30;

/// The last lines a worker printed.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The last `n` lines, joined for a message.
    pub fn last(&self, n: usize) -> String {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let skip = lines.len().saturating_sub(n);
        lines.iter().skip(skip).cloned().collect::<Vec<_>>().join("\n")
    }
}

pub struct Spawned {
    pub pgid: i32,
    pub tail: Tail,
}

/// Starts `program args` in `dir`, in a new process group; its output lines and its exit
/// come back to the agent's loop as inputs.
pub fn spawn(
    worker_id: &str,
    program: &Path,
    args: &[String],
    dir: &Path,
    python: &str,
    inputs: mpsc::Sender<Input>,
) -> std::io::Result<Spawned> {
    std::fs::create_dir_all(dir)?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PYSPARK_PYTHON", python)
        .env("PYSPARK_DRIVER_PYTHON", python)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pgid = child.id().map(|id| id as i32).unwrap_or(0);
    let tail = Tail::default();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(read_lines(worker_id.to_string(), stdout, tail.clone(), inputs.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(read_lines(worker_id.to_string(), stderr, tail.clone(), inputs.clone()));
    }
    let id = worker_id.to_string();
    tokio::spawn(async move {
        let status = match child.wait().await {
            Ok(status) => status.to_string(),
            Err(err) => format!("unknown status ({err})"),
        };
        // Whatever the group leader did, leave no process of the group behind.
        kill_group(pgid);
        let _ = inputs.send(Input::WorkerExited { worker_id: id, status }).await;
    });
    Ok(Spawned { pgid, tail })
}

async fn read_lines(worker_id: String, stream: impl AsyncRead + Unpin, tail: Tail, inputs: mpsc::Sender<Input>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tail.push(line.clone());
        if inputs.send(Input::WorkerOutput { worker_id: worker_id.clone(), line }).await.is_err() {
            return;
        }
    }
}

/// SIGKILL to the whole group; a group already gone is fine.
pub fn kill_group(pgid: i32) {
    if pgid > 0 {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}
