//! CPU time spent by each process on the machine's side of a scenario — Mist's parts, the
//! Spark driver (JVM and Python) of its workers, Redis, RabbitMQ — read from
//! `/proc/<pid>/stat` before and after. Set next to the wall time on two cores, it says
//! which process a figure is bound by.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A process to watch, by label.
#[derive(Debug, Clone)]
pub struct Watched {
    pub label: String,
    pub pid: u32,
}

/// The processes of this run (Mist's parts and, by the run's folder on their command line,
/// its Spark drivers), Redis and RabbitMQ found by name, and the bench itself (the client).
pub fn watched(parts: &[(&'static str, u32)], run_dir: &str) -> Vec<Watched> {
    let mut list: Vec<Watched> = parts.iter().map(|(part, pid)| Watched { label: part.to_string(), pid: *pid }).collect();
    list.push(Watched { label: "mist-bench (client)".into(), pid: std::process::id() });
    for (pid, _) in crate::mist::processes_mentioning(run_dir) {
        if let Some(name) = comm(pid) {
            if name == "java" || name.starts_with("python") {
                list.push(Watched { label: format!("worker {name}"), pid });
            }
        }
    }
    for pid in all_pids() {
        let Some(name) = comm(pid) else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        if name == "redis-server" && cmdline.contains(":6379") {
            list.push(Watched { label: "redis-server".into(), pid });
        } else if name == "beam.smp" && cmdline.contains("/var/lib/rabbitmq") {
            list.push(Watched { label: "rabbitmq".into(), pid });
        }
    }
    list
}

/// CPU seconds used so far, per process.
pub struct Snapshot {
    at: Instant,
    seconds: BTreeMap<(String, u32), f64>,
}

pub fn snapshot(watched: &[Watched]) -> Snapshot {
    let seconds = watched.iter().filter_map(|w| Some(((w.label.clone(), w.pid), cpu_seconds(w.pid)?))).collect();
    Snapshot { at: Instant::now(), seconds }
}

/// What each label used between two snapshots (processes of one label add up; one that
/// ended meanwhile, such as an exclusive driver stopping, is left out), and the wall time.
pub fn between(before: &Snapshot, after: &Snapshot) -> (Duration, BTreeMap<String, f64>) {
    let mut used = BTreeMap::new();
    for ((label, pid), end) in &after.seconds {
        if let Some(start) = before.seconds.get(&(label.clone(), *pid)) {
            *used.entry(label.clone()).or_insert(0.0) += (end - start).max(0.0);
        }
    }
    (after.at - before.at, used)
}

/// utime + stime (fields 14 and 15 of `/proc/<pid>/stat`), in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / USER_HZ)
}

/// The unit of `/proc`'s CPU times: `USER_HZ`, which the Linux ABI fixes at 100 on the
/// architectures this runs on (what `getconf CLK_TCK` prints).
const USER_HZ: f64 = 100.0;

fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|s| s.trim().to_string())
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc").map(|entries| entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_uses_some_cpu() {
        let me = std::process::id();
        let spent = super::cpu_seconds(me).expect("own stat");
        assert!(spent >= 0.0);
    }
}
