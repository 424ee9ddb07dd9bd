//! Every figure of a run, as a table for people and one line of JSON for tools. A target
//! missed is a figure like any other: the report says so, the run still succeeds.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::peers::{Celery, Spark};
use crate::scenarios::memory::{After, Reading};
use crate::scenarios::{exclusive, listing, submit, throughput};
use crate::stats::{round3, Percentiles};

/// `None`: not run; `Some(Err)`: could not be measured, and why.
pub type Slot<T> = Option<Result<T, String>>;

/// The targets.
pub const THROUGHPUT_FACTOR: f64 = 2.0;
pub const SPARK_OVERHEAD_MS: f64 = 5.0;
pub const EXCLUSIVE_EXTRA_S: f64 = 1.0;
pub const LISTING_P99_MS: f64 = 10.0;
pub const IDLE_MIB: f64 = 50.0;
pub const AFTER_MIB: f64 = 100.0;

#[derive(Debug, Default)]
pub struct Report {
    pub namespace: String,
    pub celery: Slot<Celery>,
    pub spark: Slot<Spark>,
    pub submit: Slot<submit::Figures>,
    pub throughput: Slot<throughput::Figures>,
    pub latency: Slot<Percentiles>,
    pub spark_overhead: Slot<Percentiles>,
    pub exclusive: Slot<exclusive::Figures>,
    pub listing: Slot<listing::Figures>,
    pub memory_idle: Slot<Reading>,
    pub memory_after: Slot<After>,
    /// `/proc/loadavg` at the start and at the end: how busy the machine was otherwise.
    pub load: Vec<String>,
    pub elapsed: Duration,
    /// What the run noticed besides the figures (leftovers, Mist's warnings).
    pub notes: Vec<String>,
    /// Why the run stopped before its end, if it did.
    pub fatal: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// No target, or nothing to compare with.
    None,
}

impl Verdict {
    fn from(met: Option<bool>) -> Verdict {
        match met {
            Some(true) => Verdict::Pass,
            Some(false) => Verdict::Fail,
            None => Verdict::None,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::None => "-",
        }
    }

    fn json(self) -> Value {
        match self {
            Verdict::Pass => json!(true),
            Verdict::Fail => json!(false),
            Verdict::None => Value::Null,
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub mist: String,
    pub peer: String,
    pub target: String,
    pub verdict: Verdict,
    /// The key of this verdict in the JSON's `targets`.
    pub key: &'static str,
}

fn row(
    scenario: impl Into<String>,
    mist: impl Into<String>,
    peer: impl Into<String>,
    target: impl Into<String>,
    verdict: Verdict,
    key: &'static str,
) -> Row {
    Row { scenario: scenario.into(), mist: mist.into(), peer: peer.into(), target: target.into(), verdict, key }
}

fn ok<T>(slot: &Slot<T>) -> Option<&T> {
    slot.as_ref().and_then(|r| r.as_ref().ok())
}

fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.1} ms")
    }
}

