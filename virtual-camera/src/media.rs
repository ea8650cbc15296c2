// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's media engine: gst-rtsp-server on 127.0.0.1, with RTSP Digest
//! authentication (ONVIF authenticates media at the RTSP level), one mount per profile
//! carrying live H.264 video and AAC audio. The HTTPS front (`server.rs`) hands RTSP
//! tunnel connections to it, as a camera's web server does.

use gst::prelude::*;
use gst_rtsp_server::prelude::*;

/// The one role every authenticated user has.
const ROLE: &str = "viewer";

/// How the media engine is set up.
#[derive(Default)]
pub struct MediaOptions {
    pub user: String,
    pub password: String,
    /// RTSP session timeout in seconds (gst-rtsp-server's default: 60).
    pub session_timeout: Option<u32>,
    /// Every RTSP request is logged here by method name.
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// TLS on every connection (a bare server; the camera's own front does TLS itself).
    pub tls: Option<crate::certs::Identity>,
    /// Basic instead of Digest.
    pub basic: bool,
    /// Serve the ONVIF metadata track.
    pub metadata: bool,
    /// Edge storage to replay at `/onvif-replay/<recording>`.
    pub archive: Option<crate::recording::Archive>,
    /// No authentication: the camera's RTSP front in front of it checks credentials.
    pub open: bool,
    /// The ONVIF audio backchannel (PCMU) of every profile plays into this speaker.
    pub speaker: Option<std::sync::Arc<Speaker>>,
    /// Offer RTP/SAVP (SRTP, the key in the SDP's `a=key-mgmt`) instead of RTP/AVP.
    pub srtp: bool,
    /// With `srtp`: damage the tag of every audio packet sent.
    pub srtp_bad_tag: bool,
    /// With `srtp`: encrypt with the client's `KeyMgmt` key.
    pub srtp_client_keys: bool,
    /// With `srtp`: the device's key in the SDP.
    pub srtp_sdp_keys: bool,
    /// With `srtp`: how a re-keying `SET_PARAMETER` is answered.
    pub srtp_rekey: crate::srtp::Rekey,
    /// With `srtp`: the suite (ONVIF's name), else gst-rtsp-server's AES-CM.
    pub srtp_suite: Option<&'static str>,
}

/// The camera's speaker: what the ONVIF backchannel brought (decoded G.711 µ-law).
#[derive(Debug, Default)]
pub struct Speaker {
    /// RTP packets depayloaded.
    pub packets: std::sync::atomic::AtomicU64,
    /// Audio samples (8 kHz, mono).
    pub samples: std::sync::atomic::AtomicU64,
    /// Sign changes of the samples: over `samples` they give the tone's frequency.
    pub crossings: std::sync::atomic::AtomicU64,
}

impl Speaker {
    /// The frequency of what was heard, in Hz (a sine's sign changes twice a period).
    pub fn frequency(&self) -> f64 {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.samples.load(SeqCst);
        if n == 0 {
            return 0.0;
        }
        self.crossings.load(SeqCst) as f64 * 8000.0 / 2.0 / n as f64
    }

    fn heard(&self, pcm: &[u8]) {
        use std::sync::atomic::Ordering::SeqCst;
        let mut last = None;
        let mut crossings = 0u64;
        for pair in pcm.chunks_exact(2) {
            let v = i16::from_le_bytes([pair[0], pair[1]]);
            let positive = v >= 0;
            if last.is_some_and(|l| l != positive) {
                crossings += 1;
            }
            last = Some(positive);
        }
        self.packets.fetch_add(1, SeqCst);
        self.samples.fetch_add((pcm.len() / 2) as u64, SeqCst);
        self.crossings.fetch_add(crossings, SeqCst);
    }
}

/// The backchannel of a profile's media: PCMU in, decoded into the speaker (gst-rtsp-server
/// needs an element named `depay_backchannel`).
const BACKCHANNEL_LAUNCH: &str = "( capsfilter caps=\"application/x-rtp, media=audio, payload=0, \
     clock-rate=8000, encoding-name=PCMU\" name=depay_backchannel ! rtppcmudepay ! mulawdec ! \
     audio/x-raw,format=S16LE ! fakesink name=speaker signal-handoffs=true async=false sync=false )";

pub struct Media {
    pub port: u16,
    main_loop: glib::MainLoop,
    thread: Option<std::thread::JoinHandle<()>>,
}

use gst::glib;

