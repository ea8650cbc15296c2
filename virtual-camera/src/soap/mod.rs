// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's ONVIF side: authentication, and the SOAP operations dispatched by one
//! table keyed on (service path, namespace, operation), one file per service.
//!
//! Written independently of the plugin's client code (its own XML scan, its own Digest and
//! UsernameToken checks), so that a bug on one side does not hide the same bug on the other.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine;

use quick_xml::events::Event;
use quick_xml::reader::NsReader;
use sha2::Digest;

mod device;
mod deviceio;
mod events;
mod media;
mod media2;
mod ptz;
mod recording;
mod replay;
mod search;

pub use events::{toggle_input, toggle_motion};

use crate::auth::{challenge, check_digest};
use crate::http::{Request, Response};
use crate::{AuthMode, Shared};

const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Accepted distance between `wsu:Created` and the camera clock (Axis uses ±10 s).
const MAX_CLOCK_DISTANCE_SECS: i64 = 10;
const PRE_AUTH: &[&str] = &[
    "GetSystemDateAndTime",
    "GetServices",
    "GetCapabilities",
    "GetServiceCapabilities",
];

/// What the camera reads from a SOAP request: the body operation and the text of every
/// element by local name (enough for these flat requests).
#[derive(Default, Debug)]
struct Parsed {
    op_ns: String,
    op: String,
    texts: Vec<(String, String)>,
    /// `("Parent/Element", attribute, value)`, for values ONVIF puts in attributes.
    attrs: Vec<(String, String, String)>,
}

impl Parsed {
    fn attr(&self, path: &str, name: &str) -> Option<f64> {
        self.attrs
            .iter()
            .find(|(p, a, _)| p == path && a == name)
            .and_then(|(_, _, v)| v.parse().ok())
    }

    /// Whether a WS-UsernameToken came with the request.
    fn has_token(&self) -> bool {
        self.text("Username").is_some()
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse(body: &[u8]) -> Option<Parsed> {
    let text = std::str::from_utf8(body).ok()?;
    let mut r = NsReader::from_str(text);
    let mut p = Parsed::default();
    let mut stack: Vec<String> = Vec::new();
    let mut in_body_depth: Option<usize> = None;
    // Character data of the innermost open element, flushed at its next tag.
    let mut pending = String::new();
    let flush = |stack: &[String], pending: &mut String, p: &mut Parsed| {
        let v = pending.trim();
        if let Some(name) = stack.last()
            && !v.is_empty()
        {
            p.texts.push((name.clone(), v.to_string()));
        }
        pending.clear();
    };
    loop {
        let (ns, ev) = r.read_resolved_event().ok()?;
        let ns = match ns {
            quick_xml::name::ResolveResult::Bound(n) => {
                String::from_utf8_lossy(n.as_ref()).to_string()
            }
            _ => String::new(),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                flush(&stack, &mut pending, &mut p);
                let empty = matches!(ev, Event::Empty(_));
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                let path = format!("{}/{name}", stack.last().map(String::as_str).unwrap_or(""));
                for a in e.attributes().flatten() {
                    let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_string();
                    if let Ok(v) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        p.attrs.push((path.clone(), key, v.into_owned()));
                    }
                }
                if let Some(d) = in_body_depth
                    && stack.len() == d + 1
                    && p.op.is_empty()
                {
                    p.op = name.clone();
                    p.op_ns = ns.clone();
                }
                if ns == NS_SOAP && name == "Body" {
                    in_body_depth = Some(stack.len());
                }
                // Empty elements have no end event: only real starts go on the stack.
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                flush(&stack, &mut pending, &mut p);
                stack.pop();
            }
            Event::Text(t) => pending.push_str(&t.decode().ok()?),
            Event::GeneralRef(g) => {
                if g.is_char_ref() {
                    pending.push(g.resolve_char_ref().ok()??);
                } else {
                    pending.push_str(quick_xml::escape::resolve_predefined_entity(
                        &g.decode().ok()?,
                    )?);
                }
            }
            Event::DocType(_) => return None,
            Event::Eof => break,
            _ => {}
        }
    }
    Some(p)
}