fn thousands(value: f64) -> String {
    let whole = value.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let celery = ok(&self.celery);
        let spark = ok(&self.spark);
        let peer_or =
            |value: Option<String>, slot_err: Option<&String>| value.or_else(|| slot_err.map(|_| "error".to_string())).unwrap_or_else(|| "-".into());
        let celery_err = self.celery.as_ref().and_then(|r| r.as_ref().err());
        let spark_err = self.spark.as_ref().and_then(|r| r.as_ref().err());

        if let Some(slot) = &self.submit {
            let mist = match slot {
                Ok(f) => format!("{}/s ({} accepted, {} refused, {} lost)", thousands(f.accepted_per_s), f.accepted, f.refused, f.lost()),
                Err(_) => "error".into(),
            };
            rows.push(row("1 accepted submissions/s, 64 connections", mist, "-", "-", Verdict::None, "submit"));
        }
        if let Some(slot) = &self.throughput {
            let (mist, met) = match slot {
                Ok(f) => (
                    format!("{}/s ({} jobs in {:.1} s)", thousands(f.jobs_per_s), f.jobs, f.elapsed.as_secs_f64()),
                    celery.map(|c| f.jobs_per_s >= THROUGHPUT_FACTOR * c.throughput_jobs_s),
                ),
                Err(_) => ("error".into(), None),
            };
            let peer = peer_or(celery.map(|c| format!("Celery {}/s", thousands(c.throughput_jobs_s))), celery_err);
            let target = celery
                .map(|c| format!(">= 2x Celery ({}/s)", thousands(THROUGHPUT_FACTOR * c.throughput_jobs_s)))
                .unwrap_or_else(|| ">= 2x Celery".into());
            rows.push(row("2 end-to-end no-op jobs/s, shared ctx", mist, peer, target, Verdict::from(met), "throughput"));
        }
        if let Some(slot) = &self.latency {
            let lat = slot.as_ref().ok();
            let c = celery.map(|c| c.latency);
            let cell = |f: fn(&Percentiles) -> f64| lat.map(|p| ms(f(p))).unwrap_or_else(|| "error".into());
            let peer = |f: fn(&Percentiles) -> f64| peer_or(c.map(|p| format!("Celery {}", ms(f(&p)))), celery_err);
            let met = lat.zip(c).map(|(m, c)| m.p50_ms <= c.p50_ms);
            let target = c.map(|c| format!("<= Celery p50 ({})", ms(c.p50_ms))).unwrap_or_else(|| "<= Celery p50".into());
            rows.push(row("3 force=true no-op latency p50", cell(|p| p.p50_ms), peer(|p| p.p50_ms), target, Verdict::from(met), "latency_p50"));
            rows.push(row("3   p95", cell(|p| p.p95_ms), peer(|p| p.p95_ms), "-", Verdict::None, "latency_p95"));
            rows.push(row("3   p99", cell(|p| p.p99_ms), peer(|p| p.p99_ms), "-", Verdict::None, "latency_p99"));
        }
        if let Some(slot) = &self.spark_overhead {
            let (mist, met) = match (slot, spark) {
                (Ok(p), Some(s)) => {
                    let overhead = p.p50_ms - s.warm_p50_ms;
                    (format!("{} (p50 {})", ms(overhead), ms(p.p50_ms)), Some(overhead <= SPARK_OVERHEAD_MS))
                }
                (Ok(p), None) => (format!("p50 {} (no baseline)", ms(p.p50_ms)), None),
                (Err(_), _) => ("error".into(), None),
            };
            let peer = peer_or(spark.map(|s| format!("warm session p50 {}", ms(s.warm_p50_ms))), spark_err);
            rows.push(row("4 warm Spark overhead (p50 - warm p50)", mist, peer, "<= 5 ms", Verdict::from(met), "spark_overhead"));
        }
        if let Some(slot) = &self.exclusive {
            let (mist, met) = match slot {
                Ok(f) => {
                    let wall = f.median.as_secs_f64();
                    (format!("{wall:.2} s"), spark.map(|s| wall - s.cold_s <= EXCLUSIVE_EXTRA_S))
                }
                Err(_) => ("error".into(), None),
            };
            let peer = peer_or(spark.map(|s| format!("cold spark-submit {:.2} s", s.cold_s)), spark_err);
            let target = spark.map(|s| format!("<= cold + 1 s ({:.2} s)", s.cold_s + EXCLUSIVE_EXTRA_S)).unwrap_or_else(|| "<= cold + 1 s".into());
            rows.push(row("5 exclusive job wall time", mist, peer, target, Verdict::from(met), "exclusive"));
        }
        if let Some(slot) = &self.listing {
            let figures = slot.as_ref().ok();
            let jobs = figures.map(|f| format!(" ({} jobs)", thousands(f.history_total as f64))).unwrap_or_default();
            for (i, (query, key)) in listing::QUERIES.iter().zip(["list_all_p99", "list_failed_p99"]).enumerate() {
                let page = figures.and_then(|f| f.pages.get(i));
                let mist = page.map(|p| format!("p99 {} (p50 {})", ms(p.p99_ms), ms(p.p50_ms))).unwrap_or_else(|| "error".into());
                let met = page.map(|p| p.p99_ms <= LISTING_P99_MS);
                rows.push(row(
                    format!("6 GET {query}{}", if i == 0 { jobs.as_str() } else { "" }),
                    mist,
                    "-",
                    "p99 <= 10 ms",
                    Verdict::from(met),
                    key,
                ));
            }
            let bytes = figures
                .map(|f| format!("{} B (record+log {} B)", thousands(f.redis_bytes_per_job), thousands(f.record_bytes)))
                .unwrap_or_else(|| "error".into());
            rows.push(row("6 Redis bytes per job", bytes, "-", "-", Verdict::None, "redis_bytes_per_job"));
        }
        let memory_rows = |rows: &mut Vec<Row>, label: &str, reading: Option<&Reading>, failed: bool, limit: f64, keys: [&'static str; 3]| {
            for (i, part) in crate::mist::PARTS.iter().enumerate() {
                let resident = reading.and_then(|r| r.iter().find(|(p, _)| p == part)).map(|(_, r)| *r);
                let mist = match resident {
                    Some(r) if label == "idle" => format!("{:.1} MiB", r.now_mib),
                    Some(r) => format!("{:.1} MiB (peak {:.1})", r.now_mib, r.peak_mib),
                    None if failed => "error".into(),
                    None => "-".into(),
                };
                let met = resident.map(|r| r.now_mib <= limit);
                rows.push(row(format!("7 RSS {part}, {label}"), mist, "-", format!("<= {limit:.0} MiB"), Verdict::from(met), keys[i]));
            }
        };
        if let Some(slot) = &self.memory_idle {
            memory_rows(&mut rows, "idle", slot.as_ref().ok(), slot.is_err(), IDLE_MIB, ["rss_idle_api", "rss_idle_dispatcher", "rss_idle_agent"]);
        }
        if let Some(slot) = &self.memory_after {
            let label = ok(&self.memory_after).map(|a| format!("after {} jobs", thousands(a.jobs as f64))).unwrap_or_else(|| "after jobs".into());
            memory_rows(
                &mut rows,
                &label,
                slot.as_ref().ok().map(|a| &a.reading),
                slot.is_err(),
                AFTER_MIB,
                ["rss_after_api", "rss_after_dispatcher", "rss_after_agent"],
            );
        }
        rows
    }

    /// The table, then a line per scenario that could not be measured, and the notes.
    pub fn table(&self) -> String {
        let rows = self.rows();
        let header = row("scenario", "Mist", "peer", "target", Verdict::None, "");
        let all: Vec<&Row> = std::iter::once(&header).chain(rows.iter()).collect();
        let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
        let (w0, w1, w2, w3) = (width(|r| &r.scenario), width(|r| &r.mist), width(|r| &r.peer), width(|r| &r.target));
        let line = |r: &Row, verdict: &str| format!("{:<w0$} | {:<w1$} | {:<w2$} | {:<w3$} | {verdict}\n", r.scenario, r.mist, r.peer, r.target);
        let mut out = line(&header, "result");
        out.push_str(&format!("{}\n", "-".repeat(w0 + w1 + w2 + w3 + 18)));
        for r in &rows {
            out.push_str(&line(r, r.verdict.text()));
        }
        for (name, error) in self.errors() {
            out.push_str(&format!("error in {name}: {error}\n"));
        }
        if let Some(fatal) = &self.fatal {
            out.push_str(&format!("the run stopped early: {fatal}\n"));
        }
        out.push_str(&format!("run {} took {:.0} s; load average {}\n", self.namespace, self.elapsed.as_secs_f64(), self.load.join(" -> ")));
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out
    }

    fn errors(&self) -> Vec<(&'static str, &String)> {
        fn err<T>(slot: &Slot<T>) -> Option<&String> {
            slot.as_ref().and_then(|r| r.as_ref().err())
        }
        [
            ("celery-baseline", err(&self.celery)),
            ("spark-baseline", err(&self.spark)),
            ("1 submit", err(&self.submit)),
            ("2 throughput", err(&self.throughput)),
            ("3 latency", err(&self.latency)),
            ("4 spark overhead", err(&self.spark_overhead)),
            ("5 exclusive", err(&self.exclusive)),
            ("6 listing", err(&self.listing)),
            ("7 memory idle", err(&self.memory_idle)),
            ("7 memory after jobs", err(&self.memory_after)),
        ]
        .into_iter()
        .filter_map(|(name, e)| e.map(|e| (name, e)))
        .collect()
    }

    /// Did every scenario that ran produce its figures?
    pub fn complete(&self) -> bool {
        self.fatal.is_none() && self.errors().iter().all(|(name, _)| name.ends_with("baseline"))
    }

    /// Every figure as one JSON object (`null` where not run or not measured).
    pub fn json(&self) -> Value {
        let celery = ok(&self.celery);
        let spark = ok(&self.spark);
        let mut out = Map::new();
        out.insert("namespace".into(), json!(self.namespace));
        if let Some(f) = ok(&self.submit) {
            out.insert(
                "submit".into(),
                json!({
                    "accepted_per_s": f.accepted_per_s.round(), "submitted": f.submitted, "accepted": f.accepted,
                    "refused": f.refused, "lost": f.lost(), "finished": f.outcome.finished, "failed": f.outcome.failed,
                    "seconds": round3(f.elapsed.as_secs_f64()),
                }),
            );
        }
        if let Some(f) = ok(&self.throughput) {
            out.insert(
                "throughput".into(),
                json!({
                    "jobs_per_s": f.jobs_per_s.round(), "jobs": f.jobs, "seconds": round3(f.elapsed.as_secs_f64()),
                    "submitting_seconds": round3(f.submitting.as_secs_f64()), "failed": f.outcome.failed,
                    "cpu_s": cpu_json(&f.cpu),
                }),
            );
        }
        if let Some(p) = ok(&self.latency) {
            out.insert("latency_ms".into(), p.to_json());
        }
        if let Some(p) = ok(&self.spark_overhead) {
            out.insert("spark_mist_ms".into(), p.to_json());
            if let Some(s) = spark {
                out.insert("spark_overhead_ms".into(), json!(round3(p.p50_ms - s.warm_p50_ms)));
            }
        }
        if let Some(f) = ok(&self.exclusive) {
            let samples: Vec<f64> = f.samples.iter().map(|d| round3(d.as_secs_f64())).collect();
            out.insert("exclusive_s".into(), json!({ "median": round3(f.median.as_secs_f64()), "samples": samples }));
        }
        if let Some(f) = ok(&self.listing) {
            let pages: Map<String, Value> = listing::QUERIES.iter().zip(&f.pages).map(|(q, p)| (q.to_string(), p.to_json())).collect();
            out.insert(
                "listing".into(),
                json!({
                    "history_written": f.written.jobs, "history_failed": f.written.failed, "history_total": f.history_total,
                    "write_seconds": round3(f.written.elapsed.as_secs_f64()), "pages_ms": pages,
                    "redis_bytes_per_job": f.redis_bytes_per_job.round(), "record_bytes": f.record_bytes.round(),
                    "real_record_bytes": f.template_record_bytes,
                }),
            );
        }
        let mib = |reading: &Reading, peak: bool| -> Value {
            reading.iter().map(|(part, r)| (part.to_string(), json!(round3(if peak { r.peak_mib } else { r.now_mib })))).collect::<Map<_, _>>().into()
        };
        if let Some(r) = ok(&self.memory_idle) {
            out.insert("rss_idle_mib".into(), mib(r, false));
        }
        if let Some(a) = ok(&self.memory_after) {
            out.insert("rss_after_mib".into(), mib(&a.reading, false));
            out.insert("rss_peak_mib".into(), mib(&a.reading, true));
            out.insert(
                "memory_jobs".into(),
                json!({ "jobs": a.jobs, "jobs_per_s": a.jobs_per_s.round(), "failed": a.outcome.failed, "cpu_s": cpu_json(&a.cpu) }),
            );
            let series: Vec<Value> = a
                .series
                .iter()
                .map(|p| {
                    let mut point = json!({ "s": p.seconds.round(), "recorded": p.recorded, "done": p.done });
                    for (part, r) in &p.reading {
                        point[*part] = json!((r.now_mib * 10.0).round() / 10.0);
                    }
                    point
                })
                .collect();
            out.insert("rss_series_mib".into(), series.into());
        }
        if let Some(c) = celery {
            out.insert("celery_throughput_jobs_s".into(), json!(c.throughput_jobs_s));
            out.insert("celery_latency_ms".into(), json!({ "p50": c.latency.p50_ms, "p95": c.latency.p95_ms, "p99": c.latency.p99_ms }));
        }
        if let Some(s) = spark {
            out.insert("spark_cold_s".into(), json!(s.cold_s));
            out.insert("spark_warm_ms".into(), json!({ "p50": s.warm_p50_ms, "p95": s.warm_p95_ms }));
        }
        let targets: Map<String, Value> = self.rows().iter().filter(|r| r.target != "-").map(|r| (r.key.to_string(), r.verdict.json())).collect();
        out.insert("targets_met".into(), targets.into());
        let errors: Map<String, Value> = self.errors().into_iter().map(|(k, e)| (k.to_string(), json!(e))).collect();
        out.insert("errors".into(), errors.into());
        out.insert("fatal".into(), json!(self.fatal));
        out.insert("load".into(), json!(self.load));
        out.insert("seconds".into(), json!(self.elapsed.as_secs()));
        out.into()
    }
}

