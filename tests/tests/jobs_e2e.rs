//! Jobs end to end: the real binaries, RabbitMQ, Redis and Spark in local mode. One Mist
//! serves every test of this file (Spark start-ups are the slow part); each test uses its
//! own endpoints, and its own context where it needs a worker of its own.

use serde_json::{json, Value};
use tokio::sync::OnceCell;

use mist_tests::cluster::Cluster;
use mist_tests::http::ApiClient;
use mist_tests::jobs::e2e_fixture;

static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();

/// The shared Mist, with the example artifacts and the common context deployed.
async fn mist() -> ApiClient {
    cluster().await.api()
}

async fn cluster() -> &'static Cluster {
    CLUSTER
        .get_or_init(|| async {
            let cluster = Cluster::start(&[("MIST__JOBS__CANCEL_GRACE", "3s")]).await;
            let api = cluster.api();
            api.deploy_file(&e2e_fixture("e2e_jobs.py")).await;
            for fixture in ["simple_context.py", "mist_job_class.py", "plain_function.py"] {
                api.deploy_file(&mist_tests::fixture(fixture)).await;
            }
            api.context("shared", 4, "shared").await;
            cluster
        })
        .await
}

fn millis(job: &Value, field: &str) -> i64 {
    job[field].as_i64().unwrap_or_else(|| panic!("{field} missing in {job}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_function_style_runs_and_returns_its_result() {
    let api = mist().await;
    api.endpoint("style-mistpy", "simple_context.py", "simple_context", "shared").await;
    api.endpoint("style-class", "mist_job_class.py", "MultiplyJob", "shared").await;
    api.endpoint("style-plain", "plain_function.py", "multiply", "shared").await;
    let args = json!({"numbers": [1, 2, 3], "multiplier": 3});
    let ids = [
        api.submit("style-mistpy", args.clone()).await,
        api.submit("style-class", args.clone()).await,
        api.submit("style-plain", args).await,
    ];
    let mut results = Vec::new();
    for id in &ids {
        let job = api.wait_done(id).await;
        assert_eq!(job["status"], "finished", "{job}");
        results.push(job["jobResult"].clone());
    }
    assert_eq!(numbers(&results[0]), [3.0, 6.0, 9.0]);
    assert_eq!(numbers(&results[1]["products"]), [3.0, 6.0, 9.0]);
    assert_eq!(results[1]["session"], "SparkSession");
    assert_eq!(numbers(&results[2]), [3.0, 6.0, 9.0]);
}

/// A JSON list of numbers, whether Python made them ints or floats.
fn numbers(value: &Value) -> Vec<f64> {
    value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn force_waits_for_the_result_and_a_shared_worker_is_reused() {
    let api = mist().await;
    api.context("reuse", 2, "shared").await;
    api.endpoint("reuse-shout", "e2e_jobs.py", "shout", "reuse").await;
    let first = api.post("/endpoints/reuse-shout/jobs?force=true", r#"{"text":"cold"}"#).await.ok_json();
    assert_eq!(first, json!({"success": true, "payload": "COLD", "errors": []}));
    let second = api.post("/endpoints/reuse-shout/jobs?force=true", r#"{"text":"warm"}"#).await.ok_json();
    assert_eq!(second["payload"], "WARM");
    let jobs = api.get("/endpoints/reuse-shout/jobs").await.ok_json();
    let (warm, cold) = (&jobs[0], &jobs[1]);
    assert_eq!(warm["workerId"], cold["workerId"], "the second job runs on the same worker");
    let cold_wait = millis(cold, "startTime") - millis(cold, "createTime");
    let warm_wait = millis(warm, "startTime") - millis(warm, "createTime");
    assert!(warm_wait * 10 < cold_wait.max(1), "a warm worker starts the job at once: waited {warm_wait} ms, cold {cold_wait} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_jobs_one_runs_jobs_one_after_the_other() {
    let api = mist().await;
    api.context("one-at-a-time", 1, "shared").await;
    api.endpoint("serial-nap", "e2e_jobs.py", "nap", "one-at-a-time").await;
    let a = api.submit("serial-nap", json!({"seconds": 1.0})).await;
    let b = api.submit("serial-nap", json!({"seconds": 1.0})).await;
    let (a, b) = (api.wait_done(&a).await, api.wait_done(&b).await);
    assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("finished"), Some("finished")));
    assert!(millis(&b, "startTime") >= millis(&a, "endTime"), "the second starts after the first ended: {a} {b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_jobs_two_overlaps_two_jobs() {
    let api = mist().await;
    api.context("two-at-a-time", 2, "shared").await;
    api.endpoint("parallel-nap", "e2e_jobs.py", "nap", "two-at-a-time").await;
    let a = api.submit("parallel-nap", json!({"seconds": 2.0})).await;
    let b = api.submit("parallel-nap", json!({"seconds": 2.0})).await;
    let (a, b) = (api.wait_done(&a).await, api.wait_done(&b).await);
    let latest_start = millis(&a, "startTime").max(millis(&b, "startTime"));
    let earliest_end = millis(&a, "endTime").min(millis(&b, "endTime"));
    assert!(latest_start < earliest_end, "both ran at once: {a} {b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exclusive_context_gives_each_job_its_own_worker_and_stops_it() {
    let api = mist().await;
    api.context("exclusive", 2, "exclusive").await;
    api.endpoint("exclusive-quick", "e2e_jobs.py", "quick", "exclusive").await;
    let a = api.submit("exclusive-quick", json!({})).await;
    let b = api.submit("exclusive-quick", json!({})).await;
    let (a, b) = (api.wait_done(&a).await, api.wait_done(&b).await);
    assert_eq!((a["jobResult"].as_i64(), b["jobResult"].as_i64()), (Some(45), Some(45)));
    assert_ne!(a["workerId"], b["workerId"]);
    for job in [a, b] {
        let worker = job["workerId"].as_str().unwrap_or_default().to_string();
        mist_tests::wait_for("the exclusive worker to stop", mist_tests::jobs::JOB_DEADLINE, || async {
            (api.get(&format!("/workers/{worker}")).await.status == 404).then_some(())
        })
        .await;
        assert_eq!(api.get(&format!("/jobs/{}/worker", job["jobId"].as_str().unwrap_or(""))).await.ok_json()["status"], "stopped");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_carry_the_reason() {
    let api = mist().await;
    api.endpoint("fail-boom", "e2e_jobs.py", "boom", "shared").await;
    api.endpoint("fail-non-json", "e2e_jobs.py", "non_json", "shared").await;
    let boom = api.post("/endpoints/fail-boom/jobs?force=true", "{}").await.ok_json();
    assert_eq!(boom["success"], false);
    let error = boom["errors"][0].as_str().unwrap_or_default();
    assert!(error.contains("RuntimeError") && error.contains("the function gave up"), "{error}");
    let id = api.submit("fail-non-json", json!({})).await;
    let job = api.wait_done(&id).await;
    assert_eq!(job["status"], "failed");
    assert!(job["jobResult"].as_str().unwrap_or_default().contains("not JSON-serialisable"), "{job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn arguments_that_do_not_fit_are_refused_and_record_nothing() {
    let api = mist().await;
    api.endpoint("strict-shout", "e2e_jobs.py", "shout", "shared").await;
    for (body, names) in [("{}", "text"), (r#"{"text": 5}"#, "text"), (r#"{"text":"a","loud":true}"#, "loud"), ("[]", "object")] {
        let error = api.post("/endpoints/strict-shout/jobs", body).await.error_with(400);
        assert!(error.contains(names), "{body}: {error}");
    }
    assert_eq!(api.get("/endpoints/strict-shout/jobs").await.ok_json(), json!([]));
    assert_eq!(api.post("/endpoints/no-such-endpoint/jobs", "{}").await.status, 404);
    let error = api.post("/endpoints/strict-shout/jobs?context=nowhere", r#"{"text":"a"}"#).await.error_with(400);
    assert!(error.contains("nowhere"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_hold_what_the_function_printed_and_the_orchestrator_lines() {
    let api = mist().await;
    api.endpoint("logs-shout", "e2e_jobs.py", "shout", "shared").await;
    let id = api.submit("logs-shout", json!({"text": "hello logs"})).await;
    api.wait_done(&id).await;
    let logs = api.logs(&id).await;
    for expected in ["job created", "queued", "started", "shouting hello logs", "finished"] {
        assert!(logs.contains(expected), "no {expected:?} in:\n{logs}");
    }
    let first_line = logs.lines().next().unwrap_or_default();
    assert!(first_line.starts_with("INFO ") && first_line.contains(&format!("[{id}]")), "{first_line}");
    let last_line = logs.lines().last().unwrap_or_default();
    assert!(last_line.contains("] finished after ") && last_line.ends_with('s'), "the end says how long it ran: {last_line}");
    assert!(!logs.contains("mist-worker"), "the worker's own notes stay out of job logs:\n{logs}");
    let offset = logs.find("shouting").unwrap_or(0);
    let rest = api.get(&format!("/jobs/{id}/logs?offset={offset}")).await.text;
    assert!(rest.starts_with("shouting hello logs"), "{rest}");
    assert_eq!(api.get("/jobs/00000000-0000-0000-0000-000000000000/logs").await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_is_newest_first_and_filters_by_status() {
    let api = mist().await;
    api.endpoint("list-quick", "e2e_jobs.py", "quick", "shared").await;
    api.endpoint("list-boom", "e2e_jobs.py", "boom", "shared").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(api.submit("list-quick", json!({})).await);
    }
    let failed = api.submit("list-boom", json!({})).await;
    for id in ids.iter().chain([&failed]) {
        api.wait_done(id).await;
    }
    let listed: Vec<String> = api.get("/endpoints/list-quick/jobs").await.ok_json().as_array().cloned().unwrap_or_default()
        .iter().map(|j| j["jobId"].as_str().unwrap_or_default().to_string()).collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    let page = api.get("/endpoints/list-quick/jobs?limit=1&offset=1&paginate=true").await.ok_json();
    assert_eq!(page["total"], 3);
    assert_eq!(page["jobs"][0]["jobId"], newest_first[1].as_str());
    let failed_jobs = api.get("/jobs?status=failed&limit=1000").await.ok_json();
    assert!(failed_jobs.as_array().is_some_and(|jobs| jobs.iter().any(|j| j["jobId"] == failed.as_str())
        && jobs.iter().all(|j| j["status"] == "failed")));
    let mixed = api.get("/endpoints/list-boom/jobs?status=finished&status=failed").await.ok_json();
    assert_eq!(mixed.as_array().map(Vec::len), Some(1));
    assert_eq!(api.get("/jobs?status=cancelled").await.status, 200);
    assert!(api.get("/jobs?status=done").await.error_with(400).contains("status"));
    assert!(api.get("/jobs?limit=0").await.error_with(400).contains("limit"));
    assert_eq!(api.get("/endpoints/nothing-here/jobs").await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_job_canceled_never_starts() {
    let api = mist().await;
    api.context("cancel-queue", 1, "shared").await;
    api.endpoint("cancel-queued-nap", "e2e_jobs.py", "nap", "cancel-queue").await;
    let running = api.submit("cancel-queued-nap", json!({"seconds": 2.0})).await;
    let waiting = api.submit("cancel-queued-nap", json!({"seconds": 0.1})).await;
    api.wait_status(&running, &["started"]).await;
    let canceled = api.delete(&format!("/jobs/{waiting}")).await.ok_json();
    assert_eq!(canceled["status"], "canceled");
    api.wait_done(&running).await;
    // The slot is free: one more job runs, and the canceled one still never started.
    let after = api.submit("cancel-queued-nap", json!({"seconds": 0.1})).await;
    assert_eq!(api.wait_done(&after).await["status"], "finished");
    let job = api.job(&waiting).await;
    assert_eq!(job["status"], "canceled");
    assert!(job.get("startTime").is_none(), "{job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_started_job_canceled_stops_its_spark_work_and_the_context_keeps_serving() {
    let api = mist().await;
    api.endpoint("cancel-spark-nap", "e2e_jobs.py", "spark_nap", "shared").await;
    api.endpoint("cancel-after-quick", "e2e_jobs.py", "quick", "shared").await;
    let id = api.submit("cancel-spark-nap", json!({"seconds": 120.0})).await;
    api.wait_status(&id, &["started"]).await;
    let answer = api.delete(&format!("/jobs/{id}")).await.ok_json();
    assert!(["cancelling", "canceled"].contains(&answer["status"].as_str().unwrap_or("")), "{answer}");
    let job = api.wait_done(&id).await;
    assert_eq!(job["status"], "canceled");
    assert!(millis(&job, "endTime") - millis(&job, "startTime") < 60_000, "canceled long before the 120 s nap: {job}");
    let after = api.submit("cancel-after-quick", json!({})).await;
    assert_eq!(api.wait_done(&after).await["status"], "finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_ignores_its_cancel_has_its_worker_killed_and_never_stays_cancelling() {
    let api = mist().await;
    api.context("stubborn", 2, "shared").await;
    api.endpoint("stubborn-loop", "e2e_jobs.py", "stubborn", "stubborn").await;
    api.endpoint("stubborn-after", "e2e_jobs.py", "quick", "stubborn").await;
    let id = api.submit("stubborn-loop", json!({})).await;
    let started = api.wait_status(&id, &["started"]).await;
    api.delete(&format!("/jobs/{id}")).await.ok_json();
    let job = api.wait_done(&id).await;
    assert_eq!(job["status"], "canceled");
    assert!(api.logs(&id).await.contains("did not stop within"), "the log says why");
    let old_worker = started["workerId"].as_str().unwrap_or_default().to_string();
    let after = api.submit("stubborn-after", json!({})).await;
    let after = api.wait_done(&after).await;
    assert_eq!(after["status"], "finished");
    assert_ne!(after["workerId"].as_str(), Some(old_worker.as_str()), "a new worker serves the context");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_worker_stops_it_and_fails_its_running_jobs() {
    let api = mist().await;
    api.context("doomed", 2, "shared").await;
    api.endpoint("doomed-nap", "e2e_jobs.py", "nap", "doomed").await;
    let id = api.submit("doomed-nap", json!({"seconds": 120.0})).await;
    let job = api.wait_status(&id, &["started"]).await;
    let worker = job["workerId"].as_str().unwrap_or_default().to_string();
    let info = api.get(&format!("/workers/{worker}")).await.ok_json();
    assert_eq!(info["context"], "doomed");
    assert_eq!(info["initInfo"]["maxJobs"], 2);
    assert_eq!(info["jobs"][0]["jobId"], id.as_str());
    assert!(api.get("/workers").await.ok_json().as_array().is_some_and(|w| w.iter().any(|w| w["name"] == worker.as_str())));
    api.delete(&format!("/workers/{worker}")).await.ok_json();
    let job = api.wait_done(&id).await;
    assert_eq!(job["status"], "failed");
    assert!(job["jobResult"].as_str().unwrap_or_default().contains("worker stopped by request"), "{job}");
    mist_tests::wait_for("the worker to be gone", mist_tests::jobs::JOB_DEADLINE, || async {
        (api.get(&format!("/workers/{worker}")).await.status == 404).then_some(())
    })
    .await;
    assert_eq!(api.delete(&format!("/workers/{worker}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn force_answers_408_with_the_id_when_the_job_outlasts_the_timeout() {
    let api = mist().await;
    api.endpoint("slow-nap", "e2e_jobs.py", "nap", "shared").await;
    let answer = api.post("/endpoints/slow-nap/jobs?force=true&timeout=0.2s", r#"{"seconds": 3.0}"#).await;
    assert_eq!(answer.status, 408);
    let id = answer.json()["id"].as_str().unwrap_or_default().to_string();
    assert!(answer.error().contains(&id));
    assert_eq!(api.wait_done(&id).await["status"], "finished", "the job keeps running after the 408");
}

mod amqp {
    use futures_util::StreamExt;
    use lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::{AMQPValue, FieldTable};
    use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
    use serde_json::{json, Value};
    use std::time::Duration;

    async fn channel() -> (Connection, Channel) {
        let connection = Connection::connect("amqp://guest:guest@127.0.0.1:5672/%2f", ConnectionProperties::default())
            .await
            .expect("the machine's RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        (connection, channel)
    }

    /// A server-named, exclusive queue, bound to `exchange` by `key` when given.
    async fn private_queue(channel: &Channel, bind: Option<(&str, &str)>) -> String {
        let options = QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() };
        let queue = channel.queue_declare("".into(), options, FieldTable::default()).await.expect("a queue");
        let name = queue.name().as_str().to_string();
        if let Some((exchange, key)) = bind {
            channel
                .queue_bind(name.clone().into(), exchange.into(), key.into(), QueueBindOptions::default(), FieldTable::default())
                .await
                .expect("bound");
        }
        name
    }

    async fn request(channel: &Channel, namespace: &str, body: Value, reply_to: &str, correlation: &str) {
        let properties = BasicProperties::default().with_reply_to(reply_to.into()).with_correlation_id(correlation.into());
        channel
            .basic_publish(format!("{namespace}.requests").into(), "run".into(), BasicPublishOptions::default(), body.to_string().as_bytes(), properties)
            .await
            .expect("published")
            .await
            .expect("confirmed");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_run_request_published_to_the_broker_becomes_a_job_and_its_events_follow() {
        let api = super::mist().await;
        let namespace = super::cluster().await.namespace.clone();
        api.endpoint("amqp-shout", "e2e_jobs.py", "shout", "shared").await;
        let (_connection, channel) = channel().await;
        let replies = private_queue(&channel, None).await;
        let events = private_queue(&channel, Some((&format!("{namespace}.events"), "#.amqp-shout"))).await;
        let mut consumer = channel
            .basic_consume(replies.clone().into(), "test".into(), BasicConsumeOptions { no_ack: true, ..Default::default() }, FieldTable::default())
            .await
            .expect("consuming");
        request(&channel, &namespace, json!({"endpointId": "amqp-shout", "parameters": {"text": "via amqp"}, "externalId": "ext-1"}), &replies, "c-1").await;
        let reply = tokio::time::timeout(Duration::from_secs(30), consumer.next()).await.expect("a reply").expect("a delivery").expect("ok");
        assert_eq!(reply.properties.correlation_id().as_ref().map(|c| c.as_str()), Some("c-1"));
        let id = serde_json::from_slice::<Value>(&reply.data).expect("JSON")["id"].as_str().expect("an id").to_string();
        let job = api.wait_done(&id).await;
        assert_eq!((job["status"].as_str(), job["source"].as_str(), job["externalId"].as_str()), (Some("finished"), Some("Amqp"), Some("ext-1")));
        assert_eq!(job["jobResult"], "VIA AMQP");
        let mut seen = Vec::new();
        while !seen.contains(&"finished".to_string()) {
            let message = channel.basic_get(events.clone().into(), BasicGetOptions { no_ack: true }).await.expect("get");
            match message {
                Some(message) => {
                    let event: Value = serde_json::from_slice(&message.delivery.data).expect("JSON event");
                    if event["id"] == id.as_str() && event["event"] != "logs" {
                        seen.push(event["event"].as_str().unwrap_or_default().to_string());
                    }
                }
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        assert_eq!(seen, ["initialized", "queued", "worker-assigned", "started", "finished"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_run_request_that_cannot_become_a_job_is_answered_and_dead_lettered() {
        let namespace = super::cluster().await.namespace.clone();
        let (_connection, channel) = channel().await;
        let replies = private_queue(&channel, None).await;
        let mut consumer = channel
            .basic_consume(replies.clone().into(), "test".into(), BasicConsumeOptions { no_ack: true, ..Default::default() }, FieldTable::default())
            .await
            .expect("consuming");
        request(&channel, &namespace, json!({"endpointId": "no-such-endpoint", "parameters": {}}), &replies, "c-2").await;
        let reply = tokio::time::timeout(Duration::from_secs(30), consumer.next()).await.expect("a reply").expect("a delivery").expect("ok");
        let answer: Value = serde_json::from_slice(&reply.data).expect("JSON");
        assert_eq!(answer, json!({"error": "endpoint no-such-endpoint not found"}));
        let dead = mist_tests::wait_for("the dead letter", Duration::from_secs(30), || async {
            channel.basic_get(format!("{namespace}.requests.dead").into(), BasicGetOptions { no_ack: true }).await.ok().flatten()
        })
        .await;
        let header = dead.delivery.properties.headers().as_ref().and_then(|h| h.inner().get("x-mist-error").cloned());
        assert!(matches!(header, Some(AMQPValue::LongString(ref text)) if text.to_string().contains("no-such-endpoint")), "{header:?}");
        let letter: Value = serde_json::from_slice(&dead.delivery.data).expect("JSON");
        assert_eq!(letter["request"]["endpointId"], "no-such-endpoint");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_over_its_perform_timeout_fails_naming_the_limit_and_its_spark_work_stops() {
    let api = mist().await;
    api.endpoint("timeout-spark-nap", "e2e_jobs.py", "spark_nap", "shared").await;
    let answer = api.post("/endpoints/timeout-spark-nap/jobs?performTimeout=2s", r#"{"seconds": 120.0}"#).await.ok_json();
    let job = api.wait_done(answer["id"].as_str().unwrap_or_default()).await;
    assert_eq!(job["status"], "failed");
    assert!(job["jobResult"].as_str().unwrap_or_default().contains("longer than 2s (performTimeout)"), "{job}");
    assert!(millis(&job, "endTime") - millis(&job, "startTime") < 60_000, "stopped long before its 120 s: {job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_cannot_start_within_its_start_timeout_fails_naming_the_limit() {
    let api = mist().await;
    api.context("late-start", 1, "shared").await;
    api.endpoint("late-start-nap", "e2e_jobs.py", "nap", "late-start").await;
    let busy = api.submit("late-start-nap", json!({"seconds": 4.0})).await;
    api.wait_status(&busy, &["started"]).await;
    let answer = api.post("/endpoints/late-start-nap/jobs?startTimeout=1s", r#"{"seconds": 0.1}"#).await.ok_json();
    let late = api.wait_done(answer["id"].as_str().unwrap_or_default()).await;
    assert_eq!(late["status"], "failed");
    assert!(late["jobResult"].as_str().unwrap_or_default().contains("did not start within 1s (startTimeout)"), "{late}");
    assert!(late.get("startTime").is_none());
    assert_eq!(api.wait_done(&busy).await["status"], "finished");
    assert!(api.post("/endpoints/late-start-nap/jobs?startTimeout=soon", "{}").await.error_with(400).contains("startTimeout"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_can_ask_for_a_live_worker_of_its_context() {
    let api = mist().await;
    api.context("pinned", 2, "shared").await;
    api.endpoint("pinned-quick", "e2e_jobs.py", "quick", "pinned").await;
    let first = api.submit("pinned-quick", json!({})).await;
    let worker = api.wait_done(&first).await["workerId"].as_str().unwrap_or_default().to_string();
    let answer = api.post(&format!("/endpoints/pinned-quick/jobs?workerId={worker}"), "{}").await.ok_json();
    let job = api.wait_done(answer["id"].as_str().unwrap_or_default()).await;
    assert_eq!(job["workerId"].as_str(), Some(worker.as_str()));
    let error = api.post("/endpoints/pinned-quick/jobs?workerId=no-such-worker", "{}").await.error_with(400);
    assert!(error.contains("no-such-worker"), "{error}");
}
