// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Which URL each RTSP request goes to, as the robust clients resolve them
//! (`docs/rtsp-urls-and-vendors.md` §1): live555 and FFmpeg append a relative control to
//! the base (after any query it carries), rtspsrc joins by RFC 3986 and falls back to the
//! append, retina and gortsplib append. Where they agree, so do we:
//!
//! - base: the DESCRIBE reply's `Content-Base`, else `Content-Location`, else the request
//!   URL (credentials stripped, query kept); a `/path` base gets the request's origin, a
//!   scheme-less one its scheme;
//! - aggregate URL (PLAY, PAUSE, keep-alives, TEARDOWN): the session-level `a=control`
//!   when absolute, appended to the base when relative, the base when absent or `*`;
//! - a media's SETUP URL: its control when absolute, the aggregate URL when absent or
//!   `*`, else appended to the prefix (the session control when absolute, else the base);
//!   the RFC 3986 join is the one retry after a refusal, when it differs.
//!
//! These are the URLs written in request lines: no connection is ever opened to a host
//! they name (every request travels on the connection the element made).

/// The URLs of one RTSP presentation, resolved from the DESCRIBE exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// What relative URLs resolve against.
    pub base: String,
    /// Where PLAY, PAUSE, GET_PARAMETER/OPTIONS keep-alives and TEARDOWN go.
    pub aggregate: String,
    /// What a relative media control is appended to.
    prefix: String,
}

/// The SETUP URL of one media, and the one other URL worth a try if it is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUrl {
    pub url: String,
    /// The RFC 3986 join, when it differs from `url`.
    pub fallback: Option<String>,
}

/// SETUP refusals after which the RFC 3986 join is tried (rtspsrc's
/// `try_non_compliant_url` list, plus 405).
pub fn setup_retry_status(status: u16) -> bool {
    matches!(status, 400 | 404 | 405 | 451 | 455 | 503)
}

