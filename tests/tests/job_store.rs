//! The job store against the real Redis: the forward-only state machine, the listing
//! indexes, bounded logs and history retention.

use mist_common::config::Settings;
use mist_common::model::job::{JobDetails, JobParams, JobStatus, Source};
use mist_common::model::messages::{ArtifactRef, JobRequest};
use mist_common::store::jobs::{JobQuery, Moved, Transition};
use mist_common::store::Store;

struct Scratch {
    store: Store,
}

impl Scratch {
    fn new() -> Self {
        let namespace = mist_tests::fresh_namespace();
        let settings = Settings::load(None, &[("namespace", &namespace)]).expect("settings");
        Self { store: Store::new(&settings.redis, &namespace).expect("store") }
    }

    /// A queued job of `endpoint` created at `time`.
    async fn job(&self, id: &str, endpoint: &str, time: i64) {
        let settings = Settings::load(None, &[]).expect("settings");
        let details = JobDetails {
            job_id: id.into(),
            endpoint: endpoint.into(),
            function: endpoint.into(),
            context: "default".into(),
            params: JobParams { file_path: "f.py".into(), class_name: "f".into(), arguments: Default::default(), action: "execute".into() },
            external_id: None,
            source: Source::Http,
            create_time: time,
            start_time: None,
            end_time: None,
            status: JobStatus::Queued,
            job_result: None,
            worker_id: None,
            attempt: 1,
        };
        let request = JobRequest {
            job_id: id.into(),
            endpoint: endpoint.into(),
            context: settings.default_context().into(),
            artifact: ArtifactRef { name: "f.py".into(), sha1: "0".into() },
            class_name: "f".into(),
            arguments: Default::default(),
            worker_id: None,
            create_time: time,
            start_timeout_ms: None,
            perform_timeout_ms: None,
            attempt: 1,
            retry: Default::default(),
        };
        self.store.create_job(&details, &request, "INFO created\n").await.expect("create");
    }

    async fn move_to(&self, id: &str, status: JobStatus) -> Moved {
        self.store.transition(&Transition::to(id, status).set("endTime", 5)).await.expect("transition")
    }

    async fn page(&self, endpoint: Option<&str>, statuses: &[JobStatus], limit: usize, offset: usize) -> (Vec<String>, u64) {
        let query = JobQuery { endpoint: endpoint.map(str::to_string), statuses: statuses.to_vec(), limit, offset };
        let (jobs, total) = self.store.list_jobs(&query).await.expect("list");
        (jobs.into_iter().map(|j| j.job_id).collect(), total)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let store = self.store.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().map(|rt| rt.block_on(store.wipe_namespace()))
        })
        .join();
    }
}

#[tokio::test]
async fn a_status_moves_only_forward_and_done_is_final() {
    let s = Scratch::new();
    s.job("j", "e", 1).await;
    assert_eq!(s.move_to("j", JobStatus::Started).await, Moved::Yes(JobStatus::Queued));
    assert_eq!(s.move_to("j", JobStatus::Queued).await, Moved::Refused(JobStatus::Started), "no way back");
    assert_eq!(s.move_to("j", JobStatus::Canceled).await, Moved::Yes(JobStatus::Started));
    assert_eq!(s.move_to("j", JobStatus::Finished).await, Moved::Refused(JobStatus::Canceled), "a late finished never overwrites canceled");
    assert_eq!(s.move_to("nope", JobStatus::Started).await, Moved::Missing);
    let job = s.store.get_job("j").await.expect("get").expect("exists");
    assert_eq!(job.status, JobStatus::Canceled);
    assert_eq!(s.page(None, &[JobStatus::Canceled], 10, 0).await, (vec!["j".to_string()], 1));
    assert_eq!(s.page(None, &[JobStatus::Started], 10, 0).await, (vec![], 0), "the status indexes follow");
}

#[tokio::test]
async fn a_transition_can_require_where_it_comes_from() {
    let s = Scratch::new();
    s.job("j", "e", 1).await;
    s.move_to("j", JobStatus::Started).await;
    let from_queued = Transition::to("j", JobStatus::Canceled).from(&[JobStatus::Queued]);
    assert_eq!(s.store.transition(&from_queued).await.expect("transition"), Moved::Refused(JobStatus::Started));
}

#[tokio::test]
async fn listing_pages_newest_first_across_statuses_and_endpoints() {
    let s = Scratch::new();
    for (i, endpoint) in ["a", "b", "a", "b", "a"].iter().enumerate() {
        s.job(&format!("j{i}"), endpoint, 100 + i as i64).await;
    }
    s.move_to("j0", JobStatus::Failed).await;
    s.move_to("j3", JobStatus::Finished).await;
    s.move_to("j4", JobStatus::Failed).await;
    assert_eq!(s.page(None, &[], 2, 1).await, (vec!["j3".into(), "j2".into()], 5));
    assert_eq!(s.page(Some("a"), &[], 10, 0).await, (vec!["j4".into(), "j2".into(), "j0".into()], 3));
    assert_eq!(s.page(None, &[JobStatus::Failed, JobStatus::Finished], 2, 1).await, (vec!["j3".into(), "j0".into()], 3));
    assert_eq!(s.page(Some("a"), &[JobStatus::Failed], 10, 0).await, (vec!["j4".into(), "j0".into()], 2));
}

