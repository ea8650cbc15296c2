// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Transport header of a SETUP (RFC 2326 §12.39): what we ask for, and what the
//! server's answer grants, read with rtsp-types' typed header. A value rtsp-types refuses
//! (a camera's quirk: an `ssrc` that is not hex, a `ttl` out of range, a parameter without
//! its value) is read for the three parameters we use alone, and [`Reply::typed`] says so.

use rtsp_types::headers::{Transport, Transports};

/// What a SETUP asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// RTP and RTCP interleaved on the RTSP connection, on these channels.
    Interleaved(u8, u8),
    /// RTP and RTCP over UDP to these ports of ours.
    Udp(u16, u16),
    /// SRTP and SRTCP over UDP to these ports of ours (`RTP/SAVP`, RFC 3711).
    SrtpUdp(u16, u16),
}

impl Asked {
    /// The header value.
    pub fn value(self) -> String {
        match self {
            Asked::Interleaved(a, b) => format!("RTP/AVP/TCP;unicast;interleaved={a}-{b}"),
            Asked::Udp(a, b) => format!("RTP/AVP;unicast;client_port={a}-{b}"),
            Asked::SrtpUdp(a, b) => format!("RTP/SAVP;unicast;client_port={a}-{b}"),
        }
    }
}

/// What a SETUP answer's Transport grants, of what we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// The interleaved channels (RTP, RTCP).
    pub interleaved: Option<(u8, u8)>,
    /// The server's UDP ports (RTP, RTCP).
    pub server_port: Option<(u16, u16)>,
    /// The address the media comes from (`source=`), when it is an IP address.
    pub source: Option<std::net::IpAddr>,
    /// The profile is `RTP/SAVP` (SRTP): a device granting `RTP/AVP` to a SAVP request
    /// would send in clear.
    pub secure: bool,
    /// The lower transport is TCP (`RTP/AVP/TCP`, `RTP/SAVP/TCP`): interleaved on the
    /// connection, channels given or not.
    pub tcp: bool,
    /// Read by rtsp-types' typed header (false: by the parameters we use alone).
    pub typed: bool,
}

/// A pair `a-b`, or `a` alone meaning `a` and `a + 1`.
fn pair<T>(first: T, second: Option<T>, next: impl Fn(T) -> Option<T>) -> Option<(T, T)>
where
    T: Copy,
{
    Some((first, second.or_else(|| next(first))?))
}

impl Reply {
    /// Reads a SETUP answer's Transport value (the first RTP transport in it).
    pub fn parse(value: &str) -> Reply {
        let response =
            rtsp_types::Response::builder(rtsp_types::Version::V1_0, rtsp_types::StatusCode::Ok)
                .header(rtsp_types::headers::TRANSPORT, value)
                .empty();
        if let Ok(Some(transports)) = response.typed_header::<Transports>()
            && let Some(Transport::Rtp(rtp)) = transports.iter().next()
        {
            let p = &rtp.params;
            return Reply {
                interleaved: p
                    .interleaved
                    .and_then(|(a, b)| pair(a, b, |a| a.checked_add(1))),
                server_port: p
                    .server_port
                    .and_then(|(a, b)| pair(a, b, |a| a.checked_add(1))),
                source: p.source.as_deref().and_then(|s| s.trim().parse().ok()),
                secure: matches!(
                    rtp.profile,
                    rtsp_types::headers::transport::RtpProfile::SAvp
                        | rtsp_types::headers::transport::RtpProfile::SAvpF
                ),
                tcp: rtp.lower_transport
                    == Some(rtsp_types::headers::transport::RtpLowerTransport::Tcp),
                typed: true,
            };
        }
        Reply::lenient(value)
    }