/// Whether `s` is an absolute URL (`scheme://...`).
fn is_absolute(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `scheme://authority` of an absolute URL, without credentials, and the rest.
fn split_origin(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some((format!("{scheme}://{host}"), tail))
}

/// The URL without `user:password@` (and without a fragment); the query stays.
pub fn strip_credentials(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    match split_origin(url) {
        Some((origin, tail)) => format!("{origin}{tail}"),
        None => url.to_string(),
    }
}

/// `b` and `c` joined as live555 and FFmpeg do: a `/` between them unless `b` ends in one
/// or `c` starts with `/` or `?`; after any query `b` carries.
pub fn append(b: &str, c: &str) -> String {
    if b.ends_with('/') || c.starts_with('/') || c.starts_with('?') {
        format!("{b}{c}")
    } else {
        format!("{b}/{c}")
    }
}

/// The RFC 3986 §5.2 join of a relative reference onto an absolute base.
pub fn rfc3986_join(base: &str, reference: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    base.join(reference).ok().map(String::from)
}

/// A base as a device sent it, made absolute against the request URL.
fn absolute_base(request: &str, base: &str) -> String {
    let base = base.trim();
    if is_absolute(base) {
        return strip_credentials(base);
    }
    let scheme = request.split_once("://").map_or("rtsp", |(s, _)| s);
    if let Some(rest) = base.strip_prefix("//") {
        return strip_credentials(&format!("{scheme}://{rest}"));
    }
    if base.starts_with('/') {
        return match split_origin(request) {
            Some((origin, _)) => format!("{origin}{base}"),
            None => base.to_string(),
        };
    }
    // `host:port/path` without a scheme.
    strip_credentials(&format!("{scheme}://{base}"))
}

/// A header or attribute value, unless absent or blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

impl Presentation {
    /// Resolves the presentation from the DESCRIBE request URL, the reply's
    /// `Content-Base` and `Content-Location`, and the SDP's session-level `a=control`.
    pub fn new(
        request: &str,
        content_base: Option<&str>,
        content_location: Option<&str>,
        session_control: Option<&str>,
    ) -> Self {
        let request = strip_credentials(request);
        let base = match given(content_base).or_else(|| given(content_location)) {
            Some(b) => absolute_base(&request, b),
            None => request.clone(),
        };
        let (aggregate, prefix) = match given(session_control) {
            None | Some("*") => (base.clone(), base.clone()),
            Some(sc) if is_absolute(sc) => {
                let sc = strip_credentials(sc);
                (sc.clone(), sc)
            }
            Some(sc) => (append(&base, sc), base.clone()),
        };
        Self {
            base,
            aggregate,
            prefix,
        }
    }

    /// The presentation of a DESCRIBE reply to `request`, whose SDP has this
    /// session-level `a=control`: the one place that says which headers make the base.
    pub fn of_describe(
        request: &str,
        reply: &super::Response,
        session_control: Option<&str>,
    ) -> Self {
        Self::new(
            request,
            reply.header("content-base"),
            reply.header("content-location"),
            session_control,
        )
    }

    /// The SETUP URL of a media with this `a=control`.
    pub fn media(&self, control: Option<&str>) -> MediaUrl {
        let c = control.map(str::trim).unwrap_or("");
        if c.is_empty() || c == "*" {
            return MediaUrl {
                url: self.aggregate.clone(),
                fallback: None,
            };
        }
        if is_absolute(c) {
            return MediaUrl {
                url: strip_credentials(c),
                fallback: None,
            };
        }
        let url = append(&self.prefix, c);
        let fallback = rfc3986_join(&self.prefix, c).filter(|j| *j != url);
        MediaUrl { url, fallback }
    }

    /// Whether an `RTP-Info` `url=` names the media SET UP at `setup_url`: resolved
    /// against the base the way a control is (absolute as is, else appended, else the RFC
    /// join), compared without a trailing `/`; with one stream any URL is that stream
    /// (devices write `/H264/video` or the request URL there).
    pub fn rtp_info_matches(&self, info_url: &str, setup_url: &str, streams: usize) -> bool {
        if streams <= 1 {
            return true;
        }
        let trim = |s: &str| s.trim().trim_end_matches('/').to_string();
        let want = trim(setup_url);
        let u = info_url.trim();
        if is_absolute(u) {
            return trim(&strip_credentials(u)) == want;
        }
        trim(&append(&self.prefix, u)) == want
            || trim(&append(&self.base, u)) == want
            || rfc3986_join(&self.base, u).is_some_and(|j| trim(&j) == want)
            // Some devices write the bare control, others the last path segment.
            || want.ends_with(&format!("/{}", u.trim_start_matches('/')))
    }
}

/// One entry of an `RTP-Info` header: its `url`, `seq` and `rtptime` (RFC 2326 §12.33).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpInfo {
    pub url: String,
    pub seq: Option<u16>,
    pub rtptime: Option<u32>,
}

