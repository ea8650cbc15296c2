// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Records a time range of a camera's edge storage (video and audio) into an MP4 file,
//! replayed over HTTPS, and prints the recorded time of the first and last frame.
//!
//! cargo run --example record_range -- LOCATION USER PASSWORD CA_FILE|- START END|open OUT.mp4
//!
//! START and END are ISO 8601 UTC (`2025-03-14T09:41:00Z`); END may be `open` (until the
//! recording ends). e.g. the last minute of the virtual camera's recording
//! (`target/debug/onvif-virtual-camera --ca-file /tmp/ca.pem`):
//! cargo run --example record_range -- http://127.0.0.1:PORT admin password /tmp/ca.pem \
//!     $(date -u -d '-60 sec' +%Y-%m-%dT%H:%M:%SZ) open last-minute.mp4

use gst::prelude::*;

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (src, args) = common::source(
        "record_range LOCATION USER PASSWORD CA_FILE|- START END|open OUT.mp4",
        3,
    )?;
    src.set_property("playback-start", &args[0]);
    src.set_property_from_str("mode", "playback");
    src.set_property_from_str("streams", "video+audio");
    if args[1] != "open" {
        src.set_property("playback-end", &args[1]);
    }
    let pipeline = gst::Pipeline::new();
    let mux = gst::ElementFactory::make("mp4mux").build()?;
    let sink = gst::ElementFactory::make("filesink")
        .property("location", &args[2])
        .build()?;
    pipeline.add_many([&src, &mux, &sink])?;
    mux.link(&sink)?;

    let span = std::sync::Arc::new(std::sync::Mutex::new(None::<(f64, f64)>));
    let pipeline_weak = pipeline.downgrade();
    let span_probe = span.clone();
    src.connect_pad_added(move |_, pad| {
        let Some(pipeline) = pipeline_weak.upgrade() else {
            return;
        };
        let chain = if pad.name().starts_with("video") {
            "rtph264depay ! h264parse"
        } else if pad.name().starts_with("audio") {
            "rtpmp4gdepay ! aacparse"
        } else {
            return;
        };
        if pad.name().starts_with("video") {
            let span = span_probe.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                if let Some(t) = info
                    .buffer()
                    .and_then(|b| gstonvifhttps::testing::session::recorded_time(b))
                    .map(|ns| ns as f64 / 1e9)
                {
                    let mut s = span.lock().unwrap_or_else(|e| e.into_inner());
                    *s = Some(s.map_or((t, t), |(a, _)| (a, t)));
                }
                gst::PadProbeReturn::Ok
            });
        }
        let bin = match gst::parse::bin_from_description(chain, true) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{chain}: {e}");
                return;
            }
        };
        let linked = pipeline.add(&bin).is_ok()
            && bin.sync_state_with_parent().is_ok()
            && bin
                .static_pad("sink")
                .is_some_and(|sink| pad.link(&sink).is_ok())
            && bin.link(&mux).is_ok();
        if !linked {
            eprintln!("could not link {}", pad.name());
        }
    });
    pipeline.set_state(gst::State::Playing)?;

    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut failed = false;
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                eprintln!("error: {}", e.error());
                failed = true;
                break;
            }
            gst::MessageView::Warning(w) => eprintln!("warning: {}", w.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null)?;
    if failed {
        std::process::exit(1);
    }
    match *span.lock().unwrap_or_else(|e| e.into_inner()) {
        Some((a, b)) => println!(
            "{}: recorded {} to {} ({:.1} s of recording)",
            args[2],
            gstonvifhttps::testing::clock::format_utc(a as i64),
            gstonvifhttps::testing::clock::format_utc(b as i64),
            b - a
        ),
        None => println!("{}: no video with recorded times", args[2]),
    }
    Ok(())
}
