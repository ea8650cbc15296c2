// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Replay of the recording (ONVIF Streaming §6): an ONVIF media factory with replay
//! support, so gst-rtsp-server accepts `Require: onvif-replay`, turns `Range: clock=` into
//! a seek and honours `Scale` and `Rate-Control`. The media is generated, not stored:
//! non-live test sources (and a metadata source, `metadata::MetadataSrc`) whose timestamps, after the seek, are the recorded times in
//! nanoseconds since 1900 (what gst-rtsp-server seeks to for a clock range), and each
//! payloader is followed by `rtponviftimestamp`, which writes that time into the 0xABAC
//! header extension. Pad probes cut the archive's gap out (the first packet after it
//! carries DISCONT, hence the extension's D bit) and end the stream where the recording
//! ends.

use std::sync::Arc;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtsp_server::prelude::*;
use gst_rtsp_server::subclass::prelude::*;

use crate::recording::Archive;

/// Timestamps below this (year 1931) are the preroll before the first seek: they pass, or
/// the media would never be prepared.
const PREROLL_LIMIT_NS: u64 = 1_000_000_000_000_000_000;

pub use crate::ntp::ntp_ns;

/// Where a timestamp (ns since 1900) falls in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Before any seek: let it through.
    Preroll,
    /// In the span with this index.
    Data { span: usize },
    /// Before the first span or in a gap: nothing recorded.
    Nothing,
    /// After the end of the recording.
    End,
}

/// The archive's spans in ns since 1900.
#[derive(Debug, Clone)]
pub struct Timeline {
    spans: Vec<(u64, u64)>,
    /// The recording has a metadata track.
    metadata: bool,
}

impl Timeline {
    pub fn new(archive: &Archive) -> Timeline {
        Timeline {
            spans: archive
                .spans
                .iter()
                .map(|(a, b)| (ntp_ns(*a), ntp_ns(*b)))
                .collect(),
            metadata: archive.metadata,
        }
    }

    pub fn place(&self, ns: u64) -> Place {
        if ns < PREROLL_LIMIT_NS {
            return Place::Preroll;
        }
        if let Some(span) = self.spans.iter().position(|(a, b)| (*a..*b).contains(&ns)) {
            return Place::Data { span };
        }
        match self.spans.last() {
            Some((_, end)) if ns >= *end => Place::End,
            _ => Place::Nothing,
        }
    }
}

/// The recorded time of a buffer (or of the first of a list, as the metadata payloader
/// pushes): its stream time, which the seek of a clock range puts in nanoseconds since 1900.
fn stream_time(pad: &gst::Pad, info: &gst::PadProbeInfo) -> Option<u64> {
    let pts = match info.buffer() {
        Some(b) => b.pts()?,
        None => info.buffer_list()?.get(0)?.pts()?,
    };
    let ev = pad.sticky_event::<gst::event::Segment>(0)?;
    let seg = ev.segment().downcast_ref::<gst::ClockTime>()?;
    let t = seg.to_stream_time(pts)?.nseconds();
    Some(t)
}

/// Raw buffers outside the recording are dropped; at its end the source is told EOS.
fn gate_raw(pad: &gst::Pad, timeline: Arc<Timeline>) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(t) = stream_time(pad, info) else {
            return gst::PadProbeReturn::Ok;
        };
        match timeline.place(t) {
            Place::Preroll | Place::Data { .. } => gst::PadProbeReturn::Ok,
            Place::Nothing => gst::PadProbeReturn::Drop,
            Place::End => {
                info.flow_res = Err(gst::FlowError::Eos);
                gst::PadProbeReturn::Handled
            }
        }
    });
}

