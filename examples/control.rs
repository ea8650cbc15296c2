// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Controls a camera through the element's action signals: PTZ, presets, relays,
//! auxiliary commands, digital inputs.
//!
//! cargo run --example control -- LOCATION USER PASSWORD CA_FILE|- COMMAND [ARGS]
//!
//! Commands:
//!   move PAN TILT ZOOM [TIMEOUT_MS]   continuous move (velocities -1..1)
//!   stop                              stop moving
//!   goto PAN TILT ZOOM                absolute move
//!   step PAN TILT ZOOM                relative move
//!   presets                           list presets
//!   preset TOKEN                      go to a preset
//!   status                            PTZ position and move status
//!   relays                            list relay outputs
//!   relay TOKEN on|off                set a relay output
//!   pulse TOKEN MS                    relay on, wait, off
//!   aux COMMAND                       e.g. tt:Wiper|On
//!   inputs                            list digital inputs

use gst::prelude::*;

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (src, args) = common::source(
        "control LOCATION USER PASSWORD CA_FILE|- COMMAND [ARGS] (see the source)",
        1,
    )?;
    // The signals work from READY: no pipeline needs to run. A bus shows the warnings.
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src)?;
    pipeline.set_state(gst::State::Ready)?;

    let f = |i: usize| -> f64 { args.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
    let ok = |b: bool| if b { "ok" } else { "FAILED" };
    let cmd = args[0].as_str();
    match cmd {
        "move" => {
            let t: u32 = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(2000);
            println!(
                "{}",
                ok(src.emit_by_name::<bool>("ptz-continuous-move", &[&f(1), &f(2), &f(3), &t]))
            );
        }
        "stop" => println!("{}", ok(src.emit_by_name::<bool>("ptz-stop", &[]))),
        "goto" => println!(
            "{}",
            ok(src.emit_by_name::<bool>("ptz-absolute-move", &[&f(1), &f(2), &f(3)]))
        ),
        "step" => println!(
            "{}",
            ok(src.emit_by_name::<bool>("ptz-relative-move", &[&f(1), &f(2), &f(3)]))
        ),
        "presets" => {
            print_structure(src.emit_by_name::<Option<gst::Structure>>("ptz-get-presets", &[]))
        }
        "preset" => {
            let token = args.get(1).cloned().unwrap_or_default();
            println!(
                "{}",
                ok(src.emit_by_name::<bool>("ptz-goto-preset", &[&token]))
            );
        }
        "status" => {
            print_structure(src.emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[]))
        }
        "relays" => {
            print_structure(src.emit_by_name::<Option<gst::Structure>>("get-relay-outputs", &[]))
        }
        "relay" => {
            let token = args.get(1).cloned().unwrap_or_default();
            let on = args.get(2).is_some_and(|v| v == "on");
            println!(
                "{}",
                ok(src.emit_by_name::<bool>("set-relay-output-state", &[&token, &on]))
            );
        }
        "pulse" => {
            let token = args.get(1).cloned().unwrap_or_default();
            let ms: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(500);
            let on = src.emit_by_name::<bool>("set-relay-output-state", &[&token, &true]);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            let off = src.emit_by_name::<bool>("set-relay-output-state", &[&token, &false]);
            println!("{}", ok(on && off));
        }
        "aux" => {
            let c = args.get(1).cloned().unwrap_or_default();
            match src.emit_by_name::<Option<String>>("send-aux-command", &[&c]) {
                Some(answer) => println!("{answer}"),
                None => println!("FAILED"),
            }
        }
        "inputs" => {
            print_structure(src.emit_by_name::<Option<gst::Structure>>("get-digital-inputs", &[]))
        }
        other => {
            eprintln!("unknown command {other}");
            std::process::exit(2);
        }
    }
    // Say why something failed.
    let bus = pipeline.bus().expect("a pipeline has a bus");
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Warning]) {
        if let gst::MessageView::Warning(w) = msg.view() {
            eprintln!("warning: {}", w.error());
        }
    }
    pipeline.set_state(gst::State::Null)?;
    Ok(())
}

fn print_structure(s: Option<gst::Structure>) {
    match s {
        Some(s) => println!("{s}"),
        None => println!("FAILED"),
    }
}
