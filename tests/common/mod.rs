// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Shared test harness: plugin registration, a pipeline `onvifhttpssrc ! appsink`, and
//! bounded waits for buffers and bus messages.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use gst::prelude::*;

#[allow(unused_imports)]
pub use onvif_virtual_camera::{AuthMode, Camera, Config, SetProtocols, certs};

pub fn init() {
    use std::sync::Once;
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstonvifhttps::plugin_register_static().expect("plugin registers");
    });
}

/// Moves the error and warning messages waiting on the bus into `out`.
fn drain_bus(bus: &gst::Bus, out: &mut Outcome) {
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Error(e) if out.error.is_none() => {
                let debug = e.debug().map(|d| d.to_string()).unwrap_or_default();
                out.error = Some((e.error(), debug));
            }
            gst::MessageView::Warning(w) => out.warnings.push(w.error().message().to_string()),
            _ => {}
        }
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
}

use gst::glib;

impl Outcome {
    pub fn resource_error(&self) -> Option<gst::ResourceError> {
        self.error
            .as_ref()
            .and_then(|(e, _)| e.kind::<gst::ResourceError>())
    }
    pub fn stream_error(&self) -> Option<gst::StreamError> {
        self.error
            .as_ref()
            .and_then(|(e, _)| e.kind::<gst::StreamError>())
    }
    pub fn error_text(&self) -> String {
        self.error
            .as_ref()
            .map(|(e, d)| format!("{} | {d}", e.message()))
            .unwrap_or_default()
    }
}

/// A pipeline `onvifhttpssrc ! appsink` with the given properties.
pub struct Run {
    pub pipeline: gst::Pipeline,
    pub src: gst::Element,
    pub sink: gst_app::AppSink,
}

impl Run {
    pub fn new(props: &[(&str, &dyn ToValue)]) -> Run {
        init();
        let pipeline = gst::Pipeline::new();
        let src = gst::ElementFactory::make("onvifhttpssrc")
            .build()
            .expect("element");
        for (k, v) in props {
            let value = v.to_value();
            let pspec = src.find_property(k).expect("known property");
            // Enums are given by nick, as in gst-launch.
            match value.get::<String>() {
                Ok(s) if pspec.value_type() != glib::Type::STRING => {
                    src.set_property_from_str(k, &s)
                }
                _ => src.set_property_from_value(k, &value),
            }
        }
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
        while Instant::now() < end && out.samples.len() < n && out.error.is_none() {
            drain_bus(&bus, &mut out);
            if out.error.is_some() {
                break;
            }
            if let Some(s) = self.sink.try_pull_sample(gst::ClockTime::from_mseconds(50)) {
                out.samples.push(s);
            }
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

impl Drop for Run {
    fn drop(&mut self) {
        let start = Instant::now();
        let _ = self.pipeline.set_state(gst::State::Null);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "NULL must return within one second, took {:?}",
            start.elapsed()
        );
    }
}

/// A camera with default switches and the properties to reach it with every check on.
pub fn camera(config: Config) -> (Camera, TempFile) {
    let cam = Camera::start(config).expect("camera starts");
    let ca = TempFile::new("ca.pem", &cam.ca_pem);
    (cam, ca)
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
    let mut props: Vec<(&str, &dyn ToValue)> = base.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    for (k, v) in extra {
        props.retain(|(name, _)| name != k);
        props.push((*k, *v));
    }
    Run::new(&props)
}
