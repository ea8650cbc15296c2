// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's ONVIF metadata track (ONVIF Streaming §5.2.1.1): `tt:MetadataStream`
//! documents (a video analytics frame, the PTZ status and a digital input that toggles),
//! and `onvifmetadatapay`, a payloader that splits each document over RTP packets with the
//! marker bit on the last one (`vnd.onvif.metadata/90000`).

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtp::prelude::*;
use gst_rtp::subclass::prelude::*;

/// One metadata document; `n` counts documents, the input toggles every 4th.
pub fn document(n: u64, utc: time::OffsetDateTime) -> String {
    let t = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    );
    let state = if (n / 4).is_multiple_of(2) {
        "false"
    } else {
        "true"
    };
    let pan = ((n % 200) as f64 / 100.0) - 1.0;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tns1="http://www.onvif.org/ver10/topics">
<tt:VideoAnalytics><tt:Frame UtcTime="{t}"/></tt:VideoAnalytics>
<tt:PTZ><tt:PTZStatus><tt:Position><tt:PanTilt x="{pan:.2}" y="0"/><tt:Zoom x="0"/></tt:Position><tt:UtcTime>{t}</tt:UtcTime></tt:PTZStatus></tt:PTZ>
<tt:Event><wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:Device/Trigger/DigitalInput</wsnt:Topic><wsnt:Message><tt:Message UtcTime="{t}" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="InputToken" Value="DigitalInput_1"/></tt:Source><tt:Data><tt:SimpleItem Name="LogicalState" Value="{state}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage></tt:Event>
</tt:MetadataStream>
"#
    )
}

/// A pad template that is always there.
fn always(name: &str, direction: gst::PadDirection, caps: gst::Caps) -> gst::PadTemplate {
    gst::PadTemplate::new(name, direction, gst::PadPresence::Always, &caps).expect("template")
}

/// The metadata of one of the camera's elements.
fn about(long_name: &str, class: &str, description: &str) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(long_name, class, description, "onvifhttps developers")
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct OnvifMetadataPay;

    #[glib::object_subclass]
    impl ObjectSubclass for OnvifMetadataPay {
        const NAME: &'static str = "GstVirtualCameraOnvifMetadataPay";
        type Type = super::OnvifMetadataPay;
        type ParentType = gst_rtp::RTPBasePayload;
    }

    impl ObjectImpl for OnvifMetadataPay {}
    impl GstObjectImpl for OnvifMetadataPay {}

    impl ElementImpl for OnvifMetadataPay {
        fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
            static M: std::sync::LazyLock<gst::subclass::ElementMetadata> =
                std::sync::LazyLock::new(|| {
                    about(
                        "ONVIF metadata RTP payloader (virtual camera)",
                        "Codec/Payloader/Network/RTP",
                        "Payloads tt:MetadataStream documents as vnd.onvif.metadata",
                    )
                });
            Some(&*M)
        }

        fn pad_templates() -> &'static [gst::PadTemplate] {
            static T: std::sync::LazyLock<Vec<gst::PadTemplate>> = std::sync::LazyLock::new(|| {
                vec![
                    always(
                        "sink",
                        gst::PadDirection::Sink,
                        gst::Caps::builder("application/x-onvif-metadata").build(),
                    ),
                    always(
                        "src",
                        gst::PadDirection::Src,
                        gst::Caps::builder("application/x-rtp")
                            .field("media", "application")
                            .field("clock-rate", 90000i32)
                            .field("encoding-name", "VND.ONVIF.METADATA")
                            .build(),
                    ),
                ]
            });
            T.as_ref()
        }
    }

    impl RTPBasePayloadImpl for OnvifMetadataPay {
        fn set_caps(&self, _caps: &gst::Caps) -> Result<(), gst::LoggableError> {
            self.obj()
                .set_options("application", true, "VND.ONVIF.METADATA", 90000);
            self.obj()
                .set_outcaps(None)
                .map_err(|e| gst::loggable_error!(gst::CAT_RUST, "{e}"))
        }

        fn handle_buffer(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
            let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
            let max = gst_rtp::calc_payload_len(self.obj().mtu(), 0, 0).max(1) as usize;
            let chunks: Vec<&[u8]> = map.chunks(max).collect();
            let last = chunks.len().saturating_sub(1);
            let mut list = gst::BufferList::new_sized(chunks.len());
            for (i, chunk) in chunks.iter().enumerate() {
                let mut out = gst::Buffer::new_rtp_with_sizes(chunk.len() as u32, 0, 0)
                    .map_err(|_| gst::FlowError::Error)?;
                {
                    let out_ref = out.get_mut().ok_or(gst::FlowError::Error)?;
                    out_ref.set_pts(buffer.pts());
                    let mut rtp = gst_rtp::RTPBuffer::from_buffer_writable(out_ref)
                        .map_err(|_| gst::FlowError::Error)?;
                    rtp.payload_mut()
                        .map_err(|_| gst::FlowError::Error)?
                        .copy_from_slice(chunk);
                    // The marker closes a document.
                    rtp.set_marker(i == last);
                }
                list.get_mut().ok_or(gst::FlowError::Error)?.add(out);
            }
            drop(map);
            match self.obj().push_list(list) {
                // A track the client did not SETUP is left unlinked by gst-rtsp-server:
                // its documents go nowhere, as a camera's do, and the other tracks go on.
                Err(gst::FlowError::NotLinked) => Ok(gst::FlowSuccess::Ok),
                other => other,
            }
        }
    }
}