/// CPU seconds per process, to two decimals.
fn cpu_json(cpu: &std::collections::BTreeMap<String, f64>) -> Value {
    cpu.iter().map(|(label, s)| (label.clone(), json!((s * 100.0).round() / 100.0))).collect::<Map<_, _>>().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn celery() -> Celery {
        Celery { throughput_jobs_s: 900.0, latency: Percentiles { p50_ms: 1.5, p95_ms: 40.0, p99_ms: 200.0, samples: 0 } }
    }

    #[test]
    fn verdicts_compare_with_the_peer_of_the_same_run() {
        let report = Report {
            celery: Some(Ok(celery())),
            latency: Some(Ok(Percentiles { p50_ms: 3.0, p95_ms: 5.0, p99_ms: 9.0, samples: 500 })),
            ..Default::default()
        };
        let rows = report.rows();
        assert_eq!(rows[0].key, "latency_p50");
        assert_eq!(rows[0].verdict, Verdict::Fail);
        assert_eq!(report.json()["targets_met"]["latency_p50"], json!(false));
        assert!(report.table().contains("Celery 1.50 ms"));
    }

    #[test]
    fn a_missing_peer_leaves_the_verdict_open_and_an_error_is_reported() {
        let report = Report {
            celery: Some(Err("celery-baseline.sh exited with 1".into())),
            latency: Some(Err("the job did not finish".into())),
            ..Default::default()
        };
        assert_eq!(report.rows()[0].verdict, Verdict::None);
        assert!(report.table().contains("error in 3 latency: the job did not finish"));
        assert!(!report.complete());
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }
}
