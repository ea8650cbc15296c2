// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The media services' operations (Media1 `trt`, Media2 `tr2`): profiles, stream and
//! snapshot URIs.

use super::ops::{NS_TR2, NS_TRT, NS_TT, ParseError, Request, empty, expect, request};
use super::soap::XmlWriter;
use super::xml::Element;
use crate::proto::mikey::Suite;

/// `GetProfiles`: Media2 with `Type=All` (without it devices return profiles without
/// configurations), or Media1.
pub fn get_profiles(media2: bool) -> Request {
    if media2 {
        let mut w = XmlWriter::new();
        w.start("tr2:GetProfiles", &[("xmlns:tr2", NS_TR2)])
            .leaf("tr2:Type", "All")
            .end("tr2:GetProfiles");
        request(NS_TR2, "GetProfiles", w.finish())
    } else {
        empty("trt", NS_TRT, "GetProfiles")
    }
}

/// The transport a stream URI is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamTransport {
    /// RTSP tunnelled over HTTP(S), RTP interleaved (`rtp-rtsp-http-tcp`): Media1 `HTTP`,
    /// Media2 `RtspOverHttp`.
    Http,
    /// RTSP over TCP to the RTSP port, RTP interleaved (`rtp-rtsp-tcp`): Media1 `RTSP`,
    /// Media2 `RTSP`.
    Rtsp,
    /// RTSP over TCP, RTP and RTCP over UDP (`rtp-udp`): Media1 `UDP`, Media2
    /// `RtspUnicast`.
    Udp,
    /// RTSP over TLS on the device's RTSPS port, RTP interleaved inside the TLS connection
    /// (`rtsps`): Media2 `RtspsUnicast`; Media1 has none.
    Rtsps,
    /// RTSP over TLS on the device's RTSPS port, SRTP and SRTCP over UDP
    /// (`rtsps-srtp`): Media2 `RtspsUnicast` too (the SETUP's `RTP/SAVP` asks for SRTP).
    RtspsSrtp,
}

/// `GetStreamUri` for a profile and transport; `None` for a transport Media1 cannot ask
/// for (RTSPS).
pub fn get_stream_uri(media2: bool, profile: &str, transport: StreamTransport) -> Option<Request> {
    let mut w = XmlWriter::new();
    if media2 {
        let proto = match transport {
            StreamTransport::Http => "RtspOverHttp",
            StreamTransport::Rtsp => "RTSP",
            StreamTransport::Udp => "RtspUnicast",
            StreamTransport::Rtsps | StreamTransport::RtspsSrtp => "RtspsUnicast",
        };
        w.start("tr2:GetStreamUri", &[("xmlns:tr2", NS_TR2)])
            .leaf("tr2:Protocol", proto)
            .leaf("tr2:ProfileToken", profile)
            .end("tr2:GetStreamUri");
        Some(request(NS_TR2, "GetStreamUri", w.finish()))
    } else {
        let proto = match transport {
            StreamTransport::Http => "HTTP",
            StreamTransport::Rtsp => "RTSP",
            StreamTransport::Udp => "UDP",
            StreamTransport::Rtsps | StreamTransport::RtspsSrtp => return None,
        };
        w.start(
            "trt:GetStreamUri",
            &[("xmlns:trt", NS_TRT), ("xmlns:tt", NS_TT)],
        )
        .start("trt:StreamSetup", &[])
        .leaf("tt:Stream", "RTP-Unicast")
        .start("tt:Transport", &[])
        .leaf("tt:Protocol", proto)
        .end("tt:Transport")
        .end("trt:StreamSetup")
        .leaf("trt:ProfileToken", profile)
        .end("trt:GetStreamUri");
        Some(request(NS_TRT, "GetStreamUri", w.finish()))
    }
}

/// Media2 `GetServiceCapabilities`.
pub fn get_media2_capabilities() -> Request {
    empty("tr2", NS_TR2, "GetServiceCapabilities")
}

