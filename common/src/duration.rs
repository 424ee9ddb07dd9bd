//! Durations as the Mist API writes them: `"Inf"` or `"<N>s"`, read also from the usual
//! human forms (`"500ms"`, `"10m"`, `"1h"`), so old clients' values keep working.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A finite duration or `Inf` (for example a shared worker that never idles out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MistDuration {
    Inf,
    Finite(Duration),
}

impl MistDuration {
    pub fn from_secs(secs: u64) -> Self {
        Self::Finite(Duration::from_secs(secs))
    }

    /// `None` for `Inf`: callers then simply never set a timer.
    pub fn as_std(&self) -> Option<Duration> {
        match self {
            Self::Inf => None,
            Self::Finite(d) => Some(*d),
        }
    }
}

/// Why a duration string was refused; the message lists the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a duration: use \"Inf\", seconds like \"30s\" or \"0.5s\", or forms like \"500ms\", \"10m\", \"1h\"")]
pub struct DurationError {
    pub value: String,
}

impl FromStr for MistDuration {
    type Err = DurationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let value = raw.trim();
        let refuse = || DurationError { value: raw.to_string() };
        if value.eq_ignore_ascii_case("inf") || value.eq_ignore_ascii_case("infinity") {
            return Ok(Self::Inf);
        }
        if let Some(seconds) = value.strip_suffix('s').and_then(|n| n.trim().parse::<f64>().ok()) {
            if !seconds.is_finite() || seconds < 0.0 || seconds > u32::MAX as f64 {
                return Err(refuse());
            }
            return Ok(Self::Finite(Duration::from_secs_f64(seconds)));
        }
        match humantime::parse_duration(value) {
            Ok(d) if d.as_secs_f64() <= u32::MAX as f64 => Ok(Self::Finite(d)),
            _ => Err(refuse()),
        }
    }
}

impl fmt::Display for MistDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inf => f.write_str("Inf"),
            Self::Finite(d) if d.subsec_nanos() == 0 => write!(f, "{}s", d.as_secs()),
            // Up to millisecond precision, without trailing zeros: "0.5s", "1.25s".
            Self::Finite(d) => {
                let text = format!("{:.3}", d.as_secs_f64());
                write!(f, "{}s", text.trim_end_matches('0').trim_end_matches('.'))
            }
        }
    }
}

impl Serialize for MistDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MistDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl utoipa::PartialSchema for MistDuration {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("\"Inf\" or seconds like \"30s\"; \"500ms\", \"10m\", \"1h\" are read too"))
            .examples([serde_json::json!("30s")])
            .into()
    }
}

impl utoipa::ToSchema for MistDuration {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_forms_and_human_forms() {
        assert_eq!("Inf".parse::<MistDuration>(), Ok(MistDuration::Inf));
        assert_eq!("0s".parse::<MistDuration>(), Ok(MistDuration::from_secs(0)));
        assert_eq!("30s".parse::<MistDuration>(), Ok(MistDuration::from_secs(30)));
        assert_eq!(
            "0.5s".parse::<MistDuration>(),
            Ok(MistDuration::Finite(Duration::from_millis(500)))
        );
        assert_eq!(
            "500ms".parse::<MistDuration>(),
            Ok(MistDuration::Finite(Duration::from_millis(500)))
        );
        assert_eq!("10m".parse::<MistDuration>(), Ok(MistDuration::from_secs(600)));
        assert_eq!("1h".parse::<MistDuration>(), Ok(MistDuration::from_secs(3600)));
    }

    #[test]
    fn refuses_anything_else_with_the_value_in_the_message() {
        for bad in ["", "soon", "-1s", "12", "NaNs", "1e30s"] {
            let err = bad.parse::<MistDuration>().expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn writes_inf_or_seconds() {
        assert_eq!(MistDuration::Inf.to_string(), "Inf");
        assert_eq!(MistDuration::from_secs(120).to_string(), "120s");
        assert_eq!(MistDuration::Finite(Duration::from_millis(500)).to_string(), "0.5s");
        assert_eq!(MistDuration::Finite(Duration::from_millis(1250)).to_string(), "1.25s");
    }
}
