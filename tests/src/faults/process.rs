//! Signals to processes by pid, and the process tree read from `/proc`, so a test can find
//! what runs under a process it started (the `spark-submit`, `java` and `python` under a
//! `mist-agent`) and stop, freeze or kill it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub use nix::errno::Errno;

/// Sends `signal` to `pid`; `Err(Errno::ESRCH)` when no such process exists.
pub fn signal(pid: u32, signal: Signal) -> Result<(), Errno> {
    let pid = i32::try_from(pid).map_err(|_| Errno::EINVAL)?;
    // 0 and negative pids name process groups, never one process.
    if pid <= 0 {
        return Err(Errno::EINVAL);
    }
    kill(Pid::from_raw(pid), signal)
}

pub fn sigkill(pid: u32) -> Result<(), Errno> {
    signal(pid, Signal::SIGKILL)
}

/// Freezes the process (a hung server, a paused JVM) until `sigcont`.
pub fn sigstop(pid: u32) -> Result<(), Errno> {
    signal(pid, Signal::SIGSTOP)
}

pub fn sigcont(pid: u32) -> Result<(), Errno> {
    signal(pid, Signal::SIGCONT)
}

pub fn sigterm(pid: u32) -> Result<(), Errno> {
    signal(pid, Signal::SIGTERM)
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    /// The executable's name, at most 15 bytes (`/proc/<pid>/comm`).
    pub name: String,
    /// `R` running, `S` sleeping, `D` disk wait, `T` stopped, `t` traced, `Z` zombie, ...
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
}

impl ProcStat {
    /// Parses one `stat` line. The name is in parentheses and may itself hold spaces and
    /// parentheses, so the fields after it are found from the last `)`.
    pub fn parse(line: &str) -> Option<ProcStat> {
        let open = line.find('(')?;
        let close = line.rfind(')')?;
        let pid = line[..open].trim().parse().ok()?;
        let name = line.get(open + 1..close)?.to_string();
        let mut rest = line.get(close + 1..)?.split_whitespace();
        let state = rest.next()?.chars().next()?;
        let ppid = rest.next()?.parse().ok()?;
        let pgrp = rest.next()?.parse().ok()?;
        Some(ProcStat { pid, name, state, ppid, pgrp })
    }

    /// Alive: it exists and is not a zombie waiting to be reaped.
    pub fn is_alive(&self) -> bool {
        self.state != 'Z' && self.state != 'X'
    }
}

/// The process `pid` now, or `None` once it is gone.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ProcStat::parse(&line)
}

/// Every process now (those that end while `/proc` is read are left out).
pub fn all_processes() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok()).filter_map(stat).collect()
}

/// The process's state letter (see [`ProcStat::state`]), `None` once it is gone.
pub fn state(pid: u32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// Exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.is_alive())
}

/// Stopped by a signal (`SIGSTOP`, `SIGTSTP`, ...).
pub fn is_stopped(pid: u32) -> bool {
    state(pid) == Some('T')
}

/// The command line, its arguments joined by spaces (empty for a zombie).
pub fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> =
        raw.split(|b| *b == 0).filter(|w| !w.is_empty()).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
    Some(words.join(" "))
}

/// The live children of `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut children: Vec<u32> = all_processes().into_iter().filter(|p| p.ppid == pid && p.is_alive()).map(|p| p.pid).collect();
    children.sort_unstable();
    children
}

/// The live descendants of `pid`, nearest first (children, then grandchildren, ...), from
/// one reading of `/proc`. A process whose parent ended was handed to init and is no
/// longer found here.
pub fn descendants_of(pid: u32) -> Vec<u32> {
    let mut by_parent: HashMap<u32, Vec<u32>> = HashMap::new();
    for process in all_processes().into_iter().filter(ProcStat::is_alive) {
        by_parent.entry(process.ppid).or_default().push(process.pid);
    }
    let mut found = Vec::new();
    let mut queue = VecDeque::from([pid]);
    while let Some(parent) = queue.pop_front() {
        let mut children = by_parent.remove(&parent).unwrap_or_default();
        children.sort_unstable();
        queue.extend(children.iter().copied());
        found.extend(children);
    }
    found
}

/// The first live descendant of `pid` whose command line contains `needle`.
pub fn find_descendant(pid: u32, needle: &str) -> Option<u32> {
    descendants_of(pid).into_iter().find(|p| command_line(*p).is_some_and(|c| c.contains(needle)))
}

/// The live members of process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    all_processes().into_iter().filter(|p| p.pgrp == pgid && p.is_alive()).map(|p| p.pid).collect()
}

/// Waits (blocking the thread, polling `/proc`) until none of `pids` is alive; `false` if
/// some still is after `limit`. For waits of a few milliseconds, after a `SIGKILL`.
pub fn wait_gone_blocking(pids: &[u32], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !pids.iter().any(|p| is_alive(*p)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `pid` is no longer alive; `false` if it still is after `limit`.
pub async fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while is_alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_spaces_and_parentheses_is_read_whole() {
        let line = "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 120 0 0 0";
        let parsed = ProcStat::parse(line).expect("a valid stat line");
        assert_eq!(parsed, ProcStat { pid: 4242, name: "my (odd) name".into(), state: 'S', ppid: 17, pgrp: 4242 });
    }

    #[test]
    fn the_test_process_is_found_under_its_parent() {
        let me = std::process::id();
        let parent = stat(me).expect("this process is in /proc").ppid;
        assert!(children_of(parent).contains(&me));
        assert!(descendants_of(parent).contains(&me));
        assert!(is_alive(me));
    }

    #[test]
    fn group_pids_are_refused() {
        assert_eq!(sigterm(0), Err(Errno::EINVAL));
        assert_eq!(sigterm(u32::MAX), Err(Errno::EINVAL));
    }
}