fn envelope(body: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<s:Envelope xmlns:s=\"{NS_SOAP}\" \
         xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" \
         xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" \
         xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\" \
         xmlns:tt=\"http://www.onvif.org/ver10/schema\" \
         xmlns:ter=\"http://www.onvif.org/ver10/error\"><s:Body>{body}</s:Body></s:Envelope>"
    )
    .into_bytes()
}

fn ok(body: &str) -> Response {
    Response::new(
        200,
        "OK",
        "application/soap+xml; charset=utf-8",
        envelope(body),
    )
}

fn fault(status: u16, code: &str, subcodes: &[&str], reason: &str) -> Response {
    let mut sub = String::new();
    for s in subcodes {
        sub.push_str(&format!("<s:Subcode><s:Value>{s}</s:Value>"));
    }
    for _ in subcodes {
        sub.push_str("</s:Subcode>");
    }
    let body = format!(
        "<s:Fault><s:Code><s:Value>{code}</s:Value>{sub}</s:Code><s:Reason><s:Text xml:lang=\"en\">{reason}</s:Text></s:Reason></s:Fault>"
    );
    let reason_phrase = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Internal Server Error",
    };
    Response::new(
        status,
        reason_phrase,
        "application/soap+xml; charset=utf-8",
        envelope(&body),
    )
}

fn not_authorized() -> Response {
    fault(
        400,
        "s:Sender",
        &["ter:NotAuthorized"],
        "Sender not Authorized",
    )
}

/// A refusal in a device's own shape.
fn refusal(shared: &Shared, r: &crate::Refusal) -> Response {
    let mut resp = match &r.fault {
        Some((code, sub, reason)) => {
            let subs: Vec<&str> = sub.iter().map(String::as_str).collect();
            fault(r.status, code, &subs, reason)
        }
        None => Response::new(
            r.status,
            "Unauthorized",
            "text/html",
            b"<html><head><title>Document Error: Unauthorized</title></head>\
              <body><h2>Access Error: 401 -- Unauthorized</h2></body></html>"
                .to_vec(),
        ),
    };
    if r.challenge {
        resp.headers.extend(
            challenge(shared)
                .headers
                .into_iter()
                .filter(|(k, _)| k == "WWW-Authenticate"),
        );
    }
    // The camera's clock, as a web server's Date header gives it.
    let t = camera_now(shared);
    resp.headers.push((
        "Date".into(),
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            &t.weekday().to_string()[..3],
            t.day(),
            &t.month().to_string()[..3],
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
    ));
    resp
}

fn camera_now(shared: &Shared) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::seconds(shared.config.device.clock_skew_secs)
}

/// `Some(true)`: a valid token; `Some(false)`: a token that fails; `None`: no token.
fn check_wsse(shared: &Shared, p: &Parsed) -> Option<bool> {
    let user = p.text("Username")?;
    let digest = p.text("Password")?;
    let nonce_b64 = p.text("Nonce").unwrap_or("");
    let created = p.text("Created").unwrap_or("");
    let b64 = base64::engine::general_purpose::STANDARD;
    let Ok(nonce) = b64.decode(nonce_b64) else {
        return Some(false);
    };
    let c = &shared.config;
    let mut h = sha1::Sha1::new();
    sha1::Digest::update(&mut h, &nonce);
    sha1::Digest::update(&mut h, created.as_bytes());
    sha1::Digest::update(&mut h, c.device.password.as_bytes());
    let expected = b64.encode(sha1::Digest::finalize(h));
    let Ok(t) =
        time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
    else {
        return Some(false);
    };
    let distance = (t - camera_now(shared)).whole_seconds().abs();
    Some(
        user == c.device.user
            && digest == expected
            && !nonce.is_empty()
            && distance <= MAX_CLOCK_DISTANCE_SECS,
    )
}

