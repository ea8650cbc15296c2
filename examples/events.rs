// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Prints a camera's events as they come.
//!
//! cargo run --example events -- LOCATION USER PASSWORD CA_FILE|-
//!
//! e.g. against the virtual camera (`target/debug/onvif-virtual-camera --ca-file /tmp/ca.pem`):
//! cargo run --example events -- http://127.0.0.1:PORT admin password /tmp/ca.pem

use std::io::Write;

use gst::prelude::*;

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (src, _) = common::source("events LOCATION USER PASSWORD CA_FILE|-", 0)?;
    // Snapshots every hour: the pipeline runs, hardly any media flows, events do.
    src.set_property("events", true);
    src.set_property("snapshot-interval", 3_600_000u32);
    src.set_property_from_str("streaming-method", "http-snapshot");
    let sink = gst::ElementFactory::make("fakesink").build()?;
    let pipeline = gst::Pipeline::new();
    pipeline.add_many([&src, &sink])?;
    src.connect_pad_added(move |_, pad| {
        let _ = pad.link(&sink.static_pad("sink").expect("fakesink has a sink pad"));
    });
    pipeline.set_state(gst::State::Playing)?;

    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut out = std::io::stdout();
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure().filter(|s| s.name() == "onvif-event") {
                    // `source` and `data`: arrays of `item, name=..., value=...`.
                    let items = |f: &str| {
                        s.get::<gst::Array>(f)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.get::<gst::Structure>().ok())
                                    .map(|i| {
                                        format!(
                                            "{}={}",
                                            i.get::<&str>("name").unwrap_or(""),
                                            i.get::<&str>("value").unwrap_or("")
                                        )
                                    })
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default()
                    };
                    // Stop when whoever reads our output goes away (`| head`).
                    let line = format!(
                        "{} {} {} source: {} data: {}",
                        s.get::<&str>("utc-time").unwrap_or(""),
                        s.get::<&str>("topic").unwrap_or(""),
                        s.get::<&str>("property-operation").unwrap_or(""),
                        items("source"),
                        items("data")
                    );
                    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                        break;
                    }
                }
            }
            gst::MessageView::Warning(w) => eprintln!("warning: {}", w.error()),
            gst::MessageView::Error(e) => {
                eprintln!(
                    "error from {:?}: {} ({:?})",
                    e.src().map(|s| s.path_string()),
                    e.error(),
                    e.debug()
                );
                break;
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null)?;
    Ok(())
}
