// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! HTTP and RTSP Digest as the camera checks it: the challenge (with a persona's realm and
//! options) and the check of an `Authorization: Digest` value.

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::Shared;
use crate::http::{Request, Response};

/// The camera's own realm (a persona may have its vendor's).
pub(crate) const REALM: &str = "onvif-virtual-camera";

fn hex_hash(sha256: bool, s: &str) -> String {
    let bytes: Vec<u8> = if sha256 {
        Sha256::digest(s.as_bytes()).to_vec()
    } else {
        Md5::digest(s.as_bytes()).to_vec()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn challenge(shared: &Shared) -> Response {
    let mut r = Response::new(
        401,
        "Unauthorized",
        "text/plain",
        b"401 Unauthorized".to_vec(),
    );
    let realm = shared.realm();
    let extra = shared
        .config
        .quirks
        .persona
        .map_or(", opaque=\"cam\"", |p| p.http_challenge_extra());
    let qop = if shared.config.quirks.digest_without_qop {
        ""
    } else {
        "qop=\"auth\", "
    };
    for alg in ["SHA-256", "MD5"] {
        r.headers.push((
            "WWW-Authenticate".into(),
            format!(
                "Digest realm=\"{realm}\", {qop}nonce=\"{}\"{extra}, algorithm={alg}",
                shared.nonce
            ),
        ));
    }
    r
}

/// Splits Digest parameters (quoted values may hold commas and escaped quotes).
fn digest_params(v: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = v.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut val = String::new();
            let mut esc = false;
            let mut end = q.len();
            for (i, c) in q.char_indices() {
                if esc {
                    val.push(c);
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    end = i + 1;
                    break;
                } else {
                    val.push(c);
                }
            }
            value = val;
            rest = &q[end.min(q.len())..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.push((key, value));
        rest = rest.trim_start().trim_start_matches(',');
    }
    out
}

pub(crate) fn check_digest(shared: &Shared, req: &Request) -> bool {
    req.header("authorization")
        .is_some_and(|h| digest_matches(shared, &shared.realm(), &req.method, h, Some(&req.target)))
}

/// Whether an `Authorization: Digest` value answers the camera's challenge in `realm` for
/// `method` (the `uri` parameter must be `uri` when given; RTSP servers take it as sent).
pub(crate) fn digest_matches(
    shared: &Shared,
    realm: &str,
    method: &str,
    header: &str,
    uri: Option<&str>,
) -> bool {
    let Some(rest) = header.trim().strip_prefix("Digest ") else {
        return false;
    };
    let p = digest_params(rest);
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let sha256 = match get("algorithm") {
        None | Some("MD5") => false,
        Some("SHA-256") => true,
        _ => return false,
    };
    let c = &shared.config;
    let Some(digest_uri) = get("uri") else {
        return false;
    };
    if get("username") != Some(c.device.user.as_str())
        || get("nonce") != Some(shared.nonce.as_str())
        || uri.is_some_and(|u| u != digest_uri)
        || get("realm") != Some(realm)
    {
        return false;
    }
    let ha1 = hex_hash(
        sha256,
        &format!("{}:{realm}:{}", c.device.user, c.device.password),
    );
    let ha2 = hex_hash(sha256, &format!("{method}:{digest_uri}"));
    let expected = match (get("qop"), get("nc"), get("cnonce")) {
        (Some("auth"), Some(nc), Some(cn)) => hex_hash(
            sha256,
            &format!("{ha1}:{}:{nc}:{cn}:auth:{ha2}", shared.nonce),
        ),
        _ => hex_hash(sha256, &format!("{ha1}:{}:{ha2}", shared.nonce)),
    };
    get("response") == Some(expected.as_str())
}
