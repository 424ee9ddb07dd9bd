//! Fault injection: servers of our own that a test may kill, stop and restart without
//! touching the shared RabbitMQ and Redis (`PrivateRedis`, `PrivateRabbit`), a TCP proxy
//! that cuts or refuses connections (`TcpProxy`), and signals to processes by pid
//! (`process`). Every server runs as a child of the test process in its own process group,
//! watched by a guard that kills it if the test process dies without dropping it.

mod child;
pub mod process;
pub mod proxy;
pub mod rabbit;
pub mod redis;

pub use proxy::TcpProxy;
pub use rabbit::PrivateRabbit;
pub use redis::PrivateRedis;

use std::net::TcpListener;
use std::path::Path;

/// The ports the RabbitMQ command-line tools use for their own distribution listener
/// (`RABBITMQ_CTL_DIST_PORT_MIN` .. `_MAX`); a server of ours must leave them free.
const CLI_DIST_PORTS: std::ops::RangeInclusive<u16> = 35672..=35682;

/// `count` distinct free ports on 127.0.0.1. They are held together until all are
/// found, so they differ; another process may still take one before our server binds it.
fn free_ports(count: usize) -> Vec<u16> {
    let mut held = Vec::new();
    while held.len() < count {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let port = listener.local_addr().expect("a bound listener has an address").port();
        if !CLI_DIST_PORTS.contains(&port) {
            held.push((port, listener));
        }
    }
    held.into_iter().map(|(port, _)| port).collect()
}

/// The last `lines` lines of a log file, for failure messages.
fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
