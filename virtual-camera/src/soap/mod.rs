// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's ONVIF side: authentication and the SOAP operations.
//!
//! Written independently of the plugin's client code (its own XML scan, its own Digest and
//! UsernameToken checks), so that a bug on one side does not hide the same bug on the other.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;

use quick_xml::events::Event;
use quick_xml::reader::NsReader;
use sha2::Digest;

use crate::auth::{challenge, check_digest};
use crate::http::{Request, Response};
use crate::{AuthMode, SetProtocols, Shared, recording};

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
                    if let Ok(v) = a.unescape_value() {
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
    time::OffsetDateTime::now_utc() + time::Duration::seconds(shared.config.clock_skew_secs)
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
    sha1::Digest::update(&mut h, c.password.as_bytes());
    let expected = b64.encode(sha1::Digest::finalize(h));
    let Ok(t) =
        time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
    else {
        return Some(false);
    };
    let distance = (t - camera_now(shared)).whole_seconds().abs();
    Some(
        user == c.user
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
    match shared.config.auth {
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
    if !req.tls && (req.header("authorization").is_some() || token) {
        shared
            .stats
            .plain_http_credentials
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    shared.stats.heads.lock().unwrap().push(head);
    let path = req.target.split('?').next().unwrap_or("");
    if req.method == "GET" && path == "/onvif/snapshot" {
        return snapshot(shared, req);
    }
    if req.method != "POST" || !path.starts_with("/onvif/") {
        return Response::new(404, "Not Found", "text/plain", b"not found".to_vec());
    }
    let Some(p) = parse(&req.body) else {
        return fault(400, "s:Sender", &["ter:WellFormed"], "Malformed XML");
    };
    let op = p.op.clone();
    let open = PRE_AUTH.contains(&op.as_str())
        || (op == "GetNetworkProtocols" && shared.config.open_network_protocols);
    let method = if open && !shared.config.strict_pre_auth {
        "none"
    } else {
        match authenticate(shared, req, Some(&p)) {
            Ok(m) => m,
            Err(resp) => {
                let anonymous = req.header("authorization").is_none() && !p.has_token();
                let quirk = if anonymous {
                    &shared.config.anonymous_refusal
                } else {
                    &shared.config.credentials_refusal
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
    if c.fault_on.as_deref() == Some(op.as_str()) {
        return fault(
            500,
            "s:Receiver",
            &["ter:Action", "ter:ActionFailed"],
            "Configured to fail",
        );
    }
    if c.garbage_on.as_deref() == Some(op.as_str()) {
        return Response::new(
            200,
            "OK",
            "application/soap+xml",
            b"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><broken></s:Body>".to_vec(),
        );
    }
    if p.op == "PullMessages" {
        return pull_messages(shared, req, &p).await;
    }
    operation(shared, req, &p)
}

const EVENT_NS: &str = "xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" \
    xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" \
    xmlns:tns1=\"http://www.onvif.org/ver10/topics\"";

/// The subscription id in `/onvif/subscription?idx=N`.
fn subscription_id(req: &Request) -> Option<u32> {
    req.target
        .split_once("idx=")
        .and_then(|(_, v)| v.split('&').next())
        .and_then(|v| v.parse().ok())
}

fn resource_unknown() -> Response {
    fault(
        400,
        "s:Sender",
        &["wsrf-rw:ResourceUnknownFault"],
        "No such subscription",
    )
}

/// Toggles an input and publishes `tns1:Device/Trigger/DigitalInput`.
pub fn toggle_input(shared: &Shared, token: &str) -> Option<bool> {
    let mut bus = shared.events.lock().unwrap();
    let (_, state) = bus.inputs.iter_mut().find(|(t, _)| t == token)?;
    *state = !*state;
    let v = *state;
    let msg = crate::events::notification(
        "tns1:Device/Trigger/DigitalInput",
        "Changed",
        camera_now(shared),
        ("InputToken", token),
        ("LogicalState", if v { "true" } else { "false" }),
    );
    bus.publish(msg, None);
    Some(v)
}

/// Toggles the motion alarm and publishes `tns1:VideoSource/MotionAlarm`.
pub fn toggle_motion(shared: &Shared) {
    let mut bus = shared.events.lock().unwrap();
    bus.motion = !bus.motion;
    let v = if bus.motion { "true" } else { "false" };
    let msg = crate::events::notification(
        "tns1:VideoSource/MotionAlarm",
        "Changed",
        camera_now(shared),
        ("Source", "VideoSource_1"),
        ("State", v),
    );
    bus.publish(msg, None);
}

/// PullMessages: answers at once with queued messages, else holds the request until one
/// comes or the asked timeout passes.
async fn pull_messages(shared: &Arc<Shared>, req: &Request, p: &Parsed) -> Response {
    let Some(id) = subscription_id(req) else {
        return resource_unknown();
    };
    let timeout = p
        .text("Timeout")
        .and_then(crate::state::parse_duration)
        .unwrap_or(Duration::from_secs(10))
        .min(Duration::from_secs(60));
    let limit = p
        .text("MessageLimit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize);
    let deadline = tokio::time::Instant::now() + timeout;
    if let Some(max) = shared.config.pulls_per_subscription {
        let mut bus = shared.events.lock().unwrap();
        let n = bus.pulls.entry(id).or_insert(0);
        *n += 1;
        if *n > max {
            // The subscription dies after `max` pulls (a device that loses them).
            bus.remove(id);
            return resource_unknown();
        }
    }
    if let Some(n) = shared.config.event_flood {
        // A hostile device: every poll answered at once with `n` notifications.
        let one = crate::events::notification(
            "tns1:VideoSource/MotionAlarm",
            "Changed",
            camera_now(shared),
            ("Source", "VideoSource_1"),
            ("State", "true"),
        );
        let now = camera_now(shared);
        return ok(&format!(
            "<tev:PullMessagesResponse {EVENT_NS}><tev:CurrentTime>{}</tev:CurrentTime><tev:TerminationTime>{}</tev:TerminationTime>{}</tev:PullMessagesResponse>",
            crate::events::fmt_time(now),
            crate::events::fmt_time(now + time::Duration::seconds(60)),
            one.repeat(n)
        ));
    }
    let messages = loop {
        let taken = {
            let mut bus = shared.events.lock().unwrap();
            if !bus.exists(id) {
                return resource_unknown();
            }
            if !shared.config.relative_termination_bug {
                // ONVIF Core: each PullMessages keeps the subscription for its timeout.
                bus.extend(id, timeout + Duration::from_secs(10));
            }
            bus.take(id, limit)
        };
        match taken {
            Some(Ok(m)) => break m,
            Some(Err(notify)) => {
                if tokio::time::timeout_at(deadline, notify.notified())
                    .await
                    .is_err()
                {
                    break Vec::new();
                }
            }
            None => return resource_unknown(),
        }
    };
    let now = camera_now(shared);
    let remaining = shared.events.lock().unwrap().remaining(id);
    let term = now + time::Duration::try_from(remaining).unwrap_or(time::Duration::ZERO);
    ok(&format!(
        "<tev:PullMessagesResponse {EVENT_NS}><tev:CurrentTime>{}</tev:CurrentTime><tev:TerminationTime>{}</tev:TerminationTime>{}</tev:PullMessagesResponse>",
        crate::events::fmt_time(now),
        crate::events::fmt_time(term),
        messages.concat()
    ))
}

fn cap(c: &crate::Config, grant: Duration) -> Duration {
    c.max_termination.map_or(grant, |m| grant.min(m))
}

fn event_operation(shared: &Arc<Shared>, req: &Request, p: &Parsed) -> Option<Response> {
    let c = &shared.config;
    let now = camera_now(shared);
    let fmt = crate::events::fmt_time;
    let times = |grant: Duration, current: &str, term: &str| {
        let t = now + time::Duration::try_from(grant).unwrap_or(time::Duration::ZERO);
        format!(
            "<{current}>{}</{current}><{term}>{}</{term}>",
            fmt(now),
            fmt(t)
        )
    };
    Some(match p.op.as_str() {
        "CreatePullPointSubscription" => {
            let grant = cap(
                c,
                crate::events::grant(
                    p.text("InitialTerminationTime"),
                    now,
                    c.relative_termination_bug,
                ),
            );
            let id = shared.events.lock().unwrap().subscribe(grant);
            ok(&format!(
                "<tev:CreatePullPointSubscriptionResponse {EVENT_NS}><tev:SubscriptionReference><wsa:Address>{}/onvif/subscription?idx={id}</wsa:Address></tev:SubscriptionReference>{}</tev:CreatePullPointSubscriptionResponse>",
                base(shared, req),
                times(grant, "wsnt:CurrentTime", "wsnt:TerminationTime")
            ))
        }
        "Renew" => {
            if c.renew_refused {
                return Some(fault(
                    500,
                    "s:Receiver",
                    &["ter:ActionNotSupported"],
                    "Renew is not supported",
                ));
            }
            let Some(id) = subscription_id(req) else {
                return Some(resource_unknown());
            };
            let grant = cap(
                c,
                crate::events::grant(p.text("TerminationTime"), now, c.relative_termination_bug),
            );
            if !shared.events.lock().unwrap().renew(id, grant) {
                return Some(resource_unknown());
            }
            ok(&format!(
                "<wsnt:RenewResponse {EVENT_NS}>{}</wsnt:RenewResponse>",
                times(grant, "wsnt:CurrentTime", "wsnt:TerminationTime")
            ))
        }
        "Unsubscribe" => match subscription_id(req) {
            Some(id) if shared.events.lock().unwrap().remove(id) => {
                ok(&format!("<wsnt:UnsubscribeResponse {EVENT_NS}/>"))
            }
            _ => resource_unknown(),
        },
        "SetSynchronizationPoint" if p.op_ns == "http://www.onvif.org/ver10/events/wsdl" => {
            let Some(id) = subscription_id(req) else {
                return Some(resource_unknown());
            };
            let relays = shared.state.lock().unwrap().relays.clone();
            let mut bus = shared.events.lock().unwrap();
            let mut msgs = Vec::new();
            for (token, v) in bus.inputs.clone() {
                msgs.push(crate::events::notification(
                    "tns1:Device/Trigger/DigitalInput",
                    "Initialized",
                    now,
                    ("InputToken", &token),
                    ("LogicalState", if v { "true" } else { "false" }),
                ));
            }
            for (token, v) in relays {
                msgs.push(crate::events::notification(
                    "tns1:Device/Trigger/Relay",
                    "Initialized",
                    now,
                    ("RelayToken", &token),
                    ("LogicalState", if v { "active" } else { "inactive" }),
                ));
            }
            for m in msgs {
                bus.publish(m, Some(id));
            }
            ok(&format!(
                "<tev:SetSynchronizationPointResponse {EVENT_NS}/>"
            ))
        }
        _ => return None,
    })
}

fn base(shared: &Shared, req: &Request) -> String {
    if shared.config.http_xaddrs || !req.tls {
        format!("http://127.0.0.1:{}", shared.http_port)
    } else {
        format!(
            "https://127.0.0.1:{}",
            shared.https_port.load(Ordering::SeqCst)
        )
    }
}

use crate::profiles::PROFILES;

fn operation(shared: &Arc<Shared>, req: &Request, p: &Parsed) -> Response {
    if let Some(r) = event_operation(shared, req, p) {
        return r;
    }
    if let Some(r) = edge_operation(shared, req, p) {
        return r;
    }
    let media2 = p.op_ns == "http://www.onvif.org/ver20/media/wsdl";
    let token = p.text("ProfileToken").unwrap_or("");
    let known_token = crate::profiles::by_token(token).is_some();
    let b = base(shared, req);
    match p.op.as_str() {
        "GetSystemDateAndTime" => {
            let t = camera_now(shared);
            ok(&format!(
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>\
                 <tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>\
                 <tt:UTCDateTime><tt:Time><tt:Hour>{}</tt:Hour><tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time>\
                 <tt:Date><tt:Year>{}</tt:Year><tt:Month>{}</tt:Month><tt:Day>{}</tt:Day></tt:Date></tt:UTCDateTime>\
                 </tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
                t.hour(),
                t.minute(),
                t.second(),
                t.year(),
                u8::from(t.month()),
                t.day()
            ))
        }
        "GetServices" => {
            let mut s = String::from("<tds:GetServicesResponse>");
            let mut services = vec![
                (
                    "http://www.onvif.org/ver10/device/wsdl",
                    "/onvif/device_service",
                ),
                (
                    "http://www.onvif.org/ver10/media/wsdl",
                    "/onvif/media_service",
                ),
            ];
            if shared.config.media2 {
                services.push((
                    "http://www.onvif.org/ver20/media/wsdl",
                    "/onvif/media2_service",
                ));
            }
            services.push(("http://www.onvif.org/ver20/ptz/wsdl", "/onvif/ptz_service"));
            services.push((
                "http://www.onvif.org/ver10/deviceIO/wsdl",
                "/onvif/deviceio_service",
            ));
            services.push((
                "http://www.onvif.org/ver10/events/wsdl",
                "/onvif/event_service",
            ));
            if shared.config.recording_control {
                services.push((
                    "http://www.onvif.org/ver10/recording/wsdl",
                    "/onvif/recording_service",
                ));
            }
            services.push((
                "http://www.onvif.org/ver10/search/wsdl",
                "/onvif/search_service",
            ));
            services.push((
                "http://www.onvif.org/ver10/replay/wsdl",
                "/onvif/replay_service",
            ));
            for (ns, path) in services {
                s.push_str(&format!(
                    "<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{b}{path}</tds:XAddr>\
                     <tds:Version><tt:Major>23</tt:Major><tt:Minor>12</tt:Minor></tds:Version></tds:Service>"
                ));
            }
            s.push_str("</tds:GetServicesResponse>");
            ok(&s)
        }
        "GetCapabilities" => ok(&format!(
            "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>{b}/onvif/device_service</tt:XAddr></tt:Device>\
             <tt:Media><tt:XAddr>{b}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>\
             <tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>\
             </tds:Capabilities></tds:GetCapabilitiesResponse>"
        )),
        "GetDeviceInformation" => ok(
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>onvifhttps</tds:Manufacturer>\
             <tds:Model>Virtual Camera</tds:Model><tds:FirmwareVersion>0.1.0</tds:FirmwareVersion>\
             <tds:SerialNumber>VC-0001</tds:SerialNumber><tds:HardwareId>virtual</tds:HardwareId>\
             </tds:GetDeviceInformationResponse>",
        ),
        "GetNetworkProtocols" => ok(&format!(
            "<tds:GetNetworkProtocolsResponse>\
             <tds:NetworkProtocols><tt:Name>HTTP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>{}</tt:Port></tds:NetworkProtocols>\
             <tds:NetworkProtocols><tt:Name>HTTPS</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>{}</tt:Port></tds:NetworkProtocols>\
             <tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>554</tt:Port></tds:NetworkProtocols>\
             </tds:GetNetworkProtocolsResponse>",
            shared.http_port,
            shared.https_port.load(Ordering::SeqCst)
        )),
        "SetNetworkProtocols" => set_network_protocols(shared, p),
        "GetProfiles" => {
            let mut s = String::new();
            let rate = crate::profiles::AUDIO_RATE_KHZ;
            for crate::profiles::Profile {
                token: t,
                name,
                width: w,
                height: h,
            } in PROFILES
            {
                if media2 {
                    s.push_str(&format!(
                        "<tr2:Profiles token=\"{t}\" fixed=\"true\"><tr2:Name>{name}</tr2:Name><tr2:Configurations>\
                         <tr2:VideoSource token=\"VS_1\"><tt:Name>VS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/></tr2:VideoSource>\
                         <tr2:AudioSource token=\"AS_1\"><tt:Name>AS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>AudioSource_1</tt:SourceToken></tr2:AudioSource>\
                         <tr2:VideoEncoder token=\"VE_{t}\"><tt:Name>VE</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality></tr2:VideoEncoder>\
                         <tr2:AudioEncoder token=\"AE_1\"><tt:Name>AE</tt:Name><tt:UseCount>2</tt:UseCount><tt:Encoding>MPEG4-GENERIC</tt:Encoding><tt:Bitrate>32</tt:Bitrate><tt:SampleRate>{rate}</tt:SampleRate></tr2:AudioEncoder>\
                         <tr2:Metadata token=\"MD_1\"><tt:Name>MD</tt:Name><tt:UseCount>2</tt:UseCount></tr2:Metadata>\
                         </tr2:Configurations></tr2:Profiles>"
                    ));
                } else {
                    s.push_str(&format!(
                        "<trt:Profiles token=\"{t}\" fixed=\"true\"><tt:Name>{name}</tt:Name>\
                         <tt:VideoSourceConfiguration token=\"VS_1\"><tt:Name>VS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/></tt:VideoSourceConfiguration>\
                         <tt:AudioSourceConfiguration token=\"AS_1\"><tt:Name>AS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>AudioSource_1</tt:SourceToken></tt:AudioSourceConfiguration>\
                         <tt:VideoEncoderConfiguration token=\"VE_{t}\"><tt:Name>VE</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding></tt:VideoEncoderConfiguration>\
                         <tt:AudioEncoderConfiguration token=\"AE_1\"><tt:Name>AE</tt:Name><tt:UseCount>2</tt:UseCount><tt:Encoding>AAC</tt:Encoding></tt:AudioEncoderConfiguration>\
                         <tt:MetadataConfiguration token=\"MD_1\"><tt:Name>MD</tt:Name><tt:UseCount>2</tt:UseCount></tt:MetadataConfiguration>\
                         </trt:Profiles>"
                    ));
                }
            }
            if media2 {
                ok(&format!(
                    "<tr2:GetProfilesResponse>{s}</tr2:GetProfilesResponse>"
                ))
            } else {
                ok(&format!(
                    "<trt:GetProfilesResponse>{s}</trt:GetProfilesResponse>"
                ))
            }
        }
        "GetStreamUri" | "GetSnapshotUri" if !known_token => fault(
            400,
            "s:Sender",
            &["ter:InvalidArgVal", "ter:NoProfile"],
            "The requested profile token does not exist",
        ),
        "GetStreamUri" => {
            // HTTP transport: the web service's port (ONVIF Media §5.15.1), here as an
            // http:// URI on the HTTP port like many cameras; the client maps it onto HTTPS.
            // RTSP and UDP: the RTSP server's port.
            let proto = p.text("Protocol").unwrap_or("");
            let path = shared.stream_path(token);
            let uri = if matches!(proto, "HTTP" | "RtspOverHttp") {
                format!("http://127.0.0.1:{}{path}", shared.http_port)
            } else {
                format!("rtsp://127.0.0.1:{}{path}", shared.rtsp_public_port())
            };
            // XML text: a persona's query carries `&`.
            let uri = uri.replace('&', "&amp;");
            if media2 {
                ok(&format!(
                    "<tr2:GetStreamUriResponse><tr2:Uri>{uri}</tr2:Uri></tr2:GetStreamUriResponse>"
                ))
            } else {
                ok(&media1_uri("GetStreamUriResponse", &uri))
            }
        }
        "GetSnapshotUri" => {
            // Deliberately http:// on the HTTP port, as many devices do: the client rewrites.
            let uri = format!(
                "http://127.0.0.1:{}/onvif/snapshot?profile={token}",
                shared.http_port
            );
            if media2 {
                ok(&format!(
                    "<tr2:GetSnapshotUriResponse><tr2:Uri>{uri}</tr2:Uri></tr2:GetSnapshotUriResponse>"
                ))
            } else {
                ok(&media1_uri("GetSnapshotUriResponse", &uri))
            }
        }
        "ContinuousMove" | "Stop" | "AbsoluteMove" | "RelativeMove" | "GotoPreset"
        | "GetPresets" | "GetStatus"
            if !known_token =>
        {
            fault(
                400,
                "s:Sender",
                &["ter:InvalidArgVal", "ter:NoProfile"],
                "No such profile",
            )
        }
        "ContinuousMove" => {
            let v = ptz_vector(p, "Velocity");
            let timeout = p.text("Timeout").and_then(crate::state::parse_duration);
            shared.state.lock().unwrap().ptz.continuous(v, timeout);
            ptz_ok("ContinuousMoveResponse")
        }
        "Stop" => {
            shared.state.lock().unwrap().ptz.stop();
            ptz_ok("StopResponse")
        }
        "AbsoluteMove" => {
            let to = ptz_vector(p, "Position");
            shared.state.lock().unwrap().ptz.absolute(to);
            ptz_ok("AbsoluteMoveResponse")
        }
        "RelativeMove" => {
            let by = ptz_vector(p, "Translation");
            shared.state.lock().unwrap().ptz.relative(by);
            ptz_ok("RelativeMoveResponse")
        }
        "GotoPreset" => {
            let token = p.text("PresetToken").unwrap_or("");
            match crate::state::PRESETS.iter().find(|(t, ..)| *t == token) {
                Some((_, _, pos)) => {
                    shared.state.lock().unwrap().ptz.absolute(*pos);
                    ptz_ok("GotoPresetResponse")
                }
                None => fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:NoToken"],
                    "No such preset",
                ),
            }
        }
        "GetPresets" => {
            let mut s = String::from(
                "<tptz:GetPresetsResponse xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\">",
            );
            for (t, name, (x, y, z)) in crate::state::PRESETS {
                s.push_str(&format!(
                    "<tptz:Preset token=\"{t}\"><tt:Name>{name}</tt:Name><tt:PTZPosition><tt:PanTilt x=\"{x}\" y=\"{y}\"/><tt:Zoom x=\"{z}\"/></tt:PTZPosition></tptz:Preset>"
                ));
            }
            s.push_str("</tptz:GetPresetsResponse>");
            ok(&s)
        }
        "GetStatus" => {
            let ptz = &shared.state.lock().unwrap().ptz;
            let (x, y, z) = ptz.position();
            let mv = if ptz.moving() { "MOVING" } else { "IDLE" };
            let t = camera_now(shared);
            ok(&format!(
                "<tptz:GetStatusResponse xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\"><tptz:PTZStatus>\
                 <tt:Position><tt:PanTilt x=\"{x:.4}\" y=\"{y:.4}\"/><tt:Zoom x=\"{z:.4}\"/></tt:Position>\
                 <tt:MoveStatus><tt:PanTilt>{mv}</tt:PanTilt><tt:Zoom>{mv}</tt:Zoom></tt:MoveStatus>\
                 <tt:UtcTime>{}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>",
                crate::events::fmt_time(t)
            ))
        }
        "SendAuxiliaryCommand" => {
            let cmd = p.text("AuxiliaryCommand").unwrap_or("").to_string();
            if !crate::state::AUX_COMMANDS.contains(&cmd.as_str()) {
                return fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:AuxiliaryDataNotSupported"],
                    "Unknown auxiliary command",
                );
            }
            shared.state.lock().unwrap().aux.push(cmd.clone());
            let mut w =
                String::from("<tds:SendAuxiliaryCommandResponse><tds:AuxiliaryCommandResponse>");
            w.push_str(&cmd.replace('&', "&amp;").replace('<', "&lt;"));
            w.push_str("</tds:AuxiliaryCommandResponse></tds:SendAuxiliaryCommandResponse>");
            ok(&w)
        }
        "GetDigitalInputs" => ok(
            "<tmd:GetDigitalInputsResponse xmlns:tmd=\"http://www.onvif.org/ver10/deviceIO/wsdl\">\
             <tmd:DigitalInputs token=\"DigitalInput_1\" IdleState=\"open\"/>\
             <tmd:DigitalInputs token=\"DigitalInput_2\" IdleState=\"closed\"/></tmd:GetDigitalInputsResponse>",
        ),
        "GetRelayOutputs" => {
            let mut s = String::from("<tds:GetRelayOutputsResponse>");
            for (token, _) in &shared.state.lock().unwrap().relays {
                s.push_str(&format!(
                    "<tds:RelayOutputs token=\"{token}\"><tt:Properties><tt:Mode>Bistable</tt:Mode>\
                     <tt:DelayTime>PT0S</tt:DelayTime><tt:IdleState>open</tt:IdleState></tt:Properties></tds:RelayOutputs>"
                ));
            }
            s.push_str("</tds:GetRelayOutputsResponse>");
            ok(&s)
        }
        "SetRelayOutputState" => {
            let token = p.text("RelayOutputToken").unwrap_or("");
            let active = p.text("LogicalState") == Some("active");
            let mut st = shared.state.lock().unwrap();
            match st.relays.iter_mut().find(|(t, _)| t == token) {
                Some((_, state)) => {
                    let changed = *state != active;
                    *state = active;
                    drop(st);
                    if changed {
                        let msg = crate::events::notification(
                            "tns1:Device/Trigger/Relay",
                            "Changed",
                            camera_now(shared),
                            ("RelayToken", token),
                            ("LogicalState", if active { "active" } else { "inactive" }),
                        );
                        shared.events.lock().unwrap().publish(msg, None);
                    }
                    ok("<tds:SetRelayOutputStateResponse/>")
                }
                None => fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:RelayToken"],
                    "Unknown relay output",
                ),
            }
        }
        _ => fault(
            500,
            "s:Receiver",
            &["ter:ActionNotSupported"],
            "Optional Action Not Implemented",
        ),
    }
}

const NS_TSE: &str = "http://www.onvif.org/ver10/search/wsdl";

fn invalid_token(what: &str) -> Response {
    fault(
        400,
        "s:Sender",
        &["ter:InvalidArgVal", "ter:InvalidToken"],
        &format!("Unknown {what}"),
    )
}

/// Recording control, Recording Search and Replay (Profile G).
fn edge_operation(shared: &Arc<Shared>, req: &Request, p: &Parsed) -> Option<Response> {
    let device = format!("{}/onvif/device_service", base(shared, req));
    let archive = &shared.archive;
    Some(match p.op.as_str() {
        "GetRecordings" if shared.config.recording_control => {
            ok(&recording::get_recordings_response(archive, &device))
        }
        "FindRecordings" => {
            let token = shared.searches.lock().unwrap().open();
            ok(&format!(
                "<tse:FindRecordingsResponse xmlns:tse=\"{NS_TSE}\"><tse:SearchToken>{token}\
                 </tse:SearchToken></tse:FindRecordingsResponse>"
            ))
        }
        "GetRecordingSearchResults" => {
            let token = p.text("SearchToken").unwrap_or("");
            if !shared.searches.lock().unwrap().is_open(token) {
                return Some(invalid_token("search token"));
            }
            ok(&recording::search_results_response(archive, &device))
        }
        "EndSearch" => {
            let token = p.text("SearchToken").unwrap_or("");
            if !shared.searches.lock().unwrap().end(token) {
                return Some(invalid_token("search token"));
            }
            ok(&format!(
                "<tse:EndSearchResponse xmlns:tse=\"{NS_TSE}\"><tse:Endpoint>{}</tse:Endpoint>\
                 </tse:EndSearchResponse>",
                recording::xsd_datetime(archive.latest())
            ))
        }
        "GetReplayUri" => {
            if p.text("RecordingToken") != Some(recording::TOKEN) {
                return Some(fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:NoRecording"],
                    "The recording token does not exist",
                ));
            }
            // As devices do: an rtsp:// URI on the web service's HTTP port for the HTTP
            // transport; the client maps it onto the HTTPS origin it uses.
            let uri = match p.text("Protocol") {
                Some("HTTP") => format!(
                    "rtsp://127.0.0.1:{}/onvif-replay/{}",
                    shared.http_port,
                    recording::TOKEN
                ),
                _ => format!(
                    "rtsp://127.0.0.1:{}/onvif-replay/{}",
                    shared.rtsp_public_port(),
                    recording::TOKEN
                ),
            };
            ok(&format!(
                "<trp:GetReplayUriResponse xmlns:trp=\"http://www.onvif.org/ver10/replay/wsdl\">\
                 <trp:Uri>{uri}</trp:Uri></trp:GetReplayUriResponse>"
            ))
        }
        _ => return None,
    })
}

/// `(pan, tilt, zoom)` of a PTZ vector element (`Velocity`, `Position`, `Translation`);
/// absent parts are 0.
fn ptz_vector(p: &Parsed, root: &str) -> (f64, f64, f64) {
    let pan_tilt = format!("{root}/PanTilt");
    (
        p.attr(&pan_tilt, "x").unwrap_or(0.0),
        p.attr(&pan_tilt, "y").unwrap_or(0.0),
        p.attr(&format!("{root}/Zoom"), "x").unwrap_or(0.0),
    )
}

/// The empty answer of a PTZ command.
fn ptz_ok(element: &str) -> Response {
    ok(&format!(
        "<tptz:{element} xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\"/>"
    ))
}

fn media1_uri(element: &str, uri: &str) -> String {
    format!(
        "<trt:{element}><trt:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>\
         <tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{element}>"
    )
}

fn set_network_protocols(shared: &Arc<Shared>, p: &Parsed) -> Response {
    // The texts come in document order: Name, Enabled, Port per protocol.
    let mut want = None;
    let mut current = "";
    for (k, v) in &p.texts {
        match k.as_str() {
            "Name" => current = v.as_str(),
            "Port" if current == "HTTPS" => want = v.parse::<u16>().ok(),
            _ => {}
        }
    }
    let done = ok("<tds:SetNetworkProtocolsResponse/>");
    match shared.config.set_protocols {
        SetProtocols::Fault => fault(
            500,
            "s:Receiver",
            &["ter:ActionNotSupported", "ter:EnablingTlsFailed"],
            "Changing the HTTPS port is not supported",
        ),
        SetProtocols::Ignore => done,
        SetProtocols::Accept => {
            let Some(port) = want else {
                return done;
            };
            if port == shared.https_port.load(Ordering::SeqCst) {
                return done;
            }
            match shared.listen_https(port) {
                Ok(()) => {
                    shared.https_port.store(port, Ordering::SeqCst);
                    done
                }
                Err(_) => fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:PortAlreadyInUse"],
                    "Port already in use",
                ),
            }
        }
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
}
