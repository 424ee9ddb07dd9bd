//! Cross-cutting HTTP behaviour of API.md: CORS on every response, `OPTIONS` answering
//! 200 anywhere, every error body as JSON (even those axum writes itself, like 405 or a
//! body over the limit), and `/functions` served as `/endpoints`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::error_response;

/// Largest plain-text error body turned into a JSON message.
const MAX_PLAIN_ERROR: usize = 4096;

pub async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        response
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Rewrites errors that axum or tower-http answered in plain text into `{"error": ...}`.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), MAX_PLAIN_ERROR).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!("{text}: see /v2/api/openapi.json for the methods of each route"),
        StatusCode::PAYLOAD_TOO_LARGE => format!("request body is too large ({text}); the limit is http.max_body_bytes"),
        _ => text,
    };
    error_response(status, &message)
}

/// `/v2/api/functions…` → `/v2/api/endpoints…`, before routing, so both names are served
/// by the same handlers.
pub fn functions_alias(mut request: Request<Body>) -> Request<Body> {
    const ALIAS: &str = "/v2/api/functions";
    let path = request.uri().path();
    let is_alias = path.strip_prefix(ALIAS).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if is_alias {
        let rewritten = match request.uri().path_and_query() {
            Some(pq) => format!("/v2/api/endpoints{}", &pq.as_str()[ALIAS.len()..]),
            None => "/v2/api/endpoints".to_string(),
        };
        if let Ok(uri) = rewritten.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}
