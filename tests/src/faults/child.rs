//! A server process of a test: started in its own process group, so no signal meant for it
//! reaches anything else (nor a Ctrl-C meant for the test), and watched by a guard, a small
//! `sh` reading a pipe from the test process, that kills the group when the pipe closes,
//! that is when the test process ends without dropping the server (killed, aborted).

use std::io;
use std::path::Path;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::process;

/// Ignores the signals a terminal or a test runner sends its whole group, so only the end
/// of the test process (its pipe closing) fires it.
const GUARD_SCRIPT: &str = r#"trap '' INT HUP TERM QUIT; read -r _; kill -s KILL -- "-$1" 2>/dev/null"#;

/// How long the processes of a killed tree may take to go (they are `SIGKILL`ed, so this
/// only matters if the machine is badly overloaded).
const KILL_WAIT: Duration = Duration::from_secs(10);

pub(crate) struct ServerProcess {
    child: Child,
    guard: Option<Child>,
    /// Killed and reaped: its pid may now belong to another process, never signal it again.
    ended: bool,
}

impl ServerProcess {
    /// Starts `command` (its stdio already set) as the leader of a new process group.
    pub fn spawn(command: &mut Command) -> io::Result<ServerProcess> {
        let child = command.process_group(0).spawn()?;
        let guard = Command::new("sh")
            .args(["-c", GUARD_SCRIPT, "mist-fault-guard", &child.id().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut server = ServerProcess { child, guard: None, ended: false };
        match guard {
            Ok(guard) => server.guard = Some(guard),
            Err(err) => {
                server.kill();
                return Err(err);
            }
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The leader has not exited (a stopped or hung process is still running). Once it has,
    /// what is left of its tree is killed.
    pub fn is_running(&mut self) -> bool {
        // Read from /proc rather than `try_wait`, which would reap the leader and free its
        // pid before the rest of the tree is dealt with.
        if !self.ended && process::is_alive(self.pid()) {
            return true;
        }
        self.kill();
        false
    }

    /// `SIGKILL` to the leader, its group and every descendant, then waits until all are
    /// gone. The tree is frozen (`SIGSTOP`) while it is collected, so nothing forks away.
    pub fn kill(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.drop_guard();
        let leader = self.pid();
        let mut doomed: Vec<u32> = Vec::new();
        for _ in 0..10 {
            let found: Vec<u32> = tree(leader).into_iter().filter(|p| !doomed.contains(p)).collect();
            if found.is_empty() {
                break;
            }
            for pid in &found {
                let _ = process::sigstop(*pid);
            }
            doomed.extend(found);
        }
        if let Ok(pgid) = i32::try_from(leader) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        for pid in &doomed {
            let _ = process::sigkill(*pid);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !process::wait_gone_blocking(&doomed, KILL_WAIT) {
            let left: Vec<u32> = doomed.into_iter().filter(|p| process::is_alive(*p)).collect();
            eprintln!("fault injection: processes {left:?} of server {leader} survived SIGKILL for {KILL_WAIT:?}");
        }
    }

    /// `SIGTERM` (and `SIGCONT`, in case a test froze it), then waits up to `limit` for the
    /// leader to exit; what is left of its tree is killed. `false` if it had to be killed.
    pub async fn terminate(&mut self, limit: Duration) -> bool {
        if self.ended {
            return true;
        }
        let leader = self.pid();
        let before: Vec<(u32, String)> = tree(leader).into_iter().filter_map(|p| process::stat(p).map(|s| (p, s.name))).collect();
        let _ = process::sigterm(leader);
        let _ = process::sigcont(leader);
        let deadline = Instant::now() + limit;
        let exited = loop {
            if !process::is_alive(leader) {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.kill();
        // Processes that left the group (`erl_child_setup` calls `setsid`) usually end with
        // their parent; any still there (the same pid with the same name) are killed.
        let left: Vec<u32> = before
            .iter()
            .filter(|(pid, name)| *pid != leader && process::stat(*pid).is_some_and(|s| s.is_alive() && &s.name == name))
            .map(|(pid, _)| *pid)
            .collect();
        for pid in &left {
            let _ = process::sigkill(*pid);
        }
        process::wait_gone_blocking(&left, KILL_WAIT);
        exited
    }

    /// The guard is no longer needed once the server is being ended on purpose.
    fn drop_guard(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The leader, the members of its group and its descendants; never an `epmd`, which a
/// node may have started and which other nodes (the machine's own) share.
fn tree(leader: u32) -> Vec<u32> {
    let mut pids = vec![leader];
    for pid in process::group_members(leader).into_iter().chain(process::descendants_of(leader)) {
        if !pids.contains(&pid) && process::stat(pid).is_some_and(|s| s.name != "epmd") {
            pids.push(pid);
        }
    }
    pids
}

/// The current process of a server that can be killed, stopped and started again, shared
/// by `&self` methods (a test may hold the server in an `Arc`).
#[derive(Default)]
pub(crate) struct Slot(std::sync::Mutex<Option<ServerProcess>>);

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ServerProcess>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the process; one still running is killed first.
    pub fn set(&self, process: ServerProcess) {
        let old = self.lock().replace(process);
        drop(old);
    }

    pub fn pid(&self) -> Option<u32> {
        let mut slot = self.lock();
        let process = slot.as_mut()?;
        process.is_running().then(|| process.pid())
    }

    pub fn is_running(&self) -> bool {
        self.lock().as_mut().is_some_and(ServerProcess::is_running)
    }

    pub fn kill(&self) {
        if let Some(mut process) = self.lock().take() {
            process.kill();
        }
    }

    /// Polls `probe` every `every` until the server says it is ready; panics, quoting the
    /// end of its `log`, if it exits first or `limit` passes. `what` names it.
    pub async fn wait_ready<F, Fut>(&self, what: &str, limit: Duration, every: Duration, log: &Path, mut probe: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if probe().await {
                return;
            }
            assert!(self.is_running(), "{what} exited while starting:\n{}", super::log_tail(log, 30));
            assert!(Instant::now() < deadline, "{what} was not ready within {limit:?}:\n{}", super::log_tail(log, 30));
            tokio::time::sleep(every).await;
        }
    }

    /// See [`ServerProcess::terminate`]; `true` when there was nothing to stop.
    pub async fn terminate(&self, limit: Duration) -> bool {
        let process = self.lock().take();
        match process {
            Some(mut process) => process.terminate(limit).await,
            None => true,
        }
    }
}
