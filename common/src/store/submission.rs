//! What a submission is checked against, read in one round trip: submitting is the hot
//! path of every job, and reading the endpoint, its context, the context's broken flag and
//! the artifact one by one cost four.

use std::sync::LazyLock;

use deadpool_redis::redis::Script;

use super::artifacts::ArtifactRecord;
use super::{decode, Store, StoreError};
use crate::model::context::ContextConfig;
use crate::model::endpoint::EndpointInfo;

static READ_SUBMISSION: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/read_submission.lua")));

/// The records behind a call of an endpoint, as they were at one moment.
#[derive(Debug, Clone)]
pub struct SubmissionRecords {
    pub endpoint: EndpointInfo,
    /// The context the job would run in: the one the call named, else the endpoint's default.
    pub context_name: String,
    /// Its stored configuration; `None` when it does not exist, and for `default`, which
    /// lives in configuration.
    pub context: Option<ContextConfig>,
    /// Why the context is broken, if it is.
    pub broken: Option<String>,
    /// `None` when the endpoint's artifact is gone.
    pub artifact: Option<ArtifactRecord>,
}

impl Store {
    /// `None` when there is no such endpoint.
    pub async fn submission_records(&self, endpoint_name: &str, context: Option<&str>) -> Result<Option<SubmissionRecords>, StoreError> {
        let keys = self.keys();
        let answer: Vec<Option<String>> = READ_SUBMISSION
            .key(keys.endpoints())
            .key(keys.contexts())
            .key(keys.artifacts())
            .arg(keys.prefix())
            .arg(endpoint_name)
            .arg(if context.is_some() { "1" } else { "0" })
            .arg(context.unwrap_or(""))
            .invoke_async(&mut self.conn().await?)
            .await?;
        if answer.is_empty() {
            return Ok(None);
        }
        let corrupt = |message: String| StoreError::Corrupt { key: keys.endpoints(), message };
        let [endpoint, context_name, context, broken, artifact] =
            <[Option<String>; 5]>::try_from(answer).map_err(|other| corrupt(format!("read_submission.lua answered {} values", other.len())))?;
        Ok(Some(SubmissionRecords {
            endpoint: decode(&keys.endpoints(), &endpoint.ok_or_else(|| corrupt(format!("endpoint {endpoint_name} has an empty record")))?)?,
            context_name: context_name.ok_or_else(|| corrupt(format!("endpoint {endpoint_name} has no context")))?,
            context: context.map(|json| decode(&keys.contexts(), &json)).transpose()?,
            broken,
            artifact: artifact.map(|json| decode(&keys.artifacts(), &json)).transpose()?,
        }))
    }
}