/// What Media2's `StreamingCapabilities` say of RTSPS: `SecureRTSPStreaming` (RTSPS and
/// SRTP), `None` when the attribute is absent (the schema's default is false).
pub fn parse_secure_rtsp_streaming(el: &Element) -> Result<Option<bool>, ParseError> {
    let caps = expect(el, NS_TR2, "GetServiceCapabilitiesResponse")?
        .child(NS_TR2, "Capabilities")
        .ok_or("GetServiceCapabilitiesResponse has no Capabilities")?;
    let Some(streaming) = caps.child(NS_TR2, "StreamingCapabilities") else {
        return Ok(None);
    };
    match streaming.attr("SecureRTSPStreaming").map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(format!(
            "StreamingCapabilities/@SecureRTSPStreaming is not a boolean: {other:?}"
        )),
    }
}

/// Media2 `GetVideoEncoderConfigurationOptions` of a profile: its options carry the SRTP
/// algorithms the device offers (`SecureStreamingProtocolAlgorithms`; not in the service
/// capabilities).
pub fn get_video_encoder_options(profile: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start(
        "tr2:GetVideoEncoderConfigurationOptions",
        &[("xmlns:tr2", NS_TR2)],
    )
    .leaf("tr2:ProfileToken", profile)
    .end("tr2:GetVideoEncoderConfigurationOptions");
    request(NS_TR2, "GetVideoEncoderConfigurationOptions", w.finish())
}

/// The SRTP algorithms of a `GetVideoEncoderConfigurationOptionsResponse`, every option's
/// in order without repeats; `None` when no option lists any.
pub fn parse_srtp_algorithms(el: &Element) -> Result<Option<Vec<String>>, ParseError> {
    let el = expect(el, NS_TR2, "GetVideoEncoderConfigurationOptionsResponse")?;
    let mut listed: Vec<String> = Vec::new();
    let mut any = false;
    for o in el.children_named(NS_TR2, "Options") {
        let Some(list) = o.attr("SecureStreamingProtocolAlgorithms") else {
            continue;
        };
        any = true;
        for a in list.split_ascii_whitespace() {
            if !listed.iter().any(|l| l == a) {
                listed.push(a.to_string());
            }
        }
    }
    Ok(any.then_some(listed))
}

/// The SRTP suite of `rtsps-srtp`, and why: the one the profile's video encoder is
/// configured with; else AES-128-GCM, then AES-256-GCM, when its options list them (RFC
/// 7714's AEAD: one pass of AES and a 16-byte tag); else `AES_CM_128_HMAC_SHA1_80`, the
/// suite every SRTP device has and what an absent list means. A device that offers only
/// `NONE` (RTP/AVP inside RTSPS) or suites we do not have is an error saying so.
pub fn srtp_suite(
    configured: Option<&str>,
    listed: Option<&[String]>,
) -> Result<(Suite, String), String> {
    if let Some(name) = configured {
        if let Some(s) = Suite::from_onvif_name(name) {
            return Ok((s, format!("the video encoder is configured with {name}")));
        }
        if name.eq_ignore_ascii_case("NONE") {
            return Err(
                "its video encoder is configured with SecureStreamingProtocolAlgorithm=NONE \
                 (RTP/AVP inside RTSPS, no SRTP)"
                    .into(),
            );
        }
    }
    let Some(listed) = listed.filter(|l| l.iter().any(|a| !a.trim().is_empty())) else {
        return Ok((
            Suite::AesCm128HmacSha1_80,
            "the device lists no SRTP algorithm: the default".into(),
        ));
    };
    let has = |s: Suite| listed.iter().any(|l| Suite::from_onvif_name(l) == Some(s));
    [
        Suite::AeadAes128Gcm,
        Suite::AeadAes256Gcm,
        Suite::AesCm128HmacSha1_80,
    ]
    .into_iter()
    .find(|s| has(*s))
    .map(|s| (s, format!("the device offers {}", listed.join(" "))))
    .ok_or_else(|| {
        format!(
            "its video encoder offers SecureStreamingProtocolAlgorithms {:?}, none of \
             AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM and AEAD_AES_256_GCM",
            listed.join(" ")
        )
    })
}

