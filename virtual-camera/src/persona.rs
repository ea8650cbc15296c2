// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Vendor personas: what the camera's own RTSP stack and SOAP server do like one vendor's
//! firmware (`docs/rtsp-urls-and-vendors.md` §2 and §3). A persona shapes the stream URI
//! with its query, the DESCRIBE answer's Content-Base and controls, which URLs SETUP and
//! PLAY accept (a wrong one gets the vendor's refusal), Session header spacing, OPTIONS
//! without `Public`, RTCP before the PLAY reply, Digest realms and options, the tunnel's
//! HTTP details and the SOAP refusal shapes. The RTSP side is played by `front.rs` in
//! front of gst-rtsp-server, which stays the media engine.

use crate::{AuthMode, Config, Refusal};

/// One vendor's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    Hikvision,
    Dahua,
    Axis,
    Hanwha,
    Uniview,
    Reolink,
    Tapo,
    Vstarcam,
    StrictAuth,
}

/// How a persona writes a URL in `RTP-Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RtpInfo {
    /// The media URL the client resolved (live555, Hikvision, most).
    Absolute,
    /// The media's `a=control` as written in the SDP (Dahua: `url=trackID=0`).
    Control,
    /// No `RTP-Info` header at all (VStarcam).
    Omitted,
}

/// The RTSP shape of one profile's stream under a persona. URLs are absolute with `host`
/// substituted; acceptance lists hold `path?query` forms (servers ignore the authority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `path?query` of the stream URI GetStreamUri answers.
    pub stream: String,
    /// The DESCRIBE answer's `Content-Base` (None: the header is left out).
    pub content_base: Option<String>,
    /// The session-level `a=control` (None: none).
    pub session_control: Option<String>,
    /// Each media's `a=control`, in SDP order (video, audio, metadata).
    pub media_controls: Vec<String>,
    /// `path?query` forms SETUP accepts, per media.
    pub setup_accepts: Vec<Vec<String>>,
    /// `path?query` forms PLAY, PAUSE, GET_PARAMETER and TEARDOWN accept.
    pub play_accepts: Vec<String>,
}

/// Media per profile the shapes describe: video, audio, metadata.
const MEDIA: usize = 3;

fn pq_of(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find('/') {
                Some(j) => rest[j..].to_string(),
                None => "/".into(),
            }
        }
        None => url.to_string(),
    }
}

