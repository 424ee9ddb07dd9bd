//! Talking to a Mist API over HTTP, the way a client does.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A client of one Mist API. Make one per test: a client's connections belong to the
/// runtime that opened them.
#[derive(Clone)]
pub struct ApiClient {
    /// `http://host:port`
    pub base: String,
    pub client: reqwest::Client,
}

/// An answer: status, content type and body (parsed as JSON when it is JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `error` message of a JSON error body; panics if the body is not one.
    pub fn error(&self) -> String {
        assert!(self.content_type.starts_with("application/json"), "error body not JSON: {self:?}");
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error field: {}", self.text)).to_string()
    }

    /// The JSON body of a 200 answer; panics on any other status or content type.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "expected 200: {self:?}");
        assert!(self.content_type.starts_with("application/json"), "not JSON: {self:?}");
        self.json()
    }

    /// The message of an error answer with `status`; panics on any other answer.
    pub fn error_with(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {self:?}");
        self.error()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl ApiClient {
    pub fn new(base: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_string(), client: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/api{}", self.base, path)
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        answer(request.send().await.expect("the API answers")).await
    }

    /// A request with raw bytes and an explicit `Content-Type` (or none).
    pub async fn send(&self, method: Method, path: &str, body: Vec<u8>, content_type: Option<&str>) -> Answer {
        let mut request = self.client.request(method, self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(request.send().await.expect("the API answers")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &str) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Uploads `bytes` as the multipart part `file` named `file_name`.
    pub async fn upload(&self, file_name: &str, bytes: Vec<u8>, force: bool) -> Answer {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let path = if force { "/artifacts?force=true" } else { "/artifacts" };
        answer(self.client.post(self.url(path)).multipart(form).send().await.expect("the API answers")).await
    }

    /// Uploads a fixture file from the Python runtime's test functions.
    pub async fn upload_fixture(&self, name: &str) -> Answer {
        let bytes = std::fs::read(crate::fixture(name)).expect("fixture exists");
        self.upload(name, bytes, false).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = response.text().await.unwrap_or_default();
    Answer { status, content_type, text, headers }
}