/// Checks the request's credentials as the auth mode says: `Ok(method)` or the refusal.
fn authenticate(
    shared: &Shared,
    req: &Request,
    p: Option<&Parsed>,
) -> Result<&'static str, Response> {
    let has_digest = req.header("authorization").is_some();
    let wsse = p.and_then(|p| check_wsse(shared, p));
    match shared.config.device.auth {
        AuthMode::Digest => {
            if check_digest(shared, req) {
                Ok("digest")
            } else {
                Err(challenge(shared))
            }
        }
        AuthMode::WsSecurity => match wsse {
            Some(true) => Ok("wsse"),
            _ => Err(not_authorized()),
        },
        AuthMode::Either => {
            if has_digest {
                if check_digest(shared, req) {
                    Ok("digest")
                } else {
                    Err(challenge(shared))
                }
            } else {
                match wsse {
                    Some(true) => Ok("wsse"),
                    Some(false) => Err(not_authorized()),
                    None => Err(challenge(shared)),
                }
            }
        }
    }
}

pub async fn handle(shared: &Arc<Shared>, req: &Request) -> Response {
    let scheme = if req.tls { "https" } else { "http" };
    let head = format!("{scheme} {} {}", req.method, req.target);
    let token = req.body.windows(13).any(|w| w == b"UsernameToken");
    let parsed = parse(&req.body);
    if !req.tls && (req.header("authorization").is_some() || token) {
        shared
            .stats
            .plain_http_credential_ops
            .lock()
            .unwrap()
            .push(parsed.as_ref().map_or("?".into(), |p| p.op.clone()));
    }
    if req.tls
        && let Some(p) = &parsed
    {
        shared.stats.https_ops.lock().unwrap().push(p.op.clone());
    }
    shared.stats.heads.lock().unwrap().push(head);
    let path = req.target.split('?').next().unwrap_or("");
    if req.method == "GET" && path == "/onvif/snapshot" {
        return snapshot(shared, req);
    }
    if req.method != "POST" || !path.starts_with("/onvif/") {
        return Response::new(404, "Not Found", "text/plain", b"not found".to_vec());
    }
    let Some(p) = parsed else {
        return fault(400, "s:Sender", &["ter:WellFormed"], "Malformed XML");
    };
    let op = p.op.clone();
    let open = PRE_AUTH.contains(&op.as_str())
        || (op == "GetNetworkProtocols" && shared.config.quirks.open_network_protocols);
    let method = if open && !shared.config.quirks.strict_pre_auth {
        "none"
    } else {
        match authenticate(shared, req, Some(&p)) {
            Ok(m) => m,
            Err(resp) => {
                let anonymous = req.header("authorization").is_none() && !p.has_token();
                let quirk = if anonymous {
                    &shared.config.quirks.anonymous_refusal
                } else {
                    &shared.config.quirks.credentials_refusal
                };
                let resp = match quirk {
                    Some(r) => refusal(shared, r),
                    None => resp,
                };
                shared
                    .stats
                    .log
                    .lock()
                    .unwrap()
                    .push((op, "refused".into()));
                return resp;
            }
        }
    };
    shared
        .stats
        .log
        .lock()
        .unwrap()
        .push((op.clone(), method.into()));
    let c = &shared.config;
    if let Some((slow, delay)) = &c.faults.slow_once
        && *slow == op
        && shared.stats.slow_now()
    {
        tokio::time::sleep(*delay).await;
    }
    if c.faults.fault_on.as_deref() == Some(op.as_str()) {
        return fault(
            500,
            "s:Receiver",
            &["ter:Action", "ter:ActionFailed"],
            "Configured to fail",
        );
    }
    if c.faults.garbage_on.as_deref() == Some(op.as_str()) {
        return Response::new(
            200,
            "OK",
            "application/soap+xml",
            b"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><broken></s:Body>".to_vec(),
        );
    }
    let call = Call { shared, req, p: &p };
    match find(path, &p.op_ns, &p.op).filter(|(service, _)| (service.enabled)(c)) {
        Some((
            _,
            Op {
                handler: Handler::Now(f),
                ..
            },
        )) => f(&call),
        Some((
            _,
            Op {
                handler: Handler::Held(f),
                ..
            },
        )) => f(&call).await,
        // Also an operation sent to another service's address, as strict devices answer.
        None => fault(
            500,
            "s:Receiver",
            &["ter:ActionNotSupported"],
            "Optional Action Not Implemented",
        ),
    }
}