impl Persona {
    pub const ALL: &'static [Persona] = &[
        Persona::Hikvision,
        Persona::Dahua,
        Persona::Axis,
        Persona::Hanwha,
        Persona::Uniview,
        Persona::Reolink,
        Persona::Tapo,
        Persona::Vstarcam,
        Persona::StrictAuth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Persona::Hikvision => "hikvision",
            Persona::Dahua => "dahua",
            Persona::Axis => "axis",
            Persona::Hanwha => "hanwha",
            Persona::Uniview => "uniview",
            Persona::Reolink => "reolink",
            Persona::Tapo => "tapo",
            Persona::Vstarcam => "vstarcam",
            Persona::StrictAuth => "strict-auth",
        }
    }

    /// What the persona does and where each behaviour comes from (for `--help` and the
    /// README; sources as in `docs/rtsp-urls-and-vendors.md`).
    pub fn about(self) -> &'static str {
        match self {
            Persona::Hikvision => {
                "/Streaming/Channels/101?transportmode=unicast&profile=Profile_1; Content-Base \
                 .../101/ without the query, absolute session and trackID= controls carrying it \
                 (retina hikvision_describe); PLAY only to the session control; `Session:` \
                 padded with spaces (retina hikvision_setup); anonymous SOAP, \
                 GetSystemDateAndTime included, refused 401 with an HTML page (agsh/onvif#178); \
                 HTTP Digest on the tunnel (frigate#22622)"
            }
            Persona::Dahua => {
                "/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif; Content-Base \
                 = the URI + `/` after the query, `a=control:*`, trackID=0/1/4, \
                 `RTP-Info: url=trackID=0` (retina dahua_*); realm `Login to <hex>` with \
                 qop, opaque=\"\" and stale=\"false\"; a wrong WS-Security token: HTTP 400 \
                 ter:NotAuthorized \"Sender not Authorized...\" (OnvifDeviceManager#19)"
            }
            Persona::Axis => {
                "/axis-media/media.amp?videocodec=h264&resolution=640x360; Content-Base \
                 .../media.amp/, absolute session and stream= controls with \
                 ?Axis-Orig-Sw=true (mediamtx#683); PLAY to the Content-Base fails; tunnel \
                 GET answered HTTP/1.0 (VAPIX); SOAP with HTTP Digest only \
                 (easy_onvif_workspace#44)"
            }
            Persona::Hanwha => {
                "/profile1/media.smp; no Content-Base, absolute session control without the \
                 port, trackID=v/a (gortsplib session_test.go); SETUP accepts the control \
                 appended (live555, FFmpeg) and joined by RFC 3986 (rtspsrc), as clients of \
                 these cameras do both; a wrong URL gets 455; realm iPOLiS"
            }
            Persona::Uniview => {
                "/media/video1; no Content-Base, no session control, absolute media controls \
                 without the port, bare `c=IN ` lines (go2rtc#1663, mediamtx#5033); \
                 stale=\"FALSE\" in the challenge (mediamtx#4660)"
            }
            Persona::Reolink => {
                "/h264Preview_01_main (live555 server); Content-Base without the port, `*`, \
                 trackID=1/2 (retina reolink_*); Transport without ssrc; an RTCP sender \
                 report before the PLAY reply (retina); realm \"LIVE555 Streaming Media\" \
                 without qop; the tunnel's POST read into the request buffer as live555 \
                 reads it, interleaved frames included (a report in front of a request: 405)"
            }
            Persona::Tapo => {
                "/stream1; Content-Base without the port, track1..3 (retina tplink_sdp); an \
                 origin line with seven fields (o=- 14665860 31787219 1 IN IP4 ..., \
                 mediamtx#990); realm \"TP-LINK Streaming Media\"; SOAP with WS-Security only"
            }
            Persona::Vstarcam => {
                "/tcp/av0_0; no Content-Base, no session control, track0.., no RTP-Info, \
                 `Cseq` spelled so (retina#9, #10)"
            }
            Persona::StrictAuth => {
                "a device on a third-party ONVIF server library: WS-Security on every \
                 operation, anonymous ones refused HTTP 500 env:Sender \"WS-Security header \
                 required but not provided\", a wrong password HTTP 500 env:Sender \
                 \"Authentication failed\" (no subcode, no 401); its RTSP server is \
                 gst-rtsp-server with a query in the URI (Content-Base drops it, PLAY to the \
                 request URI is 404), OPTIONS without Public (locomote#158), \
                 X-Server-IP-Address in the tunnel reply"
            }
        }
    }

    /// Sets what the persona does on the SOAP side.
    pub fn apply(self, c: &mut Config) {
        c.quirks.persona = Some(self);
        match self {
            Persona::Hikvision => {
                c.quirks.strict_pre_auth = true;
                c.quirks.anonymous_refusal = Some(Refusal::html(401, true));
                c.quirks.tunnel_auth = true;
            }
            Persona::Dahua => {
                c.quirks.credentials_refusal = Some(Refusal::fault(
                    400,
                    "env:Sender",
                    Some("ter:NotAuthorized"),
                    "Sender not Authorized. Invalid username or password! You still have 24 attempt(s).",
                ));
            }
            Persona::Axis => c.device.auth = AuthMode::Digest,
            Persona::Tapo => c.device.auth = AuthMode::WsSecurity,
            Persona::StrictAuth => {
                c.device.auth = AuthMode::WsSecurity;
                c.quirks.strict_pre_auth = true;
                c.quirks.anonymous_refusal = Some(Refusal::fault(
                    500,
                    "env:Sender",
                    None,
                    "WS-Security header required but not provided",
                ));
                c.quirks.credentials_refusal = Some(Refusal::fault(
                    500,
                    "env:Sender",
                    None,
                    "Authentication failed",
                ));
            }
            Persona::Hanwha | Persona::Uniview | Persona::Reolink | Persona::Vstarcam => {}
        }
    }

    /// What GetDeviceInformation says: manufacturer, model and firmware, in the vendor's
    /// shape.
    pub fn device_information(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Persona::Hikvision => ("HIKVISION", "DS-2CD2143G2-I", "V5.7.3 build 220112"),
            Persona::Dahua => ("Dahua", "IPC-HDW2431T-AS-S2", "2.820.0000000.25.R"),
            Persona::Axis => ("AXIS", "P3245-LV", "10.12.130"),
            Persona::Hanwha => ("Hanwha Vision", "XNV-6080R", "2.21.02_20230214"),
            Persona::Uniview => ("UNIVIEW", "IPC322LB-SF28-A", "IPC_G6103-B0005P63D1907"),
            Persona::Reolink => ("Reolink", "RLC-810A", "v3.1.0.956_22041503"),
            Persona::Tapo => ("TP-LINK", "Tapo C200", "1.3.9 Build 230621 Rel.43163n"),
            Persona::Vstarcam => ("VStarcam", "C24S", "48.53.64.42"),
            Persona::StrictAuth => ("onvifhttps", "Strict Auth Camera", "0.1.0"),
        }
    }

    /// The realm of the persona's Digest challenges.
    pub fn realm(self) -> &'static str {
        match self {
            Persona::Dahua => "Login to 3c1a8e25f0b94d7e",
            Persona::Hanwha => "iPOLiS",
            Persona::Reolink => "LIVE555 Streaming Media",
            Persona::Tapo => "TP-LINK Streaming Media",
            _ => crate::auth::REALM,
        }
    }

    /// The RTSP `WWW-Authenticate` value.
    pub fn rtsp_challenge(self, nonce: &str) -> String {
        let realm = self.realm();
        match self {
            Persona::Dahua => format!(
                "Digest realm=\"{realm}\", qop=\"auth\", nonce=\"{nonce}\", opaque=\"\", stale=\"false\""
            ),
            Persona::Uniview => {
                format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", stale=\"FALSE\"")
            }
            _ => format!("Digest realm=\"{realm}\", nonce=\"{nonce}\""),
        }
    }

    /// Extra parameters of the SOAP Digest challenge (after realm, qop and nonce).
    pub fn http_challenge_extra(self) -> &'static str {
        match self {
            Persona::Dahua => ", opaque=\"\", stale=\"false\"",
            Persona::Uniview => ", stale=\"FALSE\"",
            _ => ", opaque=\"cam\"",
        }
    }

    /// The tunnel's GET reply status line version.
    pub fn tunnel_http10(self) -> bool {
        matches!(self, Persona::Axis | Persona::StrictAuth)
    }

    /// `X-Server-IP-Address` in the tunnel's GET reply.
    pub fn tunnel_server_ip(self) -> bool {
        self == Persona::StrictAuth
    }

    /// `Public` in the OPTIONS answer.
    pub fn public(self) -> bool {
        self != Persona::StrictAuth
    }

    /// An RTCP sender report goes out before the PLAY reply.
    pub fn rtcp_before_play(self) -> bool {
        self == Persona::Reolink
    }

    /// The tunnel's POST is read as live555 reads it (`RTSPServer.cpp`,
    /// `handleRequestBytes`): the decoded bytes go straight into the request buffer, so an
    /// interleaved frame (a client's RTCP report) is not taken out but becomes the front
    /// of the next request, whose command name is then the frame's first bytes: `405
    /// Method Not Allowed` with the request's CSeq. (On a plain RTSP connection live555
    /// takes `$` frames out before the parser, so only the tunnel does this.)
    pub fn live555_tunnel(self) -> bool {
        self == Persona::Reolink
    }

    /// `ssrc=` in the SETUP reply's Transport.
    pub fn transport_ssrc(self) -> bool {
        self != Persona::Reolink
    }

    /// The status a request to a URL the persona does not serve gets.
    pub fn wrong_url_status(self) -> (u16, &'static str) {
        match self {
            Persona::Reolink | Persona::Dahua => (404, "Stream Not Found"),
            Persona::Hanwha | Persona::Uniview => (455, "Method Not Valid in This State"),
            _ => (404, "Not Found"),
        }
    }

    /// Writes the Session header line (its value is the backend's).
    pub fn session_line(self, value: &str) -> String {
        match self {
            // retina's hikvision_setup fixture: the id padded after the colon.
            Persona::Hikvision => format!("Session:       {value}\r\n"),
            _ => format!("Session: {value}\r\n"),
        }
    }

    /// The CSeq header's name.
    pub fn cseq_name(self) -> &'static str {
        if self == Persona::Vstarcam {
            "Cseq"
        } else {
            "CSeq"
        }
    }

    fn rtp_info(self) -> RtpInfo {
        match self {
            Persona::Dahua => RtpInfo::Control,
            Persona::Vstarcam => RtpInfo::Omitted,
            _ => RtpInfo::Absolute,
        }
    }

    /// Bare `c=IN ` lines in the SDP.
    pub fn bare_connection_lines(self) -> bool {
        self == Persona::Uniview
    }

    /// TP-Link's SDP origin line: a seventh field (`1`) before the network type.
    pub fn seven_field_origin(self) -> bool {
        self == Persona::Tapo
    }

    /// The shape of profile `index` (0-based) with `token`, `host` being `127.0.0.1:port`
    /// (personas whose URLs carry no port drop it themselves).
    pub fn shape(self, index: usize, token: &str, host: &str) -> Shape {
        let n = index + 1;
        let bare = host.split(':').next().unwrap_or(host);
        let media = |f: &dyn Fn(usize) -> String| (0..MEDIA).map(f).collect::<Vec<_>>();
        let accept = |urls: &[String]| urls.iter().map(|u| vec![pq_of(u)]).collect::<Vec<_>>();
        match self {
            Persona::Hikvision => {
                let ch = format!("/Streaming/Channels/{n}01");
                let q = format!("transportmode=unicast&profile={token}");
                let controls = media(&|k| format!("rtsp://{host}{ch}/trackID={}?{q}", k + 1));
                Shape {
                    stream: format!("{ch}?{q}"),
                    content_base: Some(format!("rtsp://{host}{ch}/")),
                    session_control: Some(format!("rtsp://{host}{ch}/?{q}")),
                    setup_accepts: (0..MEDIA)
                        .map(|k| {
                            vec![
                                format!("{ch}/trackID={}?{q}", k + 1),
                                format!("{ch}/trackID={}", k + 1),
                            ]
                        })
                        .collect(),
                    media_controls: controls,
                    play_accepts: vec![format!("{ch}/?{q}"), format!("{ch}/")],
                }
            }
            Persona::Dahua => {
                let q = format!("channel=1&subtype={index}&unicast=true&proto=Onvif");
                let base = format!("/cam/realmonitor?{q}/");
                let tracks = [0, 1, 4];
                Shape {
                    stream: format!("/cam/realmonitor?{q}"),
                    content_base: Some(format!("rtsp://{host}{base}")),
                    session_control: Some("*".into()),
                    media_controls: media(&|k| format!("trackID={}", tracks[k])),
                    setup_accepts: media(&|k| format!("{base}trackID={}", tracks[k]))
                        .into_iter()
                        .map(|u| vec![u])
                        .collect(),
                    play_accepts: vec![base],
                }
            }
            Persona::Axis => {
                let path = "/axis-media/media.amp";
                let (w, h) = crate::profiles::PROFILES
                    .get(index)
                    .map_or((640, 360), |p| (p.width, p.height));
                let controls =
                    media(&|k| format!("rtsp://{bare}{path}/stream={k}?Axis-Orig-Sw=true"));
                Shape {
                    stream: format!("{path}?videocodec=h264&resolution={w}x{h}"),
                    content_base: Some(format!("rtsp://{bare}{path}/")),
                    session_control: Some(format!("rtsp://{bare}{path}?Axis-Orig-Sw=true")),
                    setup_accepts: accept(&controls),
                    media_controls: controls,
                    play_accepts: vec![format!("{path}?Axis-Orig-Sw=true")],
                }
            }
            Persona::Hanwha => {
                let path = format!("/profile{n}/media.smp");
                let ids = ["v", "a", "m"];
                Shape {
                    stream: path.clone(),
                    content_base: None,
                    session_control: Some(format!("rtsp://{bare}{path}")),
                    media_controls: media(&|k| format!("trackID={}", ids[k])),
                    setup_accepts: (0..MEDIA)
                        .map(|k| {
                            vec![
                                format!("{path}/trackID={}", ids[k]),
                                format!("/profile{n}/trackID={}", ids[k]),
                            ]
                        })
                        .collect(),
                    play_accepts: vec![path.clone(), format!("{path}/")],
                }
            }
            Persona::Uniview => {
                let path = format!("/media/video{n}");
                let names = ["video", "audio", "metadata"];
                let controls = media(&|k| format!("rtsp://{bare}{path}/{}", names[k]));
                Shape {
                    stream: path.clone(),
                    content_base: None,
                    session_control: None,
                    setup_accepts: accept(&controls),
                    media_controls: controls,
                    play_accepts: vec![path],
                }
            }
            Persona::Reolink | Persona::Tapo => {
                let path = if self == Persona::Reolink {
                    format!("/h264Preview_0{n}_{}", ["main", "sub"][index.min(1)])
                } else {
                    format!("/stream{n}")
                };
                let (session, control): (Option<String>, &dyn Fn(usize) -> String) =
                    if self == Persona::Reolink {
                        (Some("*".into()), &|k| format!("trackID={}", k + 1))
                    } else {
                        (None, &|k| format!("track{}", k + 1))
                    };
                Shape {
                    stream: path.clone(),
                    content_base: Some(format!("rtsp://{bare}{path}/")),
                    session_control: session,
                    media_controls: media(control),
                    setup_accepts: media(&|k| format!("{path}/{}", control(k)))
                        .into_iter()
                        .map(|u| vec![u])
                        .collect(),
                    play_accepts: vec![format!("{path}/"), path],
                }
            }
            Persona::Vstarcam => {
                let path = format!("/tcp/av0_{index}");
                Shape {
                    stream: path.clone(),
                    content_base: None,
                    session_control: None,
                    media_controls: media(&|k| format!("track{k}")),
                    setup_accepts: media(&|k| format!("{path}/track{k}"))
                        .into_iter()
                        .map(|u| vec![u])
                        .collect(),
                    play_accepts: vec![path],
                }
            }
            Persona::StrictAuth => {
                let path = format!("/media/{token}");
                Shape {
                    stream: format!("{path}?transport=unicast"),
                    content_base: Some(format!("rtsp://{host}{path}/")),
                    session_control: None,
                    media_controls: media(&|k| format!("stream={k}")),
                    setup_accepts: media(&|k| format!("{path}/stream={k}"))
                        .into_iter()
                        .map(|u| vec![u])
                        .collect(),
                    play_accepts: vec![format!("{path}/")],
                }
            }
        }
    }

    /// The `RTP-Info` URL of media `k`, or None to leave the entry's URL out.
    pub fn rtp_info_url(self, shape: &Shape, base_url: &str, k: usize) -> Option<String> {
        let control = shape.media_controls.get(k)?;
        match self.rtp_info() {
            RtpInfo::Omitted => None,
            RtpInfo::Control => Some(control.clone()),
            RtpInfo::Absolute if control.contains("://") => Some(control.clone()),
            RtpInfo::Absolute => Some(format!("{}/{control}", base_url.trim_end_matches('/'))),
        }
    }

    /// The persona's `RTP-Info` is left out altogether.
    pub fn omits_rtp_info(self) -> bool {
        self.rtp_info() == RtpInfo::Omitted
    }
}

