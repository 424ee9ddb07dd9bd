//! Endpoints: a deployed function (artifact + class/function name) and what it accepts.

use serde::{Deserialize, Serialize};
use serde_json::Map;
use utoipa::ToSchema;

use super::body::Body;
use super::context::ContextConfig;
use crate::duration::MistDuration;
use crate::names::check_name;

/// What a user sends to create or update an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfig {
    pub name: String,
    /// The artifact's name.
    pub path: String,
    /// A function or class name in a `.py` file, `module.function` in a package, a JVM
    /// class in a jar.
    pub class_name: String,
    pub default_context: String,
    /// Times a job failed by the infrastructure is retried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    /// Pause before a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff: Option<MistDuration>,
    /// Retry jobs failed by their own code too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry_on_error: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Most retries an endpoint may ask for: a failing job should not loop for long.
pub const MAX_RETRIES: u32 = 10;

impl EndpointConfig {
    const FIELDS: [&'static str; 7] = ["name", "path", "className", "defaultContext", "retries", "retryBackoff", "retryOnError"];

    pub fn from_body(bytes: &[u8]) -> Result<Self, String> {
        let mut body = Body::parse(bytes)?;
        let name = body.required_string("name")?;
        check_name("name", &name)?;
        let path = body.required_string("path")?;
        check_name("path", &path)?;
        let class_name = body.required_string("className")?;
        check_class_name(&class_name)?;
        let default_context =
            body.string("defaultContext")?.unwrap_or_else(|| ContextConfig::DEFAULT_NAME.to_string());
        check_name("defaultContext", &default_context)?;
        let retries = match body.whole_number("retries")? {
            Some(n) if n > MAX_RETRIES => return Err(format!("retries must be from 0 to {MAX_RETRIES}, got {n}")),
            n => n.unwrap_or(0),
        };
        let retry_backoff = body.duration("retryBackoff")?;
        let retry_on_error = body.bool("retryOnError")?.unwrap_or(false);
        body.finish(&Self::FIELDS)?;
        Ok(Self { name, path, class_name, default_context, retries, retry_backoff, retry_on_error })
    }
}

fn check_class_name(class_name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '$');
    if class_name.is_empty() {
        return Err("className must not be empty".into());
    }
    if class_name.len() > 512 || !class_name.chars().all(allowed) || class_name.starts_with('.') {
        return Err(format!(
            "className must be a function or class name like \"my_function\", \"package.module.function\" or \"com.example.Job\", got {class_name:?}"
        ));
    }
    Ok(())
}

/// The language an endpoint's artifact is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Python,
    Java,
    Scala,
}

impl Lang {
    /// From the artifact's extension, for endpoints created with `force=true`.
    pub fn from_artifact(path: &str) -> Self {
        if path.ends_with(".jar") {
            Lang::Java
        } else {
            Lang::Python
        }
    }
}

/// An argument's type, as read from the function: `{"type":"MList","args":[{"type":"MInt"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArgType {
    #[serde(rename = "type")]
    pub kind: ArgKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub args: Option<Vec<ArgType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub fields: Option<std::collections::BTreeMap<String, ArgType>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ArgKind {
    MInt,
    MDouble,
    MString,
    MBoolean,
    MAny,
    MList,
    MMap,
    MOption,
    MObj,
}

/// What the function accepts, as read from its artifact.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    pub lang: Option<Lang>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub execute: Map<String, serde_json::Value>,
    /// A `**kwargs` function (or a jar) takes arguments it does not declare.
    #[serde(default)]
    pub accepts_any_args: bool,
}

/// An endpoint as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointInfo {
    pub name: String,
    pub path: String,
    pub class_name: String,
    pub default_context: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub retry_backoff: Option<MistDuration>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry_on_error: bool,
    pub lang: Lang,
    /// Argument name → type descriptor.
    #[schema(value_type = Object)]
    pub execute: Map<String, serde_json::Value>,
    pub tags: Vec<String>,
    /// Shown only when true: the function takes arguments it does not declare.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accepts_any_args: bool,
}

impl EndpointInfo {
    pub fn new(config: EndpointConfig, signature: Signature) -> Self {
        Self {
            lang: signature.lang.unwrap_or_else(|| Lang::from_artifact(&config.path)),
            name: config.name,
            path: config.path,
            class_name: config.class_name,
            default_context: config.default_context,
            retries: config.retries,
            retry_backoff: config.retry_backoff,
            retry_on_error: config.retry_on_error,
            execute: signature.execute,
            tags: signature.tags,
            accepts_any_args: signature.accepts_any_args,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_needs_three_fields_and_defaults_the_context() {
        let config = EndpointConfig::from_body(br#"{"name":"e","path":"a.py","className":"f"}"#).unwrap();
        assert_eq!(config.default_context, "default");
        let err = EndpointConfig::from_body(br#"{"name":"e","path":"a.py"}"#).unwrap_err();
        assert_eq!(err, "className is required");
        let err = EndpointConfig::from_body(br#"{"name":"e","path":"../a.py","className":"f"}"#).unwrap_err();
        assert!(err.starts_with("path"), "{err}");
        let err = EndpointConfig::from_body(br#"{"name":"e","path":"a.py","className":"f g"}"#).unwrap_err();
        assert!(err.starts_with("className"), "{err}");
    }

    #[test]
    fn descriptors_round_trip() {
        let text = r#"{"type":"MList","args":[{"type":"MInt"}]}"#;
        let parsed: ArgType = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }
}
