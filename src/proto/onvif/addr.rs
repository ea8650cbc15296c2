// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Rewriting the addresses a device hands out (spec §4.1 point 4).
//!
//! Devices answer over HTTPS with `http://...:80` XAddrs, LAN addresses behind NAT,
//! `127.0.0.1`, doubled ports (`http://ip:8106:8106/...`, onvif-zeep-async
//! `normalize_url`), `urn:` addresses, and `rtsp://host:80/...` for HTTP-transport stream
//! URIs (`docs/field-notes.md` §3.3). Every one of them is mapped onto the origin the
//! element actually uses, keeping only the path and query.

/// The scheme, host and port every exchange goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Host as it appears in a URL (IPv6 in brackets).
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// `scheme://host:port`.
    pub fn base(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }

    /// `host:port`, as logs and errors name a peer.
    pub fn peer(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        self.peer()
    }
}

/// The path and query of an advertised address, or `None` when it has none that can be
/// used (`urn:` addresses, garbage).
pub fn path_and_query(advertised: &str) -> Option<String> {
    let s = advertised.trim();
    // WS-Discovery may give several space-separated URIs; take the first.
    let s = s.split_whitespace().next()?;
    let (_, rest) = s.split_once("://")?;
    // The authority ends at the first '/', '?' or '#'.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let tail = &rest[end..];
    let tail = tail.split('#').next().unwrap_or("");
    if tail.is_empty() {
        return Some("/".to_string());
    }
    if tail.starts_with('?') {
        return Some(format!("/{tail}"));
    }
    Some(tail.to_string())
}

/// Maps an advertised address onto `origin`, keeping its path and query. Addresses with
/// no usable path fall back to `fallback_path`.
pub fn rewrite(advertised: &str, origin: &Origin, fallback_path: &str) -> String {
    let pq = path_and_query(advertised).unwrap_or_else(|| fallback_path.to_string());
    format!("{}{pq}", origin.base())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            scheme: "https",
            host: "203.0.113.7".into(),
            port: 8443,
        }
    }

    /// Bad addresses collected in `docs/field-notes.md` §3.3 and `onvif-reference.md` §1.3.
    #[test]
    fn test_bad_addresses_from_the_field() {
        let o = origin();
        let cases = [
            // http XAddr on an HTTPS session (Milesight, Apra-Labs ODM PR #8)
            (
                "http://192.168.1.64:80/onvif/Media",
                "https://203.0.113.7:8443/onvif/Media",
            ),
            // doubled port, query kept (Home Assistant #92603)
            (
                "http://192.168.1.106:8106:8106/onvif/Subscription?Idx=43",
                "https://203.0.113.7:8443/onvif/Subscription?Idx=43",
            ),
            // loopback XAddr (Dafang firmware)
            (
                "http://127.0.0.1/onvif/device_service",
                "https://203.0.113.7:8443/onvif/device_service",
            ),
            // urn: address (Home Assistant "Unsupported URL protocol 'urn'")
            (
                "urn:uuid:1419d68a-1dd2-11b2-a105-000000000000",
                "https://203.0.113.7:8443/onvif/device_service",
            ),
            // rtsp:// with the HTTP port for an HTTP-transport stream URI (Hikvision)
            (
                "rtsp://10.0.0.5:80/Streaming/Channels/1?transportmode=unicast&profile=Profile_1",
                "https://203.0.113.7:8443/Streaming/Channels/1?transportmode=unicast&profile=Profile_1",
            ),
            // IPv6 host, no path
            ("http://[fe80::1]:80", "https://203.0.113.7:8443/"),
            // query without path
            ("http://10.0.0.5?x=1", "https://203.0.113.7:8443/?x=1"),
            // two XAddrs in one string (go2rtc issue)
            (
                "http://10.0.0.5/onvif/device_service https://10.0.0.5/onvif/device_service",
                "https://203.0.113.7:8443/onvif/device_service",
            ),
            // fragment dropped
            ("https://x/onvif/a#frag", "https://203.0.113.7:8443/onvif/a"),
            ("", "https://203.0.113.7:8443/onvif/device_service"),
        ];
        for (bad, good) in cases {
            assert_eq!(
                rewrite(bad, &o, "/onvif/device_service"),
                good,
                "from {bad:?}"
            );
        }
    }

    #[test]
    fn test_ipv6_origin() {
        let o = Origin {
            scheme: "https",
            host: "[::1]".into(),
            port: 443,
        };
        assert_eq!(
            rewrite("http://[::1]/snap.jpg", &o, "/"),
            "https://[::1]:443/snap.jpg"
        );
        assert_eq!(o.peer(), "[::1]:443");
    }
}
