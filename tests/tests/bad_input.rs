//! Bodies and names the API must refuse: each is a 4xx with a JSON message that names what
//! was wrong, and nothing in Redis changes. JSON sent with another content type is read.

use mist_tests::api::TestApi;
use reqwest::Method;

/// Bodies wrong at the top level, refused alike by every JSON route: (body, words the
/// message must hold).
const NOT_AN_OBJECT: [(&str, &[&str]); 9] = [
    ("", &["empty"]),
    ("  \n", &["empty"]),
    ("{\"name\":", &["not valid JSON"]),
    ("{name: 'c'}", &["not valid JSON"]),
    ("null", &["JSON object", "null"]),
    ("[]", &["JSON object", "an array"]),
    ("[{\"name\":\"c\"}]", &["JSON object", "an array"]),
    ("\"c\"", &["JSON object", "a string"]),
    ("42", &["JSON object", "a number"]),
];

/// Context bodies with one bad field: (body, words the message must hold).
fn bad_contexts() -> Vec<(String, Vec<&'static str>)> {
    let long = "x".repeat(129);
    [
        (r#"{"name":null}"#.to_string(), vec!["name is required"]),
        (r#"{"maxJobs":2}"#.into(), vec!["name is required"]),
        (r#"{"name":5}"#.into(), vec!["name must be a string", "a number"]),
        (r#"{"name":""}"#.into(), vec!["name must not be empty"]),
        (r#"{"name":"a/b"}"#.into(), vec!["name", "a/b"]),
        (r#"{"name":".."}"#.into(), vec!["name", ".."]),
        (r#"{"name":"../x"}"#.into(), vec!["name", "../x"]),
        (r#"{"name":".hidden"}"#.into(), vec!["name", ".hidden"]),
        (r#"{"name":"a b"}"#.into(), vec!["name", "a b"]),
        (format!(r#"{{"name":"{long}"}}"#), vec!["name", "128"]),
        (r#"{"name":"c","maxJobs":"3"}"#.into(), vec!["maxJobs must be a positive integer", "\"3\""]),
        (r#"{"name":"c","maxJobs":0}"#.into(), vec!["maxJobs", "0"]),
        (r#"{"name":"c","maxJobs":2.5}"#.into(), vec!["maxJobs", "2.5"]),
        (r#"{"name":"c","maxConnFailures":-2}"#.into(), vec!["maxConnFailures", "-2"]),
        (r#"{"name":"c","precreated":"yes"}"#.into(), vec!["precreated", "yes"]),
        (r#"{"name":"c","sparkConf":[1]}"#.into(), vec!["sparkConf", "an array"]),
        (r#"{"name":"c","sparkConf":"spark.master=local"}"#.into(), vec!["sparkConf", "a string"]),
        (r#"{"name":"c","sparkConf":{"spark.x":[1]}}"#.into(), vec!["sparkConf.spark.x"]),
        (r#"{"name":"c","sparkConf":{"spark.x":null}}"#.into(), vec!["sparkConf.spark.x", "null"]),
        (r#"{"name":"c","workerMode":"solo"}"#.into(), vec!["workerMode", "solo", "shared", "exclusive"]),
        (r#"{"name":"c","workerMode":1}"#.into(), vec!["workerMode", "a number"]),
        (r#"{"name":"c","downtime":"soon"}"#.into(), vec!["downtime", "soon"]),
        (r#"{"name":"c","downtime":30}"#.into(), vec!["downtime", "30"]),
        (r#"{"name":"c","runOptions":"--conf 'open"}"#.into(), vec!["runOptions"]),
        (r#"{"name":"c","runOptions":["--verbose"]}"#.into(), vec!["runOptions", "an array"]),
        (r#"{"name":"c","maxjobs":2}"#.into(), vec!["unknown field", "maxjobs", "maxJobs"]),
        (r#"{"name":"c","spark_conf":{}}"#.into(), vec!["unknown field", "spark_conf"]),
    ]
    .into_iter()
    .collect()
}

/// Endpoint bodies with one bad field: (body, words the message must hold).
const BAD_ENDPOINTS: [(&str, &[&str]); 16] = [
    (r#"{"path":"plain_function.py","className":"multiply"}"#, &["name is required"]),
    (r#"{"name":null,"path":"plain_function.py","className":"multiply"}"#, &["name is required"]),
    (r#"{"name":"e","className":"multiply"}"#, &["path is required"]),
    (r#"{"name":"e","path":"plain_function.py"}"#, &["className is required"]),
    (r#"{"name":"","path":"plain_function.py","className":"multiply"}"#, &["name must not be empty"]),
    (r#"{"name":"a/b","path":"plain_function.py","className":"multiply"}"#, &["name", "a/b"]),
    (r#"{"name":"..","path":"plain_function.py","className":"multiply"}"#, &["name", ".."]),
    (r#"{"name":"e","path":"../plain_function.py","className":"multiply"}"#, &["path", "../plain_function.py"]),
    (r#"{"name":"e","path":"","className":"multiply"}"#, &["path must not be empty"]),
    (r#"{"name":"e","path":"plain_function.py","className":""}"#, &["className must not be empty"]),
    (r#"{"name":"e","path":"plain_function.py","className":"multi ply"}"#, &["className", "multi ply"]),
    (r#"{"name":"e","path":"plain_function.py","className":"os/system"}"#, &["className", "os/system"]),
    (r#"{"name":"e","path":"plain_function.py","className":5}"#, &["className must be a string"]),
    (r#"{"name":7,"path":"plain_function.py","className":"multiply"}"#, &["name must be a string"]),
    (
        r#"{"name":"e","path":"plain_function.py","className":"multiply","defaultContext":"../x"}"#,
        &["defaultContext", "../x"],
    ),
    (
        r#"{"name":"e","path":"plain_function.py","className":"multiply","context":"c"}"#,
        &["unknown field", "context", "defaultContext"],
    ),
];

/// An API holding a context `c`, an artifact and an endpoint `e0`, so that "nothing
/// changed" is checked against a namespace that holds something.
async fn api_with_data(overrides: &[(&str, &str)]) -> TestApi {
    let api = TestApi::start_with(overrides).await;
    api.post("/contexts", r#"{"name":"c","maxJobs":3}"#).await.ok_json();
    assert_eq!(api.upload_fixture("plain_function.py").await.status, 200);
    let endpoint = r#"{"name":"e0","path":"plain_function.py","className":"multiply","defaultContext":"c"}"#;
    api.post("/endpoints", endpoint).await.ok_json();
    api
}

fn assert_names(message: &str, words: &[&str], what: &str) {
    for word in words {
        assert!(message.contains(word), "{what}: message {message:?} does not mention {word:?}");
    }
}

#[tokio::test]
async fn context_bodies_that_are_not_objects_are_400s() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    for (body, words) in NOT_AN_OBJECT {
        assert_names(&api.post("/contexts", body).await.error_with(400), words, &format!("POST {body:?}"));
        assert_names(&api.put("/contexts/c", body).await.error_with(400), words, &format!("PUT {body:?}"));
    }
    assert_eq!(api.redis_dump(), before);
}

#[tokio::test]
async fn endpoint_bodies_that_are_not_objects_are_400s() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    for (body, words) in NOT_AN_OBJECT {
        assert_names(&api.post("/endpoints", body).await.error_with(400), words, &format!("POST {body:?}"));
        assert_names(&api.post("/endpoints?force=true", body).await.error_with(400), words, &format!("force {body:?}"));
        assert_names(&api.put("/endpoints", body).await.error_with(400), words, &format!("PUT {body:?}"));
    }
    assert_eq!(api.redis_dump(), before);
}

#[tokio::test]
async fn bad_context_fields_are_400s_naming_the_field() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    for (body, words) in bad_contexts() {
        assert_names(&api.post("/contexts", &body).await.error_with(400), &words, &format!("POST {body}"));
    }
    assert_eq!(api.redis_dump(), before);
}

#[tokio::test]
async fn the_documented_message_for_a_negative_max_jobs() {
    let api = TestApi::start().await;
    let message = api.post("/contexts", r#"{"name":"c","maxJobs":-1}"#).await.error_with(400);
    assert_eq!(message, "maxJobs must be a positive integer, got -1");
    assert!(api.redis_keys().is_empty());
}

#[tokio::test]
async fn bad_context_fields_in_a_put_are_400s_and_keep_the_context() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    let cases = [
        (r#"{"name":"other"}"#, vec!["name", "other"]),
        (r#"{"name":null,"maxJobs":-1}"#, vec!["maxJobs", "-1"]),
        (r#"{"workerMode":"solo"}"#, vec!["workerMode", "solo"]),
        (r#"{"maxjobs":1}"#, vec!["unknown field", "maxjobs"]),
    ];
    for (body, words) in cases {
        assert_names(&api.put("/contexts/c", body).await.error_with(400), &words, body);
    }
    assert_eq!(api.redis_dump(), before);
}

#[tokio::test]
async fn bad_endpoint_fields_are_400s_naming_the_field() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    for (body, words) in BAD_ENDPOINTS {
        assert_names(&api.post("/endpoints", body).await.error_with(400), words, &format!("POST {body}"));
        assert_names(&api.post("/endpoints?force=true", body).await.error_with(400), words, &format!("force {body}"));
        assert_names(&api.put("/functions", body).await.error_with(400), words, &format!("PUT {body}"));
    }
    assert_eq!(api.redis_dump(), before);
    assert_eq!(api.artifact_files().len(), 1);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_json_errors() {
    let api = api_with_data(&[("http.max_body_bytes", "200")]).await;
    let before = api.redis_dump();
    let padding = "x".repeat(300);
    let context = format!(r#"{{"name":"c","runOptions":"--name {padding}"}}"#);
    let endpoint = format!(r#"{{"name":"e0","path":"plain_function.py","className":"multiply","x":"{padding}"}}"#);
    for (method, path, body) in [
        (Method::POST, "/contexts", &context),
        (Method::PUT, "/contexts/c", &context),
        (Method::POST, "/endpoints", &endpoint),
        (Method::PUT, "/endpoints", &endpoint),
        (Method::POST, "/functions?force=true", &endpoint),
    ] {
        let message = api.call(method.clone(), path, Some(body)).await.error_with(413);
        assert!(message.contains("http.max_body_bytes"), "{method} {path}: {message}");
    }
    assert_eq!(api.redis_dump(), before);
    // Just under the limit is read.
    assert_eq!(api.post("/contexts", r#"{"name":"c","maxJobs":4}"#).await.status, 200);
}

#[tokio::test]
async fn json_is_read_whatever_the_content_type() {
    let api = TestApi::start().await;
    assert_eq!(api.upload_fixture("plain_function.py").await.status, 200);
    let form = Some("application/x-www-form-urlencoded");
    for (i, content_type) in [form, Some("text/plain"), None, Some("application/json")].iter().enumerate() {
        let context = format!(r#"{{"name":"c{i}","maxJobs":{}}}"#, i + 1);
        let answer = api.send(Method::POST, "/contexts", context.into_bytes(), *content_type).await;
        assert_eq!(answer.ok_json()["maxJobs"], i + 1, "{content_type:?}");
        let endpoint = format!(r#"{{"name":"e{i}","path":"plain_function.py","className":"multiply"}}"#);
        let answer = api.send(Method::POST, "/endpoints", endpoint.into_bytes(), *content_type).await;
        assert_eq!(answer.ok_json()["name"], format!("e{i}"), "{content_type:?}");
    }
    let put = api.send(Method::PUT, "/contexts/c0", br#"{"maxJobs":9}"#.to_vec(), form).await;
    assert_eq!(put.ok_json()["maxJobs"], 9);
    assert_eq!(api.get("/contexts/c0").await.ok_json()["maxJobs"], 9);
}

#[tokio::test]
async fn bad_names_in_the_path_change_nothing() {
    let api = api_with_data(&[]).await;
    let before = api.redis_dump();
    let files = api.artifact_files();
    for path in [
        "/artifacts/..%2Fplain_function.py",
        "/artifacts/%2E%2E",
        "/contexts/..%2Fc",
        "/endpoints/..%2Fe0",
        "/functions/a%2Fb",
    ] {
        let answer = api.delete(path).await;
        assert!(answer.status.is_client_error() && !answer.error().is_empty(), "{path}: {answer:?}");
        assert!(api.get(path).await.status.is_client_error(), "{path}");
    }
    assert_eq!(api.redis_dump(), before);
    assert_eq!(api.artifact_files(), files);
}

#[tokio::test]
async fn bad_names_in_the_path_are_400s() {
    let api = TestApi::start().await;
    let paths = [
        ("/artifacts/..%2Fx.py", "../x.py"),
        ("/artifacts/a%20b.py/sha", "a b.py"),
        ("/contexts/..%2Fc", "../c"),
        ("/endpoints/.hidden", ".hidden"),
        ("/functions/a%2Fb", "a/b"),
    ];
    for (path, name) in paths {
        let message = api.get(path).await.error_with(400);
        assert!(message.contains(name), "{path}: {message}");
        api.delete(path.trim_end_matches("/sha")).await.error_with(400);
    }
}