/// Parses `RTP-Info: url=...;seq=..;rtptime=..,url=...`. A URL may itself contain a `,`
/// or `;` in its query, so an entry starts only at `url=` after a comma.
pub fn parse_rtp_info(value: &str) -> Vec<RtpInfo> {
    let mut entries: Vec<String> = Vec::new();
    for piece in value.split(',') {
        let starts = piece.trim_start().to_ascii_lowercase().starts_with("url=");
        match entries.last_mut() {
            Some(last) if !starts => {
                last.push(',');
                last.push_str(piece);
            }
            _ => entries.push(piece.to_string()),
        }
    }
    entries
        .iter()
        .filter_map(|e| {
            let e = e.trim();
            e.get(..4).filter(|p| p.eq_ignore_ascii_case("url="))?;
            let body = e.get(4..)?;
            // Parameters follow the last `;seq=` / `;rtptime=`; the URL is what precedes
            // the first of them.
            let lower = body.to_ascii_lowercase();
            let cut = [";seq=", ";rtptime=", ";ssrc="]
                .iter()
                .filter_map(|k| lower.find(k))
                .min()
                .unwrap_or(body.len());
            let url = body.get(..cut)?.trim().to_string();
            let params = body.get(cut..).unwrap_or("");
            let mut seq = None;
            let mut rtptime = None;
            for p in params.split(';') {
                let Some((k, v)) = p.split_once('=') else {
                    continue;
                };
                match k.trim().to_ascii_lowercase().as_str() {
                    "seq" => seq = v.trim().parse().ok(),
                    "rtptime" => rtptime = v.trim().parse().ok(),
                    _ => {}
                }
            }
            Some(RtpInfo { url, seq, rtptime })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One real DESCRIBE exchange and the URLs a robust client sends for it.
    struct Row {
        source: &'static str,
        request: &'static str,
        content_base: Option<&'static str>,
        content_location: Option<&'static str>,
        session_control: Option<&'static str>,
        /// (media control, SETUP URL, fallback)
        media: &'static [(Option<&'static str>, &'static str, Option<&'static str>)],
        play: &'static str,
    }

    const ROWS: &[Row] = &[
        Row {
            source: "Hikvision (retina testdata hikvision_describe)",
            request: "rtsp://192.168.5.106:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
            content_base: Some("rtsp://192.168.5.106:554/Streaming/Channels/101/"),
            content_location: None,
            session_control: Some(
                "rtsp://192.168.5.106:554/Streaming/Channels/101/?transportmode=unicast&profile=Profile_1",
            ),
            media: &[(
                Some(
                    "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1",
                ),
                "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1",
                None,
            )],
            play: "rtsp://192.168.5.106:554/Streaming/Channels/101/?transportmode=unicast&profile=Profile_1",
        },
        Row {
            source: "Dahua/Amcrest (retina testdata dahua_describe: control after the query)",
            request: "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif",
            content_base: Some(
                "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/",
            ),
            content_location: None,
            session_control: Some("*"),
            media: &[
                (
                    Some("trackID=0"),
                    "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/trackID=0",
                    Some("rtsp://192.168.5.111:554/cam/trackID=0"),
                ),
                (
                    Some("trackID=1"),
                    "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/trackID=1",
                    Some("rtsp://192.168.5.111:554/cam/trackID=1"),
                ),
            ],
            play: "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/",
        },
        Row {
            source: "Axis Companion (mediamtx#683: PLAY to the session control)",
            request: "rtsp://10.0.0.9/axis-media/media.amp",
            content_base: Some("rtsp://10.0.0.9/axis-media/media.amp/"),
            content_location: None,
            session_control: Some("rtsp://10.0.0.9/axis-media/media.amp?Axis-Orig-Sw=true"),
            media: &[(
                Some("rtsp://10.0.0.9/axis-media/media.amp/stream=0?Axis-Orig-Sw=true"),
                "rtsp://10.0.0.9/axis-media/media.amp/stream=0?Axis-Orig-Sw=true",
                None,
            )],
            play: "rtsp://10.0.0.9/axis-media/media.amp?Axis-Orig-Sw=true",
        },
        Row {
            source: "Axis VAPIX with a query (media-stream-library-js#646: append, not WHATWG join)",
            request: "rtsp://10.0.0.9/axis-media/media.amp?videocodec=h264&resolution=640x360",
            content_base: Some(
                "rtsp://10.0.0.9/axis-media/media.amp?videocodec=h264&resolution=640x360/",
            ),
            content_location: None,
            session_control: Some("*"),
            media: &[(
                Some("trackID=1"),
                "rtsp://10.0.0.9/axis-media/media.amp?videocodec=h264&resolution=640x360/trackID=1",
                Some("rtsp://10.0.0.9/axis-media/trackID=1"),
            )],
            play: "rtsp://10.0.0.9/axis-media/media.amp?videocodec=h264&resolution=640x360/",
        },
        Row {
            source: "Hanwha (gortsplib session_test.go: session control without the port)",
            request: "rtsp://10.0.0.7:554/profile5/media.smp",
            content_base: None,
            content_location: None,
            session_control: Some("rtsp://10.0.0.7/profile5/media.smp"),
            media: &[
                (
                    Some("trackID=v"),
                    "rtsp://10.0.0.7/profile5/media.smp/trackID=v",
                    Some("rtsp://10.0.0.7/profile5/trackID=v"),
                ),
                (
                    Some("trackID=a"),
                    "rtsp://10.0.0.7/profile5/media.smp/trackID=a",
                    Some("rtsp://10.0.0.7/profile5/trackID=a"),
                ),
            ],
            play: "rtsp://10.0.0.7/profile5/media.smp",
        },
        Row {
            source: "Uniview (go2rtc#1663: absolute media control, no session control)",
            request: "rtsp://10.0.0.8:554/media/video1",
            content_base: None,
            content_location: None,
            session_control: None,
            media: &[(
                Some("rtsp://10.0.0.8/media/video1/video"),
                "rtsp://10.0.0.8/media/video1/video",
                None,
            )],
            play: "rtsp://10.0.0.8:554/media/video1",
        },
        Row {
            source: "Reolink, live555 server (retina testdata reolink_describe)",
            request: "rtsp://192.168.5.206:554/h264Preview_01_main",
            content_base: Some("rtsp://192.168.5.206/h264Preview_01_main/"),
            content_location: None,
            session_control: Some("*"),
            media: &[
                (
                    Some("trackID=1"),
                    "rtsp://192.168.5.206/h264Preview_01_main/trackID=1",
                    None,
                ),
                (
                    Some("trackID=2"),
                    "rtsp://192.168.5.206/h264Preview_01_main/trackID=2",
                    None,
                ),
            ],
            play: "rtsp://192.168.5.206/h264Preview_01_main/",
        },
        Row {
            source: "TP-Link Tapo (retina testdata tplink_sdp)",
            request: "rtsp://192.168.1.20:554/stream1",
            content_base: Some("rtsp://192.168.1.20/stream1/"),
            content_location: None,
            session_control: None,
            media: &[
                (Some("track1"), "rtsp://192.168.1.20/stream1/track1", None),
                (Some("track2"), "rtsp://192.168.1.20/stream1/track2", None),
                (Some("track3"), "rtsp://192.168.1.20/stream1/track3", None),
            ],
            play: "rtsp://192.168.1.20/stream1/",
        },
        Row {
            source: "VStarcam (retina#9: no Content-Base, track0; the RFC join is wrong)",
            request: "rtsp://admin:secret@192.168.1.30:10554/tcp/av0_0",
            content_base: None,
            content_location: None,
            session_control: None,
            media: &[(
                Some("track0"),
                "rtsp://192.168.1.30:10554/tcp/av0_0/track0",
                Some("rtsp://192.168.1.30:10554/tcp/track0"),
            )],
            play: "rtsp://192.168.1.30:10554/tcp/av0_0",
        },
        Row {
            source: "gst-rtsp-server with a query (Content-Base = request URI + /)",
            request: "rtsp://127.0.0.1:8554/media/Profile_1?profile=1&codec=h264",
            content_base: Some("rtsp://127.0.0.1:8554/media/Profile_1?profile=1&codec=h264/"),
            content_location: None,
            session_control: Some("*"),
            media: &[(
                Some("stream=0"),
                "rtsp://127.0.0.1:8554/media/Profile_1?profile=1&codec=h264/stream=0",
                Some("rtsp://127.0.0.1:8554/media/stream=0"),
            )],
            play: "rtsp://127.0.0.1:8554/media/Profile_1?profile=1&codec=h264/",
        },
        Row {
            source: "GW 'Rtsp Server 2.0' (retina testdata gw_*: Content-Base with its query, no /)",
            request: "rtsp://10.0.0.3/live/main?ch=1",
            content_base: Some("rtsp://10.0.0.3/live/main?ch=1"),
            content_location: None,
            session_control: None,
            media: &[
                (
                    Some("video"),
                    "rtsp://10.0.0.3/live/main?ch=1/video",
                    Some("rtsp://10.0.0.3/live/video"),
                ),
                (
                    Some("audio"),
                    "rtsp://10.0.0.3/live/main?ch=1/audio",
                    Some("rtsp://10.0.0.3/live/audio"),
                ),
            ],
            play: "rtsp://10.0.0.3/live/main?ch=1",
        },
        Row {
            source: "h264dvr (retina testdata h264dvr_describe: Content-Base without a scheme)",
            request: "rtsp://10.0.0.4:554/camera",
            content_base: Some("127.0.0.1:554/camera/"),
            content_location: None,
            session_control: None,
            media: &[(Some("track1"), "rtsp://127.0.0.1:554/camera/track1", None)],
            play: "rtsp://127.0.0.1:554/camera/",
        },
        Row {
            source: "a path-only Content-Base (gortsplib client.go: '/path' allowed)",
            request: "rtsp://10.0.0.4:8554/cam",
            content_base: Some("/cam/"),
            content_location: None,
            session_control: Some("*"),
            media: &[(
                Some("streamid=0"),
                "rtsp://10.0.0.4:8554/cam/streamid=0",
                None,
            )],
            play: "rtsp://10.0.0.4:8554/cam/",
        },
        Row {
            source: "Content-Location only, relative session control (retina parse.rs)",
            request: "rtsp://10.0.0.5/a",
            content_base: None,
            content_location: Some("rtsp://10.0.0.5/a/"),
            session_control: Some("live"),
            media: &[
                (Some("v"), "rtsp://10.0.0.5/a/v", None),
                (None, "rtsp://10.0.0.5/a/live", None),
            ],
            play: "rtsp://10.0.0.5/a/live",
        },
        Row {
            source: "a media control that starts with '?' (gortsplib media.go)",
            request: "rtsp://10.0.0.6/stream",
            content_base: Some("rtsp://10.0.0.6/stream"),
            content_location: None,
            session_control: None,
            media: &[(
                Some("?ctype=video"),
                "rtsp://10.0.0.6/stream?ctype=video",
                None,
            )],
            play: "rtsp://10.0.0.6/stream",
        },
    ];

    #[test]
    fn test_vendor_describe_table() {
        for row in ROWS {
            let p = Presentation::new(
                row.request,
                row.content_base,
                row.content_location,
                row.session_control,
            );
            assert_eq!(p.aggregate, row.play, "PLAY URL: {}", row.source);
            for (control, setup, fallback) in row.media {
                let m = p.media(*control);
                assert_eq!(m.url, *setup, "SETUP URL of {control:?}: {}", row.source);
                assert_eq!(
                    m.fallback.as_deref(),
                    *fallback,
                    "fallback of {control:?}: {}",
                    row.source
                );
                assert!(!m.url.contains('@'), "credentials left: {}", row.source);
            }
            assert!(!p.aggregate.contains('@'), "{}", row.source);
        }
    }

    #[test]
    fn test_credentials_stripped_query_kept() {
        assert_eq!(
            strip_credentials("rtsp://u:p@ss@h:554/a?b=1&c=@#frag"),
            "rtsp://h:554/a?b=1&c=@"
        );
        assert_eq!(strip_credentials("rtsp://h/a"), "rtsp://h/a");
        let p = Presentation::new("rtsp://u:p@h/a?x=1", None, None, None);
        assert_eq!(p.aggregate, "rtsp://h/a?x=1");
        let p = Presentation::new("rtsp://h/a", Some("rtsp://u:p@h/b/"), None, None);
        assert_eq!(p.base, "rtsp://h/b/");
    }

    #[test]
    fn test_absent_or_star_controls_are_the_aggregate() {
        let p = Presentation::new("rtsp://h/a", Some("rtsp://h/a/"), None, Some(""));
        assert_eq!(p.media(None).url, "rtsp://h/a/");
        assert_eq!(p.media(Some("*")).url, "rtsp://h/a/");
        assert_eq!(p.media(Some("  ")).url, "rtsp://h/a/");
    }

    #[test]
    fn test_setup_retry_statuses() {
        for s in [400, 404, 405, 451, 455, 503] {
            assert!(setup_retry_status(s));
        }
        for s in [200, 401, 403, 454, 461, 500] {
            assert!(!setup_retry_status(s));
        }
    }

    #[test]
    fn test_rtp_info() {
        let v = "url=rtsp://h/a?x=1,2/trackID=0;seq=17;rtptime=123456,url=trackID=1;seq=9";
        let e = parse_rtp_info(v);
        assert_eq!(
            e,
            vec![
                RtpInfo {
                    url: "rtsp://h/a?x=1,2/trackID=0".into(),
                    seq: Some(17),
                    rtptime: Some(123456)
                },
                RtpInfo {
                    url: "trackID=1".into(),
                    seq: Some(9),
                    rtptime: None
                },
            ]
        );
        assert!(parse_rtp_info("garbage").is_empty());
        assert_eq!(parse_rtp_info("url=x;seq=99999")[0].seq, None);

        let p = Presentation::new(
            "rtsp://h:554/cam?c=1",
            Some("rtsp://h:554/cam?c=1/"),
            None,
            Some("*"),
        );
        let v0 = p.media(Some("trackID=0")).url;
        let v1 = p.media(Some("trackID=1")).url;
        // Dahua writes the bare control.
        assert!(p.rtp_info_matches("trackID=0", &v0, 2));
        assert!(!p.rtp_info_matches("trackID=0", &v1, 2));
        assert!(p.rtp_info_matches(&v1, &v1, 2));
        // With one stream any URL is that stream (GW's wrong `/H264/video`).
        assert!(p.rtp_info_matches("/H264/video", &v0, 1));
        assert!(!p.rtp_info_matches("/H264/video", &v0, 2));
    }
}
