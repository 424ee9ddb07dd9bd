//! `/artifacts`: upload, list, download, sha, replace, names, size limit, delete, and what
//! is left on disk and in Redis when an upload fails or is cut off.

use std::time::Duration;

use mist_tests::api::TestApi;
use reqwest::Method;
use serde_json::json;
use tokio::io::AsyncWriteExt;

fn file_of(sha1: &str, name: &str) -> String {
    format!("{sha1}/{name}")
}

#[tokio::test]
async fn upload_answers_the_name_and_the_bytes_come_back() {
    let api = TestApi::start().await;
    let bytes = b"def f(spark):\n    return 1\n".to_vec();
    let answer = api.upload("job.py", bytes.clone(), false).await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (200, "job.py"));
    assert!(answer.content_type.starts_with("text/plain"), "{answer:?}");
    assert_eq!(api.get("/artifacts").await.ok_json(), json!(["job.py"]));
    let download = api.client.get(api.url("/artifacts/job.py")).send().await.expect("answers");
    assert_eq!(download.status(), 200);
    let header = |name: &str| download.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    assert_eq!(header("content-length"), Some(bytes.len().to_string()));
    assert_eq!(header("etag"), Some(format!("\"{}\"", mist_tests::sha1_hex(&bytes))));
    assert_eq!(download.bytes().await.expect("body").to_vec(), bytes);
    let sha = api.get("/artifacts/job.py/sha").await;
    assert_eq!((sha.status.as_u16(), sha.text.clone()), (200, mist_tests::sha1_hex(&bytes)));
    assert!(sha.content_type.starts_with("text/plain"), "{sha:?}");
    assert_eq!(api.artifact_files(), [file_of(&mist_tests::sha1_hex(&bytes), "job.py")]);
}

#[tokio::test]
async fn binary_bytes_come_back_unchanged() {
    let api = TestApi::start().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    assert_eq!(api.upload("blob.whl", bytes.clone(), false).await.status, 200);
    let download = api.client.get(api.url("/artifacts/blob.whl")).send().await.expect("answers");
    assert_eq!(download.bytes().await.expect("body").to_vec(), bytes);
    assert_eq!(api.get("/artifacts/blob.whl/sha").await.text, mist_tests::sha1_hex(&bytes));
}

#[tokio::test]
async fn list_holds_every_name_sorted() {
    let api = TestApi::start().await;
    assert_eq!(api.get("/artifacts").await.ok_json(), json!([]));
    for name in ["b.jar", "a.py", "c.zip", "d.egg", "e.whl"] {
        assert_eq!(api.upload(name, name.as_bytes().to_vec(), false).await.status, 200, "{name}");
    }
    assert_eq!(api.get("/artifacts").await.ok_json(), json!(["a.py", "b.jar", "c.zip", "d.egg", "e.whl"]));
}

#[tokio::test]
async fn a_taken_name_is_a_409_and_keeps_the_first_file() {
    let api = TestApi::start().await;
    api.upload("job.py", b"first".to_vec(), false).await;
    let message = api.upload("job.py", b"second".to_vec(), false).await.error_with(409);
    assert!(message.contains("job.py") && message.contains("force"), "{message}");
    assert_eq!(api.get("/artifacts/job.py").await.text, "first");
    assert_eq!(api.artifact_files(), [file_of(&mist_tests::sha1_hex(b"first"), "job.py")]);
}

#[tokio::test]
async fn force_replaces_the_bytes_and_removes_the_old_file() {
    let api = TestApi::start().await;
    api.upload("job.py", b"first".to_vec(), false).await;
    let old_sha = api.get("/artifacts/job.py/sha").await.text;
    let answer = api.upload("job.py", b"second".to_vec(), true).await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (200, "job.py"));
    let new_sha = api.get("/artifacts/job.py/sha").await.text;
    assert_ne!(new_sha, old_sha);
    assert_eq!(new_sha, mist_tests::sha1_hex(b"second"));
    assert_eq!(api.get("/artifacts/job.py").await.text, "second");
    assert_eq!(api.artifact_files(), [file_of(&new_sha, "job.py")]);
    assert_eq!(api.get("/artifacts").await.ok_json(), json!(["job.py"]));
}

#[tokio::test]
async fn forcing_the_same_bytes_again_keeps_the_file() {
    let api = TestApi::start().await;
    api.upload("job.py", b"same".to_vec(), false).await;
    assert_eq!(api.upload("job.py", b"same".to_vec(), true).await.status, 200);
    assert_eq!(api.get("/artifacts/job.py").await.text, "same");
    assert_eq!(api.artifact_files(), [file_of(&mist_tests::sha1_hex(b"same"), "job.py")]);
}