/// Before the first RTP packet of a span other than the one before it, tells
/// `rtponviftimestamp` that the stream is discontinued (its custom `GstOnvifTimestamp`
/// event): it then sets E on the packet before the gap and D on the one after. A flushing
/// seek starts over (the element sets D itself after a flush).
fn mark_discont(pad: &gst::Pad, timeline: Arc<Timeline>) {
    let last = std::sync::Mutex::new(None::<usize>);
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST | gst::PadProbeType::EVENT_FLUSH,
        move |pad, info| {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(gst::PadProbeData::Event(e)) = &info.data {
                if e.type_() == gst::EventType::FlushStop {
                    *last = None;
                }
                return gst::PadProbeReturn::Ok;
            }
            let Some(t) = stream_time(pad, info) else {
                return gst::PadProbeReturn::Ok;
            };
            if let Place::Data { span } = timeline.place(t) {
                if last.is_some_and(|l| l != span) {
                    let s = gst::Structure::builder("GstOnvifTimestamp")
                        .field("ntp-offset", 0u64)
                        .field("discont", true)
                        .build();
                    pad.push_event(gst::event::CustomDownstream::new(s));
                }
                *last = Some(span);
            }
            gst::PadProbeReturn::Ok
        },
    );
}

fn make(factory: &str, props: &[(&str, &dyn ToValue)]) -> Result<gst::Element, glib::BoolError> {
    let mut b = gst::ElementFactory::make(factory);
    for (k, v) in props {
        b = b.property(k, v.to_value());
    }
    b.build()
}

fn capsfilter(caps: &str) -> Result<gst::Element, glib::BoolError> {
    let caps: gst::Caps = caps
        .parse()
        .map_err(|_| glib::bool_error!("bad caps {caps}"))?;
    make("capsfilter", &[("caps", &caps)])
}

/// `payN`: payloader and `rtponviftimestamp` in a bin with a `src` ghost pad, as
/// gst-rtsp-server expects of a payloader.
fn pay_bin(
    n: u32,
    payloader: gst::Element,
    timeline: &Arc<Timeline>,
) -> Result<gst::Bin, glib::BoolError> {
    let bin = gst::Bin::builder().name(format!("pay{n}")).build();
    let stamp = make(
        "rtponviftimestamp",
        &[
            ("ntp-offset", &0u64),
            ("set-e-bit", &true),
            ("set-t-bit", &true),
            ("drop-out-of-segment", &false),
        ],
    )?;
    bin.add_many([&payloader, &stamp])?;
    payloader.link(&stamp)?;
    let sink = payloader
        .static_pad("sink")
        .ok_or_else(|| glib::bool_error!("no sink"))?;
    let src = stamp
        .static_pad("src")
        .ok_or_else(|| glib::bool_error!("no src"))?;
    let rtp = payloader
        .static_pad("src")
        .ok_or_else(|| glib::bool_error!("no src"))?;
    mark_discont(&rtp, timeline.clone());
    bin.add_pad(
        &gst::GhostPad::builder_with_target(&sink)?
            .name("sink")
            .build(),
    )?;
    bin.add_pad(
        &gst::GhostPad::builder_with_target(&src)?
            .name("src")
            .build(),
    )?;
    Ok(bin)
}

