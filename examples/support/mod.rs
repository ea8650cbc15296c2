// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What the benchmark and the soak share: the virtual camera as a child process, and this
//! process's own figures from /proc.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub type Error = Box<dyn std::error::Error>;

/// A field of /proc/self/status (kB for memory, a count for Threads).
pub fn status(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let v = l.strip_prefix(key)?.strip_prefix(':')?;
                v.split_whitespace().next()?.parse().ok()
            })
        })
        .unwrap_or(0)
}

/// The number after `"key":` in a line of JSON the camera printed.
pub fn json_number(text: &str, key: &str) -> Option<u64> {
    let at = text.find(&format!("\"{key}\":"))? + key.len() + 3;
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Starts the camera binary `exe` with `args`; returns it and the JSON line it printed
/// (its ports).
pub fn spawn_camera(exe: &std::path::Path, args: &[String]) -> Result<(Child, String), Error> {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    if line.is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{} did not start", exe.display()).into());
    }
    Ok((child, line))
}

/// The camera's port `key` (`http_port`, `https_port`) from its JSON line.
pub fn port(line: &str, key: &str) -> Result<u16, Error> {
    let n = json_number(line, key).ok_or_else(|| format!("no {key} in {line:?}"))?;
    Ok(u16::try_from(n)?)
}
