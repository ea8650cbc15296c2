// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The shape of a recording server: many cameras from a list, each into its own segmented
//! MP4 files (`OUT/NAME-00000.mp4`, ...), in one pipeline; events and reconnections of
//! each camera printed with its name. A camera that fails (its certificate refused, its
//! password wrong) is taken out with its error printed; the others record on. Stops after
//! `--seconds` (or never), finishing every file.
//!
//! ```text
//! cargo run --example nvr -- --cameras cameras.txt --out recordings --segment 60 \
//!     --trust-store cameras.trust --trust-on-first-use
//! ```
//!
//! With `--trust-store` every camera checks its certificate against one trust store file
//! (`tls-trust-store`); `--trust-on-first-use` records those it does not know yet.
//!
//! `cameras.txt`: one camera per line, `NAME LOCATION USER PASSWORD [CA_FILE]`; `#` starts a
//! comment.

use std::time::{Duration, Instant};

use clap::{Arg, Command, value_parser};
use gst::prelude::*;

struct CameraLine {
    name: String,
    location: String,
    user: String,
    password: String,
    ca_file: Option<String>,
}

fn parse_list(text: &str) -> Result<Vec<CameraLine>, String> {
    let mut cameras = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if !(4..=5).contains(&f.len()) {
            return Err(format!(
                "line {}: expected NAME LOCATION USER PASSWORD [CA_FILE]",
                n + 1
            ));
        }
        if !f[0]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "line {}: name {:?}: letters, digits, - and _",
                n + 1,
                f[0]
            ));
        }
        cameras.push(CameraLine {
            name: f[0].into(),
            location: f[1].into(),
            user: f[2].into(),
            password: f[3].into(),
            ca_file: f.get(4).map(|s| s.to_string()),
        });
    }
    if cameras.is_empty() {
        return Err("no camera in the list".into());
    }
    Ok(cameras)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Command::new("nvr")
        .about("Records cameras from a list into segmented MP4 files through onvifhttpssrc")
        .arg(
            Arg::new("cameras")
                .long("cameras")
                .required(true)
                .help("file with one camera per line: NAME LOCATION USER PASSWORD [CA_FILE]"),
        )
        .arg(
            Arg::new("out")
                .long("out")
                .required(true)
                .help("directory for the files"),
        )
        .arg(
            Arg::new("segment")
                .long("segment")
                .value_parser(value_parser!(u64).range(1..))
                .default_value("60")
                .help("seconds per file"),
        )
        .arg(
            Arg::new("seconds")
                .long("seconds")
                .value_parser(value_parser!(u64))
                .help("stop after this long (default: run until killed)"),
        )
        .arg(
            Arg::new("trust-store")
                .long("trust-store")
                .help("trust store file shared by every camera (tls-trust-store)"),
        )
        .arg(
            Arg::new("trust-on-first-use")
                .long("trust-on-first-use")
                .action(clap::ArgAction::SetTrue)
                .help("record the certificate of a camera the trust store does not know"),
        )
        .get_matches();
    let trust_store: Option<&String> = args.get_one("trust-store");
    let first_use = args.get_flag("trust-on-first-use");
    let list_path: &String = args.get_one("cameras").ok_or("--cameras")?;
    let out: &String = args.get_one("out").ok_or("--out")?;
    let segment: u64 = *args.get_one("segment").ok_or("--segment")?;
    let seconds: Option<u64> = args.get_one("seconds").copied();
    let cameras = parse_list(&std::fs::read_to_string(list_path)?)?;
    std::fs::create_dir_all(out)?;

    gst::init()?;
    gstonvifhttps::plugin_register_static()?;
    let pipeline = gst::Pipeline::new();
    for cam in &cameras {
        let src = gst::ElementFactory::make("onvifhttpssrc")
            .name(&cam.name)
            .property("location", &cam.location)
            .property("user-id", &cam.user)
            .property("user-pw", &cam.password)
            .property("events", true)
            .build()?;
        if let Some(ca) = &cam.ca_file {
            src.set_property("tls-ca-file", ca);
        }
        if let Some(store) = trust_store {
            src.set_property("tls-trust-store", store);
            src.set_property("tls-trust-on-first-use", first_use);
        }
        let depay = gst::ElementFactory::make("rtph264depay")
            .name(format!("{}-depay", cam.name))
            .build()?;
        let parse = gst::ElementFactory::make("h264parse")
            .name(format!("{}-parse", cam.name))
            .build()?;
        let sink = gst::ElementFactory::make("splitmuxsink")
            .name(format!("{}-files", cam.name))
            .property("location", format!("{out}/{}-%05d.mp4", cam.name))
            .property("max-size-time", segment * 1_000_000_000)
            .build()?;
        pipeline.add_many([&src, &depay, &parse, &sink])?;
        gst::Element::link_many([&depay, &parse, &sink])?;
        let depay_sink = depay
            .static_pad("sink")
            .ok_or("rtph264depay without sink pad")?;
        src.connect_pad_added(move |_, pad| {
            if pad.name().starts_with("video_") && !depay_sink.is_linked() {
                let _ = pad.link(&depay_sink);
            }
        });
    }
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline.set_state(gst::State::Playing)?;
    println!(
        "recording {} camera(s) into {out} ({segment} s per file)",
        cameras.len()
    );
    let end = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut eos_sent = false;
    let mut status = Ok(());
    let mut failed: Vec<String> = Vec::new();
    loop {
        if !eos_sent && end.is_some_and(|e| Instant::now() >= e) {
            // Finish every file: EOS into the pipeline, then wait for it.
            pipeline.send_event(gst::event::Eos::new());
            eos_sent = true;
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(200)) else {
            continue;
        };
        let from = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                // The camera's own element: it goes, the others record on.
                let camera = cameras.iter().find(|c| from == c.name);
                if camera.is_some() && failed.contains(&from) {
                    continue;
                }
                match camera.map(|c| finish(&pipeline, &c.name)) {
                    Some(Ok(())) => {
                        println!("{from}: error: {}; recording the others", e.error());
                        // A camera that failed while the pipeline started failed that
                        // start: it goes again without it.
                        let _ = pipeline.set_state(gst::State::Playing);
                        failed.push(from);
                        if failed.len() == cameras.len() {
                            status = Err("every camera failed".to_string());
                            break;
                        }
                    }
                    _ => {
                        status = Err(format!("{from}: {}", e.error()));
                        break;
                    }
                }
            }
            gst::MessageView::Warning(w) => println!("{from}: warning: {}", w.error()),
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure() {
                    match s.name().as_str() {
                        "onvif-event" => {
                            println!("{from}: event {}", s.get::<&str>("topic").unwrap_or("?"))
                        }
                        "onvif-reconnecting" => println!(
                            "{from}: reconnecting {} (attempt {})",
                            s.get::<&str>("what").unwrap_or("?"),
                            s.get::<u32>("attempt").unwrap_or(0)
                        ),
                        "onvif-certificate-trusted" => println!(
                            "{from}: trusted on first use: {}:{} (line {} of {})",
                            s.get::<&str>("host").unwrap_or("?"),
                            s.get::<u32>("port").unwrap_or(0),
                            s.get::<u32>("line").unwrap_or(0),
                            s.get::<&str>("trust-store").unwrap_or("?")
                        ),
                        "splitmuxsink-fragment-closed" => {
                            println!("{from}: wrote {}", s.get::<&str>("location").unwrap_or("?"))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null)?;
    status.map_err(Into::into)
}

/// Takes camera `name` out after its source failed. One that recorded has its files
/// finished (EOS into its depayloader: the last segment is written, and the pipeline's
/// EOS does not wait for it); one that never got its pad leaves the pipeline, whose
/// start would otherwise wait for its sink's first buffer for ever.
fn finish(pipeline: &gst::Pipeline, name: &str) -> Result<(), String> {
    let depay = pipeline
        .by_name(&format!("{name}-depay"))
        .ok_or_else(|| format!("no depayloader for {name}"))?;
    let pad = depay
        .static_pad("sink")
        .ok_or_else(|| format!("no depayloader pad for {name}"))?;
    if pad.is_linked() {
        pad.send_event(gst::event::Eos::new());
        return Ok(());
    }
    for element in [
        name,
        &format!("{name}-depay"),
        &format!("{name}-parse"),
        &format!("{name}-files"),
    ] {
        if let Some(e) = pipeline.by_name(element) {
            let _ = e.set_state(gst::State::Null);
            let _ = pipeline.remove(&e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_camera_list() {
        let l = parse_list("# front door\nfront http://10.0.0.5 admin pw /etc/ca.pem\n\nback https://10.0.0.6 u p # no CA\n").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].ca_file.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(l[1].location, "https://10.0.0.6");
        assert!(parse_list("x http://a u").is_err());
        assert!(parse_list("a/b http://a u p").is_err());
        assert!(parse_list("# nothing\n").is_err());
    }
}