glib::wrapper! {
    pub struct OnvifMetadataPay(ObjectSubclass<imp::OnvifMetadataPay>) @extends gst_rtp::RTPBasePayload, gst::Element, gst::Object;
}

/// Registers `onvifmetadatapay` and `onvifmetadatasrc` in this process (idempotent).
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = gst::Element::register(
            None,
            "onvifmetadatapay",
            gst::Rank::NONE,
            OnvifMetadataPay::static_type(),
        );
        let _ = gst::Element::register(
            None,
            "onvifmetadatasrc",
            gst::Rank::NONE,
            MetadataSrc::static_type(),
        );
    });
}

/// The metadata track's source: `tt:MetadataStream` documents, one every `INTERVAL`.
///
/// Recorded (the default): non-live and seekable like the test sources beside it; after
/// the replay's clock-range seek its timestamps are nanoseconds since 1900, and each
/// document's `UtcTime` is that recorded time. Live (`live=true`): timestamps are running
/// times and basesrc waits for each on the clock, as `videotestsrc is-live=true` does; each
/// document's `UtcTime` is the time it is made. Either way the source follows the media's
/// state (no thread of its own that could stop for good on a flush).
mod source {
    use super::*;
    use gst_base::prelude::*;
    use gst_base::subclass::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Two documents per second, as ONVIF recommends at least one.
    pub const INTERVAL: u64 = 500_000_000;

    /// Nanoseconds from 1900 (NTP era 0) to 1970.
    const NTP_UNIX_OFFSET_NS: i128 = crate::ntp::NTP_UNIX_OFFSET_S as i128 * 1_000_000_000;

    #[derive(Default)]
    pub struct MetadataSrc {
        /// The timestamp of the next document.
        next: std::sync::Mutex<u64>,
        live: AtomicBool,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MetadataSrc {
        const NAME: &'static str = "GstVirtualCameraMetadataSrc";
        type Type = super::MetadataSrc;
        type ParentType = gst_base::PushSrc;
    }

    impl ObjectImpl for MetadataSrc {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().set_format(gst::Format::Time);
            self.obj().set_live(false);
        }

        fn properties() -> &'static [glib::ParamSpec] {
            static P: std::sync::LazyLock<Vec<glib::ParamSpec>> = std::sync::LazyLock::new(|| {
                vec![
                    glib::ParamSpecBoolean::builder("live")
                        .nick("Live")
                        .blurb("Documents of the current time, paced by the clock")
                        .default_value(false)
                        .construct()
                        .build(),
                ]
            });
            P.as_ref()
        }

        fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
            if pspec.name() == "live" {
                let live = value.get().unwrap_or(false);
                self.live.store(live, Ordering::SeqCst);
                self.obj().set_live(live);
            }
        }

        fn property(&self, _id: usize, _pspec: &glib::ParamSpec) -> glib::Value {
            self.live.load(Ordering::SeqCst).to_value()
        }
    }
    impl GstObjectImpl for MetadataSrc {}

    impl ElementImpl for MetadataSrc {
        fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
            static M: std::sync::LazyLock<gst::subclass::ElementMetadata> =
                std::sync::LazyLock::new(|| {
                    about(
                        "ONVIF metadata (virtual camera)",
                        "Source",
                        "tt:MetadataStream documents, live or of the recorded times",
                    )
                });
            Some(&*M)
        }

        fn pad_templates() -> &'static [gst::PadTemplate] {
            static T: std::sync::LazyLock<Vec<gst::PadTemplate>> = std::sync::LazyLock::new(|| {
                vec![always(
                    "src",
                    gst::PadDirection::Src,
                    gst::Caps::builder("application/x-onvif-metadata")
                        .field("encoding", "utf8")
                        .build(),
                )]
            });
            T.as_ref()
        }
    }

    impl BaseSrcImpl for MetadataSrc {
        fn is_seekable(&self) -> bool {
            !self.live.load(Ordering::SeqCst)
        }

        fn do_seek(&self, segment: &mut gst::Segment) -> bool {
            let Some(seg) = segment.downcast_ref::<gst::ClockTime>() else {
                return false;
            };
            // The first document at or after the start.
            let start = seg.start().map_or(0, |t| t.nseconds());
            *self.next.lock().unwrap_or_else(|e| e.into_inner()) =
                start.div_ceil(INTERVAL) * INTERVAL;
            true
        }

        /// Live: basesrc waits until the clock reaches each document's time.
        fn times(
            &self,
            buffer: &gst::BufferRef,
        ) -> (Option<gst::ClockTime>, Option<gst::ClockTime>) {
            if !self.live.load(Ordering::SeqCst) {
                return (None, None);
            }
            let end = buffer.pts().zip(buffer.duration()).map(|(p, d)| p + d);
            (buffer.pts(), end)
        }
    }

    impl PushSrcImpl for MetadataSrc {
        fn create(
            &self,
            _buffer: Option<&mut gst::BufferRef>,
        ) -> Result<gst_base::subclass::base_src::CreateSuccess, gst::FlowError> {
            let pts = {
                let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                let pts = *next;
                *next += INTERVAL;
                pts
            };
            let utc = if self.live.load(Ordering::SeqCst) {
                time::OffsetDateTime::now_utc()
            } else {
                let unix_ns = pts as i128 - NTP_UNIX_OFFSET_NS;
                time::OffsetDateTime::from_unix_timestamp_nanos(unix_ns)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            };
            let mut buffer =
                gst::Buffer::from_mut_slice(document(pts / INTERVAL, utc).into_bytes());
            {
                let b = buffer.get_mut().ok_or(gst::FlowError::Error)?;
                b.set_pts(gst::ClockTime::from_nseconds(pts));
                b.set_duration(gst::ClockTime::from_nseconds(INTERVAL));
            }
            Ok(gst_base::subclass::base_src::CreateSuccess::NewBuffer(
                buffer,
            ))
        }
    }
}

glib::wrapper! {
    pub struct MetadataSrc(ObjectSubclass<source::MetadataSrc>)
        @extends gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object;
}

impl MetadataSrc {
    /// The recorded track's source (non-live, seekable).
    pub fn recorded() -> MetadataSrc {
        glib::Object::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document validates against the official metadatastream.xsd (skipped when
    /// ../shared or xmllint is not there).
    #[test]
    fn test_documents_validate_against_metadatastream_xsd() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/onvif-wsdl/tools/validate.sh"
        );
        let required = std::env::var("ONVIF_SCHEMA_REQUIRED").is_ok_and(|v| v == "1");
        if !std::path::Path::new(script).exists()
            || std::process::Command::new("xmllint")
                .arg("--version")
                .output()
                .is_err()
        {
            assert!(
                !required,
                "validate.sh or xmllint missing but ONVIF_SCHEMA_REQUIRED=1"
            );
            return;
        }
        let dir = std::env::temp_dir().join(format!("vc-md-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for n in [0u64, 5, 199] {
            let p = dir.join(format!("md-{n}.xml"));
            std::fs::write(&p, document(n, time::OffsetDateTime::now_utc())).unwrap();
            files.push(p);
        }
        let out = std::process::Command::new(script)
            .args(&files)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{report}");
        assert_eq!(report.matches(" validates").count(), 3, "{report}");
    }
}