/// The media of a profile: video, audio and (unless switched off) the metadata track. A
/// session that does not SETUP the metadata track leaves it unlinked; `onvifmetadatapay`
/// drops its documents then, so the source never sees not-linked (which stopped the media).
fn launch(width: u32, height: u32, metadata: bool) -> String {
    let overlay = if gst::ElementFactory::find("timeoverlay").is_some() {
        "timeoverlay ! "
    } else {
        ""
    };
    format!(
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate=25/1 ! \
         {overlay}x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=800 ! \
         video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 \
         audiotestsrc is-live=true wave=sine freq=440 volume=0.2 ! audio/x-raw,rate={rate},channels=1 ! \
         audioconvert ! avenc_aac ! rtpmp4gpay name=pay1 pt=97 {md})",
        rate = crate::profiles::AUDIO_RATE_KHZ * 1000,
        md = if metadata {
            "onvifmetadatasrc live=true ! onvifmetadatapay name=pay2 pt=107 "
        } else {
            ""
        }
    )
}

impl Media {
    /// A bare gst-rtsp-server doing TLS itself on its own port (no ONVIF, no HTTPS front):
    /// `rtsps://` and the RTSP-over-HTTPS tunnel, as GStreamer serves them. For interop
    /// tests of the client's tunnel with a peer it was not written against.
    pub fn start_bare_tls(
        identity: &crate::certs::Identity,
        user: &str,
        password: &str,
    ) -> Result<Media, String> {
        Self::start(MediaOptions {
            user: user.to_string(),
            password: password.to_string(),
            tls: Some(identity.clone()),
            metadata: true,
            ..Default::default()
        })
    }