/// `GetSnapshotUri` for a profile.
pub fn get_snapshot_uri(media2: bool, profile: &str) -> Request {
    let (prefix, ns) = if media2 {
        ("tr2", NS_TR2)
    } else {
        ("trt", NS_TRT)
    };
    let mut w = XmlWriter::new();
    w.start(
        &format!("{prefix}:GetSnapshotUri"),
        &[(&format!("xmlns:{prefix}"), ns)],
    )
    .leaf(&format!("{prefix}:ProfileToken"), profile)
    .end(&format!("{prefix}:GetSnapshotUri"));
    request(ns, "GetSnapshotUri", w.finish())
}

/// What the element needs to know about a media profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub token: String,
    pub name: String,
    /// Video encoding (`H264`, `H265`, `JPEG`, ...), if the profile has a video encoder.
    pub video: Option<String>,
    /// Audio encoding, if the profile has an audio source and encoder.
    pub audio: Option<String>,
    /// Whether the profile has a metadata configuration.
    pub metadata: bool,
    /// The SRTP algorithm its video encoder is configured with (Media2's
    /// `SecureStreamingProtocolAlgorithm`), when it says.
    pub srtp_algorithm: Option<String>,
    /// Its video encoder's width and height, when it says.
    pub resolution: Option<(u32, u32)>,
}

/// The profiles of a Media1 or Media2 `GetProfilesResponse`.
pub fn parse_profiles(el: &Element, media2: bool) -> Result<Vec<Profile>, ParseError> {
    let ns = if media2 { NS_TR2 } else { NS_TRT };
    let el = expect(el, ns, "GetProfilesResponse")?;
    let mut out = Vec::new();
    for p in el.children_named(ns, "Profiles") {
        let token = p.attr("token").unwrap_or_default().to_string();
        let resolution = |e: Option<&Element>| {
            let r = e?.child(NS_TT, "Resolution")?;
            let side = |n: &str| r.child(NS_TT, n)?.text().trim().parse::<u32>().ok();
            Some((side("Width")?, side("Height")?))
        };
        let enc = |e: Option<&Element>| {
            e.map(|e| {
                e.child(NS_TT, "Encoding")
                    .map(|x| x.text().to_string())
                    .unwrap_or_default()
            })
        };
        let profile = if media2 {
            let c = p.child(NS_TR2, "Configurations");
            let get = |n: &str| c.and_then(|c| c.child(NS_TR2, n));
            Profile {
                token,
                name: p
                    .child(NS_TR2, "Name")
                    .map(|n| n.text().to_string())
                    .unwrap_or_default(),
                video: enc(get("VideoEncoder")),
                audio: get("AudioSource").and(enc(get("AudioEncoder"))),
                metadata: get("Metadata").is_some(),
                srtp_algorithm: get("VideoEncoder")
                    .and_then(|v| v.attr("SecureStreamingProtocolAlgorithm"))
                    .map(|a| a.trim().to_string()),
                resolution: resolution(get("VideoEncoder")),
            }
        } else {
            let get = |n: &str| p.child(NS_TT, n);
            Profile {
                token,
                name: get("Name")
                    .map(|n| n.text().to_string())
                    .unwrap_or_default(),
                video: enc(get("VideoEncoderConfiguration")),
                audio: get("AudioSourceConfiguration").and(enc(get("AudioEncoderConfiguration"))),
                metadata: get("MetadataConfiguration").is_some(),
                srtp_algorithm: None,
                resolution: resolution(get("VideoEncoderConfiguration")),
            }
        };
        out.push(profile);
    }
    Ok(out)
}

