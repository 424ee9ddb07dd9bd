//! Workers (a Spark driver serving one context) and the agents that run them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::context::{ContextConfig, WorkerMode};
use super::job::JobDetails;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkerStatus {
    Starting,
    Ready,
    Stopping,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerLink {
    /// The worker id.
    pub name: String,
    /// The host of its agent.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_ui: Option<String>,
    pub context: String,
    pub mode: WorkerMode,
    pub agent_id: String,
    pub status: WorkerStatus,
    pub start_time: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerFullInfo {
    #[serde(flatten)]
    pub link: WorkerLink,
    /// Jobs run on it, newest first.
    pub jobs: Vec<JobDetails>,
    /// The context settings it was started with.
    pub init_info: ContextConfig,
}

/// A worker agent as it registers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub agent_id: String,
    pub host: String,
    /// Most workers it runs at once.
    pub capacity: u32,
    pub spark_version: String,
    pub start_time: i64,
}
