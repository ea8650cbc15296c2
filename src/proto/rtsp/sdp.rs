// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! SDP (RFC 8866) to the streams the element can expose, with the fields of their
//! `application/x-rtp` caps (as rtspsrc derives them: media, payload, clock-rate,
//! encoding-name, encoding-params, and every fmtp parameter lower-cased).

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Video,
    Audio,
    /// ONVIF metadata (`vnd.onvif.metadata`, ONVIF Streaming §5.2.1.1).
    Metadata,
    Other,
}

/// A caps field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i32),
    Str(String),
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub kind: Kind,
    pub media: String,
    pub payload: u8,
    /// Upper-case, as GStreamer caps want it.
    pub encoding_name: String,
    pub clock_rate: u32,
    pub encoding_params: Option<String>,
    pub fmtp: Vec<(String, String)>,
    /// `a=control`, if any.
    pub control: Option<String>,
    /// `a=sendonly`/`recvonly`...: a backchannel is `sendonly` from our side (recvonly
    /// on the server's).
    pub direction: Option<String>,
    /// Its place among the SDP's `m=` lines, from 0 (rtspsrc's stream id).
    pub index: usize,
    /// `RTP/SAVP` (or `RTP/SAVPF`): SRTP. A device offering both lists each stream twice
    /// (gst-rtsp-server with both profiles).
    pub secure: bool,
    /// The MIKEY of its `a=key-mgmt:mikey` (media level, else session level), base64 as
    /// written: the device's SRTP key (`proto::mikey`).
    pub key_mgmt: Option<String>,
}

/// Encoding, clock rate and channels of the static payload types (RFC 3551 §6).
fn static_payload(pt: u8) -> Option<(&'static str, u32, Option<&'static str>)> {
    Some(match pt {
        0 => ("PCMU", 8000, Some("1")),
        3 => ("GSM", 8000, Some("1")),
        4 => ("G723", 8000, Some("1")),
        8 => ("PCMA", 8000, Some("1")),
        9 => ("G722", 8000, Some("1")),
        10 => ("L16", 44100, Some("2")),
        11 => ("L16", 44100, Some("1")),
        14 => ("MPA", 90000, None),
        15 => ("G728", 8000, Some("1")),
        18 => ("G729", 8000, Some("1")),
        26 => ("JPEG", 90000, None),
        31 => ("H261", 90000, None),
        32 => ("MPV", 90000, None),
        33 => ("MP2T", 90000, None),
        34 => ("H263", 90000, None),
        _ => return None,
    })
}

/// fmtp parameters kept per stream: each becomes a caps field (a GQuark that lives as long
/// as the process), and real codecs use a dozen at most.
pub const MAX_FMTP_PARAMS: usize = 32;
/// Longest fmtp parameter name kept.
pub const MAX_FMTP_KEY: usize = 64;

/// Whether `k` can be a GStreamer structure field name: a letter, then letters, digits
/// and `-_./:+` (`gst_structure_validate_name`).
fn valid_field_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "-_./:+".contains(c))
}

/// The parameters of an fmtp line, names lower-cased: at most [`MAX_FMTP_PARAMS`], each
/// name valid as a field name and at most [`MAX_FMTP_KEY`] long, the first of a repeated
/// name kept. A device that writes thousands of them cost seconds of CPU per session and
/// a quark per name.
fn fmtp_params(params: &str) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    params
        .split(';')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim().to_ascii_lowercase();
            (k.len() <= MAX_FMTP_KEY && valid_field_name(&k)).then(|| (k, v.trim().to_string()))
        })
        .filter(|(k, _)| seen.insert(k.clone()))
        .take(MAX_FMTP_PARAMS)
        .collect()
}

impl Stream {
    /// The caps fields of `application/x-rtp`.
    pub fn caps_fields(&self) -> Vec<(String, Value)> {
        let mut f = vec![
            ("media".to_string(), Value::Str(self.media.clone())),
            ("payload".to_string(), Value::Int(i32::from(self.payload))),
            (
                "clock-rate".to_string(),
                Value::Int(i32::try_from(self.clock_rate).unwrap_or(i32::MAX)),
            ),
            (
                "encoding-name".to_string(),
                Value::Str(self.encoding_name.clone()),
            ),
        ];
        if let Some(p) = &self.encoding_params {
            f.push(("encoding-params".to_string(), Value::Str(p.clone())));
        }
        for (k, v) in &self.fmtp {
            // Fields the caps already carry are not overwritten by fmtp.
            if !f.iter().any(|(name, _)| name == k) {
                f.push((k.clone(), Value::Str(v.clone())));
            }
        }
        f
    }
}

