//! `/endpoints` (and its `/functions` alias): CRUD, and `execute`/`tags`/`lang` as read
//! from the function for each of the three styles (mistpy, `MistJob`, plain functions).

use mist_tests::api::TestApi;
use mist_tests::http::Answer;
use serde_json::{json, Value};

async fn create(api: &TestApi, name: &str, path: &str, class_name: &str) -> Answer {
    let body = json!({"name": name, "path": path, "className": class_name});
    api.post("/endpoints", &body.to_string()).await
}

/// Uploads `file` and creates an endpoint for `class_name` in it; returns the EndpointInfo.
async fn deploy(api: &TestApi, file: &str, class_name: &str) -> Value {
    if api.get(&format!("/artifacts/{file}/sha")).await.status != 200 {
        assert_eq!(api.upload_fixture(file).await.status, 200);
    }
    create(api, class_name, file, class_name).await.ok_json()
}

fn tags(info: &Value) -> Vec<String> {
    let tags = info["tags"].as_array().expect("tags array");
    let mut tags: Vec<String> = tags.iter().map(|t| t.as_str().expect("tag").to_string()).collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn mistpy_function_answers_the_full_endpoint_info() {
    let api = TestApi::start().await;
    api.upload_fixture("simple_context.py").await;
    let answer = create(&api, "simple", "simple_context.py", "simple_context").await;
    assert_eq!(
        answer.ok_json(),
        json!({
            "name": "simple", "path": "simple_context.py", "className": "simple_context",
            "defaultContext": "default", "lang": "python",
            "execute": {
                "numbers": {"type": "MList", "args": [{"type": "MInt"}]},
                "multiplier": {"type": "MOption", "args": [{"type": "MDouble"}]}
            },
            "tags": []
        })
    );
    assert_eq!(api.get("/endpoints/simple").await.ok_json(), answer.json());
}

#[tokio::test]
async fn mistpy_decorators_give_tags_and_type_hints() {
    let api = TestApi::start().await;
    let sql = deploy(&api, "mistpy_variants.py", "sql_fn").await;
    assert_eq!(
        sql["execute"],
        json!({"query": {"type": "MString"}, "limit": {"type": "MOption", "args": [{"type": "MInt"}]}})
    );
    assert_eq!(tags(&sql), ["sql"]);
    let session = deploy(&api, "mistpy_variants.py", "session_fn").await;
    assert_eq!((session["execute"].clone(), tags(&session)), (json!({}), vec!["sql".to_string()]));
    for hive in ["hive_session_fn", "hive_context_fn"] {
        let info = deploy(&api, "mistpy_variants.py", hive).await;
        assert_eq!(tags(&info), ["hive", "sql"], "{hive}");
    }
    let streaming = deploy(&api, "mistpy_variants.py", "streaming_fn").await;
    assert_eq!(tags(&streaming), ["streaming"]);
}

#[tokio::test]
async fn mist_job_classes_give_tags_and_execute_arguments() {
    let api = TestApi::start().await;
    let multiply = deploy(&api, "mist_job_class.py", "MultiplyJob").await;
    assert_eq!(
        multiply["execute"],
        json!({
            "numbers": {"type": "MList", "args": [{"type": "MInt"}]},
            "multiplier": {"type": "MOption", "args": [{"type": "MDouble"}]}
        })
    );
    assert_eq!(tags(&multiply), ["sql"]);
    assert_eq!(multiply["lang"], "python");
    let untyped = deploy(&api, "mist_job_class.py", "UntypedJob").await;
    assert_eq!(
        untyped["execute"],
        json!({"numbers": {"type": "MAny"}, "multiplier": {"type": "MOption", "args": [{"type": "MAny"}]}})
    );
    assert_eq!(tags(&untyped), Vec::<String>::new());
    let hive = deploy(&api, "mist_job_class.py", "HiveJob").await;
    assert_eq!((hive["execute"].clone(), tags(&hive)), (json!({}), vec!["hive".to_string(), "sql".to_string()]));
    let streaming = deploy(&api, "mist_job_class.py", "StreamingJob").await;
    assert_eq!(tags(&streaming), ["streaming"]);
}

#[tokio::test]
async fn plain_functions_read_hints_and_defaults() {
    let api = TestApi::start().await;
    let multiply = deploy(&api, "plain_function.py", "multiply").await;
    assert_eq!(
        multiply["execute"],
        json!({
            "numbers": {"type": "MList", "args": [{"type": "MInt"}]},
            "multiplier": {"type": "MOption", "args": [{"type": "MDouble"}]}
        })
    );
    let typed = deploy(&api, "plain_function.py", "typed").await;
    let execute = &typed["execute"];
    let expected = [
        ("a", json!({"type": "MBoolean"})),
        ("b", json!({"type": "MInt"})),
        ("c", json!({"type": "MDouble"})),
        ("d", json!({"type": "MString"})),
        ("e", json!({"type": "MList", "args": [{"type": "MInt"}]})),
        ("f", json!({"type": "MMap", "args": [{"type": "MString"}, {"type": "MInt"}]})),
        ("g", json!({"type": "MOption", "args": [{"type": "MInt"}]})),
        ("j", json!({"type": "MAny"})),
        ("l", json!({"type": "MOption", "args": [{"type": "MList", "args": [{"type": "MString"}]}]})),
        ("m", json!({"type": "MOption", "args": [{"type": "MInt"}]})),
    ];
    for (arg, descriptor) in expected {
        assert_eq!(execute[arg], descriptor, "argument {arg}");
    }
    assert_eq!(execute.as_object().expect("object").len(), 15, "{execute}");
    assert_eq!(tags(&typed), Vec::<String>::new());
}

#[tokio::test]
async fn a_function_in_a_zip_package_is_read_by_module_path() {
    let api = TestApi::start().await;
    let zip = mist_tests::zip_folder(&mist_tests::fixture("zip_pkg"));
    assert_eq!(api.upload("pkg.zip", zip, false).await.status, 200);
    let info = create(&api, "packaged", "pkg.zip", "pkg.mod.fn").await.ok_json();
    assert_eq!(
        info["execute"],
        json!({
            "numbers": {"type": "MList", "args": [{"type": "MInt"}]},
            "verbose": {"type": "MOption", "args": [{"type": "MBoolean"}]}
        })
    );
    assert_eq!(info["lang"], "python");
}

#[tokio::test]
async fn a_jar_endpoint_is_java_and_its_class_must_be_in_the_jar() {
    let api = TestApi::start().await;
    let jar = mist_tests::zip_of(&[("com/example/Job.class", b"\xca\xfe\xba\xbe any bytes")]);
    assert_eq!(api.upload("job.jar", jar, false).await.status, 200);
    let info = create(&api, "jvm", "job.jar", "com.example.Job").await.ok_json();
    assert_eq!((info["lang"].clone(), info["execute"].clone()), (json!("java"), json!({})));
    let message = create(&api, "jvm2", "job.jar", "com.example.Other").await.error_with(400);
    assert!(message.contains("com.example.Other") && message.contains("job.jar"), "{message}");
}

#[tokio::test]
async fn list_returns_every_endpoint_as_get_does() {
    let api = TestApi::start().await;
    assert_eq!(api.get("/endpoints").await.ok_json(), json!([]));
    let b = deploy(&api, "plain_function.py", "multiply").await;
    let a = deploy(&api, "mist_job_class.py", "MultiplyJob").await;
    let list = api.get("/endpoints").await.ok_json();
    let mut listed: Vec<Value> = list.as_array().expect("array").clone();
    listed.sort_by_key(|e| e["name"].to_string());
    assert_eq!(listed, [a, b]);
}

#[tokio::test]
async fn creating_a_taken_name_is_a_409_and_changes_nothing() {
    let api = TestApi::start().await;
    let first = deploy(&api, "plain_function.py", "multiply").await;
    let message = create(&api, "multiply", "plain_function.py", "greet").await.error_with(409);
    assert!(message.contains("multiply"), "{message}");
    assert_eq!(api.get("/endpoints/multiply").await.ok_json(), first);
}

#[tokio::test]
async fn force_overwrites_without_reading_the_artifact() {
    let api = TestApi::start().await;
    deploy(&api, "plain_function.py", "multiply").await;
    let forced = api
        .post("/endpoints?force=true", r#"{"name":"multiply","path":"absent.jar","className":"com.example.Nothing"}"#)
        .await
        .ok_json();
    assert_eq!(
        forced,
        json!({"name": "multiply", "path": "absent.jar", "className": "com.example.Nothing",
               "defaultContext": "default", "lang": "java", "execute": {}, "tags": []})
    );
    assert_eq!(api.get("/endpoints/multiply").await.ok_json(), forced);
    // Any letter case, or 1, counts as true.
    let body = r#"{"name":"other","path":"missing.py","className":"nothing_here"}"#;
    let other = api.post("/endpoints?force=TRUE", body).await.ok_json();
    assert_eq!((other["lang"].clone(), other["execute"].clone()), (json!("python"), json!({})));
    assert_eq!(api.post("/endpoints?force=1", body).await.status, 200);
    assert_eq!(api.post("/endpoints?force", body).await.status, 200);
    assert_eq!(api.post("/endpoints?force=false", body).await.status, 409);
    let message = api.post("/endpoints?force=maybe", body).await.error_with(400);
    assert!(message.contains("force"), "{message}");
}

#[tokio::test]
async fn a_forced_endpoint_gets_its_execute_when_updated() {
    let api = TestApi::start().await;
    api.upload_fixture("simple_context.py").await;
    let body = r#"{"name":"e","path":"simple_context.py","className":"simple_context"}"#;
    assert_eq!(api.post("/endpoints?force=true", body).await.ok_json()["execute"], json!({}));
    let updated = api.put("/endpoints", body).await.ok_json();
    assert_eq!(updated["execute"]["numbers"], json!({"type": "MList", "args": [{"type": "MInt"}]}));
}

#[tokio::test]
async fn a_missing_artifact_is_a_400_naming_it() {
    let api = TestApi::start().await;
    let message = create(&api, "e", "nowhere.py", "f").await.error_with(400);
    assert!(message.contains("nowhere.py"), "{message}");
    assert_eq!(api.get("/endpoints/e").await.status, 404);
}

#[tokio::test]
async fn a_name_not_in_the_artifact_is_a_400_naming_it() {
    let api = TestApi::start().await;
    api.upload_fixture("plain_function.py").await;
    for (class_name, hint) in [("missing_fn", "missing_fn"), ("NotAJob", "MistJob"), ("NUMBER", "not a function")] {
        let message = create(&api, "e", "plain_function.py", class_name).await.error_with(400);
        assert!(message.contains(class_name) && message.contains(hint), "{message}");
    }
    assert_eq!(api.get("/endpoints").await.ok_json(), json!([]));
}

#[tokio::test]
async fn an_artifact_that_does_not_load_is_a_400_naming_it() {
    let api = TestApi::start().await;
    api.upload("broken.py", b"def f(spark:\n".to_vec(), false).await;
    let message = create(&api, "e", "broken.py", "f").await.error_with(400);
    assert!(message.contains("broken.py"), "{message}");
}

#[tokio::test]
async fn an_artifact_that_exits_while_imported_is_a_400() {
    let api = TestApi::start().await;
    api.upload("exits.py", b"import os\nos._exit(1)\n".to_vec(), false).await;
    let message = create(&api, "e", "exits.py", "f").await.error_with(400);
    assert!(message.contains("exits.py"), "{message}");
}

#[tokio::test]
async fn an_artifact_slower_to_import_than_the_limit_is_a_400() {
    let api = TestApi::start_with(&[("python.inspect_timeout", "1s")]).await;
    api.upload("slow.py", b"import time\ntime.sleep(60)\ndef f(spark): pass\n".to_vec(), false).await;
    let message = create(&api, "e", "slow.py", "f").await.error_with(400);
    assert!(message.contains("slow.py") && message.contains("longer than"), "{message}");
}

#[tokio::test]
async fn default_context_must_exist() {
    let api = TestApi::start().await;
    api.upload_fixture("plain_function.py").await;
    let body = json!({"name": "e", "path": "plain_function.py", "className": "multiply", "defaultContext": "nope"});
    let message = api.post("/endpoints", &body.to_string()).await.error_with(400);
    assert!(message.contains("defaultContext") && message.contains("nope"), "{message}");
    let message = api.post("/endpoints?force=true", &body.to_string()).await.error_with(400);
    assert!(message.contains("nope"), "{message}");
    assert_eq!(api.post("/contexts", r#"{"name":"nope"}"#).await.status, 200);
    let info = api.post("/endpoints", &body.to_string()).await.ok_json();
    assert_eq!(info["defaultContext"], "nope");
}

#[tokio::test]
async fn update_reads_the_function_again() {
    let api = TestApi::start().await;
    deploy(&api, "plain_function.py", "multiply").await;
    api.post("/contexts", r#"{"name":"other"}"#).await.ok_json();
    let body =
        json!({"name": "multiply", "path": "plain_function.py", "className": "greet", "defaultContext": "other"});
    let updated = api.put("/endpoints", &body.to_string()).await.ok_json();
    assert_eq!(updated["className"], "greet");
    assert_eq!(updated["defaultContext"], "other");
    assert_eq!(updated["execute"], json!({"name": {"type": "MString"}}));
    assert_eq!(api.get("/endpoints/multiply").await.ok_json(), updated);
}

#[tokio::test]
async fn update_refuses_unknown_names_and_bad_functions() {
    let api = TestApi::start().await;
    let before = deploy(&api, "plain_function.py", "multiply").await;
    let unknown = r#"{"name":"ghost","path":"plain_function.py","className":"multiply"}"#;
    assert!(api.put("/endpoints", unknown).await.error_with(404).contains("ghost"));
    assert_eq!(api.get("/endpoints/ghost").await.status, 404);
    let bad_class = r#"{"name":"multiply","path":"plain_function.py","className":"missing_fn"}"#;
    assert!(api.put("/endpoints", bad_class).await.error_with(400).contains("missing_fn"));
    let bad_context = r#"{"name":"multiply","path":"plain_function.py","className":"greet","defaultContext":"no-ctx"}"#;
    assert!(api.put("/endpoints", bad_context).await.error_with(400).contains("no-ctx"));
    assert!(api.put("/endpoints", r#"{"name":"multiply"}"#).await.error_with(400).contains("path"));
    assert_eq!(api.get("/endpoints/multiply").await.ok_json(), before);
}

#[tokio::test]
async fn delete_answers_the_endpoint_then_it_is_gone() {
    let api = TestApi::start().await;
    let info = deploy(&api, "plain_function.py", "multiply").await;
    assert_eq!(api.delete("/endpoints/multiply").await.ok_json(), info);
    assert!(api.get("/endpoints/multiply").await.error_with(404).contains("multiply"));
    assert!(api.delete("/endpoints/multiply").await.error_with(404).contains("multiply"));
    assert_eq!(api.get("/endpoints").await.ok_json(), json!([]));
}

#[tokio::test]
async fn unknown_endpoints_are_404s_naming_them() {
    let api = TestApi::start().await;
    assert!(api.get("/endpoints/ghost").await.error_with(404).contains("ghost"));
    assert!(api.delete("/endpoints/ghost").await.error_with(404).contains("ghost"));
}

#[tokio::test]
async fn every_route_is_also_served_under_functions() {
    let api = TestApi::start().await;
    api.upload_fixture("plain_function.py").await;
    let body = r#"{"name":"f1","path":"plain_function.py","className":"multiply"}"#;
    let created = api.post("/functions", body).await.ok_json();
    assert_eq!(created["execute"]["numbers"], json!({"type": "MList", "args": [{"type": "MInt"}]}));
    assert_eq!(api.get("/functions/f1").await.ok_json(), created);
    assert_eq!(api.get("/endpoints/f1").await.ok_json(), created);
    assert_eq!(api.get("/functions").await.ok_json(), json!([created]));
    assert_eq!(api.get("/functions").await.text, api.get("/endpoints").await.text);
    assert_eq!(api.post("/functions", body).await.text, api.post("/endpoints", body).await.text);
    assert_eq!(api.post("/functions", body).await.status, 409);
    let forced = api.post("/functions?force=true", body).await.ok_json();
    assert_eq!(forced["execute"], json!({}));
    let updated = api.put("/functions", body).await.ok_json();
    assert_eq!(updated, created);
    assert_eq!(api.get("/functions/ghost").await.text, api.get("/endpoints/ghost").await.text);
    assert_eq!(api.get("/functions/ghost").await.status, 404);
    assert_eq!(api.delete("/functions/f1").await.ok_json(), created);
    assert_eq!(api.delete("/functions/f1").await.status, 404);
    assert_eq!(api.get("/endpoints").await.ok_json(), json!([]));
}
