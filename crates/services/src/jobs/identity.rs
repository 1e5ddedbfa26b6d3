//! Who a worker process is, in the name it writes on the jobs it claims, so that a worker
//! starting on the same machine can tell which earlier workers have stopped.
//!
//! The name is `host/pid-namespace/pid.start/random`: the process's start time (in clock ticks
//! since boot, from `/proc`) tells a stopped process from a new one that was given the same
//! process id, and the process-id namespace keeps containers that share a host name from
//! judging each other's processes. Where `/proc` cannot be read (not Linux), the name is
//! `host/-/pid/random` and no earlier worker is ever judged stopped: their leases simply run
//! out.

/// This process's worker name, ending in `random` so that two workers in one process differ.
pub fn name(random: &str) -> String {
    let host = sanitize(&host_name());
    match (pid_namespace(), start_ticks(std::process::id())) {
        (Some(ns), Some(start)) => format!("{host}/{ns}/{}.{start}/{random}", std::process::id()),
        _ => format!("{host}/-/{}/{random}", std::process::id()),
    }
}

/// The prefix every worker of this machine and process-id namespace shares (`None` where
/// processes cannot be looked at).
pub fn local_prefix() -> Option<String> {
    let ns = pid_namespace()?;
    Some(format!("{}/{ns}/", sanitize(&host_name())))
}

/// Whether the worker named `worker` (a name with [`local_prefix`]) belongs to a process that
/// no longer runs: its process id is free, taken by a process started at another time, or a
/// zombie. Names that cannot be read are never judged stopped.
pub fn has_stopped(worker: &str) -> bool {
    let Some(prefix) = local_prefix() else {
        return false;
    };
    let Some(rest) = worker.strip_prefix(&prefix) else {
        return false;
    };
    let Some((process, _random)) = rest.split_once('/') else {
        return false;
    };
    let Some((pid, start)) = process.split_once('.') else {
        return false;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    match stat(pid) {
        None => true,
        Some((state, started)) => state == 'Z' || started != start,
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Keeps a host name from breaking the name's `/`-separated parts.
fn sanitize(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// The inode of this process's process-id namespace (`pid:[4026531836]` → `4026531836`).
fn pid_namespace() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let link = link.to_string_lossy();
    let inner = link.strip_prefix("pid:[")?.strip_suffix(']')?;
    inner
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| inner.to_owned())
}

fn start_ticks(pid: u32) -> Option<u64> {
    stat(pid).map(|(_, start)| start)
}

/// A process's state letter and start time, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may itself hold spaces and parentheses: the fields
    // that follow start after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // After the state come 18 fields; the start time is the 19th (field 22 of the line).
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_and_a_made_up_one_has_stopped() {
        let me = name("abcd1234");
        assert!(!has_stopped(&me), "{me}");
        let Some(prefix) = local_prefix() else {
            return; // Not Linux: nothing is ever judged stopped.
        };
        assert!(me.starts_with(&prefix));
        let (pid, start) = (std::process::id(), start_ticks(std::process::id()).unwrap());
        // Another machine's worker, or an unreadable name, is never judged.
        assert!(!has_stopped(&format!("elsewhere/1/{pid}.{start}/x")));
        assert!(!has_stopped(&format!("{prefix}garbage")));
    }

    #[test]
    fn a_killed_child_process_has_stopped() {
        let Some(prefix) = local_prefix() else {
            return;
        };
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = start_ticks(pid).unwrap();
        let worker = format!("{prefix}{pid}.{start}/x");
        assert!(!has_stopped(&worker));
        // The same process id with another start time: a new process that reused the number.
        assert!(has_stopped(&format!("{prefix}{pid}.{}/x", start + 1)));
        child.kill().unwrap();
        let _ = child.wait();
        assert!(has_stopped(&worker));
    }
}
