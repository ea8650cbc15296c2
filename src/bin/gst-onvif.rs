// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `gst-onvif`: what `onvifhttpssrc` would do with a camera, found with the element's own
//! code. The first thing to run against a new camera.

use std::process::ExitCode;

use gst::prelude::*;

const USAGE: &str = "\
gst-onvif: inspect an ONVIF camera as onvifhttpssrc sees it

USAGE:
  gst-onvif [--json] [--no-play] LOCATION [PROPERTY=VALUE ...]
  gst-onvif --discover [--json] [TARGETS]

LOCATION is the camera's address as onvifhttpssrc's location takes it
(http://192.0.2.10, https://192.0.2.10:8443). PROPERTY=VALUE sets any property of the
element, as gst-launch-1.0 does: user-id=admin tls-ca-file=ca.pem
tls-trust-store=cameras.trust streaming-method=rtsps ... The password can come from the
environment instead of the command line: GST_ONVIF_PASSWORD.

It prints the device and its firmware, the HTTPS port and how it was found, the
certificate and what each check, the pin and the trust store say of it, the profiles,
the transports the camera offers (tunnel, RTSP, UDP, RTSPS, SRTP algorithms), its
services (events, PTZ, I/O, edge storage) and the SOAP authentication; then the element
plays until each pad has a buffer, and says how the media came (transport, RTSP
authentication, TLS, each pad's caps). --no-play stops before playing.

--discover lists the cameras WS-Discovery finds (the multicast group, or TARGETS:
comma-separated host:port for unicast Probes).

--json prints the same as one JSON object (or array, with --discover).
Exit status: 0 when the camera was inspected (and played), 1 when something failed (the
report says what), 2 for a usage error.";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |args: &mut Vec<String>, name: &str| {
        let had = args.iter().any(|a| a == name);
        args.retain(|a| a != name);
        had
    };
    if flag(&mut args, "--help") || flag(&mut args, "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let json = flag(&mut args, "--json");
    let no_play = flag(&mut args, "--no-play");
    let discover = flag(&mut args, "--discover");
    if let Some(unknown) = args.iter().find(|a| a.starts_with("--")) {
        eprintln!("gst-onvif: unknown option {unknown}\n\n{USAGE}");
        return ExitCode::from(2);
    }
    if let Err(e) = gst::init() {
        eprintln!("gst-onvif: GStreamer cannot start: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = gstonvifhttps::plugin_register_static() {
        eprintln!("gst-onvif: the plugin cannot be registered: {e}");
        return ExitCode::FAILURE;
    }
    let print = |v: &gstonvifhttps::report::Value| {
        if json {
            println!("{}", v.to_json());
        } else {
            print!("{}", v.to_text());
        }
    };
    if discover {
        if args.len() > 1 {
            eprintln!("gst-onvif: --discover takes at most one TARGETS list\n\n{USAGE}");
            return ExitCode::from(2);
        }
        let found = gstonvifhttps::inspect::discover(args.first().map(String::as_str));
        print(&found);
        return match found {
            gstonvifhttps::report::Value::List(_) => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        };
    }
    let Some((location, props)) = args.split_first() else {
        eprintln!("gst-onvif: no LOCATION\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let element = match gst::ElementFactory::make("onvifhttpssrc").build() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gst-onvif: onvifhttpssrc cannot be made: {e}");
            return ExitCode::FAILURE;
        }
    };
    let set = |name: &str, value: &str| -> Result<(), String> {
        let Some(pspec) = element.find_property(name) else {
            return Err(format!("onvifhttpssrc has no property {name:?}"));
        };
        if !pspec.flags().contains(gst::glib::ParamFlags::WRITABLE) {
            return Err(format!("{name} cannot be set (read-only)"));
        }
        // Strings as written (a password "NULL" or in quotes stays what it is).
        if pspec.value_type() == gst::glib::Type::STRING {
            element.set_property(name, value);
            return Ok(());
        }
        let v = gst::glib::Value::deserialize_with_pspec(value, &pspec)
            .map_err(|_| format!("{name}: {value:?} is not a value of that property"))?;
        element.set_property_from_value(name, &v);
        Ok(())
    };
    let mut all = vec![("location".to_string(), location.clone())];
    for p in props {
        match p.split_once('=') {
            Some((k, v)) => all.push((k.to_string(), v.to_string())),
            None => {
                eprintln!("gst-onvif: {p:?} is not PROPERTY=VALUE\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if !all.iter().any(|(k, _)| k == "user-pw")
        && let Ok(pw) = std::env::var("GST_ONVIF_PASSWORD")
    {
        all.push(("user-pw".into(), pw));
    }
    for (k, v) in &all {
        if let Err(e) = set(k, v) {
            eprintln!("gst-onvif: {e}");
            return ExitCode::from(2);
        }
    }
    let report = gstonvifhttps::inspect::report(&element, !no_play);
    print(&report);
    let failed = |v: &gstonvifhttps::report::Value| {
        match v {
        gstonvifhttps::report::Value::Map(fields) => fields.iter().any(|(k, v)| {
            k == "error"
                || (k == "media"
                    && matches!(v, gstonvifhttps::report::Value::Map(m) if m.iter().any(|(k, _)| k == "error")))
        }),
        _ => true,
    }
    };
    if failed(&report) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
