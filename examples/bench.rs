// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `make bench`: onvifhttpssrc against GStreamer's rtspsrc (`rtspsh://`) on the same
//! stream through the same HTTPS tunnel of the virtual camera in benchmark mode
//! (pre-packetised H.264 at a fixed bitrate, no encoder), with full certificate checks on
//! both sides. Each measurement runs in a fresh client process, A B A B over several
//! rounds; the table gives medians and min–max.
//!
//! ```text
//! bench [--rounds N] [--seconds S] [--warmup S] [--framing packet|coalesced|both]
//!       [--bitrates 8,100,400] [--streams 1,16,64,256] [--stream-mbps 4]
//! bench client ours|rtspsrc|ours-rtsps|rtspsrc-rtsps|ours-srtp|rtspsrc-srtp URL CA_FILE STREAMS WARMUP_S SECONDS
//! ```
//!
//! The `-rtsps` clients take the camera's RTSPS port instead of its tunnel: RTSP over TLS,
//! the media interleaved (`streaming-method=rtsps`, rtspsrc `rtsps://` over TCP). The
//! `-srtp` clients take it on a camera started with `--bench-srtp`: the media as SRTP over
//! UDP with the device's key (`streaming-method=rtsps-srtp`, rtspsrc `rtsps://` with
//! `protocols=udp`, which decrypts with srtpdec, libsrtp2).
//!
//! Client CPU is user+sys of the client process (getrusage) over the measured seconds,
//! divided by the RTP bytes its sinks received. Times are printed, never asserted.

use std::io::{Read, Write};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;

mod support;

use support::{Error, status};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("client") {
        return client(&args[1..]);
    }
    orchestrate(&args)
}

// ---------------------------------------------------------------- the client process

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A GTlsDatabase trusting exactly `ca_file`, for rtspsrc's `tls-database`.
fn tls_database(ca_file: &str) -> Result<glib::Object, Error> {
    use glib::translate::FromGlibPtrFull;
    #[link(name = "gio-2.0")]
    unsafe extern "C" {
        fn g_tls_file_database_new(
            anchors: *const std::ffi::c_char,
            error: *mut *mut glib::ffi::GError,
        ) -> *mut glib::gobject_ffi::GObject;
    }
    let path = std::ffi::CString::new(ca_file)?;
    let mut err = std::ptr::null_mut();
    // SAFETY: a valid C string and error location; the result is a new reference or NULL.
    let db = unsafe { g_tls_file_database_new(path.as_ptr(), &mut err) };
    if db.is_null() {
        // SAFETY: on failure GLib set the error, which we now own.
        let e: glib::Error = unsafe { glib::Error::from_glib_full(err) };
        return Err(format!("tls database from {ca_file}: {e}").into());
    }
    // SAFETY: a new, non-NULL GObject reference.
    Ok(unsafe { glib::Object::from_glib_full(db) })
}

