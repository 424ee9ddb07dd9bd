//! Fault injection: servers of our own that a test may kill, stop and restart without
//! touching the shared RabbitMQ and Redis (`PrivateRedis`, `PrivateRabbit`), a TCP proxy
//! that cuts or refuses connections (`TcpProxy`), and signals to processes by pid
//! (`process`); and what every scenario shares (`scenario`). Every server runs as a child of the test process in its own process group,
//! watched by a guard that kills it if the test process dies without dropping it.

mod child;
pub mod process;
pub mod proxy;
pub mod rabbit;
pub mod redis;
pub mod scenario;

pub use proxy::TcpProxy;
pub use rabbit::PrivateRabbit;
pub use redis::PrivateRedis;

use std::net::TcpListener;
use std::path::Path;

/// The ports the RabbitMQ command-line tools use for their own distribution listener
/// (`RABBITMQ_CTL_DIST_PORT_MIN` .. `_MAX`); a server of ours must leave them free.
const CLI_DIST_PORTS: std::ops::RangeInclusive<u16> = 35672..=35682;

/// Where servers of ours listen: below the kernel's ephemeral range (32768 and up here).
/// A port in that range can be taken while the server is down, by any outgoing connection
/// that draws it as its source port — even by a client reconnecting to it, which then
/// connects to itself — and the server could not restart on it.
const SERVER_PORTS: std::ops::Range<u16> = 20000..32000;

/// `count` distinct free ports on 127.0.0.1, outside the ephemeral range. They are held
/// together until all are found, so they differ; another process may still take one
/// before our server binds it.
fn free_ports(count: usize) -> Vec<u16> {
    let mut held = Vec::new();
    let span = (SERVER_PORTS.end - SERVER_PORTS.start) as u128;
    let mut seed = uuid::Uuid::new_v4().as_u128();
    while held.len() < count {
        let port = SERVER_PORTS.start + (seed % span) as u16;
        seed = seed.rotate_left(7) ^ uuid::Uuid::new_v4().as_u128();
        if CLI_DIST_PORTS.contains(&port) || held.iter().any(|(p, _)| *p == port) {
            continue;
        }
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
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
