//! Running one phase of one system in a child process, so that each peak
//! RSS belongs to one system and one phase: the child prints one JSON line
//! on stdout, and its peak RSS comes from `wait4`'s resource usage.

use serde::de::DeserializeOwned;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished child reported.
#[derive(Debug)]
pub struct ChildRun<T> {
    /// The child's JSON line, decoded.
    pub value: T,
    /// Peak resident set size of the child (bytes).
    pub max_rss_bytes: u64,
    /// Wall time from spawn to exit.
    pub wall: Duration,
}

/// Waits for `pid` with `wait4`; its exit status and peak RSS in bytes.
fn wait4(pid: u32) -> anyhow::Result<(i32, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct for which all-zero bytes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid, exclusively borrowed out-pointers for the call;
        // `pid` is our own child, not yet reaped (std's `Child` never waited for it).
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == pid as libc::pid_t {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            anyhow::bail!("wait4({pid}): {err}");
        }
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    // Linux reports ru_maxrss in KiB.
    Ok((code, usage.ru_maxrss.max(0) as u64 * 1024))
}

/// Runs `cmd` (stdout captured, stderr passed through), expecting exit 0
/// and one JSON document as the last non-empty line of its stdout.
pub fn run_json<T: DeserializeOwned>(cmd: &mut Command) -> anyhow::Result<ChildRun<T>> {
    let what = format!("{cmd:?}");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting {what}: {e}"))?;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    let (code, max_rss_bytes) = wait4(child.id())?;
    let wall = started.elapsed();
    anyhow::ensure!(code == 0, "{what} exited with status {code}");
    let line = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    let value = serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{what} printed no result ({e}): {out}"))?;
    Ok(ChildRun { value, max_rss_bytes, wall })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_json_and_rss() {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", "echo noise; echo '{\"a\": 1}'"]);
        let r = super::run_json::<serde_json::Value>(&mut cmd).unwrap();
        assert_eq!(r.value["a"], 1);
        assert!(r.max_rss_bytes > 0);
        let mut failing = std::process::Command::new("sh");
        failing.args(["-c", "exit 3"]);
        assert!(super::run_json::<serde_json::Value>(&mut failing).is_err());
    }
}
