// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Media service (`trt`, ver10): the profiles of [`crate::profiles`], their stream and
//! snapshot URIs.

use super::{Call, Op, media_profile, ok};
use crate::http::Response;
use crate::profiles::{PROFILES, Profile};

pub(super) const PATH: &str = "/onvif/media_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/media/wsdl";

pub(super) const OPS: &[Op] = &[
    Op::now(PATH, NS, "GetProfiles", get_profiles),
    Op::now(PATH, NS, "GetStreamUri", get_stream_uri),
    Op::now(PATH, NS, "GetSnapshotUri", get_snapshot_uri),
];

fn get_profiles(_: &Call<'_>) -> Response {
    let mut s = String::from("<trt:GetProfilesResponse>");
    for Profile {
        token: t,
        name,
        width: w,
        height: h,
    } in PROFILES
    {
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
    s.push_str("</trt:GetProfilesResponse>");
    ok(&s)
}

/// The stream URI of the request's profile and `Protocol` (both Media versions).
///
/// HTTP transport: the web service's port (ONVIF Media §5.15.1), here as an http:// URI on
/// the HTTP port like many cameras; the client maps it onto HTTPS. RTSP and UDP: the RTSP
/// server's port.
pub(super) fn stream_uri(c: &Call<'_>, token: &str) -> String {
    let proto = c.p.text("Protocol").unwrap_or("");
    let path = c.shared.stream_path(token);
    let uri = if proto == "RtspsUnicast"
        && let Some(real) = c.shared.rtsps_port
    {
        // The RTSPS server is gst-rtsp-server itself: its mount, whatever the persona.
        let mount = crate::profiles::by_token(token).map_or(path, |(_, p)| p.mount());
        match *c.shared.rtsps_uri_port.lock().unwrap() {
            crate::RtspsUriPort::Real => format!("rtsps://127.0.0.1:{real}{mount}"),
            crate::RtspsUriPort::Port(port) => format!("rtsps://127.0.0.1:{port}{mount}"),
            crate::RtspsUriPort::Omitted => format!("rtsps://127.0.0.1{mount}"),
        }
    } else if matches!(proto, "HTTP" | "RtspOverHttp") {
        format!("http://127.0.0.1:{}{path}", c.shared.http_port)
    } else {
        format!("rtsp://127.0.0.1:{}{path}", c.shared.rtsp_public_port())
    };
    // XML text: a persona's query carries `&`.
    uri.replace('&', "&amp;")
}

/// The snapshot URI of `token`: deliberately http:// on the HTTP port, as many devices do
/// (the client rewrites it).
pub(super) fn snapshot_uri(c: &Call<'_>, token: &str) -> String {
    format!(
        "http://127.0.0.1:{}/onvif/snapshot?profile={token}",
        c.shared.http_port
    )
}

fn get_stream_uri(c: &Call<'_>) -> Response {
    match media_profile(c) {
        Ok(p) => ok(&media_uri("GetStreamUriResponse", &stream_uri(c, p.token))),
        Err(fault) => fault,
    }
}

fn get_snapshot_uri(c: &Call<'_>) -> Response {
    match media_profile(c) {
        Ok(p) => ok(&media_uri(
            "GetSnapshotUriResponse",
            &snapshot_uri(c, p.token),
        )),
        Err(fault) => fault,
    }
}

fn media_uri(element: &str, uri: &str) -> String {
    format!(
        "<trt:{element}><trt:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>\
         <tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{element}>"
    )
}
