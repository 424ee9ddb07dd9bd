//! Nothing lost, nothing stuck: each scenario kills, stops or cuts off one part at a bad
//! moment, with the real binaries, services and Spark, and checks that every accepted job
//! ends in a done state with the right reason (or runs after recovery), none runs twice,
//! and none stays `started` or `cancelling`. Recovery times are printed as
//! `RECOVERY <scenario>: <ms>` lines (docs/failures.md collects them).

use std::time::{Duration, Instant};

use serde_json::json;

use mist_tests::cluster::{AGENT, API, DISPATCHER};
use mist_tests::faults::scenario::{
    cluster, deploy, error_of, next_job_runs_on_a_new_worker, report, restart_while_the_worker_starts, starts, submit_once_accepted,
    worker_jvm, workers_of,
};
use mist_tests::faults::{process, PrivateRabbit, PrivateRedis, TcpProxy};

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_killed_while_its_job_runs_fails_the_job_and_waiting_jobs_run_on_its_successor() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 120.0})).await;
    api.wait_status(&running, &["started"]).await;
    let killed = Instant::now();
    mist.kill(AGENT);
    let job = api.wait_done(&running).await;
    report("agent kill -9, running job failed", killed);
    assert_eq!(job["status"], "failed");
    assert!(error_of(&job).contains("lost"), "{job}");
    let waiting = api.submit("quick", json!({})).await;
    assert_eq!(api.job(&waiting).await["status"], "queued", "no agent: the job waits");
    let restarted = Instant::now();
    mist.spawn(AGENT);
    let job = api.wait_done(&waiting).await;
    report("agent restart, waiting job finished", restarted);
    assert_eq!(job["status"], "finished");
    assert_eq!(starts(&api, &waiting).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_paused_past_its_heartbeat_timeout_is_replaced_and_never_runs_a_second_driver() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 8.0})).await;
    let started = api.wait_status(&running, &["started"]).await;
    let old_worker = started["workerId"].as_str().unwrap_or_default().to_string();
    let agent = mist.pid(AGENT);
    let drivers_before = process::descendants_of(agent);
    process::sigstop(agent).expect("SIGSTOP");
    let paused = Instant::now();
    let job = api.wait_done(&running).await;
    report("agent SIGSTOP, running job failed", paused);
    assert_eq!(job["status"], "failed");
    process::sigcont(agent).expect("SIGCONT");
    // Once it notices it was declared lost, the agent stops the driver it had.
    let resumed = Instant::now();
    for pid in drivers_before {
        assert!(process::wait_gone(pid, Duration::from_secs(60)).await, "the old driver {pid} is gone");
    }
    report("agent SIGCONT, old driver gone", resumed);
    let after = api.submit("quick", json!({})).await;
    let after = api.wait_done(&after).await;
    assert_eq!(after["status"], "finished");
    assert_ne!(after["workerId"].as_str(), Some(old_worker.as_str()));
    assert_eq!(api.job(&running).await["status"], "failed", "the late end of the old attempt changes nothing");
    assert_eq!(workers_of(&api, "ctx").await, 1, "one driver for the shared context");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_job_fails_it_with_the_reason_and_the_next_job_gets_a_new_worker() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 120.0})).await;
    let started = api.wait_status(&running, &["started"]).await;
    let driver = worker_jvm(&mist).await;
    let killed = Instant::now();
    process::sigkill(driver).expect("SIGKILL");
    let job = api.wait_done(&running).await;
    report("worker kill -9, running job failed", killed);
    assert_eq!(job["status"], "failed");
    assert!(error_of(&job).contains("exited unexpectedly"), "{job}");
    next_job_runs_on_a_new_worker(&api, &started).await;
    report("worker kill -9, next job finished on a new worker", killed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_lost_with_its_worker_is_retried_when_its_endpoint_asks() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let body = json!({"name": "nap-retried", "path": "e2e_jobs.py", "className": "nap", "defaultContext": "ctx", "retries": 1, "retryBackoff": "0.5s"});
    let endpoint = api.post("/endpoints", &body.to_string()).await.ok_json();
    assert_eq!((endpoint["retries"].as_u64(), endpoint["retryBackoff"].as_str()), (Some(1), Some("0.5s")));
    let id = api.submit("nap-retried", json!({"seconds": 6.0})).await;
    api.wait_status(&id, &["started"]).await;
    let driver = worker_jvm(&mist).await;
    let killed = Instant::now();
    process::sigkill(driver).expect("SIGKILL");
    let job = api.wait_done(&id).await;
    report("worker kill -9, retried job finished", killed);
    assert_eq!((job["status"].as_str(), job["attempt"].as_u64()), (Some("finished"), Some(2)), "{job}");
    let logs = api.logs(&id).await;
    assert!(logs.contains("attempt 1 failed") && logs.contains("attempt 2 of 2"), "{logs}");
    assert_eq!(starts(&api, &id).await, 2, "one start per attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatcher_killed_with_jobs_queued_loses_none_and_runs_none_twice() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    api.context("one", 1, "shared").await;
    api.endpoint("nap-one", "e2e_jobs.py", "nap", "one").await;
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(api.submit("nap-one", json!({"seconds": 1.0})).await);
        }
        ids
    };
    api.wait_status(&ids[0], &["started"]).await;
    let killed = Instant::now();
    mist.kill(DISPATCHER);
    let late = api.submit("nap-one", json!({"seconds": 0.1})).await;
    mist.spawn(DISPATCHER);
    for id in ids.iter().chain([&late]) {
        let job = api.wait_done(id).await;
        assert_eq!(job["status"], "finished", "{job}");
        assert_eq!(starts(&api, id).await, 1, "job {id} ran once");
    }
    report("dispatcher kill -9 and restart, all queued jobs finished", killed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_dispatcher_takes_over_when_the_active_one_dies() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    mist.spawn_as("standby", DISPATCHER, &[]);
    assert_eq!(api.post("/endpoints/quick/jobs?force=true", "{}").await.ok_json()["success"], true);
    let killed = Instant::now();
    mist.kill(DISPATCHER);
    let id = api.submit("quick", json!({})).await;
    let job = api.wait_done(&id).await;
    report("active dispatcher kill -9, standby ran the next job", killed);
    assert_eq!(job["status"], "finished");
    assert!(std::fs::read_to_string(mist.dir.join("standby.log")).unwrap_or_default().contains("holds the lease"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_killed_and_restarted_loses_no_accepted_job() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let ids = [api.submit("nap", json!({"seconds": 2.0})).await, api.submit("quick", json!({})).await];
    let killed = Instant::now();
    mist.kill(API);
    assert!(api.client.get(format!("{}/v2/api/status", mist.base)).send().await.is_err(), "the API is down");
    mist.spawn(API);
    mist.wait_for_status("the API is back", Duration::from_secs(30), |_| true).await;
    report("api kill -9, API answering again", killed);
    for id in &ids {
        assert_eq!(api.wait_done(id).await["status"], "finished");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rabbitmq_restart_refuses_new_work_meanwhile_and_finishes_accepted_jobs() {
    let rabbit = PrivateRabbit::start().await;
    let url = rabbit.url();
    let mist = cluster(&[("MIST__AMQP__URL", &url)]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 4.0})).await;
    api.wait_status(&running, &["started"]).await;
    let down = Instant::now();
    rabbit.kill();
    let refused = api.post("/endpoints/quick/jobs", "{}").await;
    assert_eq!(refused.status, 503);
    assert!(refused.error().contains("RabbitMQ"), "{refused:?}");
    assert_eq!(api.get(&format!("/jobs/{running}")).await.status, 200, "reads still answer");
    rabbit.restart().await;
    let back = Instant::now();
    let job = api.wait_done(&running).await;
    assert_eq!(job["status"], "finished", "a job accepted before the outage finishes: {job}");
    let after = submit_once_accepted(&api).await;
    assert_eq!(api.wait_done(&after).await["status"], "finished");
    report("RabbitMQ kill and restart, new job finished after restart", back);
    report("RabbitMQ outage, from kill to a finished new job", down);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_with_persistence_loses_no_job() {
    let redis = PrivateRedis::start().await;
    let url = redis.url();
    let mist = cluster(&[("MIST__REDIS__URL", &url)]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 4.0})).await;
    let queued = api.submit("nap", json!({"seconds": 0.2})).await;
    api.wait_status(&running, &["started"]).await;
    let down = Instant::now();
    redis.kill();
    let refused = api.post("/endpoints/quick/jobs", "{}").await;
    assert_eq!(refused.status, 503);
    assert!(refused.error().contains("Redis"), "{refused:?}");
    redis.restart().await;
    for id in [&running, &queued] {
        let job = api.wait_done(id).await;
        assert_eq!(job["status"], "finished", "{job}");
    }
    report("Redis kill and restart (AOF), accepted jobs finished", down);
    let after = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&after).await["status"], "finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn cut_connections_to_rabbitmq_are_reopened_and_jobs_keep_flowing() {
    let proxy = TcpProxy::start("127.0.0.1:5672");
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port());
    let mist = cluster(&[("MIST__AMQP__URL", &url)]).await;
    let api = mist.api();
    deploy(&api).await;
    let running = api.submit("nap", json!({"seconds": 3.0})).await;
    api.wait_status(&running, &["started"]).await;
    let cut = Instant::now();
    proxy.cut();
    let job = api.wait_done(&running).await;
    assert_eq!(job["status"], "finished", "{job}");
    let after = submit_once_accepted(&api).await;
    assert_eq!(api.wait_done(&after).await["status"], "finished");
    report("all RabbitMQ connections cut, next job finished", cut);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_context_whose_workers_keep_failing_to_start_breaks_until_it_is_updated() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let broken = json!({"name": "bad", "maxConnFailures": 2, "runOptions": "--no-such-spark-option",
        "sparkConf": {"spark.master": "local[1]", "spark.ui.enabled": "false"}});
    api.post("/contexts", &broken.to_string()).await.ok_json();
    api.endpoint("quick-bad", "e2e_jobs.py", "quick", "bad").await;
    for _ in 0..2 {
        let id = api.submit("quick-bad", json!({})).await;
        let job = api.wait_done(&id).await;
        assert_eq!(job["status"], "failed");
        assert!(error_of(&job).contains("exited"), "{job}");
    }
    let refused = api.post("/endpoints/quick-bad/jobs", "{}").await.error_with(409);
    assert!(refused.starts_with("context bad is broken:") && refused.ends_with("update it to try again"), "{refused}");
    let fixed = json!({"name": "bad", "maxConnFailures": 2, "sparkConf": {"spark.master": "local[1]", "spark.ui.enabled": "false"}});
    api.put("/contexts/bad", &fixed.to_string()).await.ok_json();
    let id = api.submit("quick-bad", json!({})).await;
    assert_eq!(api.wait_done(&id).await["status"], "finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_killed_while_its_worker_starts_leaves_the_job_waiting_and_it_runs_once_on_the_next_agent() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let (_, killed) = restart_while_the_worker_starts(&mist, &api, AGENT).await;
    report("agent kill -9 while its worker starts, job finished on the restarted agent", killed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_dispatcher_is_replaced_by_its_standby_and_steps_down_when_resumed() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    mist.spawn_as("standby", DISPATCHER, &[]);
    assert_eq!(api.post("/endpoints/quick/jobs?force=true", "{}").await.ok_json()["success"], true);
    let active = mist.pid(DISPATCHER);
    process::sigstop(active).expect("SIGSTOP");
    let paused = Instant::now();
    let id = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&id).await["status"], "finished");
    report("active dispatcher SIGSTOP, standby ran the next job", paused);
    process::sigcont(active).expect("SIGCONT");
    let log = mist.dir.join("mist-dispatcher.log");
    mist_tests::wait_for("the resumed dispatcher to step down", Duration::from_secs(30), || async {
        std::fs::read_to_string(&log).unwrap_or_default().contains("standing by").then_some(())
    })
    .await;
    let ids = [api.submit("quick", json!({})).await, api.submit("quick", json!({})).await];
    for id in &ids {
        assert_eq!(api.wait_done(id).await["status"], "finished");
        assert_eq!(starts(&api, id).await, 1, "one dispatcher acts: job {id} ran once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_worker_cannot_hold_a_cancelled_job_past_the_grace_period() {
    let mist = cluster(&[]).await;
    let api = mist.api();
    deploy(&api).await;
    let id = api.submit("nap", json!({"seconds": 120.0})).await;
    api.wait_status(&id, &["started"]).await;
    let driver = process::find_descendant(mist.pid(AGENT), "mist_worker.py").expect("the worker's Python driver");
    process::sigstop(driver).expect("SIGSTOP");
    let cancelled = Instant::now();
    api.delete(&format!("/jobs/{id}")).await.ok_json();
    let job = api.wait_done(&id).await;
    report("worker SIGSTOP, cancelled job canceled (worker killed after the grace period)", cancelled);
    assert_eq!(job["status"], "canceled");
    let next = api.submit("quick", json!({})).await;
    assert_eq!(api.wait_done(&next).await["status"], "finished", "the context keeps serving");
}
