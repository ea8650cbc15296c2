// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What `gst-onvif` reports of a camera, found with the element's own code: an
//! `onvifhttpssrc` with the user's properties runs its ONVIF start-up (the clock, the HTTPS
//! port, the services, the profiles), then the report asks what a user choosing settings
//! wants to know (the device, the certificate under each check, the transports and SRTP
//! algorithms, the services), and, unless told not to, the element plays for a moment and
//! its `stats` say how the media came. Nothing here decides anything the element does not.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gst::prelude::*;
use gst::subclass::prelude::*;

use super::report::{Map, Value};
use crate::client::discovery;
use crate::client::onvif::{self, StartSettings, Started};
use crate::error::Error;
use crate::proto::onvif::addr::Origin;
use crate::proto::onvif::ops::{self, StreamTransport};
use crate::proto::onvif::services::Service;
use crate::transport::tls::{self, TlsSettings};

/// How long the play step waits for a buffer on every pad.
const PLAY_WAIT: Duration = Duration::from_secs(20);

/// The report of the camera `element` (an `onvifhttpssrc` in NULL with the user's
/// properties); with `play`, the element plays until each pad has a buffer.
pub fn report(element: &gst::Element, play: bool) -> Value {
    let Some(src) = element.downcast_ref::<super::OnvifHttpsSrc>() else {
        return Map::new().with("error", "not an onvifhttpssrc").into();
    };
    let imp = src.imp();
    let settings = imp
        .settings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut r = Map::new();
    r.set(
        "location",
        settings
            .location
            .as_ref()
            .map(|l| super::uri::without_password(&l.text)),
    );
    let (start, warnings) = match settings.start_settings(src) {
        Ok(s) => s,
        Err(e) => {
            r.set("error", e.to_string());
            return r.into();
        }
    };
    let checks = TlsSettings {
        validate_certificate: settings.validate_certificate,
        validate_hostname: settings.validate_hostname,
        ca_file: settings.tls_ca_file.clone(),
        pins: settings
            .tls_certificate_sha256
            .as_deref()
            .and_then(tls::parse_pins)
            .unwrap_or_default(),
        trust: None,
    };
    let store = settings
        .tls_trust_store
        .as_deref()
        .map(crate::transport::trust::TrustStore::new);
    let said = Arc::new(Mutex::new(warnings));
    let started = crate::runtime::RUNTIME.block_on(onvif_part(
        &start,
        &checks,
        store.as_ref(),
        &said,
        &mut r,
    ));
    // A start that failed fails the same way when playing: not tried.
    if play && started {
        r.set("media", play_part(element));
    }
    let said = said.lock().unwrap_or_else(PoisonError::into_inner).clone();
    r.set("warnings", said);
    r.into()
}

/// The ONVIF start-up and what it found, into `r`; whether the start went through.
async fn onvif_part(
    start: &StartSettings,
    checks: &TlsSettings,
    store: Option<&crate::transport::trust::TrustStore>,
    said: &Arc<Mutex<Vec<String>>>,
    r: &mut Map,
) -> bool {
    let warn = {
        let said = said.clone();
        move |w: &str| {
            said.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(w.to_string())
        }
    };
    let started = onvif::start(start, &warn).await;
    // Where the HTTPS port is: where the start went, else what the settings say.
    let https = match &started {
        Ok(s) if s.client.http.is_tls() => Some(s.client.http.origin.clone()),
        // A refused certificate names where it was.
        Err(Error::Certificate { peer, .. }) => {
            origin_of_peer(peer).or_else(|| https_origin(start))
        }
        _ => https_origin(start),
    };
    let mut st = match started {
        Ok(st) => st,
        Err(e) => {
            r.set("error", e.to_string());
            if let Some(origin) = https {
                r.set(
                    "certificate",
                    certificate(&origin, start, checks, store).await,
                );
            }
            return false;
        }
    };
    r.set("device", device(&mut st).await);
    r.set(
        "https",
        Map::new()
            .with("origin", https.as_ref().map(Origin::peer))
            .with("found", st.https_port_how.clone())
            .with("notes", st.notes.clone()),
    );
    if let Some(origin) = &https {
        r.set(
            "certificate",
            certificate(origin, start, checks, store).await,
        );
    }
    r.set("soap-auth", start.stats.snapshot().facts.soap_auth);
    r.set("profiles", profiles(&st));
    r.set("transports", transports(&mut st).await);
    r.set("services", services(&mut st).await);
    true
}

