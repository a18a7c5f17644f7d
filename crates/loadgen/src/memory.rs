//! A process's memory as the kernel counts it.

use crate::LoadError;

#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub rss_kib: u64,
    /// Proportional set size: shared pages split among the processes sharing them.
    pub pss_kib: u64,
}

pub fn of_process(pid: u32) -> Result<Memory, LoadError> {
    let path = format!("/proc/{pid}/smaps_rollup");
    let text = std::fs::read_to_string(&path)
        .map_err(|error| LoadError::Memory(format!("{path}: {error}")))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| LoadError::Memory(format!("no {name} line in {path}")))
    };
    Ok(Memory { rss_kib: field("Rss:")?, pss_kib: field("Pss:")? })
}
