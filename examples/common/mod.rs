// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What every example starts with: `LOCATION USER PASSWORD CA_FILE|-` on the command
//! line, GStreamer, the plugin, and an `onvifhttpssrc` for that camera.

use gst::prelude::*;

/// The element for the first four arguments, and the arguments after them. Prints
/// `usage` and exits when there are fewer than `4 + min_rest` arguments.
pub fn source(
    usage: &str,
    min_rest: usize,
) -> Result<(gst::Element, Vec<String>), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 + min_rest {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }
    gst::init()?;
    gstonvifhttps::plugin_register_static()?;
    let src = gst::ElementFactory::make("onvifhttpssrc")
        .property("location", &args[0])
        .property("user-id", &args[1])
        .property("user-pw", &args[2])
        .build()?;
    if args[3] != "-" {
        src.set_property("tls-ca-file", &args[3]);
    }
    Ok((src, args[4..].to_vec()))
}
