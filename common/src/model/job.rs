//! Jobs: their statuses (a forward-only state machine) and the record the API returns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Initialized,
    Queued,
    Started,
    Cancelling,
    Canceled,
    Finished,
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Initialized,
        JobStatus::Queued,
        JobStatus::Started,
        JobStatus::Cancelling,
        JobStatus::Canceled,
        JobStatus::Finished,
        JobStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Initialized => "initialized",
            JobStatus::Queued => "queued",
            JobStatus::Started => "started",
            JobStatus::Cancelling => "cancelling",
            JobStatus::Canceled => "canceled",
            JobStatus::Finished => "finished",
            JobStatus::Failed => "failed",
        }
    }

    /// Done is final: nothing ever changes a done job again.
    pub fn is_done(self) -> bool {
        matches!(self, JobStatus::Canceled | JobStatus::Finished | JobStatus::Failed)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    /// Also reads `cancelled`, the British spelling old clients filter by.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let lower = value.to_ascii_lowercase();
        if lower == "cancelled" {
            return Ok(JobStatus::Canceled);
        }
        JobStatus::ALL.into_iter().find(|s| s.as_str() == lower).ok_or_else(|| {
            let names: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("status must be one of {}, got {value:?}", names.join(", "))
        })
    }
}

/// Where a job request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Source {
    Http,
    Amqp,
    Cli,
    Ui,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Http => "Http",
            Source::Amqp => "Amqp",
            Source::Cli => "Cli",
            Source::Ui => "Ui",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobParams {
    pub file_path: String,
    pub class_name: String,
    #[schema(value_type = Object)]
    pub arguments: Map<String, Value>,
    pub action: String,
}

/// A job as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobDetails {
    pub job_id: String,
    pub endpoint: String,
    /// The same as `endpoint`, under the later Mist name.
    pub function: String,
    pub context: String,
    pub params: JobParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub source: Source,
    pub create_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    pub status: JobStatus,
    /// The result when finished; the error text when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub job_result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// Which attempt the record shows, from 1 (see the endpoint's `retries`).
    #[serde(default = "first_attempt")]
    pub attempt: u32,
}

fn first_attempt() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_both_spellings_and_refuse_others() {
        assert_eq!("cancelled".parse::<JobStatus>(), Ok(JobStatus::Canceled));
        assert_eq!("Started".parse::<JobStatus>(), Ok(JobStatus::Started));
        assert!("done".parse::<JobStatus>().unwrap_err().contains("\"done\""));
    }
}
