//! Resident memory of a process from `/proc/<pid>/status`: `VmRSS` now, `VmHWM` its peak.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resident {
    pub now_mib: f64,
    pub peak_mib: f64,
}

pub fn read(pid: u32) -> anyhow::Result<Resident> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    parse(&text).ok_or_else(|| anyhow::anyhow!("{path} has no VmRSS/VmHWM"))
}

fn parse(status: &str) -> Option<Resident> {
    let kib = |field: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        line[field.len()..].trim().trim_end_matches("kB").trim().parse::<f64>().ok()
    };
    Some(Resident { now_mib: kib("VmRSS:")? / 1024.0, peak_mib: kib("VmHWM:")? / 1024.0 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_kib_fields() {
        let status = "Name:\tmist-api\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(super::parse(status), Some(super::Resident { now_mib: 10.0, peak_mib: 20.0 }));
        assert_eq!(super::parse("Name:\tx\n"), None);
    }
}