#[tokio::test]
async fn logs_are_bounded_with_a_line_that_says_so() {
    let s = Scratch::new();
    s.job("j", "e", 1).await;
    let line = "INFO x [j] ".to_string() + &"y".repeat(80) + "\n";
    for _ in 0..50 {
        s.store.append_log("j", &line, 1024).await.expect("append");
    }
    let log = s.store.read_log("j", 0).await.expect("read").expect("exists");
    assert!(log.len() < 1024 + 300, "bounded: {} bytes", log.len());
    assert!(log.ends_with("the function's further output is not kept\n"), "{log}");
    assert_eq!(log.matches("log cut at").count(), 1);
    let tail = s.store.read_log("j", 12).await.expect("read").expect("exists");
    assert_eq!(tail, log[12..]);
}

#[tokio::test]
async fn a_cut_log_keeps_no_later_output_even_when_it_would_fit() {
    let s = Scratch::new();
    s.job("j", "e", 1).await;
    let long = "INFO ".to_string() + &"y".repeat(600) + "\n";
    s.store.append_log("j", &long, 1024).await.expect("append");
    // Cut with nothing of the second line kept: the log is well under its limit.
    s.store.append_log("j", &long, 1024).await.expect("append");
    let cut = s.store.read_log("j", 0).await.expect("read").expect("exists");
    assert!(cut.len() < 1024 && cut.ends_with("the function's further output is not kept\n"), "{cut}");
    // A marker written now would carry another time than the one in the log.
    let then = mist_common::time::now_millis();
    while mist_common::time::now_millis() == then {
        std::hint::spin_loop();
    }
    s.store.append_log("j", "INFO short\n", 1024).await.expect("append");
    assert_eq!(s.store.read_log("j", 0).await.expect("read").expect("exists"), cut, "nothing after the cut");
}

#[tokio::test]
async fn an_end_carries_the_last_output_within_the_limit_even_when_refused() {
    let s = Scratch::new();
    s.job("j", "e", 1).await;
    s.move_to("j", JobStatus::Started).await;
    let end = |output: &str| Transition::to("j", JobStatus::Finished).output(output.to_string(), 1024).log("INFO end\n".into());
    assert_eq!(s.store.transition(&end("INFO printed\n")).await.expect("end"), Moved::Yes(JobStatus::Started));
    assert_eq!(s.store.read_log("j", 0).await.expect("read").expect("exists"), "INFO created\nINFO printed\nINFO end\n");
    let flood = "INFO ".to_string() + &"y".repeat(80) + "\n";
    let refused = s.store.transition(&end(&flood.repeat(50))).await.expect("late end");
    assert_eq!(refused, Moved::Refused(JobStatus::Finished), "done is final");
    let log = s.store.read_log("j", 0).await.expect("read").expect("exists");
    assert!(log.len() < 1024 + 300, "bounded: {} bytes", log.len());
    assert!(log.ends_with("the function's further output is not kept\n"), "kept, as a separate append was: {log}");
    assert_eq!(s.store.job_outcome("j").await.expect("outcome"), Some((JobStatus::Finished, None)));
    assert_eq!(s.store.job_outcome("nope").await.expect("outcome"), None);
}

#[tokio::test]
async fn retention_deletes_old_done_jobs_and_keeps_running_ones() {
    let s = Scratch::new();
    for i in 0..6 {
        s.job(&format!("j{i}"), "e", 100 + i).await;
    }
    for i in 1..6 {
        s.move_to(&format!("j{i}"), JobStatus::Finished).await;
    }
    // j0 is still queued: never deleted. Keep the newest 3 of the rest by count.
    let deleted = s.store.trim_history(None, 3, 100).await.expect("trim");
    assert_eq!(deleted, 2, "j1 and j2 go; j0 is not done");
    let (left, total) = s.page(None, &[], 10, 0).await;
    assert_eq!(left, ["j5", "j4", "j3", "j0"]);
    assert_eq!(total, 4);
    assert_eq!(s.store.read_log("j1", 0).await.expect("read"), None, "its log went with it");
    // By age: everything created before 105 that is done.
    assert_eq!(s.store.trim_history(Some(105), 1000, 100).await.expect("trim"), 2);
    assert_eq!(s.page(None, &[], 10, 0).await.0, ["j5", "j0"]);
    assert_eq!(s.page(Some("e"), &[JobStatus::Finished], 10, 0).await.0, ["j5"], "every index is cleaned");
}
