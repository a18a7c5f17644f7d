//! A process's CPU time as the kernel counts it (Linux /proc).

use std::time::Duration;

use crate::LoadError;

/// User plus system time the process has used so far.
pub fn of_process(pid: u32) -> Result<Duration, LoadError> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path)
        .map_err(|error| LoadError::Cpu(format!("{path}: {error}")))?;
    // The command name may hold spaces; the fields after it are fixed.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<u64>().ok());
    let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
        return Err(LoadError::Cpu(format!("{path}: no utime/stime")));
    };
    // Linux reports in USER_HZ, which is 100 on every architecture it supports.
    Ok(Duration::from_millis((user + system) * 10))
}
