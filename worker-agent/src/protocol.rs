//! The messages between an agent and its workers: newline-delimited JSON over TCP, the
//! worker connecting to the agent (see `worker-agent/python/README.md`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Worker → agent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FromWorker {
    #[serde(rename_all = "camelCase")]
    Hello { worker_id: String, spark_version: Option<String>, spark_ui: Option<String>, pid: Option<u32> },
    #[serde(rename_all = "camelCase")]
    Started { job_id: String, time: i64 },
    #[serde(rename_all = "camelCase")]
    Log { job_id: String, level: String, time: i64, message: String },
    #[serde(rename_all = "camelCase")]
    Finished { job_id: String, time: i64, result: Value },
    #[serde(rename_all = "camelCase")]
    Failed { job_id: String, time: i64, error: String },
    #[serde(rename_all = "camelCase")]
    Canceled { job_id: String, time: i64 },
}

/// Agent → worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToWorker {
    #[serde(rename_all = "camelCase")]
    Run { job_id: String, file_path: String, class_name: String, arguments: Map<String, Value> },
    #[serde(rename_all = "camelCase")]
    Cancel { job_id: String },
    Stop,
}

impl ToWorker {
    /// One line of the protocol, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_documented_shapes() {
        let hello: FromWorker =
            serde_json::from_str(r#"{"type":"hello","workerId":"w","sparkVersion":"4.3.0","sparkUi":null,"pid":7}"#).unwrap();
        assert_eq!(hello, FromWorker::Hello { worker_id: "w".into(), spark_version: Some("4.3.0".into()), spark_ui: None, pid: Some(7) });
        assert_eq!(ToWorker::Cancel { job_id: "j".into() }.to_line(), "{\"type\":\"cancel\",\"jobId\":\"j\"}\n");
        assert_eq!(ToWorker::Stop.to_line(), "{\"type\":\"stop\"}\n");
    }
}
