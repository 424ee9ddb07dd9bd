//! Endpoints in Redis.

use deadpool_redis::redis::{AsyncCommands, Script};
use std::sync::LazyLock;

use super::{decode, encode, Store, StoreError};
use crate::model::context::ContextConfig;
use crate::model::endpoint::EndpointInfo;

static PUT_ENDPOINT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/put_endpoint.lua")));

/// How a write treats an endpoint that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Refuse if it exists.
    Create,
    /// Create or overwrite (`POST ?force=true`).
    Replace,
    /// Refuse if it does not exist (`PUT`).
    Update,
}

/// What writing an endpoint came to.
#[derive(Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Stored,
    AlreadyExists,
    Missing,
    NoSuchContext,
    NoSuchArtifact,
}

impl Store {
    pub async fn list_endpoints(&self) -> Result<Vec<EndpointInfo>, StoreError> {
        let key = self.keys().endpoints();
        let all: Vec<(String, String)> = self.conn().await?.hgetall(&key).await?;
        let mut endpoints =
            all.iter().map(|(_, json)| decode::<EndpointInfo>(&key, json)).collect::<Result<Vec<_>, _>>()?;
        endpoints.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(endpoints)
    }

    pub async fn get_endpoint(&self, name: &str) -> Result<Option<EndpointInfo>, StoreError> {
        let key = self.keys().endpoints();
        let json: Option<String> = self.conn().await?.hget(&key, name).await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    pub async fn endpoint_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.conn().await?.hexists(self.keys().endpoints(), name).await?)
    }

    /// Writes the endpoint if its context (and, unless `check_artifact` is false, its
    /// artifact) exist at that moment.
    pub async fn put_endpoint(
        &self,
        endpoint: &EndpointInfo,
        mode: PutMode,
        check_artifact: bool,
    ) -> Result<PutOutcome, StoreError> {
        let keys = self.keys();
        let context = if endpoint.default_context == ContextConfig::DEFAULT_NAME {
            ""
        } else {
            endpoint.default_context.as_str()
        };
        let mode_arg = match mode {
            PutMode::Create => "create",
            PutMode::Replace => "replace",
            PutMode::Update => "update",
        };
        let artifact = if check_artifact { endpoint.path.as_str() } else { "" };
        let outcome: String = PUT_ENDPOINT
            .key(keys.endpoints())
            .key(keys.contexts())
            .key(keys.artifacts())
            .arg(&endpoint.name)
            .arg(encode(endpoint))
            .arg(mode_arg)
            .arg(context)
            .arg(artifact)
            .invoke_async(&mut self.conn().await?)
            .await?;
        Ok(match outcome.as_str() {
            "ok" => PutOutcome::Stored,
            "exists" => PutOutcome::AlreadyExists,
            "missing" => PutOutcome::Missing,
            "no-context" => PutOutcome::NoSuchContext,
            _ => PutOutcome::NoSuchArtifact,
        })
    }

    /// `true` if it existed.
    pub async fn delete_endpoint(&self, name: &str) -> Result<bool, StoreError> {
        let removed: u64 = self.conn().await?.hdel(self.keys().endpoints(), name).await?;
        Ok(removed > 0)
    }
}
