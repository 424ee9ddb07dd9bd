//! The job log line format of API.md: `<LEVEL> <ISO-8601 UTC time> [<jobId>] <message>`.

use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// From a worker's level name; anything unknown is INFO.
    pub fn parse(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "DEBUG" | "TRACE" => Level::Debug,
            "WARN" | "WARNING" => Level::Warn,
            "ERROR" | "CRITICAL" | "FATAL" => Level::Error,
            _ => Level::Info,
        }
    }
}

/// One line, newline included. Newlines inside `message` are kept as separate lines with
/// the same prefix, so every line of the log parses the same way.
pub fn line(level: Level, time_ms: i64, job_id: &str, message: &str) -> String {
    let time = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(time_ms.max(0) as u64));
    let mut text = String::new();
    for part in message.trim_end_matches('\n').split('\n') {
        text.push_str(&format!("{} {time} [{job_id}] {part}\n", level.as_str()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_api_format() {
        assert_eq!(line(Level::Info, 0, "j", "hello"), "INFO 1970-01-01T00:00:00.000Z [j] hello\n");
        assert_eq!(line(Level::Warn, 0, "j", "a\nb"), "WARN 1970-01-01T00:00:00.000Z [j] a\nWARN 1970-01-01T00:00:00.000Z [j] b\n");
    }
}
