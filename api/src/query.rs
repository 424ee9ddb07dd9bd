//! Query strings read the liberal way old Mist clients need: booleans in any letter case
//! or as 1/0, and repeated keys (`?status=queued&status=started`).

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The decoded `key=value` pairs of a request's query string, in order.
#[derive(Debug, Default, Clone)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        Self(pairs)
    }

    /// The last value given for `name`.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Absent → `default`; `true`/`false` in any case, `1`/`0`, or a bare `?force` → true.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.one(name) {
            None => Ok(default),
            Some(v) if v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::BadRequest(format!("query parameter {name} must be true or false, got {v:?}"))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state).await?;
        Ok(Self::parse(raw.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_liberally() {
        let q = QueryParams::parse(Some("force=TRUE&a=0&b=False&c=1&d=maybe&e"));
        assert!(q.flag("force", false).unwrap());
        assert!(!q.flag("a", true).unwrap());
        assert!(!q.flag("b", true).unwrap());
        assert!(q.flag("c", false).unwrap());
        assert!(q.flag("e", false).unwrap());
        assert!(q.flag("missing", true).unwrap());
        assert!(q.flag("d", false).unwrap_err().to_string().contains("d must be true or false"));
    }

    #[test]
    fn repeated_keys_are_kept() {
        let q = QueryParams::parse(Some("status=queued&status=started"));
        assert_eq!(q.all("status"), ["queued", "started"]);
    }
}