/// The HTTPS origin of a `host:port` (IPv6 in brackets).
fn origin_of_peer(peer: &str) -> Option<Origin> {
    let (host, port) = peer.rsplit_once(':')?;
    Some(Origin {
        scheme: "https",
        host: host.to_string(),
        port: port.parse().ok()?,
    })
}

/// The HTTPS origin the settings name, when the start did not get there.
fn https_origin(start: &StartSettings) -> Option<Origin> {
    let loc = &start.location;
    let port = if loc.scheme() == "https" {
        loc.port().unwrap_or(443)
    } else if start.https_port != 0 {
        start.https_port
    } else {
        return None;
    };
    onvif::origin_of(loc, "https", port).ok()
}

async fn device(st: &mut Started) -> Value {
    let path = st.client.device_path.clone();
    match st
        .client
        .call(&path, &ops::get_device_information(), true)
        .await
        .map(|el| ops::parse_device_information(&el))
    {
        Ok(Ok(d)) => Map::new()
            .with("manufacturer", d.manufacturer)
            .with("model", d.model)
            .with("firmware", d.firmware)
            .with("serial", d.serial)
            .with("hardware", d.hardware)
            .into(),
        Ok(Err(e)) => Map::new().with("error", e).into(),
        Err(e) => Map::new().with("error", e.to_string()).into(),
    }
}

/// What the certificate at `origin` is, and what each check, the pin, the trust store and
/// the element's settings say of it. Each check is a handshake of its own through the
/// element's verifier with only that check on.
async fn certificate(
    origin: &Origin,
    start: &StartSettings,
    checks: &TlsSettings,
    store: Option<&crate::transport::trust::TrustStore>,
) -> Value {
    let only = |chain: bool, name: bool| TlsSettings {
        validate_certificate: chain,
        validate_hostname: name,
        ca_file: checks.ca_file.clone(),
        pins: Vec::new(),
        trust: None,
    };
    let verdict = async |s: TlsSettings| -> (Value, Option<tls::Handshake>) {
        let config = match tls::client_config(&s, None) {
            Ok(c) => c,
            Err(e) => return (Value::from(format!("not checked: {e}")), None),
        };
        match crate::transport::net::connect(origin, Some(&config), start.timeout).await {
            Ok(_) => (
                "passes".into(),
                config
                    .handshakes()
                    .into_iter()
                    .find(|h| h.port == origin.port),
            ),
            Err(Error::Certificate { reason, .. }) => (format!("refused: {reason}").into(), None),
            Err(e) => (format!("not checked: {e}").into(), None),
        }
    };
    // Presented: what any certificate gets (nothing checked), to describe it.
    let (_, presented) = verdict(only(false, false)).await;
    let Some(p) = presented else {
        return Map::new()
            .with("error", "no TLS connection could be made")
            .into();
    };
    let (chain, _) = verdict(only(true, false)).await;
    let (hostname, _) = verdict(only(false, true)).await;
    let pin: Value = if checks.pins.is_empty() {
        Value::Null
    } else {
        let matches = tls::parse_fingerprint(&p.certificate_sha256)
            .is_some_and(|fp| checks.pins.contains(&fp));
        (if matches { "matches" } else { "does not match" }).into()
    };
    let in_store: Value = match store {
        None => Value::Null,
        Some(store) => {
            let key = crate::transport::trust::key(
                crate::transport::net::bare_host(&origin.host),
                origin.port,
            );
            match store.lookup(&key) {
                Err(e) => e.0.into(),
                Ok(None) => format!("no entry for {key}").into(),
                Ok(Some(e)) if tls::format_fingerprint(&e.spki) == p.spki_sha256 => {
                    format!("line {}: this key, since {}", e.line, e.added).into()
                }
                Ok(Some(e)) => format!(
                    "line {}: another key (SPKI SHA-256 {})",
                    e.line,
                    tls::format_fingerprint(&e.spki)
                )
                .into(),
            }
        }
    };
    // What the element's own settings decided, in its start.
    let decided = start
        .tls
        .as_ref()
        .and_then(|t| t.handshakes().into_iter().find(|h| h.port == origin.port))
        .and_then(|h| h.trust)
        .map(|d| d.name());
    Map::new()
        .with("sha256", p.certificate_sha256)
        .with("spki-sha256", p.spki_sha256)
        .with("subject", p.subject)
        .with("not-after", p.not_after)
        .with("tls-version", p.version)
        .with("cipher-suite", p.cipher_suite)
        .with("chain", chain)
        .with("hostname", hostname)
        .with("pin", pin)
        .with("trust-store", in_store)
        .with("accepted-by", decided)
        .into()
}

