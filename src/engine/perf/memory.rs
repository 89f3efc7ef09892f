//! Resident memory of this process from `/proc/self/status` (Linux only).
//!
//! The figures are process-wide: every thread's allocations count, so a measurement is only
//! meaningful while nothing else in the process allocates much. The peak (`VmHWM`) is reset
//! to the current resident size by writing `5` to `/proc/self/clear_refs` (Linux ≥ 4.0)
//! right before the measured work, so the peak belongs to that work alone.

/// Resident set size now and its high-water mark, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rss {
    pub current: u64,
    pub peak: u64,
}

/// Reads `VmRSS` and `VmHWM`; `None` where `/proc/self/status` does not exist or lacks them.
pub fn read() -> Option<Rss> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    Some(Rss {
        current: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// Resets the peak resident size to the current one; false when the kernel refused.
pub fn reset_peak() -> bool {
    cfg!(target_os = "linux") && std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