/// The URI of a `GetStreamUriResponse` or `GetSnapshotUriResponse`.
pub fn parse_media_uri(el: &Element, media2: bool, operation: &str) -> Result<String, ParseError> {
    let response = format!("{operation}Response");
    let uri = if media2 {
        expect(el, NS_TR2, &response)?.child(NS_TR2, "Uri")
    } else {
        expect(el, NS_TRT, &response)?.path(&[(NS_TRT, "MediaUri"), (NS_TT, "Uri")])
    };
    let uri = uri.map(|u| u.text()).unwrap_or_default();
    if uri.is_empty() {
        return Err(format!("{response} has no Uri"));
    }
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::shared_example as example;
    use crate::proto::onvif::xml;

    #[test]
    fn test_parse_shared_examples() {
        let Some(el) = example("media-GetProfiles.resp.xml") else {
            eprintln!("../shared not present; skipping");
            return;
        };
        let p = parse_profiles(&el, false).unwrap();
        assert_eq!(
            p,
            vec![Profile {
                token: "Profile_1".into(),
                name: "mainStream".into(),
                video: Some("H264".into()),
                audio: Some("G711".into()),
                metadata: true,
                srtp_algorithm: None,
                resolution: Some((1920, 1080)),
            }]
        );
        let el = example("media2-GetProfiles.resp.xml").unwrap();
        let p = parse_profiles(&el, true).unwrap();
        assert_eq!(p[0].video.as_deref(), Some("H265"));
        assert_eq!(p[0].resolution, Some((1920, 1080)));
        assert_eq!(p[0].audio.as_deref(), Some("PCMU"));
        assert!(p[0].metadata);

        let el = example("media-GetStreamUri.resp.xml").unwrap();
        assert_eq!(
            parse_media_uri(&el, false, "GetStreamUri").unwrap(),
            "http://192.0.2.10:80/onvif-media/media.amp?profile=Profile_1"
        );
        let el = example("media2-GetSnapshotUri.resp.xml").unwrap();
        assert_eq!(
            parse_media_uri(&el, true, "GetSnapshotUri").unwrap(),
            "https://192.0.2.10/onvif/snapshot?profile=Profile_1"
        );
    }

    #[test]
    fn test_request_bodies_match_shared_examples() {
        // Same elements as the schema-valid examples (whitespace aside).
        let norm = |s: &str| s.split_whitespace().collect::<String>();
        let dir = format!(
            "{}/../shared/onvif-wsdl/examples",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(ex) = std::fs::read_to_string(format!("{dir}/media2-GetStreamUri.req.xml")) else {
            return;
        };
        assert_eq!(
            norm(
                &get_stream_uri(true, "Profile_1", StreamTransport::Http)
                    .expect("Media2 asks for every transport")
                    .body
            ),
            norm(&ex)
        );
    }

    /// RTSPS is asked of Media2 only; `SecureRTSPStreaming` read as the schema types it.
    #[test]
    fn test_rtsps_stream_uri_and_capability() {
        let r = get_stream_uri(true, "P", StreamTransport::Rtsps).expect("Media2");
        assert!(
            r.body.contains("<tr2:Protocol>RtspsUnicast</tr2:Protocol>"),
            "{}",
            r.body
        );
        assert_eq!(get_stream_uri(false, "P", StreamTransport::Rtsps), None);
        let answer = |streaming: &str| {
            format!(
                "<tr2:GetServiceCapabilitiesResponse xmlns:tr2=\"{NS_TR2}\"><tr2:Capabilities \
                 SnapshotUri=\"true\"><tr2:ProfileCapabilities MaximumNumberOfProfiles=\"4\"/>\
                 {streaming}</tr2:Capabilities></tr2:GetServiceCapabilitiesResponse>"
            )
        };
        let parsed = |streaming: &str| {
            parse_secure_rtsp_streaming(&xml::parse(answer(streaming).as_bytes()).unwrap())
        };
        assert_eq!(
            parsed(
                "<tr2:StreamingCapabilities RTSPStreaming=\"true\" SecureRTSPStreaming=\"true\"/>"
            ),
            Ok(Some(true))
        );
        assert_eq!(
            parsed("<tr2:StreamingCapabilities SecureRTSPStreaming=\" 0 \"/>"),
            Ok(Some(false))
        );
        assert_eq!(
            parsed("<tr2:StreamingCapabilities RTSPStreaming=\"true\"/>"),
            Ok(None)
        );
        assert_eq!(parsed(""), Ok(None));
        assert!(
            parsed("<tr2:StreamingCapabilities SecureRTSPStreaming=\"yes\"/>")
                .unwrap_err()
                .contains("\"yes\"")
        );
    }

    #[test]
    fn test_profile_token_escaped() {
        let r = get_snapshot_uri(false, "a<b&\"c");
        assert!(r.body.contains("a&lt;b&amp;&quot;c"), "{}", r.body);
        let el = xml::parse(r.body.as_bytes()).unwrap();
        assert_eq!(el.child(NS_TRT, "ProfileToken").unwrap().text, "a<b&\"c");
    }

    /// The suite: configured, else GCM when listed, else the default; `NONE` and lists of
    /// nothing we have are refused, naming what the device offers.
    #[test]
    fn test_srtp_suite_choice() {
        let list = |l: &str| l.split(' ').map(String::from).collect::<Vec<_>>();
        let pick = |c: Option<&str>, l: Option<&str>| {
            let l = l.map(list);
            srtp_suite(c, l.as_deref()).map(|(s, _)| s)
        };
        assert_eq!(pick(None, None), Ok(Suite::AesCm128HmacSha1_80));
        assert_eq!(pick(None, Some("")), Ok(Suite::AesCm128HmacSha1_80));
        assert_eq!(
            pick(None, Some("AES_CM_128_HMAC_SHA1_80 AEAD_AES_256_GCM")),
            Ok(Suite::AeadAes256Gcm)
        );
        assert_eq!(
            pick(None, Some("AEAD_AES_256_GCM AEAD_AES_128_GCM")),
            Ok(Suite::AeadAes128Gcm)
        );
        assert_eq!(
            pick(Some("AES_CM_128_HMAC_SHA1_80"), Some("AEAD_AES_128_GCM")),
            Ok(Suite::AesCm128HmacSha1_80)
        );
        assert_eq!(
            pick(Some("SOMETHING_NEW"), Some("NONE AEAD_AES_128_GCM")),
            Ok(Suite::AeadAes128Gcm)
        );
        let e = pick(Some("NONE"), None).unwrap_err();
        assert!(e.contains("NONE"), "{e}");
        let e = pick(None, Some("NONE AES_256_CM")).unwrap_err();
        assert!(e.contains("\"NONE AES_256_CM\""), "{e}");
    }

    /// The algorithms of every option, in order, once; a configuration's own.
    #[test]
    fn test_srtp_algorithms_are_read() {
        let el = xml::parse(
            "<tr2:GetVideoEncoderConfigurationOptionsResponse \
             xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\">\
             <tr2:Options SecureStreamingProtocolAlgorithms=\"AES_CM_128_HMAC_SHA1_80  AEAD_AES_128_GCM\"/>\
             <tr2:Options/>\
             <tr2:Options SecureStreamingProtocolAlgorithms=\"AEAD_AES_128_GCM AEAD_AES_256_GCM\"/>\
             </tr2:GetVideoEncoderConfigurationOptionsResponse>"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            parse_srtp_algorithms(&el).unwrap(),
            Some(vec![
                "AES_CM_128_HMAC_SHA1_80".to_string(),
                "AEAD_AES_128_GCM".into(),
                "AEAD_AES_256_GCM".into()
            ])
        );
        let el = xml::parse(
            "<tr2:GetVideoEncoderConfigurationOptionsResponse \
             xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\"><tr2:Options/>\
             </tr2:GetVideoEncoderConfigurationOptionsResponse>"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(parse_srtp_algorithms(&el).unwrap(), None);
    }
}
