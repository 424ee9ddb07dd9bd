//! Artifact metadata in Redis; the bytes live on disk (see the API's artifact storage).

use deadpool_redis::redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use super::contexts::Deleted;
use super::{decode, encode, Store, StoreError};

static PUT_ARTIFACT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/put_artifact.lua")));

/// What Redis knows of an uploaded file. The file on disk is named after `sha1`, so the
/// record never points at a half-written or replaced file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRecord {
    pub name: String,
    pub sha1: String,
    pub size: u64,
    pub create_time: i64,
}

/// What recording an upload came to; each carries the record it displaced, if any.
#[derive(Debug, PartialEq, Eq)]
pub enum ArtifactPut {
    Stored { previous: Option<ArtifactRecord> },
    AlreadyExists { existing: ArtifactRecord },
}

impl Store {
    pub async fn list_artifacts(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = self.conn().await?.hkeys(self.keys().artifacts()).await?;
        names.sort();
        Ok(names)
    }

    pub async fn get_artifact(&self, name: &str) -> Result<Option<ArtifactRecord>, StoreError> {
        let key = self.keys().artifacts();
        let json: Option<String> = self.conn().await?.hget(&key, name).await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    pub async fn put_artifact(&self, record: &ArtifactRecord, replace: bool) -> Result<ArtifactPut, StoreError> {
        let key = self.keys().artifacts();
        let (outcome, previous): (String, String) = PUT_ARTIFACT
            .key(&key)
            .arg(&record.name)
            .arg(encode(record))
            .arg(if replace { "1" } else { "0" })
            .invoke_async(&mut self.conn().await?)
            .await?;
        let previous = if previous.is_empty() { None } else { Some(decode::<ArtifactRecord>(&key, &previous)?) };
        Ok(match (outcome.as_str(), previous) {
            ("exists", Some(existing)) => ArtifactPut::AlreadyExists { existing },
            (_, previous) => ArtifactPut::Stored { previous },
        })
    }

    /// Deletes the record unless an endpoint uses the artifact; `Deleted::Yes` carries the
    /// record JSON so the caller can remove the file.
    pub async fn delete_artifact(&self, name: &str) -> Result<Deleted, StoreError> {
        let keys = [self.keys().endpoints(), self.keys().artifacts()];
        self.delete_unless_used(&keys, name, "path").await
    }

    pub fn decode_artifact(&self, json: &str) -> Result<ArtifactRecord, StoreError> {
        decode(&self.keys().artifacts(), json)
    }
}