fn profiles(st: &Started) -> Value {
    Value::List(
        st.profiles
            .iter()
            .map(|p| {
                Map::new()
                    .with("token", p.token.clone())
                    .with("name", p.name.clone())
                    .with("video", p.video.clone())
                    .with("resolution", p.resolution.map(|(w, h)| format!("{w}x{h}")))
                    .with("audio", p.audio.clone())
                    .with("metadata", p.metadata)
                    .with("srtp-algorithm", p.srtp_algorithm.clone())
                    .with("chosen", p.token == st.media.profile.token)
                    .into()
            })
            .collect(),
    )
}

/// The streaming methods the chosen profile offers: the URI GetStreamUri answers for each
/// transport (or why not), RTSPS and SRTP as Media2 says them.
async fn transports(st: &mut Started) -> Value {
    let (media2, path) = (st.media.media2, st.media.media_path.clone());
    let token = st.media.profile.token.clone();
    let mut m = Map::new();
    for (nick, t) in [
        ("rtp-rtsp-http-tcp", StreamTransport::Http),
        ("rtp-rtsp-tcp", StreamTransport::Rtsp),
        ("rtp-udp", StreamTransport::Udp),
        ("rtsps", StreamTransport::Rtsps),
    ] {
        // The element's own GetStreamUri (Media1 has no RTSPS: said in its error).
        let answer = match onvif::stream_uri(&mut st.client, &st.media, t).await {
            Ok(uri) => match url::Url::parse(&uri) {
                Ok(u) => crate::error::sanitize_url(&u),
                Err(_) => uri,
            },
            Err(e) => format!("not offered: {e}"),
        };
        m.set(nick, answer);
    }
    if media2 {
        let req = ops::get_media2_capabilities();
        let secure = answer(st, &path, &req, ops::parse_secure_rtsp_streaming).await;
        m.set("secure-rtsp-streaming", secure);
        let req = ops::get_video_encoder_options(&token);
        let algorithms = answer(st, &path, &req, ops::parse_srtp_algorithms).await;
        m.set("srtp-algorithms", algorithms);
    }
    m.into()
}

/// What `parse` reads in the device's answer to `req` at `path`, or why nothing was read.
async fn answer<T>(
    st: &mut Started,
    path: &str,
    req: &ops::Request,
    parse: fn(&crate::proto::onvif::xml::Element) -> Result<T, ops::ParseError>,
) -> Value
where
    Value: From<T>,
{
    match st.client.call(path, req, true).await.map(|el| parse(&el)) {
        Ok(Ok(v)) => Value::from(v),
        Ok(Err(e)) => e.into(),
        Err(e) => e.to_string().into(),
    }
}

async fn services(st: &mut Started) -> Value {
    let mut m = Map::new();
    for (name, s) in [
        ("media2", Service::Media2),
        ("events", Service::Events),
        ("ptz", Service::Ptz),
        ("device-io", Service::DeviceIo),
        ("recording", Service::Recording),
        ("search", Service::Search),
        ("replay", Service::Replay),
    ] {
        let v: Value = match st.services.find(&mut st.client, s).await {
            Ok(path) => path.into(),
            Err(e) => format!("unknown: {e}").into(),
        };
        m.set(name, v);
    }
    m.into()
}

/// A pad's name, and its caps once a buffer went through it.
type PadSeen = (String, Option<String>);

