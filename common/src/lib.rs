//! What every Mist process shares: the API and message types, configuration, the Redis
//! store (every key is named in `store::keys`), the AMQP topology (every exchange and queue
//! is named in `amqp::topology`), logging set-up and shutdown signalling.

pub mod amqp;
pub mod boot;
pub mod config;
pub mod duration;
pub mod fault;
pub mod joblog;
pub mod model;
pub mod names;
pub mod python_runtime;
pub mod shutdown;
pub mod store;
pub mod submit;
pub mod telemetry;
pub mod time;

/// The version every process reports in `/status` and in its start-up log line.
pub const MIST_VERSION: &str = env!("CARGO_PKG_VERSION");