    /// Starts the RTSP server on 127.0.0.1.
    pub fn start(o: MediaOptions) -> Result<Media, String> {
        let MediaOptions {
            user,
            password,
            session_timeout,
            requests,
            tls,
            basic,
            metadata,
            archive,
            open,
            speaker,
            srtp,
            srtp_bad_tag,
            srtp_client_keys,
            srtp_sdp_keys,
            srtp_rekey,
            srtp_suite,
        } = o;
        // Each stream's srtpenc, by its SETUP path (`/media/Profile_1/stream=0`).
        let encoders: crate::srtp::Encoders = Default::default();
        let (user, password) = (user.as_str(), password.as_str());
        crate::metadata::register();
        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        // The ONVIF server: `Require: onvif-replay` is accepted where a factory replays.
        let rekeys = srtp_rekey != crate::srtp::Rekey::Refuse;
        let server = if srtp && (!srtp_sdp_keys || rekeys) {
            crate::srtp::server_with(crate::srtp::ClientShape {
                no_sdp_keys: !srtp_sdp_keys,
                rekey: srtp_rekey,
                client_keys: srtp_client_keys,
                encoders: encoders.clone(),
            })
        } else {
            gst_rtsp_server::RTSPOnvifServer::new().upcast::<gst_rtsp_server::RTSPServer>()
        };
        server.set_address("127.0.0.1");
        server.set_service("0");

        let auth = gst_rtsp_server::RTSPAuth::new();
        auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Digest);
        // The role is a structure name, so not the user name (which may hold any byte).
        let token = gst_rtsp_server::RTSPToken::builder()
            .field(gst_rtsp_server::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
            .build();
        if basic {
            // Cameras that only offer Basic on RTSP (TP-Link, mediamtx #3116).
            auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Basic);
            auth.add_basic(
                &gst_rtsp_server::RTSPAuth::make_basic(user, password),
                &token,
            );
        } else {
            auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Digest);
            auth.add_digest(user, password, &token);
        }
        if let Some(id) = &tls {
            // Every accepted connection (RTSP, tunnel GET, tunnel POST) is wrapped in TLS.
            let cert = gst_rtsp_server::gio::TlsCertificate::from_pem(&format!(
                "{}{}",
                id.chain_pem, id.key_pem
            ))
            .map_err(|e| format!("TLS certificate: {e}"))?;
            auth.set_tls_certificate(Some(&cert));
        }
        if !open {
            server.set_auth(Some(&auth));
        }

        let mounts = server.mount_points().ok_or("no mount points")?;
        let role = gst::Structure::builder(ROLE)
            .field(gst_rtsp_server::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
            .field(gst_rtsp_server::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
            .build();
        if let Some(archive) = &archive {
            let factory = crate::replay::ReplayFactory::new(archive);
            factory.add_role_from_structure(&role);
            mounts.add_factory(
                &format!("/onvif-replay/{}", crate::recording::TOKEN),
                factory,
            );
        }
        for p in crate::profiles::PROFILES {
            let (path, w, h) = (&p.mount(), &p.width, &p.height);
            let factory = gst_rtsp_server::RTSPOnvifMediaFactory::new();
            factory.set_launch(&launch(*w, *h, metadata));
            factory.set_shared(true);
            factory.add_role_from_structure(&role);
            if srtp {
                factory.set_profiles(gst_rtsp::RTSPProfile::SAVP);
            }
            if let Some(suite) = srtp_suite.filter(|_| srtp) {
                factory.connect_media_configure(move |_, media| {
                    crate::srtp::use_suite(media, suite);
                });
            }
            if srtp && srtp_bad_tag {
                factory.connect_media_configure(|_, media| crate::srtp::damage_audio_tags(media));
            }
            if srtp && (srtp_client_keys || rekeys) {
                let encoders = encoders.clone();
                let path = path.to_string();
                factory.connect_media_configure(move |_, media| {
                    crate::srtp::keep_encoders(media, &path, &encoders);
                });
            }
            // Without the ONVIF media type every DESCRIBE of an ONVIF factory fails; with
            // it and no backchannel, a DESCRIBE that requires one gets 551.
            factory.set_media_gtype(gst_rtsp_server::RTSPOnvifMedia::static_type());
            if let Some(speaker) = &speaker {
                factory.set_backchannel_launch(Some(BACKCHANNEL_LAUNCH));
                let speaker = speaker.clone();
                factory.connect_media_configure(move |_, media| {
                    let Some(sink) = media
                        .element()
                        .downcast_ref::<gst::Bin>()
                        .and_then(|b| b.by_name("speaker"))
                    else {
                        return;
                    };
                    let speaker = speaker.clone();
                    sink.connect("handoff", false, move |args| {
                        if let Some(buffer) = args.get(1).and_then(|v| v.get::<gst::Buffer>().ok())
                            && let Ok(map) = buffer.map_readable()
                        {
                            speaker.heard(&map);
                        }
                        None
                    });
                });
            }
            mounts.add_factory(path, factory);
        }
        server.connect_client_connected(move |_, client| {
            if srtp && srtp_client_keys {
                let encoders = encoders.clone();
                client.connect_setup_request(move |_, ctx| {
                    crate::srtp::use_client_key(ctx, &encoders);
                });
            }
            if let Some(t) = session_timeout {
                client.connect_new_session(move |_, session| session.set_timeout(t));
            }
            type Hook = fn(&gst_rtsp_server::RTSPClient, Box<dyn Fn() + Send + Sync>);
            let hooks: [(&str, Hook); 6] = [
                ("OPTIONS", |c, f| {
                    c.connect_options_request(move |_, _| f());
                }),
                ("DESCRIBE", |c, f| {
                    c.connect_describe_request(move |_, _| f());
                }),
                ("SETUP", |c, f| {
                    c.connect_setup_request(move |_, _| f());
                }),
                ("PLAY", |c, f| {
                    c.connect_play_request(move |_, _| f());
                }),
                ("GET_PARAMETER", |c, f| {
                    c.connect_get_parameter_request(move |_, _| f());
                }),
                ("TEARDOWN", |c, f| {
                    c.connect_teardown_request(move |_, _| f());
                }),
            ];
            for (method, hook) in hooks {
                let r = requests.clone();
                hook(
                    client,
                    Box::new(move || r.lock().unwrap().push(method.to_string())),
                );
            }
        });
        server
            .attach(Some(&context))
            .map_err(|e| format!("RTSP server: {e}"))?;
        let port = u16::try_from(server.bound_port()).map_err(|_| "RTSP server has no port")?;
        let ml = main_loop.clone();
        let thread = std::thread::Builder::new()
            .name("camera-rtsp".into())
            .spawn(move || {
                // The server lives as long as the loop runs.
                let _server = server;
                ml.run();
            })
            .map_err(|e| e.to_string())?;
        Ok(Media {
            port,
            main_loop,
            thread: Some(thread),
        })
    }

    pub fn stop(&mut self) {
        // Quit from inside the loop: a quit called before the thread has entered `run`
        // is undone by `run` (seen as a test hanging in this join under load).
        let ml = self.main_loop.clone();
        let quit = glib::source::idle_source_new(None, glib::Priority::HIGH, move || {
            ml.quit();
            glib::ControlFlow::Break
        });
        quit.attach(Some(&self.main_loop.context()));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    /// A camera dropped right after it started stops: its media loop's quit is not lost
    /// when it comes before the loop's thread runs (a test hung in `Media::stop` so).
    #[test]
    fn test_a_camera_stopped_at_once_stops() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..100 {
                drop(crate::Camera::start(crate::Config::default()).expect("a camera"));
            }
            let _ = done.send(());
        });
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_secs(60))
                .is_ok(),
            "100 cameras started and stopped within 60 s"
        );
    }
}