    /// The parameters we use, each on its own: one a camera got wrong does not cost the
    /// others.
    fn lenient(value: &str) -> Reply {
        // The first transport of a list.
        let first = value.split(',').next().unwrap_or("");
        let param = |name: &str| {
            first
                .split(';')
                .find_map(|p| p.trim().strip_prefix(name)?.trim_start().strip_prefix('='))
                .map(str::trim)
        };
        let range = |v: &str| -> Option<(u64, Option<u64>)> {
            match v.split_once('-') {
                Some((a, b)) => Some((a.trim().parse().ok()?, Some(b.trim().parse().ok()?))),
                None => Some((v.parse().ok()?, None)),
            }
        };
        let interleaved = param("interleaved").and_then(range).and_then(|(a, b)| {
            let a = u8::try_from(a).ok()?;
            let b = b.map(u8::try_from).transpose().ok()?;
            pair(a, b, |a| a.checked_add(1))
        });
        let server_port = param("server_port").and_then(range).and_then(|(a, b)| {
            let a = u16::try_from(a).ok()?;
            let b = b.map(u16::try_from).transpose().ok()?;
            pair(a, b, |a| a.checked_add(1))
        });
        let profile = first.split(';').next().unwrap_or("").trim();
        Reply {
            interleaved,
            server_port,
            source: param("source").and_then(|s| s.trim_matches('"').parse().ok()),
            secure: profile
                .get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("RTP/SAVP")),
            tcp: profile
                .rsplit('/')
                .next()
                .is_some_and(|l| l.eq_ignore_ascii_case("TCP")),
            typed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_what_we_ask_for() {
        assert_eq!(
            Asked::Interleaved(2, 3).value(),
            "RTP/AVP/TCP;unicast;interleaved=2-3"
        );
        assert_eq!(
            Asked::Udp(50000, 50001).value(),
            "RTP/AVP;unicast;client_port=50000-50001"
        );
        assert_eq!(
            Asked::SrtpUdp(50000, 50001).value(),
            "RTP/SAVP;unicast;client_port=50000-50001"
        );
    }

    /// Whether the device grants SRTP, typed and lenient alike (gst-rtsp-server's answer).
    #[test]
    fn test_secure_profile() {
        let granted = "RTP/SAVP;unicast;client_port=50000-50001;server_port=6970-6971;\
                       ssrc=1A2B3C4D;mode=\"PLAY\"";
        assert!(Reply::parse(granted).secure);
        assert!(Reply::parse(&format!("{granted};ttl")).secure);
        assert!(!Reply::parse(&format!("{granted};ttl")).typed);
        assert!(!Reply::parse("RTP/AVP;unicast;server_port=6970-6971").secure);
        assert!(!Reply::parse("RTP/AVP;unicast;server_port=6970-6971;ttl").secure);
        assert!(!Reply::parse("RTP/SA").secure);
        // TCP, with or without channels, typed or not.
        assert!(Reply::parse("RTP/SAVP/TCP;unicast").tcp);
        assert!(Reply::parse("RTP/SAVP/TCP;unicast;ttl").tcp);
        assert!(!Reply::parse(granted).tcp);
        assert!(!Reply::parse("RTP/SAVP/UDP;unicast;ttl").tcp);
    }

    /// Answers as gst-rtsp-server, live555 and cameras write them.
    #[test]
    fn test_replies() {
        let r = Reply::parse("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=BE5F2806;mode=\"PLAY\"");
        assert_eq!(
            (r.interleaved, r.server_port, r.typed),
            (Some((0, 1)), None, true)
        );
        // A single channel means that one and the next.
        assert_eq!(
            Reply::parse("RTP/AVP/TCP;interleaved=4").interleaved,
            Some((4, 5))
        );
        let r = Reply::parse(
            "RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971;source=192.0.2.7;\
             ssrc=1A2B3C4D",
        );
        assert_eq!(r.server_port, Some((6970, 6971)));
        assert_eq!(r.source, Some("192.0.2.7".parse().expect("address")));
        assert_eq!(r.interleaved, None);
        assert!(r.typed);
        // A source that is a name is not an address.
        assert_eq!(
            Reply::parse("RTP/AVP;unicast;source=cam.local").source,
            None
        );
    }

    /// What rtsp-types refuses is read for what we use: an ssrc that is not hex (seen as
    /// a decimal number), a parameter without a value, a transport list.
    #[test]
    fn test_quirky_replies_are_read_leniently() {
        let r = Reply::parse("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=3735928559x");
        assert_eq!((r.interleaved, r.typed), (Some((0, 1)), false));
        let r = Reply::parse("RTP/AVP;unicast;server_port=6970-6971;ttl;source=10.0.0.2");
        assert_eq!(r.server_port, Some((6970, 6971)));
        assert_eq!(r.source, Some("10.0.0.2".parse().expect("address")));
        assert!(!r.typed);
        // Out of range: nothing, never a wrap or a panic.
        let r = Reply::parse("RTP/AVP/TCP;interleaved=255;ssrc=zz");
        assert_eq!(r.interleaved, None);
        let r = Reply::parse("RTP/AVP/TCP;interleaved=300-301;ssrc=zz");
        assert_eq!(r.interleaved, None);
        assert_eq!(Reply::parse("").interleaved, None);
    }
}
