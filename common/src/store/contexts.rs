//! Contexts in Redis. The `default` context lives in configuration, not here.

use deadpool_redis::redis::{AsyncCommands, Script};
use std::sync::LazyLock;

use super::{decode, encode, Store, StoreError};
use crate::model::context::ContextConfig;

static DELETE_UNLESS_USED: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/delete_unless_used.lua")));

/// What deleting a context or an artifact came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    /// Gone; carries the record it had.
    Yes(String),
    Missing,
    /// An endpoint still points at it.
    InUseBy(String),
}

impl Store {
    pub async fn list_contexts(&self) -> Result<Vec<ContextConfig>, StoreError> {
        let key = self.keys().contexts();
        let all: Vec<(String, String)> = self.conn().await?.hgetall(&key).await?;
        let mut contexts = all
            .iter()
            .map(|(_, json)| decode::<ContextConfig>(&key, json))
            .collect::<Result<Vec<_>, _>>()?;
        contexts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(contexts)
    }

    pub async fn get_context(&self, name: &str) -> Result<Option<ContextConfig>, StoreError> {
        let key = self.keys().contexts();
        let json: Option<String> = self.conn().await?.hget(&key, name).await?;
        json.map(|j| decode(&key, &j)).transpose()
    }

    pub async fn context_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.conn().await?.hexists(self.keys().contexts(), name).await?)
    }

    /// Creates or replaces.
    pub async fn put_context(&self, context: &ContextConfig) -> Result<(), StoreError> {
        let _: () = self.conn().await?.hset(self.keys().contexts(), &context.name, encode(context)).await?;
        Ok(())
    }

    pub async fn delete_context(&self, name: &str) -> Result<Deleted, StoreError> {
        let keys = [self.keys().endpoints(), self.keys().contexts()];
        self.delete_unless_used(&keys, name, "defaultContext").await
    }

    pub(crate) async fn delete_unless_used(
        &self,
        keys: &[String; 2],
        name: &str,
        endpoint_field: &str,
    ) -> Result<Deleted, StoreError> {
        let (outcome, detail): (String, String) = DELETE_UNLESS_USED
            .key(&keys[0])
            .key(&keys[1])
            .arg(name)
            .arg(endpoint_field)
            .invoke_async(&mut self.conn().await?)
            .await?;
        Ok(match outcome.as_str() {
            "ok" => Deleted::Yes(detail),
            "in-use" => Deleted::InUseBy(detail),
            _ => Deleted::Missing,
        })
    }
}
