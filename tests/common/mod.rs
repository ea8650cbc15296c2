// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Shared test harness: plugin registration, a pipeline `onvifhttpssrc ! appsink`, and
//! bounded waits for buffers and bus messages.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use gst::prelude::*;

#[allow(unused_imports)]
pub use onvif_virtual_camera::{
    AuthMode, Camera, Config, Device, Faults, Quirks, SetProtocols, certs,
};

pub fn init() {
    use std::sync::Once;
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        // ONVIFHTTPS_TEST_PLUGIN=path/to/libgstonvifhttps.so runs the element tests against
        // that build (an older one, to show that a test fails there). Only tests that drive
        // the element alone mean anything then: those calling `gstonvifhttps::testing`
        // (the panic hook, the protocol code) still reach this build's copy.
        match std::env::var_os("ONVIFHTTPS_TEST_PLUGIN") {
            Some(path) => {
                gst::Plugin::load_file(&path).expect("the plugin given loads");
            }
            None => gstonvifhttps::plugin_register_static().expect("plugin registers"),
        }
    });
}

/// The value of SimpleItem `name` in the `source` or `data` (`field`) of an `onvif-event`
/// structure: an array of `item, name=..., value=...`.
pub fn event_item(s: &gst::StructureRef, field: &str, name: &str) -> Option<String> {
    s.get::<gst::Array>(field)
        .ok()?
        .iter()
        .filter_map(|v| v.get::<gst::Structure>().ok())
        .find(|i| i.get::<&str>("name") == Ok(name))
        .and_then(|i| i.get::<String>("value").ok())
}

/// Records an error or warning message into `out`.
fn handle_msg(msg: &gst::Message, out: &mut Outcome) {
    match msg.view() {
        gst::MessageView::Error(e) if out.error.is_none() => {
            let debug = e.debug().map(|d| d.to_string()).unwrap_or_default();
            out.error = Some((e.error(), debug));
        }
        gst::MessageView::Warning(w) => out.warnings.push(w.error().message().to_string()),
        gst::MessageView::Eos(_) => out.eos = true,
        gst::MessageView::Element(e) => {
            if let Some(s) = e.structure() {
                out.elements.push(s.to_owned());
            }
        }
        gst::MessageView::Qos(q) => {
            let (processed, dropped) = q.stats();
            let n = |v: gst::GenericFormattedValue| u64::try_from(v.value()).unwrap_or(0);
            out.qos.push((n(processed), n(dropped)));
        }
        _ => {}
    }
}

/// Moves the error and warning messages waiting on the bus into `out`.
fn drain_bus(bus: &gst::Bus, out: &mut Outcome) {
    while let Some(msg) = bus.pop() {
        handle_msg(&msg, out);
    }
}

/// Writes a PEM into a temporary file that lives as long as the returned guard.
pub struct TempFile {
    pub path: std::path::PathBuf,
}