/// Why an SDP was refused, and on which line of it (counted from 1, as the device sent it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpError {
    pub line: Option<usize>,
    pub detail: String,
}

impl std::fmt::Display for SdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SDP not parsed: {}", self.detail)
    }
}

/// What sdp-types' error says: the line of the parsed text it names (counted from 1), and
/// its words without that number, which counts the lines of the text [`lenient`] made, not
/// the device's ([`SdpError::line`] is the device's).
fn explain(e: &sdp_types::ParserError) -> (Option<usize>, String) {
    use sdp_types::ParserError as P;
    #[allow(deprecated)]
    match e {
        P::UnexpectedLine(n, c) => (
            Some(*n),
            format!("unexpected line starting with {:?}", char::from(*c)),
        ),
        P::InvalidLineFormat(n, s) => (Some(*n), format!("invalid line: {s}")),
        P::InvalidFieldEncoding(n, s) => (Some(*n), format!("invalid field encoding at {s}")),
        P::InvalidFieldFormat(n, s) => (Some(*n), format!("invalid field format at {s}")),
        P::MissingField(n, s) => (Some(*n), format!("missing field {s}")),
        P::FieldTrailingData(n, s) => (Some(*n), format!("trailing data after {s}")),
        P::InvalidVersion(n, v) => (
            Some(*n),
            format!("invalid version {:?}", String::from_utf8_lossy(v)),
        ),
        P::MultipleVersions(n) => (Some(*n), "a second version line".into()),
        P::MultipleOrigins(n) => (Some(*n), "a second origin line".into()),
        P::MultipleSessionNames(n) => (Some(*n), "a second session name line".into()),
        P::MultipleSessionDescription(n) => (Some(*n), "a second session description line".into()),
        P::MultipleUris(n) => (Some(*n), "a second URI line".into()),
        P::MultipleConnections(n) => (Some(*n), "a second connection line".into()),
        P::MultipleTimeZones(n) => (Some(*n), "a second time zone line".into()),
        P::MultipleMediaTitles(n) => (Some(*n), "a second media title line".into()),
        P::MultipleKeys(n) => (Some(*n), "a second key line".into()),
        P::RepeatWithoutTime(n) => (Some(*n), "a repeat line without a time line".into()),
        other => (None, other.to_string()),
    }
}

/// What devices send that the SDP grammar refuses and other clients (rtspsrc, FFmpeg)
/// pass over: bare `c=IN ` lines (Uniview: go2rtc#1663, mediamtx#5033), which say nothing
/// a unicast RTSP client uses, an origin line with a seventh field (TP-Link's RTSP
/// server: `o=- 14665860 31787219 1 IN IP4 ...`, mediamtx#990; the origin is not used),
/// blank lines, and trailing white space. Returns the text to parse and, for each of its
/// lines, the line of `sdp` it came from (counted from 1).
fn lenient(sdp: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(sdp.len());
    let mut origin = Vec::new();
    for (i, line) in sdp.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(b"c=")
            && line
                .split(u8::is_ascii_whitespace)
                .filter(|f| !f.is_empty())
                .count()
                < 3
        {
            continue;
        }
        let fields: Vec<&[u8]> = line
            .get(2..)
            .unwrap_or_default()
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty())
            .collect();
        if line.starts_with(b"o=") && fields.len() > 6 {
            // Username, session id and version, then the network, address type and
            // address: what lies between is dropped.
            let kept =
                (fields.iter().take(3)).chain(fields.iter().skip(fields.len().saturating_sub(3)));
            out.extend_from_slice(b"o=");
            for (n, f) in kept.enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(f);
            }
        } else {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b"\r\n");
        origin.push(i.saturating_add(1));
    }
    (out, origin)
}