#[tokio::test]
async fn bad_names_are_400s_naming_them_and_store_nothing() {
    let api = TestApi::start().await;
    let too_long = format!("{}.py", "x".repeat(126));
    let cases = [
        ("../x.py", "../x.py"),
        (".hidden.py", ".hidden.py"),
        ("a b.py", "a b.py"),
        ("dir/x.py", "dir/x.py"),
        ("x.txt", "x.txt"),
        ("x", "\"x\""),
        ("x.py.exe", "x.py.exe"),
        ("é.py", "é.py"),
        (&too_long, "128"),
    ];
    for (name, named) in cases {
        let message = api.upload(name, b"print(1)".to_vec(), false).await.error_with(400);
        assert!(message.starts_with("artifact name") && message.contains(named), "{name}: {message}");
    }
    let message = api.upload("x.txt", b"1".to_vec(), false).await.error_with(400);
    assert!(message.contains(".py") && message.contains(".jar"), "{message}");
    assert_eq!(api.get("/artifacts").await.ok_json(), json!([]));
    assert_eq!(api.artifact_files(), Vec::<String>::new());
    assert!(api.redis_keys().is_empty());
    let longest = format!("{}.py", "x".repeat(125));
    assert_eq!(api.upload(&longest, b"1".to_vec(), false).await.text, longest);
}

#[tokio::test]
async fn over_the_size_limit_is_a_413_leaving_nothing() {
    let api = TestApi::start_with(&[("artifacts.max_size_bytes", "1000")]).await;
    assert_eq!(api.upload("fits.py", vec![b'#'; 1000], false).await.status, 200);
    let message = api.upload("big.py", vec![b'#'; 1001], false).await.error_with(413);
    assert!(message.contains("1000") && message.contains("artifacts.max_size_bytes"), "{message}");
    let message = api.upload("bigger.py", vec![b'#'; 5000], false).await.error_with(413);
    assert!(message.contains("1000"), "{message}");
    assert_eq!(api.get("/artifacts").await.ok_json(), json!(["fits.py"]));
    assert_eq!(api.artifact_files(), [file_of(&mist_tests::sha1_hex(&[b'#'; 1000]), "fits.py")]);
    // A forced replacement over the limit leaves the old artifact as it was.
    assert_eq!(api.upload("fits.py", vec![b'!'; 1500], true).await.status, 413);
    assert_eq!(api.get("/artifacts/fits.py").await.text, "#".repeat(1000));
}

#[tokio::test]
async fn the_json_body_limit_does_not_apply_to_uploads() {
    let api = TestApi::start_with(&[("http.max_body_bytes", "100")]).await;
    let bytes = vec![b'#'; 10_000];
    assert_eq!(api.upload("big.py", bytes.clone(), false).await.status, 200);
    assert_eq!(api.get("/artifacts/big.py/sha").await.text, mist_tests::sha1_hex(&bytes));
}

#[tokio::test]
async fn delete_removes_record_and_file() {
    let api = TestApi::start().await;
    api.upload("job.py", b"bytes".to_vec(), false).await;
    let answer = api.delete("/artifacts/job.py").await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (200, "job.py"), "{answer:?}");
    assert_eq!(api.get("/artifacts").await.ok_json(), json!([]));
    assert_eq!(api.artifact_files(), Vec::<String>::new());
    assert!(api.delete("/artifacts/job.py").await.error_with(404).contains("job.py"));
    // The name can be used again.
    assert_eq!(api.upload("job.py", b"again".to_vec(), false).await.status, 200);
}

#[tokio::test]
async fn the_same_bytes_under_two_names_survive_deleting_one() {
    let api = TestApi::start().await;
    api.upload("a.py", b"shared".to_vec(), false).await;
    api.upload("b.py", b"shared".to_vec(), false).await;
    assert_eq!(api.delete("/artifacts/a.py").await.status, 200);
    assert_eq!(api.get("/artifacts/b.py").await.text, "shared");
    assert_eq!(api.artifact_files(), [file_of(&mist_tests::sha1_hex(b"shared"), "b.py")]);
}

