//! The `/status` answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MistStatus {
    pub mist_version: String,
    /// The Spark version the agents report; left out until one has registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    /// When this API instance started, ISO-8601.
    pub started: String,
    /// "ok" or the error that part gives.
    pub components: BTreeMap<String, String>,
    pub agents: u64,
    pub workers: u64,
}