/// Parses an SDP. Returns the session-level control and the streams with an RTP
/// payload the element understands; other sections are left out.
pub fn parse(sdp: &[u8]) -> Result<(Option<String>, Vec<Stream>), SdpError> {
    let (sdp, origin) = lenient(sdp);
    let session = sdp_types::Session::parse(&sdp).map_err(|e| {
        let (line, detail) = explain(&e);
        SdpError {
            line: line.and_then(|n| origin.get(n.checked_sub(1)?).copied()),
            detail,
        }
    })?;
    let session_control = session
        .get_first_attribute_value("control")
        .flatten()
        .map(str::to_string);
    let mikey_of = |v: Option<&str>| {
        v.and_then(|v| v.trim().strip_prefix("mikey"))
            .map(|b64| b64.trim().to_string())
    };
    let session_mikey = session
        .attributes
        .iter()
        .filter(|a| a.attribute == "key-mgmt")
        .find_map(|a| mikey_of(a.value.as_deref()));
    let mut out = Vec::new();
    for (index, m) in session.medias.iter().enumerate() {
        if !m.proto.to_ascii_uppercase().starts_with("RTP/") {
            continue;
        }
        // The first format is the one the element uses.
        let Some(pt) = m
            .fmt
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u8>().ok())
        else {
            continue;
        };
        if pt > 127 {
            continue;
        }
        let rtpmap = m
            .attributes
            .iter()
            .filter(|a| a.attribute == "rtpmap")
            .find_map(|a| {
                let v = a.value.as_deref()?;
                let (p, rest) = v.trim().split_once(char::is_whitespace)?;
                (p.parse::<u8>().ok()? == pt).then(|| rest.trim().to_string())
            });
        let (encoding_name, clock_rate, encoding_params) = match rtpmap {
            Some(r) => {
                let mut parts = r.split('/');
                let name = parts.next().unwrap_or("").trim().to_ascii_uppercase();
                let Some(rate) = parts.next().and_then(|c| c.trim().parse::<u32>().ok()) else {
                    continue;
                };
                (name, rate, parts.next().map(|p| p.trim().to_string()))
            }
            None => match static_payload(pt) {
                Some((n, r, p)) => (n.to_string(), r, p.map(str::to_string)),
                None => continue,
            },
        };
        if encoding_name.is_empty() || clock_rate == 0 {
            continue;
        }
        let fmtp = m
            .attributes
            .iter()
            .filter(|a| a.attribute == "fmtp")
            .filter_map(|a| a.value.as_deref())
            .find_map(|v| {
                let (p, rest) = v.trim().split_once(char::is_whitespace)?;
                (p.parse::<u8>().ok()? == pt).then(|| rest.to_string())
            })
            .map(|params| fmtp_params(&params))
            .unwrap_or_default();
        let kind = match m.media.as_str() {
            "video" => Kind::Video,
            "audio" => Kind::Audio,
            "application" if encoding_name.starts_with("VND.ONVIF.METADATA") => Kind::Metadata,
            _ => Kind::Other,
        };
        let control = m
            .get_first_attribute_value("control")
            .flatten()
            .map(str::to_string);
        let direction = ["sendonly", "recvonly", "sendrecv", "inactive"]
            .iter()
            .find(|d| m.has_attribute(d))
            .map(|d| d.to_string());
        let secure = m.proto.to_ascii_uppercase().starts_with("RTP/SAVP");
        let key_mgmt = m
            .attributes
            .iter()
            .filter(|a| a.attribute == "key-mgmt")
            .find_map(|a| mikey_of(a.value.as_deref()))
            .or_else(|| secure.then(|| session_mikey.clone()).flatten());
        out.push(Stream {
            kind,
            media: m.media.clone(),
            payload: pt,
            encoding_name,
            clock_rate,
            encoding_params,
            fmtp,
            control,
            direction,
            index,
            secure,
            key_mgmt,
        });
    }
    Ok((session_control, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23 point 3: an fmtp line with 51,000 distinct names (255 KB, under the RTSP
    /// cap) cost about 3 s of CPU per session and a quark per name.
    #[test]
    fn test_fmtp_parameters_are_capped_and_valid() {
        let mut line = String::from("packetization-mode=1;Profile-Level-Id=42c01e;9bad=1;a b=2;");
        line.push_str(&format!("{}=3;", "k".repeat(MAX_FMTP_KEY + 1)));
        line.push_str("packetization-mode=2;");
        for i in 0..51_000 {
            line.push_str(&format!("x{i}=1;"));
        }
        let start = std::time::Instant::now();
        let p = fmtp_params(&line);
        assert_eq!(p.len(), MAX_FMTP_PARAMS);
        assert_eq!(
            p[0],
            ("packetization-mode".into(), "1".into()),
            "first kept"
        );
        assert_eq!(p[1], ("profile-level-id".into(), "42c01e".into()));
        assert_eq!(p[2].0, "x0", "invalid, overlong and repeated names dropped");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        let stream = Stream {
            kind: Kind::Video,
            media: "video".into(),
            payload: 96,
            encoding_name: "H264".into(),
            clock_rate: 90_000,
            encoding_params: None,
            fmtp: p,
            control: None,
            direction: None,
            index: 0,
            secure: false,
            key_mgmt: None,
        };
        assert_eq!(stream.caps_fields().len(), 4 + MAX_FMTP_PARAMS);
    }

    /// An SDP as gst-rtsp-server 1.22 answers for H.264 + AAC (mpeg4-generic) + ONVIF
    /// metadata, plus a static-payload PCMU stream as many cameras send.
    const SDP: &[u8] = b"v=0\r\n\
o=- 1188340656180883 1 IN IP4 127.0.0.1\r\n\
s=Session streamed with GStreamer\r\n\
t=0 0\r\n\
a=tool:GStreamer\r\n\
a=type:broadcast\r\n\
a=control:*\r\n\
m=video 0 RTP/AVP 96\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtpmap:96 H264/90000\r\n\
a=fmtp:96 packetization-mode=1;Profile-Level-Id=42c01e;sprop-parameter-sets=Z0LAHtkA,aMuDyyA=\r\n\
a=control:stream=0\r\n\
m=audio 0 RTP/AVP 97\r\n\
a=rtpmap:97 MPEG4-GENERIC/16000/1\r\n\
a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3\r\n\
a=control:stream=1\r\n\
m=audio 0 RTP/AVP 0\r\n\
a=control:stream=2\r\n\
a=sendonly\r\n\
m=application 0 RTP/AVP 107\r\n\
a=rtpmap:107 vnd.onvif.metadata/90000\r\n\
a=control:stream=3\r\n";

    #[test]
    fn test_streams_and_caps_fields() {
        let (ctl, streams) = parse(SDP).unwrap();
        assert_eq!(ctl.as_deref(), Some("*"));
        assert_eq!(streams.len(), 4);
        let v = &streams[0];
        assert_eq!((v.kind, v.payload, v.clock_rate), (Kind::Video, 96, 90000));
        assert_eq!(v.control.as_deref(), Some("stream=0"));
        let caps = v.caps_fields();
        assert!(caps.contains(&("encoding-name".into(), Value::Str("H264".into()))));
        assert!(caps.contains(&("profile-level-id".into(), Value::Str("42c01e".into()))));
        assert!(caps.contains(&(
            "sprop-parameter-sets".into(),
            Value::Str("Z0LAHtkA,aMuDyyA=".into())
        )));
        let a = &streams[1];
        assert_eq!(
            (
                a.kind,
                a.encoding_name.as_str(),
                a.encoding_params.as_deref()
            ),
            (Kind::Audio, "MPEG4-GENERIC", Some("1"))
        );
        assert!(
            a.caps_fields()
                .contains(&("mode".into(), Value::Str("AAC-hbr".into())))
        );
        let pcmu = &streams[2];
        assert_eq!(
            (pcmu.encoding_name.as_str(), pcmu.clock_rate),
            ("PCMU", 8000)
        );
        assert_eq!(pcmu.direction.as_deref(), Some("sendonly"));
        let md = &streams[3];
        assert_eq!(
            (md.kind, md.encoding_name.as_str()),
            (Kind::Metadata, "VND.ONVIF.METADATA")
        );
    }

    #[test]
    fn test_uniview_bare_connection_lines_are_passed_over() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=Media\r\nc=IN \r\nt=0 0\r\n\
                    m=video 0 RTP/AVP 96\r\nc=IN \r\na=rtpmap:96 H264/90000 \r\n\r\n\
                    a=control:rtsp://10.0.0.1/media/video1/video\r\n";
        let (_, streams) = parse(sdp).expect("parsed");
        assert_eq!(streams.len(), 1);
        assert_eq!(streams[0].encoding_name, "H264");
        assert_eq!(streams[0].clock_rate, 90000);
        assert_eq!(
            streams[0].control.as_deref(),
            Some("rtsp://10.0.0.1/media/video1/video")
        );
    }

    /// TP-Link's RTSP server (Tapo, VIGI) writes seven origin fields and a vendor track
    /// whose format is not a payload type (gortsplib's "issue mediamtx/990" fixture):
    /// rtspsrc and FFmpeg play it; the vendor track is passed over.
    #[test]
    fn test_tp_link_origin_with_seven_fields_and_vendor_track() {
        let sdp = b"v=0\r\no=- 14665860 31787219 1 IN IP4 192.168.4.226\r\n\
                    s=Session streamed by \"TP-LINK RTSP Server\"\r\nt=0 0\r\n\
                    m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:4096\r\na=range:npt=0-\r\n\
                    a=control:track1\r\na=rtpmap:96 H265/90000\r\n\
                    m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:track2\r\n\
                    m=application/TP-LINK 0 RTP/AVP smart/1/90000\r\n\
                    a=rtpmap:95 TP-LINK/90000\r\na=control:track3\r\n";
        let (_, streams) = parse(sdp).expect("parsed");
        let got: Vec<_> = streams
            .iter()
            .map(|s| (s.kind, s.encoding_name.as_str(), s.control.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Kind::Video, "H265", Some("track1")),
                (Kind::Audio, "PCMA", Some("track2"))
            ]
        );
        // An origin line short of fields is still refused, naming it.
        let short = b"v=0\r\no=- 1 IN IP4\r\ns=-\r\nt=0 0\r\n";
        assert_eq!(parse(short).expect_err("refused").line, Some(2));
    }

    /// gst-rtsp-server with both profiles lists each stream twice, the SRTP one with the
    /// device's key (`docs/secure-streaming-and-discovery.md` §1.4, as run): both are
    /// read, told apart, and the key is the MIKEY the codec decodes.
    #[test]
    fn test_savp_streams_and_their_keys() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 0 RTP/SAVP 0\r\na=control:stream=0\r\n\
            a=key-mgmt:mikey AQAFABPGq/wBAACN19ggAAAAAAsA7r4aNQDrNW0KEBfA7z2oSHoVauI5caw9VJEBAAAAFQABAQEBEAIBAQMBCgcBAQgBAQoBAQAAACIAIAAesiwOw1cFIHnp8zMoII6LFtn9vYnn3/X0+ydEDNR2AA==\r\n\
            m=audio 0 RTP/AVP 0\r\na=control:stream=0\r\n";
        let (_, streams) = parse(sdp.as_bytes()).unwrap();
        assert_eq!(streams.len(), 2);
        assert!(streams[0].secure && !streams[1].secure);
        assert_eq!((streams[0].index, streams[1].index), (0, 1));
        assert_eq!(streams[1].key_mgmt, None);
        let key = crate::proto::mikey::decode_base64(streams[0].key_mgmt.as_deref().unwrap())
            .and_then(|b| crate::proto::mikey::parse(&b))
            .and_then(|m| m.srtp_key())
            .unwrap();
        assert_eq!(key.ssrc, 0x8dd7d820);
        // A session-level key goes to the SRTP streams only.
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=key-mgmt:mikey QUJD\r\n\
            m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n\
            m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
        let (_, streams) = parse(sdp.as_bytes()).unwrap();
        assert_eq!(streams[0].key_mgmt.as_deref(), Some("QUJD"));
        assert_eq!(streams[1].key_mgmt, None);
    }

    #[test]
    fn test_bad_sdp() {
        assert!(parse(b"not sdp at all").is_err());
        // The line named is the device's, blank and passed-over lines counted.
        let e =
            parse(b"v=0\r\n\r\nc=IN\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 x\r\n").unwrap_err();
        assert_eq!(e.line, Some(6), "{e:?}");
        assert_eq!(
            e.to_string(),
            "SDP not parsed: invalid field format at Time stop-time"
        );
        // A dynamic payload without rtpmap is left out, not guessed.
        let (_, s) =
            parse(b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n")
                .unwrap();
        assert!(s.is_empty());
    }
}
