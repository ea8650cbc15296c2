// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's controllable state: a PTZ head that moves, relays, auxiliary commands.

use std::time::{Duration, Instant};

/// PTZ presets: token, name, position.
pub const PRESETS: &[(&str, &str, (f64, f64, f64))] = &[
    ("1", "Gate", (0.3, -0.2, 0.0)),
    ("2", "Door", (-0.5, 0.1, 0.5)),
];

/// Auxiliary commands the camera accepts (device capability `Misc@AuxiliaryCommands`).
pub const AUX_COMMANDS: &[&str] = &[
    "tt:Wiper|On",
    "tt:Wiper|Off",
    "tt:IRLamp|On",
    "tt:IRLamp|Off",
    "tt:IRLamp|Auto",
];

/// Generic-space units per second at velocity 1.
const SPEED: f64 = 0.5;

/// A PTZ head: position in the generic spaces, and the move under way.
#[derive(Debug, Clone)]
pub struct Ptz {
    pos: (f64, f64, f64),
    velocity: (f64, f64, f64),
    since: Option<Instant>,
    until: Option<Instant>,
}

impl Default for Ptz {
    fn default() -> Self {
        Self {
            pos: (0.0, 0.0, 0.0),
            velocity: (0.0, 0.0, 0.0),
            since: None,
            until: None,
        }
    }
}

fn clamp(p: (f64, f64, f64)) -> (f64, f64, f64) {
    (
        p.0.clamp(-1.0, 1.0),
        p.1.clamp(-1.0, 1.0),
        p.2.clamp(0.0, 1.0),
    )
}

impl Ptz {
    /// The current position.
    pub fn position(&self) -> (f64, f64, f64) {
        let Some(since) = self.since else {
            return self.pos;
        };
        let end = match self.until {
            Some(u) => u.min(Instant::now()),
            None => Instant::now(),
        };
        let t = end.saturating_duration_since(since).as_secs_f64() * SPEED;
        clamp((
            self.pos.0 + self.velocity.0 * t,
            self.pos.1 + self.velocity.1 * t,
            self.pos.2 + self.velocity.2 * t,
        ))
    }

    pub fn moving(&self) -> bool {
        self.since.is_some() && self.until.is_none_or(|u| Instant::now() < u)
    }

    fn settle(&mut self) {
        self.pos = self.position();
        self.since = None;
        self.until = None;
        self.velocity = (0.0, 0.0, 0.0);
    }

    pub fn continuous(&mut self, velocity: (f64, f64, f64), timeout: Option<Duration>) {
        self.settle();
        self.velocity = velocity;
        self.since = Some(Instant::now());
        self.until = timeout.map(|t| Instant::now() + t);
    }

    pub fn stop(&mut self) {
        self.settle();
    }

    pub fn absolute(&mut self, to: (f64, f64, f64)) {
        self.settle();
        self.pos = clamp(to);
    }

    pub fn relative(&mut self, by: (f64, f64, f64)) {
        self.settle();
        self.pos = clamp((self.pos.0 + by.0, self.pos.1 + by.1, self.pos.2 + by.2));
    }
}

/// Everything a client can change on the camera.
#[derive(Debug, Clone)]
pub struct DeviceState {
    pub ptz: Ptz,
    /// `(token, active)` per relay output.
    pub relays: Vec<(String, bool)>,
    /// Auxiliary commands received, in order.
    pub aux: Vec<String>,
}

impl Default for DeviceState {
    fn default() -> Self {
        Self {
            ptz: Ptz::default(),
            relays: vec![
                ("RelayOutput_1".into(), false),
                ("RelayOutput_2".into(), false),
            ],
            aux: Vec::new(),
        }
    }
}

/// `PT2S`, `PT2.5S`, `PT1M` (the forms PTZ timeouts use).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let rest = s.trim().strip_prefix("PT")?;
    let mut total = 0.0;
    let mut num = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let v: f64 = num.parse().ok()?;
                total += v * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                num.clear();
            }
            _ => return None,
        }
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_durations() {
        assert_eq!(parse_duration("PT2S"), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_duration("PT2.500S"),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(parse_duration("PT1M30S"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2S"), None);
    }

    #[test]
    fn test_ptz_moves_and_clamps() {
        let mut p = Ptz::default();
        p.absolute((2.0, -0.5, -1.0));
        assert_eq!(p.position(), (1.0, -0.5, 0.0));
        p.relative((-0.5, 0.0, 0.25));
        assert_eq!(p.position(), (0.5, -0.5, 0.25));
        p.continuous((1.0, 0.0, 0.0), Some(Duration::ZERO));
        assert!(!p.moving(), "a zero timeout ends at once");
    }
}
