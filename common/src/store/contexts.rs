//! Contexts in Redis. The `default` context lives in configuration, not here.

use deadpool_redis::redis::{self, AsyncCommands, Script};
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

    /// Creates or replaces; an update also clears a broken context, since updating it is
    /// how a user says "try again".
    pub async fn put_context(&self, context: &ContextConfig) -> Result<(), StoreError> {
        let keys = self.keys();
        let _: () = redis::pipe()
            .atomic()
            .hset(keys.contexts(), &context.name, encode(context))
            .del(keys.context_broken(&context.name))
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn delete_context(&self, name: &str) -> Result<Deleted, StoreError> {
        let keys = [self.keys().endpoints(), self.keys().contexts()];
        let deleted = self.delete_unless_used(&keys, name, "defaultContext").await?;
        if let Deleted::Yes(_) = deleted {
            let _: () = self.conn().await?.del(self.keys().context_broken(name)).await?;
        }
        Ok(deleted)
    }

    /// Why the context is broken, if it is.
    pub async fn context_broken(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().await?.get(self.keys().context_broken(name)).await?)
    }

    pub async fn set_context_broken(&self, name: &str, error: &str) -> Result<(), StoreError> {
        let _: () = self.conn().await?.set(self.keys().context_broken(name), error).await?;
        Ok(())
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