/// What an operation's handler gets: the camera, the HTTP request and its SOAP body.
struct Call<'a> {
    shared: &'a Arc<Shared>,
    req: &'a Request,
    p: &'a Parsed,
}

type Held =
    for<'a> fn(
        &'a Call<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'a>>;

enum Handler {
    /// Answers at once.
    Now(fn(&Call<'_>) -> Response),
    /// May hold the request (PullMessages).
    Held(Held),
}

/// One row of the dispatch table: an operation of one service, at the address
/// `GetServices` gives for it (the path, without the query), in its namespace.
struct Op {
    path: &'static str,
    ns: &'static str,
    op: &'static str,
    handler: Handler,
}

impl Op {
    const fn now(
        path: &'static str,
        ns: &'static str,
        op: &'static str,
        f: fn(&Call<'_>) -> Response,
    ) -> Op {
        Op {
            path,
            ns,
            op,
            handler: Handler::Now(f),
        }
    }
}

/// A service: what GetServices lists (its namespace and address), whether the camera's
/// config has it, and its operations.
struct Service {
    ns: &'static str,
    path: &'static str,
    enabled: fn(&crate::Config) -> bool,
    ops: &'static [Op],
}

impl Service {
    const fn new(ns: &'static str, path: &'static str, ops: &'static [Op]) -> Service {
        Service {
            ns,
            path,
            enabled: |_| true,
            ops,
        }
    }
}

/// Every service, in the order of `GetServices`.
const SERVICES: &[Service] = &[
    Service::new(device::NS, device::PATH, device::OPS),
    Service::new(media::NS, media::PATH, media::OPS),
    Service {
        enabled: |c| c.device.media2,
        ..Service::new(media2::NS, media2::PATH, media2::OPS)
    },
    Service::new(ptz::NS, ptz::PATH, ptz::OPS),
    Service::new(deviceio::NS, deviceio::PATH, deviceio::OPS),
    Service::new(events::NS, events::PATH, events::OPS),
    Service {
        enabled: |c| c.device.recording_control,
        ..Service::new(recording::NS, recording::PATH, recording::OPS)
    },
    Service::new(search::NS, search::PATH, search::OPS),
    Service::new(replay::NS, replay::PATH, replay::OPS),
];

/// `(namespace, path)` of each service GetServices lists, with this config.
fn advertised(c: &crate::Config) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    use crate::ServiceListing;
    SERVICES
        .iter()
        .filter(|s| (s.enabled)(c))
        .filter(move |s| {
            c.quirks.service_listing != ServiceListing::Unlisted
                || [device::NS, media::NS, media2::NS].contains(&s.ns)
        })
        .map(move |s| match c.quirks.service_listing {
            ServiceListing::Misfiled => (misfiled(s.ns), s.path),
            _ => (s.ns, s.path),
        })
}

/// The namespace a misfiling device lists a service under.
fn misfiled(ns: &'static str) -> &'static str {
    match ns {
        ptz::NS => "http://www.onvif.org/ver10/ptz/wsdl",
        events::NS => "http://www.onvif.org/ver20/events/wsdl",
        deviceio::NS => "http://www.onvif.org/ver10/deviceio/wsdl",
        recording::NS => "http://www.onvif.org/ver20/recording/wsdl",
        search::NS => "http://www.onvif.org/ver20/search/wsdl",
        replay::NS => "http://www.onvif.org/ver20/replay/wsdl",
        media2::NS => "http://www.onvif.org/ver20/media/wsdl/",
        other => other,
    }
}

/// Whether the camera has the service of namespace `ns` with this config.
fn offers(c: &crate::Config, ns: &str) -> bool {
    SERVICES.iter().any(|s| s.ns == ns && (s.enabled)(c))
}

/// The row of `op` at `path` in `ns`, and its service.
fn find(path: &str, ns: &str, op: &str) -> Option<(&'static Service, &'static Op)> {
    SERVICES.iter().find_map(|s| {
        s.ops
            .iter()
            .find(|o| o.path == path && o.ns == ns && o.op == op)
            .map(|o| (s, o))
    })
}

/// The fault of an operation on a profile token the camera does not have.
fn no_profile(reason: &str) -> Response {
    fault(
        400,
        "s:Sender",
        &["ter:InvalidArgVal", "ter:NoProfile"],
        reason,
    )
}

/// The `ProfileToken` of the request, if the camera has that profile.
fn profile(c: &Call<'_>) -> Option<&'static crate::profiles::Profile> {
    crate::profiles::by_token(c.p.text("ProfileToken").unwrap_or("")).map(|(_, p)| p)
}

/// The request's profile, or the Media services' fault for a token it does not have.
fn media_profile(c: &Call<'_>) -> Result<&'static crate::profiles::Profile, Response> {
    profile(c).ok_or_else(|| no_profile("The requested profile token does not exist"))
}

fn base(shared: &Shared, req: &Request) -> String {
    if shared.config.quirks.http_xaddrs || !req.tls {
        format!("http://127.0.0.1:{}", shared.http_port)
    } else {
        format!(
            "https://127.0.0.1:{}",
            shared.https_port.load(Ordering::SeqCst)
        )
    }
}

fn snapshot(shared: &Arc<Shared>, req: &Request) -> Response {
    if !check_digest(shared, req) {
        shared
            .stats
            .log
            .lock()
            .unwrap()
            .push(("snapshot".into(), "refused".into()));
        return challenge(shared);
    }
    shared
        .stats
        .log
        .lock()
        .unwrap()
        .push(("snapshot".into(), "digest".into()));
    match shared.snapshots.latest() {
        Some(jpeg) => {
            shared.stats.snapshots.fetch_add(1, Ordering::SeqCst);
            Response::new(200, "OK", "image/jpeg", jpeg)
        }
        None => Response::new(
            503,
            "Service Unavailable",
            "text/plain",
            b"no image yet".to_vec(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_request_body() {
        let body = br#"<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><wsse:Security xmlns:wsse="x"><wsse:UsernameToken><wsse:Username>a&lt;b</wsse:Username></wsse:UsernameToken></wsse:Security></s:Header><s:Body><trt:GetSnapshotUri xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><trt:ProfileToken>P1</trt:ProfileToken></trt:GetSnapshotUri></s:Body></s:Envelope>"#;
        let p = parse(body).unwrap();
        assert_eq!(p.op, "GetSnapshotUri");
        assert_eq!(p.op_ns, "http://www.onvif.org/ver10/media/wsdl");
        assert_eq!(p.text("ProfileToken"), Some("P1"));
        assert_eq!(p.text("Username"), Some("a<b"));
        let p = parse(br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetSystemDateAndTime xmlns:tds="urn:d"/></s:Body></s:Envelope>"#).unwrap();
        assert_eq!(p.op, "GetSystemDateAndTime");
    }

    /// As strict devices route: an operation is found only at its own service's address
    /// and in its namespace; no row is there twice.
    #[test]
    fn test_dispatch_is_keyed_on_path_namespace_and_operation() {
        assert!(find(media::PATH, media::NS, "GetProfiles").is_some());
        assert!(find(media2::PATH, media2::NS, "GetProfiles").is_some());
        assert!(find(device::PATH, media::NS, "GetProfiles").is_none());
        assert!(find(media::PATH, media2::NS, "GetProfiles").is_none());
        assert!(find(ptz::PATH, ptz::NS, "GetSystemDateAndTime").is_none());
        assert!(find(events::PATH, events::NS, "PullMessages").is_none());
        let mut keys: Vec<_> = SERVICES
            .iter()
            .flat_map(|s| s.ops.iter())
            .map(|o| (o.path, o.ns, o.op))
            .collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
}