fn client(args: &[String]) -> Result<(), Error> {
    let [kind, url, ca, streams, warmup, seconds] = args else {
        return Err(
            "usage: bench client ours|rtspsrc|ours-rtsps|rtspsrc-rtsps|ours-srtp|rtspsrc-srtp URL CA_FILE STREAMS WARMUP_S SECONDS"
                .into(),
        );
    };
    let streams: usize = streams.parse()?;
    let warmup = Duration::from_secs_f64(warmup.parse()?);
    let seconds = Duration::from_secs_f64(seconds.parse()?);
    gst::init()?;
    gstonvifhttps::plugin_register_static()?;
    // Load the element's plugin before the baseline, so the baseline is per process.
    let factory = if kind.starts_with("ours") {
        "onvifhttpssrc"
    } else {
        "rtspsrc"
    };
    drop(gst::ElementFactory::make(factory).build()?);
    let base_rss = status("VmRSS");

    let pipeline = gst::Pipeline::new();
    let bytes = Arc::new(AtomicU64::new(0));
    let first: Arc<std::sync::Mutex<Vec<Option<Instant>>>> =
        Arc::new(std::sync::Mutex::new(vec![None; streams]));
    let db = if kind.starts_with("rtspsrc") {
        Some(tls_database(ca)?)
    } else {
        None
    };
    for i in 0..streams {
        let src = match kind.as_str() {
            "ours" | "ours-rtsps" | "ours-srtp" => gst::ElementFactory::make("onvifhttpssrc")
                .property("location", url)
                .property("user-id", "admin")
                .property("user-pw", "password")
                .property("tls-ca-file", ca)
                .property("latency", 200u32)
                .property_from_str(
                    "streaming-method",
                    match kind.as_str() {
                        "ours" => "rtp-rtsp-http-tcp",
                        "ours-srtp" => "rtsps-srtp",
                        _ => "rtsps",
                    },
                )
                .build()?,
            "rtspsrc" | "rtspsrc-rtsps" | "rtspsrc-srtp" => {
                let e = gst::ElementFactory::make("rtspsrc")
                    .property("location", url)
                    .property("latency", 200u32)
                    .build()?;
                e.set_property("tls-database", db.as_ref());
                match kind.as_str() {
                    "rtspsrc-rtsps" => e.set_property_from_str("protocols", "tcp"),
                    "rtspsrc-srtp" => e.set_property_from_str("protocols", "udp"),
                    _ => {}
                }
                e
            }
            other => return Err(format!("unknown client {other}").into()),
        };
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .build()?;
        pipeline.add_many([&src, &sink])?;
        let sinkpad = sink.static_pad("sink").ok_or("fakesink without pad")?;
        let (b, f) = (bytes.clone(), first.clone());
        sinkpad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, info| {
                let n = match &info.data {
                    Some(gst::PadProbeData::Buffer(buf)) => buf.size(),
                    Some(gst::PadProbeData::BufferList(l)) => l.calculate_size(),
                    _ => 0,
                };
                b.fetch_add(n as u64, Ordering::Relaxed);
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                if f[i].is_none() {
                    f[i] = Some(Instant::now());
                }
                gst::PadProbeReturn::Ok
            },
        );
        let sinkpad = sinkpad.clone();
        src.connect_pad_added(move |_, pad| {
            if !sinkpad.is_linked() {
                let _ = pad.link(&sinkpad);
            }
        });
    }
    let bus = pipeline.bus().ok_or("no bus")?;
    let check_bus = || -> Result<(), Error> {
        while let Some(msg) = bus.pop() {
            if let gst::MessageView::Error(e) = msg.view() {
                return Err(format!("{}: {}", kind, e.error()).into());
            }
        }
        Ok(())
    };

    let t0 = Instant::now();
    pipeline.set_state(gst::State::Playing)?;
    let deadline = t0 + Duration::from_secs(30);
    loop {
        check_bus()?;
        let f = first.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if f.iter().all(Option::is_some) {
            break;
        }
        if Instant::now() > deadline {
            let got = f.iter().filter(|x| x.is_some()).count();
            return Err(format!("{kind}: {got} of {streams} streams started within 30 s").into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let ttfb =
        first.lock().unwrap_or_else(|e| e.into_inner())[0].map_or(0.0, |t| (t - t0).as_secs_f64());
    std::thread::sleep(warmup);
    check_bus()?;
    let (c0, b0, w0) = (cpu_seconds(), bytes.load(Ordering::Relaxed), Instant::now());
    let rss0 = status("VmRSS");
    std::thread::sleep(seconds);
    let (c1, b1, w1) = (cpu_seconds(), bytes.load(Ordering::Relaxed), Instant::now());
    let threads = status("Threads");
    let (rss, hwm) = (status("VmRSS"), status("VmHWM"));
    check_bus()?;
    pipeline.set_state(gst::State::Null)?;
    println!(
        "ttfb_s={ttfb:.6} cpu_s={:.6} bytes={} wall_s={:.6} base_rss_kib={base_rss} \
         rss0_kib={rss0} rss_kib={rss} hwm_kib={hwm} threads={threads}",
        c1 - c0,
        b1 - b0,
        (w1 - w0).as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------- the orchestrator

/// What one client run printed.
#[derive(Debug, Clone, Default)]
struct Sample {
    ttfb_s: f64,
    cpu_s: f64,
    bytes: f64,
    wall_s: f64,
    base_rss_kib: f64,
    /// RSS when the measured seconds began.
    rss0_kib: f64,
    rss_kib: f64,
    hwm_kib: f64,
    threads: f64,
}

impl Sample {
    fn parse(line: &str) -> Option<Sample> {
        let mut s = Sample::default();
        for kv in line.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            let v: f64 = v.parse().ok()?;
            match k {
                "ttfb_s" => s.ttfb_s = v,
                "cpu_s" => s.cpu_s = v,
                "bytes" => s.bytes = v,
                "wall_s" => s.wall_s = v,
                "base_rss_kib" => s.base_rss_kib = v,
                "rss0_kib" => s.rss0_kib = v,
                "rss_kib" => s.rss_kib = v,
                "hwm_kib" => s.hwm_kib = v,
                "threads" => s.threads = v,
                _ => {}
            }
        }
        Some(s)
    }

    /// Client CPU seconds per Gbit received.
    fn cpu_per_gbit(&self) -> f64 {
        self.cpu_s / (self.bytes * 8.0 / 1e9)
    }

    fn mbps(&self) -> f64 {
        self.bytes * 8.0 / 1e6 / self.wall_s
    }
}

/// The virtual camera in benchmark mode, stopped on drop.
struct BenchCamera {
    child: Child,
    http_port: u16,
    https_port: u16,
    rtsps_port: u16,
}

impl BenchCamera {
    fn start(exe: &std::path::Path, ca: &str, mbps: f64, framing: &str) -> Result<Self, Error> {
        Self::start_with(exe, ca, mbps, framing, &[])
    }

    /// [`BenchCamera::start`] with more camera options (`--bench-srtp`).
    fn start_with(
        exe: &std::path::Path,
        ca: &str,
        mbps: f64,
        framing: &str,
        more: &[&str],
    ) -> Result<Self, Error> {
        let args: Vec<String> = [
            "--ca-file",
            ca,
            "--input-period",
            "0",
            "--no-metadata",
            "--bench-mbps",
            &mbps.to_string(),
            "--bench-framing",
            framing,
        ]
        .iter()
        .chain(more)
        .map(|s| s.to_string())
        .collect();
        let (child, line) = support::spawn_camera(exe, &args)?;
        Ok(BenchCamera {
            http_port: support::port(&line, "http_port")?,
            https_port: support::port(&line, "https_port")?,
            rtsps_port: support::port(&line, "rtsps_port")?,
            child,
        })
    }

    /// `(TLS handshakes, SOAP round trips)` the camera has served.
    fn stats(&self) -> Result<(u64, u64), Error> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.http_port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /bench/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        let field = |key: &str| support::json_number(&text, key).unwrap_or(0);
        Ok((field("tls_handshakes"), field("soap_requests")))
    }
}

impl BenchCamera {
    /// CPU seconds (user + system) the camera process has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let field = |n: usize| {
            fields
                .get(n)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        (field(11) + field(12)) / ticks
    }
}

impl Drop for BenchCamera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Options {
    rounds: usize,
    seconds: f64,
    warmup: f64,
    framings: Vec<String>,
    bitrates: Vec<f64>,
    streams: Vec<usize>,
    stream_mbps: f64,
}

fn options(args: &[String]) -> Result<Options, Error> {
    let mut o = Options {
        rounds: 3,
        seconds: 6.0,
        warmup: 1.0,
        framings: vec!["packet".into(), "coalesced".into()],
        bitrates: vec![8.0, 100.0, 400.0],
        streams: vec![1, 16, 64, 256],
        stream_mbps: 4.0,
    };
    let list = |v: &str| -> Result<Vec<f64>, Error> {
        if v == "none" {
            return Ok(Vec::new());
        }
        v.split(',')
            .map(|x| x.parse::<f64>().map_err(|e| format!("{x}: {e}").into()))
            .collect()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--rounds" => o.rounds = v.parse()?,
            "--seconds" => o.seconds = v.parse()?,
            "--warmup" => o.warmup = v.parse()?,
            "--framing" => {
                o.framings = match v.as_str() {
                    "both" => vec!["packet".into(), "coalesced".into()],
                    f => vec![f.to_string()],
                }
            }
            "--bitrates" => o.bitrates = list(v)?,
            "--streams" => o.streams = list(v)?.into_iter().map(|n| n as usize).collect(),
            "--stream-mbps" => o.stream_mbps = v.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(o)
}

fn run_client(
    kind: &str,
    cam: &BenchCamera,
    ca: &str,
    streams: usize,
    o: &Options,
) -> Result<Sample, Error> {
    let url = match kind {
        // The whole ONVIF start, with the HTTPS port known.
        "ours" | "ours-rtsps" | "ours-srtp" => format!("https://127.0.0.1:{}", cam.https_port),
        // The stream URL already known.
        "rtspsrc-rtsps" | "rtspsrc-srtp" => {
            format!("rtsps://127.0.0.1:{}/media/Profile_1", cam.rtsps_port)
        }
        _ => format!("rtspsh://127.0.0.1:{}/media/Profile_1", cam.https_port),
    };
    let out = Command::new(std::env::current_exe()?)
        .args(["client", kind, &url, ca])
        .args([
            streams.to_string(),
            o.warmup.to_string(),
            o.seconds.to_string(),
        ])
        .env_remove("GST_DEBUG")
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last().and_then(Sample::parse) {
        Some(s) if out.status.success() => Ok(s),
        _ => Err(format!(
            "{kind} client failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        )
        .into()),
    }
}

/// Median, min and max.
fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let med = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (med, s[0], s[n - 1])
}

fn cell(v: &[f64], digits: usize) -> String {
    let (m, lo, hi) = stats(v);
    format!("{m:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

fn ratio(ours: &[f64], theirs: &[f64]) -> String {
    format!("{:.2}", stats(ours).0 / stats(theirs).0)
}

fn orchestrate(args: &[String]) -> Result<(), Error> {
    let o = options(args)?;
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .ok_or("cannot find the target directory")?;
    let camera = dir.join("onvif-virtual-camera");
    let ca_path = std::env::temp_dir().join(format!("onvifhttps-bench-{}.pem", std::process::id()));
    let ca = ca_path.to_string_lossy().to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default();
    println!(
        "onvifhttpssrc vs rtspsrc (rtspsh://), same camera tunnel, certificate checks on both"
    );
    println!(
        "machine: {cpus} CPUs, {model}; GStreamer {}; {} rounds, {} s measured after {} s warm-up\n",
        gst_version(),
        o.rounds,
        o.seconds,
        o.warmup
    );

    if !o.bitrates.is_empty() {
        cpu_and_start(&o, &camera, &ca)?;
    }
    if !o.streams.is_empty() {
        many_streams(&o, &camera, &ca)?;
    }
    let _ = std::fs::remove_file(&ca_path);
    Ok(())
}

/// CPU per Gbit at each bitrate and framing, time to first buffer, cost of a start.
fn cpu_and_start(o: &Options, camera: &std::path::Path, ca: &str) -> Result<(), Error> {
    println!("## Client CPU seconds per Gbit received (median, min–max), one stream");
    println!();
    println!(
        "| framing | Mbit/s | onvifhttpssrc | rtspsrc rtspsh:// | ratio | delivered Mbit/s (ours / rtspsrc) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut ttfb_ours = Vec::new();
    let mut ttfb_theirs = Vec::new();
    let mut per_start = Vec::new();
    for framing in &o.framings {
        for &mbps in &o.bitrates {
            let cam = BenchCamera::start(camera, ca, mbps, framing)?;
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for _ in 0..o.rounds {
                let before = cam.stats()?;
                let a = run_client("ours", &cam, ca, 1, o)?;
                let after = cam.stats()?;
                per_start.push((after.0 - before.0, after.1 - before.1));
                let b = run_client("rtspsrc", &cam, ca, 1, o)?;
                ttfb_ours.push(a.ttfb_s * 1e3);
                ttfb_theirs.push(b.ttfb_s * 1e3);
                ours.push(a);
                theirs.push(b);
            }
            let cpu = |v: &[Sample]| v.iter().map(Sample::cpu_per_gbit).collect::<Vec<_>>();
            let rate = |v: &[Sample]| stats(&v.iter().map(Sample::mbps).collect::<Vec<_>>()).0;
            println!(
                "| {framing} | {mbps} | {} | {} | {} | {:.1} / {:.1} |",
                cell(&cpu(&ours), 3),
                cell(&cpu(&theirs), 3),
                ratio(&cpu(&ours), &cpu(&theirs)),
                rate(&ours),
                rate(&theirs)
            );
        }
    }
    println!();
    println!(
        "## RTSPS (RTSP over TLS on the camera's RTSPS port, media interleaved), one stream, packet framing"
    );
    println!();
    println!(
        "| Mbit/s | onvifhttpssrc rtsps | rtspsrc rtsps:// | ratio | first buffer ms (ours / rtspsrc) |"
    );
    println!("|---|---|---|---|---|");
    secure_table(o, camera, ca, ("ours-rtsps", "rtspsrc-rtsps"), &[])?;
    println!();
    println!(
        "## SRTP over UDP (RTSPS control, RTP/SAVP with the device's key, AES_CM_128_HMAC_SHA1_80), one stream"
    );
    println!();
    println!(
        "| Mbit/s | onvifhttpssrc rtsps-srtp | rtspsrc rtsps:// protocols=udp | ratio | first buffer ms (ours / rtspsrc) | delivered Mbit/s (ours / rtspsrc) |"
    );
    println!("|---|---|---|---|---|---|");
    secure_table(
        o,
        camera,
        ca,
        ("ours-srtp", "rtspsrc-srtp"),
        &["--bench-srtp"],
    )?;
    println!();
    println!("## Time from PLAYING to the first buffer, ms (all runs above)");
    println!();
    println!("| onvifhttpssrc (whole ONVIF start, port known) | rtspsrc (URL known) | ratio |");
    println!("|---|---|---|");
    println!(
        "| {} | {} | {} |",
        cell(&ttfb_ours, 1),
        cell(&ttfb_theirs, 1),
        ratio(&ttfb_ours, &ttfb_theirs)
    );
    let hs: Vec<f64> = per_start.iter().map(|p| p.0 as f64).collect();
    let soap: Vec<f64> = per_start.iter().map(|p| p.1 as f64).collect();
    println!(
        "\nPer start of onvifhttpssrc, seen by the camera: {} TLS handshakes, {} SOAP round trips\n",
        cell(&hs, 0),
        cell(&soap, 0)
    );

    Ok(())
}

/// One row per bitrate: `kinds` (ours, rtspsrc) on a camera started with `more`.
fn secure_table(
    o: &Options,
    camera: &std::path::Path,
    ca: &str,
    (ours_kind, their_kind): (&str, &str),
    more: &[&str],
) -> Result<(), Error> {
    for &mbps in &o.bitrates {
        let cam = BenchCamera::start_with(camera, ca, mbps, "packet", more)?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..o.rounds {
            ours.push(run_client(ours_kind, &cam, ca, 1, o)?);
            theirs.push(run_client(their_kind, &cam, ca, 1, o)?);
        }
        let cpu = |v: &[Sample]| v.iter().map(Sample::cpu_per_gbit).collect::<Vec<_>>();
        let ttfb = |v: &[Sample]| v.iter().map(|s| s.ttfb_s * 1e3).collect::<Vec<_>>();
        let rate = |v: &[Sample]| stats(&v.iter().map(Sample::mbps).collect::<Vec<_>>()).0;
        let delivered = if more.is_empty() {
            String::new()
        } else {
            format!(" {:.1} / {:.1} |", rate(&ours), rate(&theirs))
        };
        println!(
            "| {mbps} | {} | {} | {} | {:.1} / {:.1} |{delivered}",
            cell(&cpu(&ours), 3),
            cell(&cpu(&theirs), 3),
            ratio(&cpu(&ours), &cpu(&theirs)),
            stats(&ttfb(&ours)).0,
            stats(&ttfb(&theirs)).0
        );
    }
    Ok(())
}

/// Many streams in one process: CPU, memory, threads.
fn many_streams(o: &Options, camera: &std::path::Path, ca: &str) -> Result<(), Error> {
    println!(
        "## {} Mbit/s streams at once in one process ({} framing)",
        o.stream_mbps, o.framings[0]
    );
    println!();
    println!(
        "| streams | client | CPU % of a core | delivered Mbit/s per stream | peak RSS per stream, MiB | RSS growth while measured, MiB | threads | threads per stream | camera CPU % of a core |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &n in &o.streams {
        let cam = BenchCamera::start(camera, ca, o.stream_mbps, &o.framings[0])?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let (mut cam_ours, mut cam_theirs) = (Vec::new(), Vec::new());
        // The camera's CPU over a whole client run (start included), per wall second.
        let measured = |kind: &str, cam_cpu: &mut Vec<f64>| -> Result<Sample, Error> {
            let (c0, t0) = (cam.cpu_seconds(), Instant::now());
            let s = run_client(kind, &cam, ca, n, o)?;
            cam_cpu.push(100.0 * (cam.cpu_seconds() - c0) / t0.elapsed().as_secs_f64());
            Ok(s)
        };
        for _ in 0..o.rounds.min(2) {
            ours.push(measured("ours", &mut cam_ours)?);
            theirs.push(measured("rtspsrc", &mut cam_theirs)?);
        }
        for (name, v, cam_cpu) in [
            ("onvifhttpssrc", &ours, &cam_ours),
            ("rtspsrc", &theirs, &cam_theirs),
        ] {
            let cpu: Vec<f64> = v.iter().map(|s| 100.0 * s.cpu_s / s.wall_s).collect();
            let rate: Vec<f64> = v.iter().map(|s| s.mbps() / n as f64).collect();
            let rss: Vec<f64> = v
                .iter()
                .map(|s| (s.hwm_kib - s.base_rss_kib) / 1024.0 / n as f64)
                .collect();
            let growth: Vec<f64> = v
                .iter()
                .map(|s| (s.rss_kib - s.rss0_kib) / 1024.0)
                .collect();
            let threads: Vec<f64> = v.iter().map(|s| s.threads).collect();
            let per: Vec<f64> = threads.iter().map(|t| t / n as f64).collect();
            println!(
                "| {n} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&cpu, 1),
                cell(&rate, 2),
                cell(&rss, 2),
                cell(&growth, 2),
                cell(&threads, 0),
                cell(&per, 2),
                cell(cam_cpu, 1)
            );
        }
    }
    Ok(())
}

fn gst_version() -> String {
    let (a, b, c, _) = gst::version();
    format!("{a}.{b}.{c}")
}