impl TempFile {
    pub fn new(name: &str, contents: &str) -> TempFile {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("onvifhttps-test-{}-{n}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("temp file written");
        TempFile { path }
    }

    pub fn as_str(&self) -> &str {
        self.path.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub samples: Vec<gst::Sample>,
    /// The first error: its GError and debug string.
    pub error: Option<(glib::Error, String)>,
    /// Warning texts in arrival order.
    pub warnings: Vec<String>,
    /// Whether a `video_0` pad appeared.
    pub pad_names: Vec<String>,
    /// The pipeline posted EOS.
    pub eos: bool,
    /// Element messages (such as `onvif-reconnecting`) in arrival order.
    pub elements: Vec<gst::Structure>,
    /// QoS messages: buffers processed and dropped.
    pub qos: Vec<(u64, u64)>,
}

use gst::glib;

impl Outcome {
    /// The caps of the first sample.
    pub fn first_caps(&self) -> gst::Structure {
        self.samples[0]
            .caps()
            .expect("caps")
            .structure(0)
            .expect("a structure")
            .to_owned()
    }
}

/// The encoding names of the streams an RTSP session SET UP, in order.
pub fn set_up_encodings(events: &[gstonvifhttps::testing::rtsp::session::Event]) -> Vec<String> {
    use gstonvifhttps::testing::rtsp::{sequence::Step, session::Event};
    events
        .iter()
        .filter_map(|e| match e {
            Event::Start(Step::SetUp(s)) => Some(s.stream.encoding_name.clone()),
            _ => None,
        })
        .collect()
}

/// The error a run ended with, and the checks on it (shared by both kinds of run).
pub trait RunError {
    /// The first error: its GError and debug string.
    fn error(&self) -> Option<&(glib::Error, String)>;

    fn resource_error(&self) -> Option<gst::ResourceError> {
        self.error()
            .and_then(|(e, _)| e.kind::<gst::ResourceError>())
    }

    fn stream_error(&self) -> Option<gst::StreamError> {
        self.error().and_then(|(e, _)| e.kind::<gst::StreamError>())
    }

    fn error_text(&self) -> String {
        self.error()
            .map(|(e, d)| format!("{} | {d}", e.message()))
            .unwrap_or_default()
    }

    /// Asserts a RESOURCE error with `code` whose text names every one of `needles`.
    #[track_caller]
    fn assert_resource_error(&self, code: gst::ResourceError, needles: &[&str]) {
        assert_eq!(self.resource_error(), Some(code), "{}", self.error_text());
        self.assert_names(needles);
    }

    /// Asserts a STREAM error with `code` whose text names every one of `needles`.
    #[track_caller]
    fn assert_stream_error(&self, code: gst::StreamError, needles: &[&str]) {
        assert_eq!(self.stream_error(), Some(code), "{}", self.error_text());
        self.assert_names(needles);
    }

    #[track_caller]
    fn assert_names(&self, needles: &[&str]) {
        let text = self.error_text();
        for n in needles {
            assert!(text.contains(n), "{n:?} missing in: {text}");
        }
    }
}

impl RunError for Outcome {
    fn error(&self) -> Option<&(glib::Error, String)> {
        self.error.as_ref()
    }
}

/// An `onvifhttpssrc` with the given properties (enums and flags given by nick, as in
/// gst-launch).
pub fn make_src(props: &[(&str, &dyn ToValue)]) -> gst::Element {
    init();
    let src = gst::ElementFactory::make("onvifhttpssrc")
        .build()
        .expect("element");
    for (k, v) in props {
        let value = v.to_value();
        let pspec = src.find_property(k).expect("known property");
        match value.get::<String>() {
            Ok(s) if pspec.value_type() != glib::Type::STRING => src.set_property_from_str(k, &s),
            _ => src.set_property_from_value(k, &value),
        }
    }
    src
}

/// A pipeline `onvifhttpssrc ! appsink` with the given properties.
pub struct Run {
    pub pipeline: gst::Pipeline,
    pub src: gst::Element,
    pub sink: gst_app::AppSink,
}

impl Run {
    pub fn new(props: &[(&str, &dyn ToValue)]) -> Run {
        let pipeline = gst::Pipeline::new();
        let src = make_src(props);
        let sink = gst_app::AppSink::builder().sync(false).build();
        pipeline.add_many([&src, sink.upcast_ref()]).unwrap();
        let sink_pad = sink.static_pad("sink").unwrap();
        src.connect_pad_added(move |_, pad| {
            let _ = pad.link(&sink_pad);
        });
        Run {
            pipeline,
            src,
            sink,
        }
    }

    /// Plays until `n` buffers arrived, an error came, or `deadline` passed.
    pub fn collect(&self, n: usize, deadline: Duration) -> Outcome {
        let mut out = Outcome::default();
        let bus = self.pipeline.bus().unwrap();
        let _ = self.pipeline.set_state(gst::State::Playing);
        let end = Instant::now() + deadline;
        while Instant::now() < end && out.samples.len() < n && out.error.is_none() && !out.eos {
            drain_bus(&bus, &mut out);
            if out.error.is_some() {
                break;
            }
            if let Some(s) = self.sink.try_pull_sample(gst::ClockTime::from_mseconds(50)) {
                out.samples.push(s);
            }
        }
        // What the sink still holds when EOS stopped the loop.
        while out.eos
            && let Some(s) = self.sink.try_pull_sample(gst::ClockTime::ZERO)
        {
            out.samples.push(s);
        }
        drain_bus(&bus, &mut out);
        out.pad_names = self
            .src
            .src_pads()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        out
    }

    /// Plays until an error message, bounded by `deadline`.
    pub fn expect_error(&self, deadline: Duration) -> Outcome {
        let out = self.collect(usize::MAX, deadline);
        assert!(
            out.error.is_some(),
            "expected an error, got {} buffers",
            out.samples.len()
        );
        out
    }
}

/// Spec §9: going to NULL returns within one second, whatever the device does.
pub fn null_within_a_second(pipeline: &gst::Pipeline) {
    let start = Instant::now();
    let _ = pipeline.set_state(gst::State::Null);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "NULL must return within one second, took {:?}",
        start.elapsed()
    );
}

impl Drop for Run {
    fn drop(&mut self) {
        null_within_a_second(&self.pipeline);
    }
}

/// A camera with default switches and the properties to reach it with every check on.
pub fn camera(config: Config) -> (Camera, TempFile) {
    let cam = Camera::start(config).expect("camera starts");
    let ca = TempFile::new("ca.pem", &cam.ca_pem);
    (cam, ca)
}

/// The element's TLS configuration with every check on and `ca` as its CA file.
pub fn tls_with_ca(ca: &TempFile) -> std::sync::Arc<gstonvifhttps::testing::tls::TlsConfig> {
    use gstonvifhttps::testing::tls::{TlsSettings, client_config};
    client_config(
        &TlsSettings {
            validate_certificate: true,
            validate_hostname: true,
            ca_file: Some(ca.as_str().to_string()),
            pins: Vec::new(),
            trust: None,
        },
        None,
    )
    .expect("TLS settings")
}

/// The ONVIF start's settings for `cam` over its HTTP address, every check on (tests that
/// drive the client layer without an element).
pub fn start_settings(
    cam: &Camera,
    ca: &TempFile,
) -> gstonvifhttps::testing::device::StartSettings {
    use gstonvifhttps::testing::auth::Credentials;
    use gstonvifhttps::testing::device::{StartSettings, Wants};
    let tls = tls_with_ca(ca);
    StartSettings {
        location: format!("http://127.0.0.1:{}", cam.http_port())
            .parse()
            .unwrap(),
        creds: Some(Credentials {
            user: "admin".into(),
            password: "password".into(),
        }),
        https_enable: true,
        https_port: 0,
        tls: Some(tls),
        profile: None,
        timeout: Duration::from_secs(5),
        wants: Wants {
            video: true,
            audio: false,
            metadata: false,
        },
        boot: Default::default(),
        stats: Default::default(),
    }
}

/// The SOAP operations the camera received, in order.
pub fn camera_ops(cam: &Camera) -> Vec<String> {
    cam.stats
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|(op, _)| op.clone())
        .collect()
}

