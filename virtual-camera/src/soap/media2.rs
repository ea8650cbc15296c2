// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Media2 service (`tr2`, ver20), listed only with `media2`: the same profiles and URIs as
//! [`super::media`], in Media2's shapes.

use super::media::{snapshot_uri, stream_uri};
use super::{Call, Op, media_profile, ok};
use crate::http::Response;
use crate::profiles::{AUDIO_RATE_KHZ, PROFILES, Profile};

pub(super) const PATH: &str = "/onvif/media2_service";
pub(super) const NS: &str = "http://www.onvif.org/ver20/media/wsdl";

pub(super) const OPS: &[Op] = &[
    Op::now(PATH, NS, "GetProfiles", get_profiles),
    Op::now(PATH, NS, "GetStreamUri", get_stream_uri),
    Op::now(PATH, NS, "GetSnapshotUri", get_snapshot_uri),
    Op::now(PATH, NS, "GetServiceCapabilities", get_service_capabilities),
    Op::now(
        PATH,
        NS,
        "GetVideoEncoderConfigurationOptions",
        get_video_encoder_options,
    ),
];

/// The profile's H.264 encoder options, with the SRTP algorithms the camera lists.
fn get_video_encoder_options(c: &Call<'_>) -> Response {
    let p = match media_profile(c) {
        Ok(p) => p,
        Err(fault) => return fault,
    };
    let algorithms = c
        .shared
        .config
        .device
        .srtp_algorithms
        .map(|a| format!(" SecureStreamingProtocolAlgorithms=\"{a}\""))
        .unwrap_or_default();
    ok(&format!(
        "<tr2:GetVideoEncoderConfigurationOptionsResponse>\
         <tr2:Options GovLengthRange=\"1 250\" FrameRatesSupported=\"25\" \
         ProfilesSupported=\"Baseline\" ConstantBitRateSupported=\"true\"{algorithms}>\
         <tt:Encoding>H264</tt:Encoding>\
         <tt:QualityRange><tt:Min>1</tt:Min><tt:Max>10</tt:Max></tt:QualityRange>\
         <tt:ResolutionsAvailable><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:ResolutionsAvailable>\
         <tt:BitrateRange><tt:Min>64</tt:Min><tt:Max>8192</tt:Max></tt:BitrateRange>\
         </tr2:Options></tr2:GetVideoEncoderConfigurationOptionsResponse>",
        w = p.width,
        h = p.height
    ))
}

/// `SecureRTSPStreaming` as the camera has RTSPS.
fn get_service_capabilities(c: &Call<'_>) -> Response {
    ok(&format!(
        "<tr2:GetServiceCapabilitiesResponse><tr2:Capabilities SnapshotUri=\"true\" Rotation=\"false\">\
         <tr2:ProfileCapabilities MaximumNumberOfProfiles=\"{n}\" ConfigurationsSupported=\"VideoSource VideoEncoder AudioSource AudioEncoder Metadata\"/>\
         <tr2:StreamingCapabilities RTSPStreaming=\"true\" RTPMulticast=\"false\" RTP_RTSP_TCP=\"true\" \
         NonAggregateControl=\"false\" SecureRTSPStreaming=\"{secure}\"/>\
         </tr2:Capabilities></tr2:GetServiceCapabilitiesResponse>",
        n = PROFILES.len(),
        secure = c.shared.rtsps_port.is_some()
    ))
}

fn get_profiles(c: &Call<'_>) -> Response {
    let rate = AUDIO_RATE_KHZ;
    let device = &c.shared.config.device;
    let srtp = device
        .srtp_suite
        .filter(|_| device.srtp)
        .map(|s| format!(" SecureStreamingProtocolAlgorithm=\"{s}\""))
        .unwrap_or_default();
    let mut s = String::from("<tr2:GetProfilesResponse>");
    for Profile {
        token: t,
        name,
        width: w,
        height: h,
    } in PROFILES
    {
        s.push_str(&format!(
            "<tr2:Profiles token=\"{t}\" fixed=\"true\"><tr2:Name>{name}</tr2:Name><tr2:Configurations>\
             <tr2:VideoSource token=\"VS_1\"><tt:Name>VS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/></tr2:VideoSource>\
             <tr2:AudioSource token=\"AS_1\"><tt:Name>AS_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>AudioSource_1</tt:SourceToken></tr2:AudioSource>\
             <tr2:VideoEncoder token=\"VE_{t}\"{srtp}><tt:Name>VE</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality></tr2:VideoEncoder>\
             <tr2:AudioEncoder token=\"AE_1\"><tt:Name>AE</tt:Name><tt:UseCount>2</tt:UseCount><tt:Encoding>MPEG4-GENERIC</tt:Encoding><tt:Bitrate>32</tt:Bitrate><tt:SampleRate>{rate}</tt:SampleRate></tr2:AudioEncoder>\
             <tr2:Metadata token=\"MD_1\"><tt:Name>MD</tt:Name><tt:UseCount>2</tt:UseCount></tr2:Metadata>\
             </tr2:Configurations></tr2:Profiles>"
        ));
    }
    s.push_str("</tr2:GetProfilesResponse>");
    ok(&s)
}

fn get_stream_uri(c: &Call<'_>) -> Response {
    match media_profile(c) {
        Ok(p) => ok(&format!(
            "<tr2:GetStreamUriResponse><tr2:Uri>{}</tr2:Uri></tr2:GetStreamUriResponse>",
            stream_uri(c, p.token)
        )),
        Err(fault) => fault,
    }
}

fn get_snapshot_uri(c: &Call<'_>) -> Response {
    match media_profile(c) {
        Ok(p) => ok(&format!(
            "<tr2:GetSnapshotUriResponse><tr2:Uri>{}</tr2:Uri></tr2:GetSnapshotUriResponse>",
            snapshot_uri(c, p.token)
        )),
        Err(fault) => fault,
    }
}
