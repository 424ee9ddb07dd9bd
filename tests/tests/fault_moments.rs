//! Each part killed or paused at the bad moments of a job's life — queued (the request on
//! its way), starting (its worker's driver coming up), running, finishing (the result in
//! hand, not yet recorded or not yet acted on) — where `faults.rs` does not already. A
//! moment too short to hit from outside is held open with a fault point
//! (`mist_common::fault`, set through `FAILPOINTS`). Each scenario checks that every
//! accepted job ends in a done state with the right reason or runs after recovery, that
//! none runs twice, and that none stays `started` or `cancelling`.

use std::time::{Duration, Instant};

use serde_json::json;

use mist_tests::cluster::{AGENT, API, DISPATCHER};
use mist_tests::faults::process;
use mist_tests::faults::scenario::{
    all_done, cluster, deploy, error_of, next_job_runs_on_a_new_worker, report, restart_while_the_worker_starts, starts, worker_jvm,
    workers_of,
};

/// What a fault point logs when it fires.
fn reached(point: &str) -> String {
    format!("fault point {point} reached")
}

const MOMENT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread")]
async fn an_api_killed_between_writing_a_job_and_queueing_it_leaves_a_job_that_still_runs_once() {
    let mist = cluster(&[("FAILPOINTS", "api.before_publish=1*return(60000)")]).await;
    let api = mist.api();
    deploy(&api).await;
    let url = api.url("/endpoints/quick/jobs");
    let client = api.client.clone();
    let call = tokio::spawn(async move { client.post(url).body("{}").send().await });
    mist.wait_for_log(API, &reached("api.before_publish"), MOMENT).await;
    let killed = Instant::now();
    mist.kill(API);
    assert!(call.await.expect("the call's task").is_err(), "the client got no answer");
    mist.spawn(API);
    mist.wait_for_status("the API is back", Duration::from_secs(30), |_| true).await;
    // The record was written, its request never published: the dispatcher adopts it.
    let listed = api.get("/jobs").await.ok_json();
    let id = listed[0]["jobId"].as_str().expect("the job the killed API wrote").to_string();
    let job = api.wait_done(&id).await;
    report("api kill -9 between record and publish, job adopted and finished", killed);
    assert_eq!(job["status"], "finished", "{job}");
    assert_eq!(starts(&api, &id).await, 1);
    assert_eq!(api.get("/jobs").await.ok_json().as_array().map(Vec::len), Some(1), "no other record");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_killed_while_a_caller_waits_for_the_result_leaves_the_job_to_finish() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let url = api.url("/endpoints/nap/jobs?force=true");
    let client = api.client.clone();
    let call = tokio::spawn(async move { client.post(url).body(r#"{"seconds": 4.0}"#).send().await });
    let id = mist_tests::wait_for("the waited-for job to start", MOMENT, || async {
        let listed = api.get("/jobs?status=started").await.ok_json();
        listed[0]["jobId"].as_str().map(str::to_string)
    })
    .await;
    let killed = Instant::now();
    mist.kill(API);
    assert!(call.await.expect("the call's task").is_err(), "the caller lost its answer");
    mist.spawn(API);
    mist.wait_for_status("the API is back", Duration::from_secs(30), |_| true).await;
    let job = api.wait_done(&id).await;
    report("api kill -9 during a force=true wait, job finished", killed);
    assert_eq!((job["status"].as_str(), job["jobResult"].as_f64()), (Some("finished"), Some(4.0)), "{job}");
    assert_eq!(starts(&api, &id).await, 1);
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_paused_leaves_a_second_instance_serving_and_answers_its_waiting_caller_when_resumed() {
    let mist = cluster(&[]).await;
    let first = mist.api();
    deploy(&first).await;
    let second = mist.spawn_api("mist-api-2").await;
    let url = first.url("/endpoints/nap/jobs?force=true&timeout=120s");
    let client = first.client.clone();
    let waiting = tokio::spawn(async move { client.post(url).body(r#"{"seconds": 3.0}"#).send().await?.json::<serde_json::Value>().await });
    let id = mist_tests::wait_for("the waited-for job to start", MOMENT, || async {
        let listed = second.get("/jobs?status=started").await.ok_json();
        listed[0]["jobId"].as_str().map(str::to_string)
    })
    .await;
    let paused_api = mist.pid(API);
    process::sigstop(paused_api).expect("SIGSTOP");
    // The other instance serves everything meanwhile: reads, new jobs, cancels.
    assert_eq!(second.wait_done(&id).await["status"], "finished");
    let asked = Instant::now();
    let answer = second.post("/endpoints/quick/jobs?force=true", "{}").await.ok_json();
    report("api SIGSTOP, the other instance ran a force=true job", asked);
    assert_eq!((answer["success"].as_bool(), answer["payload"].as_i64()), (Some(true), Some(45)), "{answer}");
    let long = second.submit("nap", json!({"seconds": 120.0})).await;
    second.wait_status(&long, &["started"]).await;
    second.delete(&format!("/jobs/{long}")).await.ok_json();
    assert_eq!(second.wait_done(&long).await["status"], "canceled");
    process::sigcont(paused_api).expect("SIGCONT");
    let answer = waiting.await.expect("the call's task").expect("the resumed API answers its caller");
    assert_eq!((answer["success"].as_bool(), answer["payload"].as_f64()), (Some(true), Some(3.0)), "{answer}");
    assert_eq!(first.job(&long).await["status"], "canceled", "both instances see the same jobs");
    assert_eq!(starts(&first, &id).await, 1);
    all_done(&first).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_killed_with_a_result_in_hand_fails_the_job_as_lost_and_its_successor_serves() {
    let mist = cluster(&[("FAILPOINTS", "agent.before_end=1*return(60000)")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    mist.wait_for_log(AGENT, &reached("agent.before_end"), MOMENT).await;
    let killed = Instant::now();
    mist.kill(AGENT);
    let job = api.wait_done(&id).await;
    report("agent kill -9 while finishing, job failed as lost", killed);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(error_of(&job).contains("lost"), "{job}");
    assert_eq!(starts(&api, &id).await, 1);
    mist.spawn(AGENT);
    let next = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&next).await["status"], "finished");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_paused_while_its_worker_starts_keeps_the_job_waiting_and_it_runs_once_on_one_driver() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    worker_jvm(&mist).await;
    let agent = mist.pid(AGENT);
    let first_driver = process::descendants_of(agent);
    process::sigstop(agent).expect("SIGSTOP");
    let paused = Instant::now();
    mist.wait_for_status("the paused agent to be declared lost", MOMENT, |s| s["agents"].as_u64() == Some(0)).await;
    assert_eq!(api.job(&id).await["status"], "queued", "a job that never started is not failed");
    process::sigcont(agent).expect("SIGCONT");
    let job = api.wait_done(&id).await;
    report("agent SIGSTOP while its worker starts, job finished after SIGCONT", paused);
    assert_eq!(job["status"], "finished", "{job}");
    assert_eq!(starts(&api, &id).await, 1);
    for pid in first_driver {
        assert!(process::wait_gone(pid, MOMENT).await, "the driver started in the agent's earlier life ({pid}) is gone");
    }
    assert_eq!(workers_of(&api, "ctx").await, 1, "one driver for the shared context");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_while_it_starts_fails_its_waiting_job_with_the_reason_and_the_next_job_gets_a_new_one() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    let driver = worker_jvm(&mist).await;
    let killed = Instant::now();
    process::sigkill(driver).expect("SIGKILL");
    let job = api.wait_done(&id).await;
    report("worker kill -9 while starting, waiting job failed", killed);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(error_of(&job).contains("exited"), "the reason names the worker's exit: {job}");
    assert_eq!(starts(&api, &id).await, 0, "it never started");
    let next = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&next).await["status"], "finished");
    report("worker kill -9 while starting, next job finished on a new worker", killed);
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_after_handing_over_its_result_leaves_the_job_finished() {
    let mist = cluster(&[("FAILPOINTS", "agent.before_end=1*return(3000)")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    mist.wait_for_log(AGENT, &reached("agent.before_end"), MOMENT).await;
    let driver = worker_jvm(&mist).await;
    let killed = Instant::now();
    process::sigkill(driver).expect("SIGKILL");
    let job = api.wait_done(&id).await;
    report("worker kill -9 while finishing, job recorded finished", killed);
    assert_eq!((job["status"].as_str(), job["jobResult"].as_i64()), (Some("finished"), Some(45)), "the result was in hand: {job}");
    next_job_runs_on_a_new_worker(&api, &job).await;
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_worker_fails_its_job_at_the_perform_timeout_and_is_replaced() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.post("/endpoints/nap/jobs?performTimeout=4s", r#"{"seconds": 60.0}"#).await.ok_json()["id"].as_str().map(str::to_string).expect("an id");
    let started = api.wait_status(&id, &["started"]).await;
    let driver = process::find_descendant(mist.pid(AGENT), "mist_worker.py").expect("the worker's Python driver");
    process::sigstop(driver).expect("SIGSTOP");
    let paused = Instant::now();
    let job = api.wait_done(&id).await;
    report("worker SIGSTOP while running, job failed at performTimeout (+ grace)", paused);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(error_of(&job).contains("performTimeout"), "{job}");
    next_job_runs_on_a_new_worker(&api, &started).await;
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatcher_killed_while_a_worker_starts_is_succeeded_without_a_second_driver() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let (_, killed) = restart_while_the_worker_starts(&mist, &api, DISPATCHER).await;
    report("dispatcher kill -9 while a worker starts, job finished", killed);
    assert_eq!(workers_of(&api, "ctx").await, 1, "the restarted dispatcher used the worker that was starting");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatcher_killed_while_jobs_run_and_end_frees_their_slots_after_restart() {
    let mist = cluster(&[("FAILPOINTS", "dispatcher.on_job_end=1*return(60000)")]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 3.0})).await;
    api.wait_status(&running, &["started"]).await;
    mist.kill(DISPATCHER);
    mist.spawn(DISPATCHER);
    // Running while the dispatcher restarted; its end now reaches the new one, which is
    // killed with that end in hand.
    let job = api.wait_done(&running).await;
    assert_eq!(job["status"], "finished", "{job}");
    mist.wait_for_log(DISPATCHER, &reached("dispatcher.on_job_end"), MOMENT).await;
    let killed = Instant::now();
    mist.kill(DISPATCHER);
    mist.spawn_as(DISPATCHER, DISPATCHER, &[("FAILPOINTS", "")]);
    // Both of the context's two slots are free: two long jobs run side by side.
    let pair = [api.submit("nap", json!({"seconds": 30.0})).await, api.submit("nap", json!({"seconds": 30.0})).await];
    for id in &pair {
        api.wait_status(id, &["started"]).await;
    }
    report("dispatcher kill -9 while finishing, both slots running again", killed);
    assert_eq!(starts(&api, &running).await, 1);
    for id in &pair {
        api.delete(&format!("/jobs/{id}")).await.ok_json();
    }
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_command_lost_on_its_way_to_the_agent_is_sent_again_and_runs_once() {
    let mist = cluster(&[("FAILPOINTS", "dispatcher.send_run_job=1*return")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    mist.wait_for_log(DISPATCHER, &reached("dispatcher.send_run_job"), MOMENT).await;
    let lost = Instant::now();
    let job = api.wait_done(&id).await;
    report("job command lost, job sent again and finished", lost);
    assert_eq!(job["status"], "finished", "{job}");
    assert_eq!(starts(&api, &id).await, 1);
    let log = std::fs::read_to_string(mist.dir.join("mist-dispatcher.log")).unwrap_or_default();
    assert!(log.contains("has not started; sending it again"), "the dispatcher resent it");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_paused_with_a_result_in_hand_has_the_job_failed_as_lost_and_its_late_end_changes_nothing() {
    let mist = cluster(&[("FAILPOINTS", "agent.before_end=1*return(2000)")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    mist.wait_for_log(AGENT, &reached("agent.before_end"), MOMENT).await;
    let agent = mist.pid(AGENT);
    process::sigstop(agent).expect("SIGSTOP");
    let paused = Instant::now();
    let job = api.wait_done(&id).await;
    report("agent SIGSTOP while finishing, job failed as lost", paused);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(error_of(&job).contains("lost"), "{job}");
    process::sigcont(agent).expect("SIGCONT");
    // Resumed, it finishes recording the end it held — too late — and registers anew.
    mist.wait_for_status("the agent to register again", MOMENT, |s| s["agents"].as_u64() == Some(1)).await;
    let next = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&next).await["status"], "finished");
    assert_eq!(api.job(&id).await["status"], "failed", "done is final");
    assert_eq!(starts(&api, &id).await, 1);
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatcher_paused_while_a_job_runs_takes_its_end_when_resumed_and_goes_on() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 2.0})).await;
    api.wait_status(&running, &["started"]).await;
    let dispatcher = mist.pid(DISPATCHER);
    process::sigstop(dispatcher).expect("SIGSTOP");
    // The job ends while nobody dispatches: its end is recorded by the agent regardless.
    assert_eq!(api.wait_done(&running).await["status"], "finished");
    let waiting = api.submit("quick", json!({})).await;
    assert_eq!(api.job(&waiting).await["status"], "queued");
    process::sigcont(dispatcher).expect("SIGCONT");
    let resumed = Instant::now();
    let job = api.wait_done(&waiting).await;
    report("dispatcher SIGSTOP while a job runs, a job queued meanwhile finished after SIGCONT", resumed);
    assert_eq!(job["status"], "finished", "{job}");
    assert_eq!((starts(&api, &running).await, starts(&api, &waiting).await), (1, 1));
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_lost_on_its_way_to_the_agent_is_sent_again_and_the_job_does_not_stay_cancelling() {
    let mist = cluster(&[("FAILPOINTS", "dispatcher.send_cancel_job=1*return")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("spark_nap", json!({"seconds": 120.0})).await;
    api.wait_status(&id, &["started"]).await;
    api.delete(&format!("/jobs/{id}")).await.ok_json();
    mist.wait_for_log(DISPATCHER, &reached("dispatcher.send_cancel_job"), MOMENT).await;
    let lost = Instant::now();
    let job = api.wait_done(&id).await;
    report("cancel lost, sent again and the job canceled", lost);
    assert_eq!(job["status"], "canceled", "{job}");
    let log = std::fs::read_to_string(mist.dir.join("mist-dispatcher.log")).unwrap_or_default();
    assert!(log.contains("a cancelled job is still running; cancelling it again"), "the dispatcher cancelled it again");
    all_done(&api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_paused_while_it_starts_is_killed_at_the_start_timeout_and_its_job_fails_naming_it() {
    let mist = cluster(&[("MIST__AGENT__START_TIMEOUT", "6s")]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("quick", json!({})).await;
    let jvm = worker_jvm(&mist).await;
    process::sigstop(jvm).expect("SIGSTOP");
    let paused = Instant::now();
    let job = api.wait_done(&id).await;
    report("worker SIGSTOP while starting, job failed at agent.start_timeout", paused);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(error_of(&job).contains("did not come up within 6s (agent.start_timeout)"), "{job}");
    assert!(process::wait_gone(jvm, MOMENT).await, "the paused JVM was killed");
    assert_eq!(starts(&api, &id).await, 0, "it never started");
    all_done(&api).await;
}
