//! The shapes clients and processes exchange: API types and their validation.

pub mod arguments;
pub mod body;
pub mod context;
pub mod endpoint;
pub mod job;
pub mod messages;
pub mod status;
pub mod worker;