/// The properties of a normal snapshot run against `cam`.
pub fn snapshot_props<'a>(
    location: &'a str,
    ca: &'a TempFile,
    password: &'a str,
) -> Vec<(&'a str, Box<dyn ToValue + 'a>)> {
    vec![
        ("location", Box::new(location.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new(password.to_string())),
        ("tls-ca-file", Box::new(ca.as_str().to_string())),
        ("streaming-method", Box::new("http-snapshot")),
        ("snapshot-interval", Box::new(100u32)),
        ("timeout", Box::new(5u32)),
    ]
}

/// Builds a run from boxed properties plus extra ones.
pub fn run_with(base: Vec<(&str, Box<dyn ToValue + '_>)>, extra: &[(&str, &dyn ToValue)]) -> Run {
    Run::new(&merged(&base, extra))
}

/// `base`'s properties with `extra` set over them.
fn merged<'a>(
    base: &'a [(&'a str, Box<dyn ToValue + 'a>)],
    extra: &[(&'a str, &'a dyn ToValue)],
) -> Vec<(&'a str, &'a dyn ToValue)> {
    let mut props: Vec<(&str, &dyn ToValue)> = base.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    for (k, v) in extra {
        props.retain(|(name, _)| name != k);
        props.push((*k, *v));
    }
    props
}

/// A pipeline `onvifhttpssrc` with one appsink per pad, created as pads appear.
pub struct MultiRun {
    pub pipeline: gst::Pipeline,
    pub src: gst::Element,
    sinks: std::sync::Arc<std::sync::Mutex<Vec<(String, gst_app::AppSink)>>>,
}

/// What a multi-pad run produced.
#[derive(Debug, Default)]
pub struct MultiOutcome {
    /// Samples per pad name, with the wall-clock instant each was pulled.
    pub pads: std::collections::BTreeMap<String, Vec<(gst::Sample, Instant)>>,
    pub error: Option<(glib::Error, String)>,
    pub warnings: Vec<String>,
    pub elements: Vec<gst::Structure>,
    /// QoS messages: buffers processed and dropped.
    pub qos: Vec<(u64, u64)>,
    /// At the end: each pad's appsink state and the element's own source behind it.
    pub states: Vec<String>,
}

impl MultiOutcome {
    pub fn count(&self, pad: &str) -> usize {
        self.pads.get(pad).map_or(0, Vec::len)
    }
}

impl RunError for MultiOutcome {
    fn error(&self) -> Option<&(glib::Error, String)> {
        self.error.as_ref()
    }
}

impl MultiRun {
    pub fn new(props: &[(&str, &dyn ToValue)]) -> MultiRun {
        MultiRun::linking(props, |_| true)
    }

    /// As [`MultiRun::new`], linking only the pads `link` says yes to (the others stay
    /// unlinked).
    pub fn linking(
        props: &[(&str, &dyn ToValue)],
        link: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> MultiRun {
        let pipeline = gst::Pipeline::new();
        let src = make_src(props);
        pipeline.add(&src).unwrap();
        let sinks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = sinks.clone();
        let p = pipeline.downgrade();
        src.connect_pad_added(move |_, pad| {
            let Some(pipeline) = p.upgrade() else { return };
            if !link(&pad.name()) {
                return;
            }
            // Added while the live pipeline may still be going to PLAYING: an async
            // sink would take it back to PAUSED until it prerolls (a lost state), and
            // sinks added meanwhile were seen left in PAUSED with no data. Without
            // preroll the new sink reaches the pipeline's state at once.
            let sink = gst_app::AppSink::builder().sync(false).build();
            sink.set_async(false);
            if pipeline.add(&sink).is_err() {
                return;
            }
            let _ = sink.sync_state_with_parent();
            let _ = pad.link(&sink.static_pad("sink").unwrap());
            s.lock().unwrap().push((pad.name().to_string(), sink));
        });
        MultiRun {
            pipeline,
            src,
            sinks,
        }
    }

    /// Plays until every pad in `want` has `n` samples, an error came, or `deadline`.
    pub fn collect(&self, want: &[&str], n: usize, deadline: Duration) -> MultiOutcome {
        self.collect_until(deadline, |out| want.iter().all(|p| out.count(p) >= n))
    }

    /// Plays until `done` holds for what came so far (samples, element messages), an
    /// error came, or `deadline`.
    pub fn collect_until(
        &self,
        deadline: Duration,
        done: impl Fn(&MultiOutcome) -> bool,
    ) -> MultiOutcome {
        let mut out = MultiOutcome::default();
        let mut single = Outcome::default();
        let bus = self.pipeline.bus().unwrap();
        let _ = self.pipeline.set_state(gst::State::Playing);
        let end = Instant::now() + deadline;
        loop {
            drain_bus(&bus, &mut single);
            if single.error.is_some() || Instant::now() >= end {
                break;
            }
            if out.elements.len() != single.elements.len() {
                out.elements = single.elements.clone();
            }
            if done(&out) {
                break;
            }
            let sinks = self.sinks.lock().unwrap().clone();
            let mut got = false;
            for (name, sink) in &sinks {
                if let Some(s) = sink.try_pull_sample(gst::ClockTime::from_mseconds(10)) {
                    out.pads
                        .entry(name.clone())
                        .or_default()
                        .push((s, Instant::now()));
                    got = true;
                }
            }
            if !got && sinks.is_empty() {
                // No pad yet: wait on the bus instead of spinning. Every message is
                // kept: a filtered pop drops the others, and the first
                // `onvif-reconnecting` was seen lost that way.
                if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(20)) {
                    handle_msg(&msg, &mut single);
                }
            }
        }
        drain_bus(&bus, &mut single);
        out.error = single.error;
        out.warnings = single.warnings;
        out.elements = single.elements;
        out.qos = single.qos;
        for (name, sink) in self.sinks.lock().unwrap().iter() {
            let pad = self.src.static_pad(name).map(|p| {
                format!(
                    "linked {}, flushing {}",
                    p.is_linked(),
                    p.pad_flags().contains(gst::PadFlags::FLUSHING)
                )
            });
            out.states.push(format!(
                "{name}: sink {:?}, source pad {pad:?}",
                sink.state(gst::ClockTime::ZERO)
            ));
        }
        out
    }
}

impl Drop for MultiRun {
    fn drop(&mut self) {
        null_within_a_second(&self.pipeline);
    }
}

/// A TCP relay on 127.0.0.1 that records every byte in both directions and can cut all
/// its connections on command.
pub struct Relay {
    pub port: u16,
    pub to_target: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    pub to_client: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    trickled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Bytes recorded per direction at most; more is relayed but not kept.
const RELAY_RECORD_CAP: usize = 64 * 1024 * 1024;

impl Relay {
    pub fn new(target_port: u16) -> Relay {
        use std::io::{Read, Write};
        use std::sync::{Arc, Mutex, atomic::AtomicBool, atomic::Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let to_target = Arc::new(Mutex::new(Vec::new()));
        let to_client = Arc::new(Mutex::new(Vec::new()));
        let conns: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        let trickled = Arc::new(AtomicBool::new(false));
        let (tt, tc, cs, st, sl, tr) = (
            to_target.clone(),
            to_client.clone(),
            conns.clone(),
            stop.clone(),
            stalled.clone(),
            trickled.clone(),
        );
        let thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                cs.lock().unwrap().push(client.try_clone().unwrap());
                cs.lock().unwrap().push(server.try_clone().unwrap());
                for (mut from, mut to, rec) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        tt.clone(),
                    ),
                    (server, client, tc.clone()),
                ] {
                    let stalled = sl.clone();
                    let trickled = tr.clone();
                    let _ = to.set_nodelay(true);
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 65536];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if stalled.load(Ordering::SeqCst) {
                                // A device that stopped answering: connections stay open.
                                continue;
                            }
                            {
                                let mut r = rec.lock().unwrap();
                                if r.len() < RELAY_RECORD_CAP {
                                    r.extend_from_slice(&buf[..n]);
                                }
                            }
                            let written = if trickled.load(Ordering::SeqCst) {
                                buf[..n].iter().try_for_each(|b| to.write_all(&[*b]))
                            } else {
                                to.write_all(&buf[..n])
                            };
                            if written.is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Relay {
            port,
            to_target,
            to_client,
            conns,
            stop,
            stalled,
            trickled,
            thread: Some(thread),
        }
    }

    /// Relays again after [`Relay::stall`].
    pub fn resume(&self) {
        self.stalled
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on relays every byte in a write of its own (both directions).
    pub fn trickle(&self) {
        self.trickled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on swallows every byte in both directions, connections left open.
    pub fn stall(&self) {
        self.stalled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Closes every connection made through the relay so far.
    pub fn cut_all(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loop so that it sees the stop flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Pulls up to `n` samples from `sink` within `deadline`; how many came.
pub fn pull(sink: &gst_app::AppSink, n: usize, deadline: Duration) -> usize {
    let mut got = 0;
    let end = Instant::now() + deadline;
    while got < n && Instant::now() < end {
        if sink
            .try_pull_sample(gst::ClockTime::from_mseconds(100))
            .is_some()
        {
            got += 1;
        }
    }
    got
}

/// Whether a tool the test needs is required (`make test` sets ONVIFHTTPS_REQUIRE_TOOLS=1).
pub fn tool_required() -> bool {
    std::env::var("ONVIFHTTPS_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The DER of a PEM chain's leaf certificate.
pub fn leaf_der(chain_pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("valid PEM")
        .to_vec()
}

/// The SPKI and certificate fingerprints of a PEM chain's leaf, as the element says them.
pub fn fingerprints(chain_pem: &str) -> (String, String) {
    use gstonvifhttps::testing::{tls, trust};
    let (spki, cert) = trust::fingerprints(&leaf_der(chain_pem)).expect("a readable certificate");
    (
        tls::format_fingerprint(&spki),
        tls::format_fingerprint(&cert),
    )
}

/// The variable that tells a test it runs inside the network namespace it made.
const IN_NETNS: &str = "ONVIFHTTPS_TEST_IN_NETNS";

/// The namespace's multicast on its loopback: the WS-Discovery group reaches nothing else.
pub const MULTICAST_ON_LO: &str = "ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";

/// Whether this is the run of test `name` inside a network namespace of its own (its
/// loopback up, then the shell commands `setup`, if any). Outside, it runs the test there
/// (`unshare -rn`) and says false; where no namespace can be made, the test is skipped
/// saying why.
pub fn inside_own_namespace(name: &str, setup: &str) -> bool {
    if std::env::var_os(IN_NETNS).is_some() {
        return true;
    }
    let setup = if setup.is_empty() {
        "ip link set lo up && exec \"$0\" \"$@\"".to_string()
    } else {
        format!("ip link set lo up && {setup} && exec \"$0\" \"$@\"")
    };
    let exe = std::env::current_exe().expect("the test binary");
    let status = std::process::Command::new("unshare")
        .args(["-rn", "sh", "-c", &setup])
        .arg(exe)
        .args(["--exact", name, "--nocapture"])
        .env(IN_NETNS, "1")
        .env_remove("ONVIFHTTPS_DISCOVERY_TARGETS")
        .status();
    match status {
        Ok(s) if s.success() => {}
        // The test harness's code for a failed test.
        Ok(s) if s.code() == Some(101) => panic!("the test failed inside its namespace"),
        Ok(s) => {
            assert!(!tool_required(), "no network namespace here ({s})");
            eprintln!("skipped: no network namespace here (unshare -rn: {s})");
        }
        Err(e) => {
            assert!(!tool_required(), "unshare: {e}");
            eprintln!("skipped: unshare: {e}");
        }
    }
    false
}

/// Starts a camera with `config`, runs a snapshot pipeline against it (its HTTPS address
/// with `https`, else its HTTP one) with `password` and `extra` properties, and waits for
/// the error. The camera is returned for assertions on what it saw.
pub fn snapshot_failure(
    config: Config,
    https: bool,
    password: &str,
    extra: &[(&str, &dyn ToValue)],
) -> (Camera, Outcome) {
    let (cam, ca) = camera(config);
    let loc = if https {
        cam.https_url()
    } else {
        cam.http_url()
    };
    let run = run_with(snapshot_props(&loc, &ca, password), extra);
    let out = run.expect_error(Duration::from_secs(15));
    drop(run);
    (cam, out)
}

/// A [`MultiRun`] of `base`'s properties with `extra` set over them.
pub fn multi(base: Vec<(&str, Box<dyn ToValue + '_>)>, extra: &[(&str, &dyn ToValue)]) -> MultiRun {
    MultiRun::new(&merged(&base, extra))
}

/// The virtual camera's video and audio played cleanly: no error or warning, `n` buffers
/// or more on each pad, and the caps of its H.264 (payload 96) and AAC (16 kHz) streams.
pub fn assert_camera_av(out: &MultiOutcome, n: usize) {
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert!(
        out.count("video_0") >= n && out.count("audio_0") >= n,
        "video {} audio {}",
        out.count("video_0"),
        out.count("audio_0")
    );
    let v = caps_of(&out.pads["video_0"]);
    assert_eq!(v.name(), "application/x-rtp");
    assert_eq!(v.get::<&str>("media").unwrap(), "video");
    assert_eq!(v.get::<&str>("encoding-name").unwrap(), "H264");
    assert_eq!(v.get::<i32>("clock-rate").unwrap(), 90000);
    assert_eq!(v.get::<i32>("payload").unwrap(), 96);
    let a = caps_of(&out.pads["audio_0"]);
    assert_eq!(a.get::<&str>("media").unwrap(), "audio");
    assert_eq!(a.get::<&str>("encoding-name").unwrap(), "MPEG4-GENERIC");
    assert_eq!(a.get::<i32>("clock-rate").unwrap(), 16000);
}

/// The caps structure of a pad's first sample.
pub fn caps_of(samples: &[(gst::Sample, Instant)]) -> gst::Structure {
    samples[0]
        .0
        .caps()
        .unwrap()
        .structure(0)
        .unwrap()
        .to_owned()
}

/// rtspsrc on `url` over TCP (user `admin`, `password`), with the CA in `ca` as its
/// `tls-database`: how many H.264 buffers of its video it gave within `deadline`, up to
/// `n`.
pub fn rtspsrc_video(url: &str, ca: &TempFile, n: usize, deadline: Duration) -> usize {
    rtspsrc_video_over("tcp", url, ca, n, deadline)
}

/// [`rtspsrc_video`] with rtspsrc's `protocols` (`udp`: SRTP over UDP from an RTP/SAVP
/// camera).
pub fn rtspsrc_video_over(
    protocols: &str,
    url: &str,
    ca: &TempFile,
    n: usize,
    deadline: Duration,
) -> usize {
    let db = onvif_virtual_camera::gio::TlsFileDatabase::new(ca.as_str())
        .expect("CA file")
        .dynamic_cast::<onvif_virtual_camera::gio::TlsDatabase>()
        .expect("a TLS database");
    let pipeline = gst::Pipeline::new();
    let rtspsrc = gst::ElementFactory::make("rtspsrc")
        .property("location", url)
        .property("user-id", "admin")
        .property("user-pw", "password")
        .property("tls-database", &db)
        .property_from_str("protocols", protocols)
        .build()
        .expect("rtspsrc");
    let depay = gst::ElementFactory::make("rtph264depay").build().unwrap();
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline
        .add_many([&rtspsrc, &depay, sink.upcast_ref()])
        .unwrap();
    depay.link(&sink).unwrap();
    let depay_sink = depay.static_pad("sink").unwrap();
    rtspsrc.connect_pad_added(move |_, pad| {
        let video = pad
            .current_caps()
            .and_then(|c| {
                c.structure(0)
                    .map(|s| s.get::<&str>("media") == Ok("video"))
            })
            .unwrap_or(false);
        if video {
            let _ = pad.link(&depay_sink);
        }
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    let got = pull(&sink, n, deadline);
    pipeline.set_state(gst::State::Null).unwrap();
    got
}

/// The `cause` of each `onvif-reconnecting` message, in order.
pub fn reconnect_causes(out: &MultiOutcome) -> Vec<String> {
    out.elements
        .iter()
        .filter(|s| s.name() == "onvif-reconnecting")
        .map(|s| s.get::<String>("cause").unwrap())
        .collect()
}

/// The codec of each stream ffprobe finds at `url` over `transport` (its `-rtsp_transport`),
/// and its errors; `None` when ffprobe is missing and not required.
pub fn ffprobe_codecs(transport: &str, url: &str) -> Option<(Vec<String>, String)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-rtsp_transport", transport])
        .args(["-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(url)
        .output();
    match out {
        Ok(o) => Some((
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )),
        Err(e) => {
            assert!(!tool_required(), "ffprobe missing: {e}");
            None
        }
    }
}

/// Whether a buffer of `samples` is marked DISCONT.
pub fn any_discont(samples: &[(gst::Sample, Instant)]) -> bool {
    samples.iter().any(|(s, _)| {
        s.buffer()
            .is_some_and(|b| b.flags().contains(gst::BufferFlags::DISCONT))
    })
}

/// Plays the pipeline `desc`, whose appsink is named `sink`, and pulls up to `n` samples
/// within `deadline` from it; then stops it.
pub fn pull_launched(desc: &str, n: usize, deadline: Duration) -> Vec<gst::Sample> {
    let pipeline = gst::parse::launch(desc)
        .expect("a pipeline")
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let end = Instant::now() + deadline;
    let mut out = Vec::new();
    while out.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match sink.try_pull_sample(gst::ClockTime::from_nseconds(
            u64::try_from(left.as_nanos()).unwrap_or(u64::MAX),
        )) {
            Some(s) => out.push(s),
            None => break,
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    out
}
