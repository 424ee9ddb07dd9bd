//! `/contexts`: `default` from configuration, fields filled from it, durations, PUT and
//! DELETE rules.

use mist_tests::api::TestApi;
use serde_json::{json, Value};

fn built_in_default() -> Value {
    json!({
        "name": "default", "sparkConf": {"spark.master": "local[*]"}, "downtime": "Inf", "maxJobs": 20,
        "precreated": false, "runOptions": "", "workerMode": "shared", "streamingDuration": "1s",
        "maxConnFailures": 5
    })
}

fn with_name(mut context: Value, name: &str) -> Value {
    context["name"] = json!(name);
    context
}

#[tokio::test]
async fn list_holds_default_with_the_built_in_values() {
    let api = TestApi::start().await;
    assert_eq!(api.get("/contexts").await.ok_json(), json!([built_in_default()]));
    assert_eq!(api.get("/contexts/default").await.ok_json(), built_in_default());
}

#[tokio::test]
async fn default_takes_its_values_from_the_configuration() {
    let api = TestApi::start_with(&[
        ("contexts.default.max_jobs", "7"),
        ("contexts.default.downtime", "10m"),
        ("contexts.default.worker_mode", "exclusive"),
        ("contexts.default.run_options", "--driver-memory 2g"),
        ("contexts.default.precreated", "true"),
    ])
    .await;
    let mut expected = built_in_default();
    expected["maxJobs"] = json!(7);
    expected["downtime"] = json!("600s");
    expected["workerMode"] = json!("exclusive");
    expected["runOptions"] = json!("--driver-memory 2g");
    expected["precreated"] = json!(true);
    assert_eq!(api.get("/contexts/default").await.ok_json(), expected);
    // A new context takes every missing field from this configured default.
    assert_eq!(api.post("/contexts", r#"{"name":"c"}"#).await.ok_json(), with_name(expected, "c"));
}

#[tokio::test]
async fn post_fills_missing_fields_from_default_and_lists_it() {
    let api = TestApi::start().await;
    let stored = api.post("/contexts", r#"{"name":"small","maxJobs":2,"precreated":true}"#).await.ok_json();
    let mut expected = with_name(built_in_default(), "small");
    expected["maxJobs"] = json!(2);
    expected["precreated"] = json!(true);
    assert_eq!(stored, expected);
    assert_eq!(api.get("/contexts/small").await.ok_json(), expected);
    assert_eq!(api.get("/contexts").await.ok_json(), json!([built_in_default(), expected]));
}

#[tokio::test]
async fn post_stores_every_field_given() {
    let api = TestApi::start().await;
    let body = json!({
        "name": "full", "sparkConf": {"spark.executor.memory": "1g"}, "downtime": "30s", "maxJobs": 3,
        "precreated": true, "runOptions": "--conf 'spark.a=b c' --verbose", "workerMode": "exclusive",
        "streamingDuration": "0.5s", "maxConnFailures": 2
    });
    assert_eq!(api.post("/contexts", &body.to_string()).await.ok_json(), body);
    assert_eq!(api.get("/contexts/full").await.ok_json(), body);
}

#[tokio::test]
async fn a_given_spark_conf_replaces_the_default_map_with_strings() {
    let api = TestApi::start().await;
    let body = r#"{"name":"conf","sparkConf":{"spark.executor.instances":2,"spark.dynamicAllocation.enabled":true,
        "spark.memory.fraction":0.6,"spark.app.name":"x"}}"#;
    let expected = json!({
        "spark.executor.instances": "2", "spark.dynamicAllocation.enabled": "true",
        "spark.memory.fraction": "0.6", "spark.app.name": "x"
    });
    assert_eq!(api.post("/contexts", body).await.ok_json()["sparkConf"], expected);
    assert_eq!(api.get("/contexts/conf").await.ok_json()["sparkConf"], expected);
    let empty = api.post("/contexts", r#"{"name":"bare","sparkConf":{}}"#).await.ok_json();
    assert_eq!(empty["sparkConf"], json!({}));
}

#[tokio::test]
async fn durations_are_read_in_human_forms_and_written_in_seconds() {
    let api = TestApi::start().await;
    let cases = [
        ("Inf", "Inf"),
        ("0s", "0s"),
        ("0.5s", "0.5s"),
        ("500ms", "0.5s"),
        ("1500ms", "1.5s"),
        ("10m", "600s"),
        ("1h", "3600s"),
        ("45s", "45s"),
    ];
    for (given, written) in cases {
        let body = json!({"name": "d", "downtime": given, "streamingDuration": given});
        let stored = api.post("/contexts", &body.to_string()).await.ok_json();
        assert_eq!(stored["downtime"], written, "{given}");
        assert_eq!(stored["streamingDuration"], written, "{given}");
        assert_eq!(api.get("/contexts/d").await.ok_json()["downtime"], written, "{given}");
    }
}

#[tokio::test]
async fn bad_durations_are_400s_naming_field_and_value() {
    let api = TestApi::start().await;
    for bad in ["soon", "12", "-1s", "", "1 fortnight"] {
        let body = json!({"name": "d", "downtime": bad});
        let message = api.post("/contexts", &body.to_string()).await.error_with(400);
        assert!(message.starts_with("downtime") && message.contains(&format!("{bad:?}")), "{message}");
    }
    let message = api.post("/contexts", r#"{"name":"d","streamingDuration":5}"#).await.error_with(400);
    assert!(message.contains("streamingDuration") && message.contains('5'), "{message}");
    assert_eq!(api.get("/contexts/d").await.status, 404);
}

#[tokio::test]
async fn a_stored_duration_can_always_be_read_back() {
    let api = TestApi::start().await;
    let answer = api.post("/contexts", r#"{"name":"long","downtime":"2000000h"}"#).await;
    if answer.status == 400 {
        assert!(answer.error().contains("downtime"), "{answer:?}");
        return;
    }
    let stored = answer.ok_json();
    assert_eq!(api.get("/contexts/long").await.ok_json(), stored);
    assert_eq!(api.get("/contexts").await.status, 200);
}

#[tokio::test]
async fn post_replaces_an_existing_context() {
    let api = TestApi::start().await;
    api.post("/contexts", r#"{"name":"c","maxJobs":3}"#).await.ok_json();
    let second = api.post("/contexts", r#"{"name":"c","downtime":"5s"}"#).await.ok_json();
    assert_eq!((second["maxJobs"].clone(), second["downtime"].clone()), (json!(20), json!("5s")));
    assert_eq!(api.get("/contexts/c").await.ok_json(), second);
    assert_eq!(api.get("/contexts").await.ok_json().as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn put_replaces_with_missing_fields_from_default() {
    let api = TestApi::start().await;
    api.post("/contexts", r#"{"name":"c","maxJobs":3,"workerMode":"exclusive"}"#).await.ok_json();
    let updated = api.put("/contexts/c", r#"{"downtime":"5s"}"#).await.ok_json();
    let mut expected = with_name(built_in_default(), "c");
    expected["downtime"] = json!("5s");
    assert_eq!(updated, expected);
    assert_eq!(api.get("/contexts/c").await.ok_json(), expected);
    let named = api.put("/contexts/c", r#"{"name":"c","maxJobs":4}"#).await.ok_json();
    assert_eq!(named["maxJobs"], 4);
}

#[tokio::test]
async fn put_refuses_unknown_contexts_and_other_names() {
    let api = TestApi::start().await;
    assert!(api.put("/contexts/ghost", r#"{"maxJobs":2}"#).await.error_with(404).contains("ghost"));
    assert_eq!(api.get("/contexts/ghost").await.status, 404);
    api.post("/contexts", r#"{"name":"c"}"#).await.ok_json();
    let message = api.put("/contexts/c", r#"{"name":"other"}"#).await.error_with(400);
    assert!(message.contains("other") && message.contains("name"), "{message}");
    assert!(api.put("/contexts/c", r#"{"maxJobs":0}"#).await.error_with(400).contains("maxJobs"));
    assert_eq!(api.get("/contexts/other").await.status, 404);
    assert_eq!(api.get("/contexts/c").await.ok_json(), with_name(built_in_default(), "c"));
}

#[tokio::test]
async fn delete_removes_then_404s() {
    let api = TestApi::start().await;
    let stored = api.post("/contexts", r#"{"name":"c","maxJobs":3}"#).await.ok_json();
    let answer = api.delete("/contexts/c").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json(), stored);
    assert!(api.get("/contexts/c").await.error_with(404).contains("c not found"));
    assert!(api.delete("/contexts/c").await.error_with(404).contains('c'));
    assert_eq!(api.get("/contexts").await.ok_json(), json!([built_in_default()]));
}

#[tokio::test]
async fn delete_is_a_409_naming_the_endpoint_that_uses_it() {
    let api = TestApi::start().await;
    api.post("/contexts", r#"{"name":"busy"}"#).await.ok_json();
    api.upload_fixture("plain_function.py").await;
    let endpoint =
        r#"{"name":"user-of-busy","path":"plain_function.py","className":"multiply","defaultContext":"busy"}"#;
    api.post("/endpoints", endpoint).await.ok_json();
    let message = api.delete("/contexts/busy").await.error_with(409);
    assert!(message.contains("busy") && message.contains("user-of-busy"), "{message}");
    assert_eq!(api.get("/contexts/busy").await.status, 200);
    api.delete("/endpoints/user-of-busy").await.ok_json();
    assert_eq!(api.delete("/contexts/busy").await.status, 200);
}

#[tokio::test]
async fn default_cannot_be_written_or_deleted_through_the_api() {
    let api = TestApi::start().await;
    let before = api.redis_dump();
    for answer in [
        api.post("/contexts", r#"{"name":"default","maxJobs":1}"#).await,
        api.put("/contexts/default", r#"{"maxJobs":1}"#).await,
        api.put("/contexts/default", r#"{"name":"default"}"#).await,
        api.delete("/contexts/default").await,
    ] {
        assert!(answer.error_with(400).contains("default"), "{answer:?}");
    }
    assert_eq!(api.redis_dump(), before);
    assert_eq!(api.get("/contexts/default").await.ok_json(), built_in_default());
}

#[tokio::test]
async fn names_of_128_characters_are_accepted() {
    let api = TestApi::start().await;
    let name = format!("A-z_0.{}", "9".repeat(122));
    let body = json!({"name": name});
    assert_eq!(api.post("/contexts", &body.to_string()).await.ok_json()["name"], name);
    assert_eq!(api.get(&format!("/contexts/{name}")).await.ok_json()["name"], name);
}

#[tokio::test]
async fn unknown_context_is_a_404_naming_it() {
    let api = TestApi::start().await;
    assert!(api.get("/contexts/ghost").await.error_with(404).contains("ghost"));
}
