//! Percentiles of timed samples, picked the way the Celery baseline picks them (the
//! sorted sample at index `round(p/100 · (n−1))`), so the two sides compare like for like.

use std::time::Duration;

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

impl Percentiles {
    /// `None` for no samples.
    pub fn of(samples: &[Duration]) -> Option<Percentiles> {
        if samples.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let pick = |p: f64| ms[((p / 100.0) * (ms.len() - 1) as f64).round() as usize];
        Some(Percentiles { p50_ms: pick(50.0), p95_ms: pick(95.0), p99_ms: pick(99.0), samples: ms.len() })
    }

    pub fn to_json(self) -> Value {
        json!({ "p50": round3(self.p50_ms), "p95": round3(self.p95_ms), "p99": round3(self.p99_ms), "n": self.samples })
    }
}

/// The median of a few wall times (an odd count gives the middle one).
pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_like_the_celery_script() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let p = Percentiles::of(&samples).expect("samples");
        // round(0.5 · 99) = 50 (half away from zero) → the 51st smallest.
        assert_eq!((p.p50_ms, p.p95_ms, p.p99_ms), (51.0, 95.0, 99.0));
        assert_eq!(Percentiles::of(&[]), None);
    }

    #[test]
    fn median_of_three_is_the_middle() {
        let samples = [Duration::from_secs(9), Duration::from_secs(1), Duration::from_secs(5)];
        assert_eq!(median(&samples), Some(Duration::from_secs(5)));
        assert_eq!(median(&[]), None);
    }
}
