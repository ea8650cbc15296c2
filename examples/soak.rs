// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `make soak`: onvifhttpssrc against the virtual camera for a long time, with faults at
//! random intervals, and a report of what it cost: gaps, reconnections, memory, descriptors
//! and threads at the start and the end, frames delivered against frames expected.
//!
//! ```text
//! soak [--minutes M] [--fault-every S] [--streams N] [--mbps R] [--seed X]
//! ```
//!
//! The camera runs as its own process in benchmark mode (fixed 25 frames per second),
//! keeping its certificate across restarts (`--identity-dir`). Between the element and the
//! camera's HTTPS port sits a relay this program controls. Faults, one every S seconds on
//! average (exponential), in turn: every connection cut (a network flap), then the camera
//! killed and started again 3 s later on the same ports (a reboot). The element runs in this process,
//! `onvifhttpssrc ! fakesink` per stream, with `reconnect` on.

use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;

mod support;

use support::{Error, status};

const FPS: f64 = 25.0;
/// A gap is a pause between two frames longer than this.
const GAP: Duration = Duration::from_millis(500);

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// A TCP relay to `target` that can cut every connection it carries.
struct Relay {
    port: u16,
    conns: Arc<Mutex<Vec<Arc<TcpStream>>>>,
}

impl Relay {
    fn start(target: u16) -> Result<Relay, Error> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let conns: Arc<Mutex<Vec<Arc<TcpStream>>>> = Arc::default();
        let c = conns.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (client, server) = (Arc::new(client), Arc::new(server));
                if let Ok(mut list) = c.lock() {
                    list.push(client.clone());
                    list.push(server.clone());
                }
                for (from, to) in [(client.clone(), server.clone()), (server, client)] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut &*from, &mut &*to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        let _ = from.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Ok(Relay { port, conns })
    }

    /// Forgets the connections that have ended (their descriptors close).
    fn prune(&self) {
        if let Ok(mut list) = self.conns.lock() {
            list.retain(|s| Arc::strong_count(s) > 1);
        }
    }

    /// Cuts every connection, as a link going down and up does.
    fn cut_all(&self) {
        if let Ok(mut list) = self.conns.lock() {
            for s in list.drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// The camera process.
struct Camera {
    exe: std::path::PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    https_port: u16,
}

impl Camera {
    fn start(exe: std::path::PathBuf, args: Vec<String>) -> Result<Camera, Error> {
        let mut cam = Camera {
            exe,
            args,
            child: None,
            https_port: 0,
        };
        let line = cam.spawn()?;
        cam.https_port = support::port(&line, "https_port")?;
        let http_port = support::port(&line, "http_port")?;
        // Restarts come back on the same ports.
        cam.args.extend([
            "--http-port".into(),
            http_port.to_string(),
            "--https-port".into(),
            cam.https_port.to_string(),
        ]);
        Ok(cam)
    }

    fn spawn(&mut self) -> Result<String, Error> {
        let (child, line) = support::spawn_camera(&self.exe, &self.args)?;
        self.child = Some(child);
        Ok(line)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small deterministic generator (xorshift64*), for reproducible fault times.
struct Rng(u64);

impl Rng {
    /// Seeded through splitmix64, so that small seeds start well mixed.
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed, mean `mean`.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next_f64()).ln()
    }
}

/// Per stream: frame arrival times, as the pad saw them.
#[derive(Default)]
struct Frames {
    count: u64,
    last: Option<Instant>,
    gaps: Vec<Duration>,
}

fn main() -> Result<(), Error> {
    let mut minutes = 10.0f64;
    let mut fault_every = 30.0f64;
    let mut streams = 4usize;
    let mut mbps = 4.0f64;
    let mut seed = 20_261_127u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--minutes" => minutes = v.parse()?,
            "--fault-every" => fault_every = v.parse()?,
            "--streams" => streams = v.parse()?,
            "--mbps" => mbps = v.parse()?,
            "--seed" => seed = v.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    gst::init()?;
    gstonvifhttps::plugin_register_static()?;

    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .ok_or("cannot find the target directory")?;
    let work = std::env::temp_dir().join(format!("onvifhttps-soak-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let ca = work.join("ca.pem").to_string_lossy().to_string();
    let mut camera = Camera::start(
        dir.join("onvif-virtual-camera"),
        vec![
            "--identity-dir".into(),
            work.join("identity").to_string_lossy().to_string(),
            "--ca-file".into(),
            ca.clone(),
            "--input-period".into(),
            "0".into(),
            "--no-metadata".into(),
            "--bench-mbps".into(),
            mbps.to_string(),
        ],
    )?;
    let relay = Relay::start(camera.https_port)?;
    let location = format!("https://127.0.0.1:{}", relay.port);

    let pipeline = gst::Pipeline::new();
    let frames: Arc<Vec<Mutex<Frames>>> =
        Arc::new((0..streams).map(|_| Mutex::default()).collect());
    for i in 0..streams {
        let src = gst::ElementFactory::make("onvifhttpssrc")
            .property("location", &location)
            .property("user-id", "admin")
            .property("user-pw", "password")
            .property("tls-ca-file", &ca)
            .build()?;
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .build()?;
        pipeline.add_many([&src, &sink])?;
        let sinkpad = sink.static_pad("sink").ok_or("no sink pad")?;
        let f = frames.clone();
        // The element pushes buffer lists (a video frame per list): both are counted.
        sinkpad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, info| {
                let is_marked = |buf: &gst::BufferRef| {
                    buf.map_readable()
                        .ok()
                        .and_then(|m| gstonvifhttps::testing::rtp::parse_header(&m))
                        .is_some_and(|h| h.marker)
                };
                let marked = match &info.data {
                    Some(gst::PadProbeData::Buffer(b)) => usize::from(is_marked(b)),
                    Some(gst::PadProbeData::BufferList(l)) => {
                        l.iter().filter(|b| is_marked(b)).count()
                    }
                    _ => 0,
                };
                if marked > 0
                    && let Ok(mut st) = f[i].lock()
                {
                    let now = Instant::now();
                    if let Some(last) = st.last
                        && now - last > GAP
                    {
                        st.gaps.push(now - last);
                    }
                    st.last = Some(now);
                    st.count += marked as u64;
                }
                gst::PadProbeReturn::Ok
            },
        );
        src.connect_pad_added(move |_, pad| {
            let _ = pad.link(&sinkpad);
        });
    }
    let reconnects = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline.set_state(gst::State::Playing)?;

    println!(
        "soak: {streams} stream(s) of {mbps} Mbit/s for {minutes} min, a fault every {fault_every} s on average (seed {seed})"
    );
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(minutes * 60.0);
    let warm = start + Duration::from_secs(10);
    let mut rng = Rng::new(seed);
    let mut next_fault = warm + Duration::from_secs_f64(rng.exp(fault_every));
    let (mut cuts, mut reboots) = (0u32, 0u32);
    let mut first_sample: Option<(u64, usize, u64)> = None;
    let mut counted_from: Vec<u64> = vec![0; streams];
    let mut longest_fault = Duration::ZERO;
    while Instant::now() < end {
        while let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
            match msg.view() {
                gst::MessageView::Error(e) => {
                    eprintln!("soak: error: {}", e.error());
                    failed.store(true, Ordering::SeqCst);
                }
                gst::MessageView::Element(e)
                    if e.structure()
                        .is_some_and(|s| s.name() == "onvif-reconnecting") =>
                {
                    reconnects.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        if failed.load(Ordering::SeqCst) {
            break;
        }
        let now = Instant::now();
        if first_sample.is_none() && now >= warm {
            relay.prune();
            first_sample = Some((status("VmRSS"), open_fds(), status("Threads")));
            for (i, f) in frames.iter().enumerate() {
                counted_from[i] = f.lock().map_or(0, |f| f.count);
            }
        }
        if now >= next_fault && now + Duration::from_secs(10) < end {
            // Cuts and reboots take turns.
            if cuts <= reboots {
                cuts += 1;
                println!(
                    "{:>7.1} s: cut every connection",
                    (now - start).as_secs_f64()
                );
                relay.cut_all();
            } else {
                reboots += 1;
                println!(
                    "{:>7.1} s: camera reboot (3 s down)",
                    (now - start).as_secs_f64()
                );
                camera.kill();
                std::thread::sleep(Duration::from_secs(3));
                camera.spawn()?;
                longest_fault = longest_fault.max(Duration::from_secs(3));
            }
            next_fault = Instant::now() + Duration::from_secs_f64(rng.exp(fault_every).max(5.0));
        }
    }
    relay.prune();
    let (rss1, fds1, threads1) = (status("VmRSS"), open_fds(), status("Threads"));
    let measured = (Instant::now() - warm).as_secs_f64();
    pipeline.set_state(gst::State::Null)?;
    drop(camera);
    let _ = std::fs::remove_dir_all(&work);

    let (rss0, fds0, threads0) = first_sample.unwrap_or_default();
    let mut gaps: Vec<Duration> = Vec::new();
    let mut delivered = 0u64;
    for (i, f) in frames.iter().enumerate() {
        if let Ok(f) = f.lock() {
            delivered += f.count - counted_from[i];
            gaps.extend(f.gaps.iter().copied());
        }
    }
    let expected = (FPS * measured) as u64 * streams as u64;
    let longest = gaps.iter().max().copied().unwrap_or_default();
    let gap_total: Duration = gaps.iter().sum();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| faults | {cuts} connection cuts, {reboots} camera reboots |");
    println!(
        "| reconnection attempts (onvif-reconnecting) | {} |",
        reconnects.load(Ordering::SeqCst)
    );
    println!(
        "| gaps over {} ms | {} (longest {:.2} s, {:.1} s in all, over {streams} streams) |",
        GAP.as_millis(),
        gaps.len(),
        longest.as_secs_f64(),
        gap_total.as_secs_f64()
    );
    println!(
        "| frames delivered / expected at {FPS} fps | {delivered} / {expected} ({:.1} %) |",
        100.0 * delivered as f64 / expected.max(1) as f64
    );
    println!(
        "| RSS after warm-up -> end | {:.1} MiB -> {:.1} MiB |",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0
    );
    println!("| file descriptors | {fds0} -> {fds1} |");
    println!("| threads | {threads0} -> {threads1} |");
    println!(
        "| longest fault | {:.1} s (a reboot is 3 s down; a retry waits at most 30 s) |",
        longest_fault.as_secs_f64()
    );
    if failed.load(Ordering::SeqCst) {
        return Err("the pipeline posted an error".into());
    }
    Ok(())
}