/// The replay pipeline: H.264 video, AAC audio and ONVIF metadata of the recorded times.
fn build(timeline: Arc<Timeline>) -> Result<gst::Element, glib::BoolError> {
    let top = gst::Bin::new();
    let vsrc = make("videotestsrc", &[("is-live", &false)])?;
    vsrc.set_property_from_str("pattern", "ball");
    let vcaps = capsfilter("video/x-raw,width=320,height=240,framerate=25/1")?;
    let venc = make("x264enc", &[("key-int-max", &25u32), ("bitrate", &500u32)])?;
    venc.set_property_from_str("tune", "zerolatency");
    venc.set_property_from_str("speed-preset", "ultrafast");
    let vpay = make("rtph264pay", &[("pt", &96u32), ("config-interval", &-1i32)])?;
    let vbin = pay_bin(0, vpay, &timeline)?;

    let asrc = make(
        "audiotestsrc",
        &[("is-live", &false), ("freq", &440f64), ("volume", &0.2f64)],
    )?;
    let acaps = capsfilter("audio/x-raw,rate=16000,channels=1")?;
    let aconv = make("audioconvert", &[])?;
    let aenc = make("avenc_aac", &[])?;
    let apay = make("rtpmp4gpay", &[("pt", &97u32)])?;
    let abin = pay_bin(1, apay, &timeline)?;

    top.add_many([&vsrc, &vcaps, &venc])?;
    top.add(&vbin)?;
    top.add_many([&asrc, &acaps, &aconv, &aenc])?;
    top.add(&abin)?;
    gst::Element::link_many([&vsrc, &vcaps, &venc, vbin.upcast_ref()])?;
    gst::Element::link_many([&asrc, &acaps, &aconv, &aenc, abin.upcast_ref()])?;
    let mut sources = vec![vsrc, asrc];
    if timeline.metadata {
        crate::metadata::register();
        let msrc = crate::metadata::MetadataSrc::recorded().upcast::<gst::Element>();
        let mpay = make("onvifmetadatapay", &[("pt", &107u32)])?;
        let mbin = pay_bin(2, mpay, &timeline)?;
        top.add(&msrc)?;
        top.add(&mbin)?;
        msrc.link(&mbin)?;
        sources.push(msrc);
    }
    for src in &sources {
        let pad = src
            .static_pad("src")
            .ok_or_else(|| glib::bool_error!("no src"))?;
        gate_raw(&pad, timeline.clone());
    }
    Ok(top.upcast())
}

mod imp {
    use super::*;
    use std::sync::OnceLock;

    #[derive(Default)]
    pub struct ReplayFactory {
        pub timeline: OnceLock<Arc<Timeline>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ReplayFactory {
        const NAME: &'static str = "OnvifVirtualCameraReplayFactory";
        type Type = super::ReplayFactory;
        type ParentType = gst_rtsp_server::RTSPOnvifMediaFactory;
    }

    impl ObjectImpl for ReplayFactory {}

    impl RTSPMediaFactoryImpl for ReplayFactory {
        fn create_element(&self, _url: &gst_rtsp::RTSPUrl) -> Option<gst::Element> {
            let timeline = self.timeline.get()?.clone();
            match build(timeline) {
                Ok(e) => Some(e),
                Err(e) => {
                    eprintln!("onvif-virtual-camera: replay pipeline: {e}");
                    None
                }
            }
        }
    }

    impl RTSPOnvifMediaFactoryImpl for ReplayFactory {}
}

glib::wrapper! {
    /// The factory of `/onvif-replay/<recording>`.
    pub struct ReplayFactory(ObjectSubclass<imp::ReplayFactory>)
        @extends gst_rtsp_server::RTSPOnvifMediaFactory, gst_rtsp_server::RTSPMediaFactory;
}

impl ReplayFactory {
    pub fn new(archive: &Archive) -> ReplayFactory {
        let f: ReplayFactory = glib::Object::new();
        let _ = f.imp().timeline.set(Arc::new(Timeline::new(archive)));
        f.set_replay_support(true);
        // The ONVIF factory constructs nothing unless its media are ONVIF media.
        f.set_media_gtype(gst_rtsp_server::RTSPOnvifMedia::static_type());
        // Every client seeks on its own.
        f.set_shared(false);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_timeline_places() {
        let a = Archive::before(1_000_000);
        let t = Timeline::new(&a);
        let s = |unix: i64| ntp_ns(unix);
        assert_eq!(t.place(0), Place::Preroll);
        assert_eq!(t.place(s(1_000_000 - 181)), Place::Nothing);
        assert_eq!(t.place(s(1_000_000 - 180)), Place::Data { span: 0 });
        assert_eq!(t.place(s(1_000_000 - 90)), Place::Nothing);
        assert_eq!(t.place(s(1_000_000 - 80)), Place::Data { span: 1 });
        assert_eq!(t.place(s(1_000_000)), Place::End);
        // 2025-03-14T09:41:00Z in NTP seconds.
        assert_eq!(ntp_ns(1_741_945_260) / 1_000_000_000, 3_950_934_060);
    }
}
