//! What one bench run does: which scenarios, with how many jobs, against what.

use std::path::PathBuf;
use std::str::FromStr;

/// The scenarios of the issue, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scenario {
    /// 1. accepted submissions per second, 64 connections.
    Submit,
    /// 2. end-to-end no-op jobs per second into one shared context.
    Throughput,
    /// 3. sequential latency of one `force=true` no-op job.
    Latency,
    /// 4. a small Spark job through Mist, against the same job in a warm session.
    SparkOverhead,
    /// 5. an exclusive job against one cold `spark-submit`.
    Exclusive,
    /// 6. listing with a large history; Redis bytes per job.
    Listing,
    /// 7. resident memory of the three processes.
    Memory,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Submit,
        Scenario::Throughput,
        Scenario::Latency,
        Scenario::SparkOverhead,
        Scenario::Exclusive,
        Scenario::Listing,
        Scenario::Memory,
    ];

    pub fn number(self) -> usize {
        Scenario::ALL.iter().position(|s| *s == self).map(|i| i + 1).unwrap_or(0)
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Submit => "submit",
            Scenario::Throughput => "throughput",
            Scenario::Latency => "latency",
            Scenario::SparkOverhead => "spark",
            Scenario::Exclusive => "exclusive",
            Scenario::Listing => "listing",
            Scenario::Memory => "memory",
        }
    }
}

impl FromStr for Scenario {
    type Err = String;

    /// A number (`1`–`7`) or a name (`submit`, `throughput`, …).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim().to_ascii_lowercase();
        Scenario::ALL.into_iter().find(|s| s.name() == value || s.number().to_string() == value).ok_or_else(|| {
            let names: Vec<String> = Scenario::ALL.iter().map(|s| format!("{} ({})", s.number(), s.name())).collect();
            format!("unknown scenario {value:?}; one of {}", names.join(", "))
        })
    }
}

/// Counts and places, after `--quick` and the explicit options are applied.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenarios: Vec<Scenario>,
    /// Scenario 1's submissions and scenario 2's jobs (`--jobs`).
    pub jobs: u64,
    /// HTTP connections that submit at once (scenarios 1, 2 and 7).
    pub connections: usize,
    /// Sequential `force=true` no-op jobs (scenario 3); Celery's latency run uses the same.
    pub latency_samples: usize,
    /// Sequential Spark jobs through Mist (scenario 4); the baseline times 50.
    pub spark_samples: usize,
    /// Exclusive jobs, each with its own driver (scenario 5); the median is reported.
    pub exclusive_samples: usize,
    /// Job records in history (scenario 6, `--history`).
    pub history: u64,
    /// Requests per listing query (scenario 6).
    pub listing_samples: usize,
    /// No-op jobs before the second memory reading (scenario 7, `--memory-jobs`).
    pub memory_jobs: u64,
    pub run_peers: bool,
    pub places: Places,
}

/// Where the binaries, the services, the Python and the peers' scripts are.
#[derive(Debug, Clone)]
pub struct Places {
    /// `target/release`: `mist-api`, `mist-dispatcher`, `mist-agent`.
    pub bin_dir: PathBuf,
    /// `target/bench`: one folder per run, named by its namespace.
    pub work_root: PathBuf,
    pub redis_url: String,
    pub amqp_url: String,
    /// The workers' Python (pyspark importable).
    pub python: String,
    /// `celery-baseline.sh` and `spark-baseline.sh`.
    pub peers_dir: PathBuf,
    /// Mist's `log.level`.
    pub log_level: String,
}

/// The counts a run uses unless told otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub jobs: u64,
    pub latency_samples: usize,
    pub spark_samples: usize,
    pub exclusive_samples: usize,
    pub history: u64,
    pub listing_samples: usize,
    pub memory_jobs: u64,
}

impl Sizes {
    /// The figures. Latency samples match the Celery script's default (500).
    pub const FULL: Sizes = Sizes {
        jobs: 5_000,
        latency_samples: 500,
        spark_samples: 50,
        exclusive_samples: 3,
        history: 1_000_000,
        listing_samples: 1_000,
        memory_jobs: 100_000,
    };

    /// A smoke run: every scenario, a few minutes at most.
    pub const QUICK: Sizes =
        Sizes { jobs: 300, latency_samples: 50, spark_samples: 10, exclusive_samples: 1, history: 10_000, listing_samples: 200, memory_jobs: 1_000 };
}

/// Parses `--only 1,3,listing`; every scenario when absent. Duplicates are dropped and
/// the order is always the report's.
pub fn parse_only(value: Option<&str>) -> Result<Vec<Scenario>, String> {
    let Some(value) = value else {
        return Ok(Scenario::ALL.to_vec());
    };
    let mut scenarios = value.split(',').filter(|part| !part.trim().is_empty()).map(Scenario::from_str).collect::<Result<Vec<_>, _>>()?;
    scenarios.sort();
    scenarios.dedup();
    if scenarios.is_empty() {
        return Err("--only names no scenario".into());
    }
    Ok(scenarios)
}

impl Plan {
    pub fn runs(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_takes_numbers_and_names_in_report_order() {
        assert_eq!(parse_only(Some("6,latency, 1,1")), Ok(vec![Scenario::Submit, Scenario::Latency, Scenario::Listing]));
        assert_eq!(parse_only(None).map(|s| s.len()), Ok(7));
        assert!(parse_only(Some("8")).is_err_and(|e| e.contains("unknown scenario")));
        assert!(parse_only(Some(",")).is_err());
    }
}