#[tokio::test]
async fn two_uploads_racing_for_one_name_leave_one_artifact_and_one_file() {
    let api = TestApi::start().await;
    let first: Vec<u8> = vec![b'1'; 300_000];
    let second: Vec<u8> = vec![b'2'; 300_000];
    let (a, b) = tokio::join!(api.upload("race.py", first, false), api.upload("race.py", second, false));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let sha = api.get("/artifacts/race.py/sha").await.text;
    assert_eq!(api.artifact_files(), [file_of(&sha, "race.py")]);
}

#[tokio::test]
async fn delete_is_a_409_naming_the_endpoint_that_uses_it() {
    let api = TestApi::start().await;
    api.upload_fixture("plain_function.py").await;
    let endpoint = r#"{"name":"multiplier","path":"plain_function.py","className":"multiply"}"#;
    api.post("/endpoints", endpoint).await.ok_json();
    let message = api.delete("/artifacts/plain_function.py").await.error_with(409);
    assert!(message.contains("plain_function.py") && message.contains("multiplier"), "{message}");
    assert_eq!(api.get("/artifacts").await.ok_json(), json!(["plain_function.py"]));
    assert_eq!(api.artifact_files().len(), 1);
    api.delete("/endpoints/multiplier").await.ok_json();
    assert_eq!(api.delete("/artifacts/plain_function.py").await.status, 200);
}

#[tokio::test]
async fn unknown_artifacts_are_404s() {
    let api = TestApi::start().await;
    for path in ["/artifacts/ghost.py", "/artifacts/ghost.py/sha"] {
        assert!(api.get(path).await.error_with(404).contains("ghost.py"), "{path}");
    }
    assert!(api.delete("/artifacts/ghost.py").await.error_with(404).contains("ghost.py"));
}

#[tokio::test]
async fn a_form_without_a_file_part_is_a_400() {
    let api = TestApi::start().await;
    let form = reqwest::multipart::Form::new().text("other", "value");
    let answer = api.client.post(api.url("/artifacts")).multipart(form).send().await.expect("answers");
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.expect("JSON error");
    assert!(body["error"].as_str().is_some_and(|m| m.contains("\"file\"")), "{body}");
    // A `file` part that is not a file (no file name) is refused too.
    let form = reqwest::multipart::Form::new().text("file", "print(1)");
    let answer = api.client.post(api.url("/artifacts")).multipart(form).send().await.expect("answers");
    assert_eq!(answer.status(), 400);
    assert!(api.redis_keys().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_multipart_is_a_400() {
    let api = TestApi::start().await;
    let message = api.post("/artifacts", r#"{"file":"x.py"}"#).await.error_with(400);
    assert!(message.contains("multipart") && message.contains("file"), "{message}");
    let answer = api.send(Method::POST, "/artifacts", b"print(1)".to_vec(), Some("application/octet-stream")).await;
    assert!(answer.error_with(400).contains("multipart"));
    let multipart = Some("multipart/form-data; boundary=XYZ");
    let garbled = api.send(Method::POST, "/artifacts", b"no parts here".to_vec(), multipart).await;
    garbled.error_with(400);
    assert!(api.redis_keys().is_empty());
    assert_eq!(api.artifact_files(), Vec::<String>::new());
}

#[tokio::test]
async fn an_upload_cut_off_half_way_leaves_neither_file_nor_record() {
    let api = TestApi::start().await;
    let mut socket = tokio::net::TcpStream::connect(api.address).await.expect("connects");
    let part_head = "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.py\"\r\n\
        Content-Type: application/octet-stream\r\n\r\n";
    let head = format!(
        "POST /v2/api/artifacts HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=XYZ\r\n\
         Content-Length: 1000000\r\n\r\n{part_head}",
        api.address
    );
    socket.write_all(head.as_bytes()).await.expect("headers sent");
    socket.write_all(&[b'#'; 20_000]).await.expect("half the file sent");
    socket.flush().await.expect("flushed");
    mist_tests::wait_for("the upload to be receiving", Duration::from_secs(10), || async {
        (!api.incoming_files().is_empty()).then_some(())
    })
    .await;
    drop(socket);
    mist_tests::wait_for("the cut-off upload to be cleaned up", Duration::from_secs(10), || async {
        api.incoming_files().is_empty().then_some(())
    })
    .await;
    assert_eq!(api.artifact_files(), Vec::<String>::new());
    assert_eq!(api.get("/artifacts").await.ok_json(), json!([]));
    assert!(api.get("/artifacts/cut.py").await.error_with(404).contains("cut.py"));
    assert!(api.redis_keys().is_empty());
}
