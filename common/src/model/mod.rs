//! The shapes clients and processes exchange: API types and their validation.

pub mod body;
pub mod context;
pub mod endpoint;
pub mod status;