/// The element plays until each pad has a buffer (or an error, or [`PLAY_WAIT`]): what
/// its `stats` say of the media, and each pad's caps.
fn play_part(element: &gst::Element) -> Value {
    let pipeline = gst::Pipeline::new();
    if pipeline.add(element).is_err() {
        return Map::new()
            .with("error", "the element is in a bin already")
            .into();
    }
    let pads: Arc<Mutex<Vec<PadSeen>>> = Arc::default();
    let seen = pads.clone();
    let p = pipeline.downgrade();
    element.connect_pad_added(move |_, pad| {
        let Some(pipeline) = p.upgrade() else { return };
        let Ok(sink) = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .build()
        else {
            return;
        };
        if pipeline.add(&sink).is_err() {
            return;
        }
        let _ = sink.sync_state_with_parent();
        if let Some(sink_pad) = sink.static_pad("sink") {
            let _ = pad.link(&sink_pad);
        }
        let at = {
            let mut p = seen.lock().unwrap_or_else(PoisonError::into_inner);
            p.push((pad.name().to_string(), None));
            p.len() - 1
        };
        let seen = seen.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |pad, _| {
                let caps = pad.current_caps().map(|c| c.to_string());
                if let Some(slot) = seen
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_mut(at)
                {
                    slot.1 = caps.or(Some(String::new()));
                }
                gst::PadProbeReturn::Remove
            },
        );
    });
    let bus = pipeline.bus();
    let mut error = None;
    if pipeline.set_state(gst::State::Playing).is_err() {
        error = Some("the pipeline did not start".to_string());
    }
    let end = std::time::Instant::now() + PLAY_WAIT;
    let mut done = false;
    while error.is_none() && std::time::Instant::now() < end {
        done = {
            let p = pads.lock().unwrap_or_else(PoisonError::into_inner);
            !p.is_empty() && p.iter().all(|(_, caps)| caps.is_some())
        };
        if done {
            break;
        }
        let msg = bus.as_ref().and_then(|b| {
            b.timed_pop_filtered(
                gst::ClockTime::from_mseconds(100),
                &[gst::MessageType::Error],
            )
        });
        if let Some(msg) = msg
            && let gst::MessageView::Error(e) = msg.view()
        {
            error = Some(e.error().to_string());
        }
    }
    let stats = element.property::<gst::Structure>("stats");
    let _ = pipeline.set_state(gst::State::Null);
    let text = |f: &str| stats.get::<String>(f).ok().filter(|s| !s.is_empty());
    let pads = pads.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut m = Map::new()
        .with("transport", text("transport"))
        .with("media-peer", text("media-peer"))
        .with("rtsp-auth", text("rtsp-auth"))
        .with("tls-version", text("tls-version"))
        .with("tls-trust", text("tls-trust"))
        .with(
            "pads",
            Value::List(
                pads.into_iter()
                    .map(|(name, caps)| {
                        Map::new()
                            .with("name", name)
                            .with("caps", caps.unwrap_or_else(|| "(no buffer)".into()))
                            .into()
                    })
                    .collect(),
            ),
        );
    if let Some(e) = error {
        m.set("error", e);
    } else if !done {
        m.set(
            "error",
            format!(
                "not every pad had a buffer within {} s",
                PLAY_WAIT.as_secs()
            ),
        );
    }
    m.into()
}

/// The cameras WS-Discovery finds (`targets` as the provider's property takes them; none:
/// the multicast group).
pub fn discover(targets: Option<&str>) -> Value {
    let targets = discovery::targets(targets);
    let found =
        crate::runtime::RUNTIME.block_on(discovery::discover(&targets, Duration::from_secs(3)));
    match found {
        Err(e) => Map::new().with("error", e.to_string()).into(),
        Ok(found) => Value::List(
            found
                .into_iter()
                .map(|f| {
                    let t = &f.target;
                    Map::new()
                        .with("name", t.scope("name"))
                        .with("hardware", t.scope("hardware"))
                        .with("location", f.location.clone())
                        .with("xaddrs", t.xaddrs.clone())
                        .with("endpoint", t.endpoint.clone())
                        .with("source", f.source.to_string())
                        .into()
                })
                .collect(),
        ),
    }
}