impl std::str::FromStr for Persona {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Persona::ALL
            .iter()
            .copied()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Persona::ALL.iter().map(|p| p.name()).collect();
                format!("unknown persona {s} ({})", names.join(", "))
            })
    }
}

/// Rewrites an SDP from gst-rtsp-server into the persona's: session-level control, each
/// media's control, and the connection lines.
pub fn rewrite_sdp(persona: Persona, shape: &Shape, sdp: &str) -> String {
    let mut out = String::new();
    let mut media = 0usize;
    let mut in_media = false;
    let mut session_control_done = false;
    for line in sdp.lines() {
        if line.starts_with("m=") {
            if !session_control_done {
                if let Some(c) = &shape.session_control {
                    out.push_str(&format!("a=control:{c}\r\n"));
                }
                session_control_done = true;
            }
            if in_media {
                media += 1;
            }
            in_media = true;
        }
        if let Some(_old) = line.strip_prefix("a=control:") {
            if in_media && let Some(c) = shape.media_controls.get(media) {
                out.push_str(&format!("a=control:{c}\r\n"));
            }
            continue;
        }
        if persona.bare_connection_lines() && line.starts_with("c=IN ") {
            out.push_str("c=IN \r\n");
            continue;
        }
        if persona.seven_field_origin()
            && let Some(origin) = line.strip_prefix("o=")
        {
            let fields: Vec<&str> = origin.split(' ').collect();
            if let [user, id, version, rest @ ..] = fields.as_slice() {
                out.push_str(&format!("o={user} {id} {version} 1 {}\r\n", rest.join(" ")));
                continue;
            }
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_every_persona_has_a_distinct_stream_uri_per_profile() {
        for p in Persona::ALL {
            let a = p.shape(0, "Profile_1", "127.0.0.1:554");
            let b = p.shape(1, "Profile_2", "127.0.0.1:554");
            assert_ne!(a.stream, b.stream, "{}", p.name());
            assert_eq!(a.media_controls.len(), MEDIA);
            assert_eq!(a.setup_accepts.len(), MEDIA);
            assert!(!a.play_accepts.is_empty());
            assert_eq!(p.name().parse::<Persona>(), Ok(*p));
        }
        assert!("nope".parse::<Persona>().unwrap_err().contains("hikvision"));
    }

    #[test]
    fn test_sdp_rewrite_places_session_and_media_controls() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
                   m=video 0 RTP/AVP 96\r\na=control:stream=0\r\n\
                   m=audio 0 RTP/AVP 97\r\na=control:stream=1\r\n";
        let shape = Persona::Dahua.shape(0, "Profile_1", "127.0.0.1:554");
        let out = rewrite_sdp(Persona::Dahua, &shape, sdp);
        assert_eq!(
            out,
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
             a=control:*\r\nm=video 0 RTP/AVP 96\r\na=control:trackID=0\r\n\
             m=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\n"
        );
        let shape = Persona::Uniview.shape(0, "Profile_1", "127.0.0.1:554");
        let out = rewrite_sdp(Persona::Uniview, &shape, sdp);
        assert!(out.contains("c=IN \r\n"));
        assert!(out.contains("a=control:rtsp://127.0.0.1/media/video1/video\r\n"));
        let shape = Persona::Tapo.shape(0, "Profile_1", "127.0.0.1:554");
        let out = rewrite_sdp(Persona::Tapo, &shape, sdp);
        assert!(
            out.starts_with("v=0\r\no=- 1 1 1 IN IP4 127.0.0.1\r\n"),
            "{out}"
        );
    }
}
