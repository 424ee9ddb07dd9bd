//! Fault points: named moments where the fault-injection tests hold a process (a job's
//! result in hand but not yet recorded, a job record written but its request not yet
//! published…) so they can kill or pause it exactly there, or where they drop a message
//! to stand for one lost in an outage. Compiled in only with the `failpoints` feature,
//! which the test command builds with; otherwise every point is nothing.
//!
//! Points are set with the `fail` crate's `FAILPOINTS` variable and a `return` action:
//! `FAILPOINTS='agent.before_end=1*return(10000)'` holds the first job that reaches
//! `agent.before_end` for 10 s; `FAILPOINTS='dispatcher.send_run_job=1*return'` drops the
//! first job command. A point logs `fault point <name> reached` when it fires, so a test
//! can wait for that line.

/// Reads `FAILPOINTS`. Called once at start by every binary.
pub fn setup() {
    #[cfg(feature = "failpoints")]
    {
        // The scenario's guard clears the points when dropped; they are meant for the
        // whole life of the process.
        std::mem::forget(fail::FailScenario::setup());
        let points = fail::list();
        if !points.is_empty() {
            tracing::warn!(?points, "fault points set");
        }
    }
    #[cfg(not(feature = "failpoints"))]
    if std::env::var_os("FAILPOINTS").is_some() {
        tracing::error!("FAILPOINTS is set, but this build has no fault points (build with --features mist-common/failpoints)");
    }
}

/// Holds the caller for the milliseconds the point is set to (`return(<ms>)`).
pub async fn hold(point: &'static str) {
    if let Some(millis) = fired(point) {
        let millis = millis.and_then(|m| m.parse().ok()).unwrap_or(0);
        tracing::warn!(point, millis, "fault point {point} reached; holding");
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
}

/// Whether the caller must skip what it was about to do (the point is set to `return`).
pub fn drop_here(point: &'static str) -> bool {
    let fired = fired(point).is_some();
    if fired {
        tracing::warn!(point, "fault point {point} reached; dropping");
    }
    fired
}

/// `Some(argument)` when the point fires.
#[cfg(feature = "failpoints")]
fn fired(point: &'static str) -> Option<Option<String>> {
    fail::eval(point, |argument| argument)
}

#[cfg(not(feature = "failpoints"))]
fn fired(_point: &'static str) -> Option<Option<String>> {
    None
}
