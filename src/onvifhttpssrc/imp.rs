// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! GStreamer glue of `onvifhttpssrc`: properties, state changes, pads. The protocol flow
//! lives in `session.rs` and below; this file only starts and stops it and turns what it
//! produces into pads, buffers and bus messages.
//!
//! Lock order: `state` before `settings`; neither is held across a wait.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::pads::{Limits, Pads, SeekHook};
use super::{Backchannel, Mode, StreamingMethod, Streams};
use crate::control::{Answer, Command, Control};
use crate::device::{Credentials, StartSettings, Wants};
use crate::error::Error;
use crate::runtime::{self, RUNTIME};
use crate::session::{self, LiveSettings, Output, PlaybackSettings, SnapshotSettings, Transport};
use crate::tls::{self, TlsSettings};

const DEFAULT_HTTPS_ENABLE: bool = true;
const DEFAULT_HTTPS_PORT: u32 = 0;
const DEFAULT_VALIDATE_CERTIFICATE: bool = true;
const DEFAULT_VALIDATE_HOSTNAME: bool = true;
const DEFAULT_STREAMING_METHOD: StreamingMethod = StreamingMethod::RtpRtspHttpTcp;
const DEFAULT_SNAPSHOT_INTERVAL: u32 = 1000;
const DEFAULT_TIMEOUT: u32 = 10;
const DEFAULT_STREAMS: Streams = Streams::VIDEO;
const DEFAULT_LATENCY: u32 = 200;
const DEFAULT_BACKCHANNEL: Backchannel = Backchannel::None;
const DEFAULT_MODE: Mode = Mode::Live;
const DEFAULT_PLAYBACK_SPEED: f64 = 1.0;
const DEFAULT_EVENTS: bool = false;
const DEFAULT_RECONNECT: bool = true;
const DEFAULT_RECONNECT_MAX_DELAY: u32 = 30;
/// RTP bytes queued per stream before the oldest are dropped: about 2 s of a 16 Mbit/s
/// camera. Keeps memory bounded when downstream stalls.
const RTP_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// How long `stop()` waits for the session task before abandoning it: the spec wants NULL
/// within one second even when the device stops answering.
const STOP_DEADLINE: Duration = Duration::from_millis(500);
/// Snapshots queued for the pad; older ones are dropped, a live source wants the newest
/// image.
const SNAPSHOT_QUEUE: usize = 2;

#[derive(Clone)]
struct Settings {
    location: Option<String>,
    user_id: Option<String>,
    user_pw: Option<String>,
    https_enable: bool,
    https_port: u32,
    validate_certificate: bool,
    validate_hostname: bool,
    tls_ca_file: Option<String>,
    tls_certificate_sha256: Option<String>,
    streaming_method: StreamingMethod,
    profile: Option<String>,
    snapshot_interval: u32,
    timeout: u32,
    streams: Streams,
    latency: u32,
    backchannel: Backchannel,
    events: bool,
    mode: Mode,
    recording_token: Option<String>,
    playback_start: Option<String>,
    playback_end: Option<String>,
    playback_speed: f64,
    reconnect: bool,
    reconnect_max_delay: u32,
    /// The query of the `onvif(s)://` URI the element was given (without `user-pw`).
    uri_query: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            location: None,
            user_id: None,
            user_pw: None,
            https_enable: DEFAULT_HTTPS_ENABLE,
            https_port: DEFAULT_HTTPS_PORT,
            validate_certificate: DEFAULT_VALIDATE_CERTIFICATE,
            validate_hostname: DEFAULT_VALIDATE_HOSTNAME,
            tls_ca_file: None,
            tls_certificate_sha256: None,
            streaming_method: DEFAULT_STREAMING_METHOD,
            profile: None,
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            streams: DEFAULT_STREAMS,
            latency: DEFAULT_LATENCY,
            backchannel: DEFAULT_BACKCHANNEL,
            events: DEFAULT_EVENTS,
            mode: DEFAULT_MODE,
            recording_token: None,
            playback_start: None,
            playback_end: None,
            playback_speed: DEFAULT_PLAYBACK_SPEED,
            reconnect: DEFAULT_RECONNECT,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
            uri_query: None,
        }
    }
}

impl Settings {
    /// How long at most between two attempts to start a lost stream or event
    /// subscription again; `None` (`reconnect=false`): a loss is an error.
    fn reconnect(&self) -> Option<Duration> {
        self.reconnect
            .then(|| Duration::from_secs(u64::from(self.reconnect_max_delay)))
    }
}

// Written by hand so that the password never reaches a log.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let location = self.location.as_deref().map(|l| match url::Url::parse(l) {
            Ok(u) => crate::error::sanitize_url(&u),
            Err(_) => "(unparsable)".to_string(),
        });
        f.debug_struct("Settings")
            .field("location", &location)
            .field("user_id", &self.user_id)
            .field("user_pw", &self.user_pw.as_ref().map(|_| "***"))
            .field("https_enable", &self.https_enable)
            .field("https_port", &self.https_port)
            .field("validate_certificate", &self.validate_certificate)
            .field("validate_hostname", &self.validate_hostname)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_certificate_sha256", &self.tls_certificate_sha256)
            .field("streaming_method", &self.streaming_method)
            .field("profile", &self.profile)
            .field("snapshot_interval", &self.snapshot_interval)
            .field("timeout", &self.timeout)
            .field("streams", &self.streams)
            .field("latency", &self.latency)
            .field("backchannel", &self.backchannel)
            .field("events", &self.events)
            .field("mode", &self.mode)
            .field("recording_token", &self.recording_token)
            .field("playback_start", &self.playback_start)
            .field("playback_end", &self.playback_end)
            .field("playback_speed", &self.playback_speed)
            .field("reconnect", &self.reconnect)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .finish()
    }
}

struct Started {
    stop_tx: tokio::sync::oneshot::Sender<()>,
    join: tokio::task::JoinHandle<()>,
    output: Arc<ElementOutput>,
    /// The pull-point event task, when `events=true`.
    events: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

#[derive(Default)]
enum State {
    #[default]
    Stopped,
    Started(Started),
}

#[derive(Default)]
pub struct OnvifHttpsSrc {
    state: Mutex<State>,
    settings: Mutex<Settings>,
    /// The action signals' ONVIF client, connected on first use and kept until NULL.
    control: Arc<tokio::sync::Mutex<Option<Control>>>,
    /// The HTTPS port of the plain-HTTP bootstrap, found once (until `location` changes).
    boot: Mutex<crate::device::BootCache>,
    /// The waits of action signals in progress, cancelled when the element goes to NULL.
    signal_waits: SignalWaits,
    /// The signals' cached client belongs to old settings or an old READY: it is dropped
    /// at its next use (it may be held by a signal while the flag is set).
    control_stale: Arc<std::sync::atomic::AtomicBool>,
}

type SignalWaits = Mutex<Vec<Arc<Mutex<runtime::Canceller>>>>;

/// Takes a signal's canceller off the list when the signal returns, however it returns.
struct Unregister<'a>(&'a SignalWaits, Arc<Mutex<runtime::Canceller>>);

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|c| !Arc::ptr_eq(c, &self.1));
    }
}

pub(crate) use crate::log::CAT;

/// What the session task may do to the element. It holds a weak reference: the element
/// can be disposed while the task winds down.
struct ElementOutput {
    element: glib::WeakRef<super::OnvifHttpsSrc>,
    pads: Arc<Pads>,
}

/// `location` with the password of a `user:password@` removed.
fn without_password(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => location.to_string(),
    }
}

/// The warning for TLS settings other than both checks on (spec §4.3).
fn tls_warning(certificate: bool, hostname: bool, pinned: bool) -> String {
    let what = match (certificate, hostname) {
        (false, false) => {
            "https-validate-certificate=false and https-validate-hostname=false: the \
             certificate is not checked"
        }
        (false, true) => {
            "https-validate-certificate=false: any certificate issued for the camera's name \
             is accepted, whoever signed it"
        }
        _ => {
            "https-validate-hostname=false: any certificate signed by a tls-ca-file root is \
             accepted, whatever name it is for (the system roots are not used)"
        }
    };
    if pinned {
        format!(
            "{what}, but only the pinned certificate (tls-certificate-sha256) is accepted; \
             credentials are sent to it"
        )
    } else {
        format!(
            "{what}: the connection is encrypted but the camera is not authenticated, and \
             HTTP Basic is never answered; pin the camera with tls-certificate-sha256"
        )
    }
}

/// Runs a session task; a panic in it becomes an error message (LIBRARY/FAILED naming
/// the task) instead of a silent end with the pipeline left in PLAYING.
async fn watched<F: std::future::Future<Output = ()>>(
    task: &'static str,
    out: Arc<ElementOutput>,
    future: F,
) {
    if let Err(msg) = runtime::catch_panic(future).await {
        out.panicked(task, &msg);
    }
}

impl ElementOutput {
    /// Posts the error for a task that panicked.
    fn panicked(&self, task: &str, msg: &str) {
        if let Some(e) = self.element.upgrade() {
            gst::error!(CAT, obj = e, "the {task} task panicked: {msg}");
            e.post_error_message(gst::error_msg!(
                gst::LibraryError::Failed,
                (
                    "internal error: the {} task panicked ({}); the stream has stopped, please report this",
                    task,
                    msg
                )
            ));
        }
    }

    fn teardown(&self) {
        self.pads.shutdown();
    }
}

impl Output for ElementOutput {
    fn debug(&self, args: std::fmt::Arguments<'_>) {
        if let Some(e) = self.element.upgrade() {
            gst::debug!(CAT, obj = e, "{}", args);
        }
    }

    fn warning(&self, text: &str) {
        if let Some(e) = self.element.upgrade() {
            gst::warning!(CAT, obj = e, "{text}");
            gst::element_imp_warning!(
                e.imp(),
                gst::ResourceError::Settings,
                ("{}", text),
                ["{}", text]
            );
        }
    }

    fn add_stream(&self, name: &str, caps: gst::Caps, timestamp_on_arrival: bool) -> Option<usize> {
        self.pads.add(name, caps, timestamp_on_arrival)
    }

    fn streams_complete(&self) {
        if let Some(e) = self.element.upgrade() {
            e.no_more_pads();
        }
    }

    fn push(&self, index: usize, buffer: gst::Buffer) -> bool {
        self.pads.push(index, buffer)
    }

    fn push_list(&self, index: usize, list: gst::BufferList) -> bool {
        self.pads.push_list(index, list)
    }

    fn end_of_stream(&self, index: usize) {
        self.pads.end_of_stream(index);
    }

    fn running_time(&self) -> Option<u64> {
        self.element
            .upgrade()?
            .current_running_time()
            .map(|t| t.nseconds())
    }

    #[track_caller]
    fn error(&self, err: &Error) {
        if let Some(e) = self.element.upgrade() {
            gst::error!(CAT, obj = e, "{err}");
            e.post_error_message(err.to_error_message());
        }
    }

    fn event(&self, n: &crate::onvif::events::Notification) {
        if let Some(e) = self.element.upgrade() {
            let s = crate::events::event_structure(n);
            gst::debug!(CAT, obj = e, "event {s}");
            let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
        }
    }

    fn reconnecting(&self, what: session::Lost, cause: &Error, attempt: u32, delay: Duration) {
        let Some(e) = self.element.upgrade() else {
            return;
        };
        let ms = delay.as_millis();
        let text = match what {
            session::Lost::Media => {
                format!("Lost the stream: {cause}. Reconnecting (attempt {attempt}) in {ms} ms")
            }
            session::Lost::Events => format!(
                "Event subscription failed: {cause}. Subscribing again (attempt {attempt}) in {ms} ms"
            ),
        };
        gst::warning!(CAT, obj = e, "{text}");
        let s = gst::Structure::builder("onvif-reconnecting")
            .field("what", what.name())
            .field("cause", cause.to_string())
            .field("attempt", attempt)
            .field(
                "delay-ms",
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            )
            .build();
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
        gst::element_imp_warning!(
            e.imp(),
            gst::ResourceError::Read,
            ("{}", text),
            ["{}", text]
        );
    }
}

/// What `start()` runs.
enum Job {
    Snapshot(SnapshotSettings),
    Live(LiveSettings),
}

impl OnvifHttpsSrc {
    /// Checks the settings and turns them into what the session needs.
    /// What the ONVIF start-up needs: location, TLS, credentials and wanted streams.
    /// Shared by the streaming session and the action signals.
    fn start_settings(&self, s: &Settings) -> Result<(StartSettings, Vec<String>), Error> {
        let mut warnings = Vec::new();
        let location = s
            .location
            .as_deref()
            .ok_or_else(|| Error::Settings("No location set: set location=http://CAMERA".into()))?;
        let url = parse_location(location)?;
        let pins = match &s.tls_certificate_sha256 {
            Some(p) => tls::parse_pins(p).ok_or_else(|| {
                Error::Settings(format!(
                    "tls-certificate-sha256={p:?} is not a SHA-256 fingerprint (64 hex digits, \
                     colons allowed) or a comma-separated list of them"
                ))
            })?,
            None => Vec::new(),
        };
        let uses_tls = s.https_enable || url.scheme() == "https";
        if uses_tls && std::env::var_os("SSLKEYLOGFILE").is_some() {
            gst::info!(
                CAT,
                imp = self,
                "SSLKEYLOGFILE is set: TLS session keys are written to it"
            );
        }
        let tls = if uses_tls {
            Some(
                tls::client_config(&TlsSettings {
                    validate_certificate: s.validate_certificate,
                    validate_hostname: s.validate_hostname,
                    ca_file: s.tls_ca_file.clone(),
                    pins: pins.clone(),
                })
                .map_err(Error::Settings)?,
            )
        } else {
            None
        };
        if !s.https_enable {
            warnings.push(
                "https-enable=false: everything travels in clear: the ONVIF exchanges \
                 (passwords only as digests), the RTSP session and the media; anyone on the \
                 path can read and change them"
                    .to_string(),
            );
        } else if !(s.validate_certificate && s.validate_hostname) {
            warnings.push(tls_warning(
                s.validate_certificate,
                s.validate_hostname,
                !pins.is_empty(),
            ));
        }
        // user-id/user-pw, else credentials written into the location (http://user:pw@cam).
        let creds = match &s.user_id {
            Some(u) => Some(Credentials {
                user: u.clone(),
                password: s.user_pw.clone().unwrap_or_default(),
            }),
            None if !url.username().is_empty() => {
                let decode = |v: &str| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                Some(Credentials {
                    user: decode(url.username()),
                    password: decode(url.password().unwrap_or("")),
                })
            }
            None => None,
        };
        let start = StartSettings {
            location: url,
            creds,
            https_enable: s.https_enable,
            https_port: u16::try_from(s.https_port).unwrap_or(0),
            tls,
            profile: s.profile.clone(),
            timeout: Duration::from_secs(u64::from(s.timeout.max(1))),
            wants: Wants {
                video: s.streams.contains(Streams::VIDEO),
                audio: s.streams.contains(Streams::AUDIO),
                metadata: s.streams.contains(Streams::METADATA),
            },
            boot: self
                .boot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        };
        Ok((start, warnings))
    }

    fn prepare(&self, s: &Settings) -> Result<(Job, Vec<String>), Error> {
        let mut warnings = Vec::new();
        let method_value = s.streaming_method.to_value();
        let method = glib::EnumValue::from_value(&method_value)
            .map(|(_, v)| v.nick().to_string())
            .unwrap_or_default();
        // With https-enable=false the warning about everything in clear says it already.
        if s.https_enable
            && matches!(
                s.streaming_method,
                StreamingMethod::RtpRtspTcp | StreamingMethod::RtpUdp
            )
        {
            // Spec §2: the media streams, unencrypted, while SOAP stays on HTTPS.
            warnings.push(format!(
                "streaming-method={method}: the media (and the RTSP session) travel \
                 unencrypted; ONVIF stays on HTTPS. Use streaming-method=rtp-rtsp-http-tcp \
                 for encrypted media"
            ));
        }
        if s.backchannel == Backchannel::Onvif {
            // Spec §2: neither ONVIF nor Apple's tunnelling note defines how a backchannel
            // travels through the HTTP tunnel.
            return Err(Error::Settings(if s.https_enable {
                "backchannel=onvif cannot be used with https-enable=true: Audio OUT \
                 (backchannel) is not supported over HTTPS, because neither the ONVIF \
                 specification nor Apple's RTSP-over-HTTP document defines how a backchannel \
                 travels through the tunnel. Set backchannel=none, or use rtspsrc \
                 backchannel=onvif on the camera's plain RTSP URI"
                    .to_string()
            } else {
                "backchannel=onvif is not implemented in this version of onvifhttpssrc; use \
                 rtspsrc backchannel=onvif on the camera's RTSP URI"
                    .to_string()
            }));
        }
        if s.streams.is_empty() {
            return Err(Error::Settings(
                "streams is empty: ask for video, audio or metadata".into(),
            ));
        }
        if s.streaming_method == StreamingMethod::HttpSnapshot && s.streams != Streams::VIDEO {
            return Err(Error::Settings(format!(
                "streaming-method=http-snapshot gives video images only, but streams={}: \
                 use streams=video, or streaming-method=rtp-rtsp-http-tcp",
                streams_nick(s.streams)
            )));
        }
        let playback = self.playback_settings(s, &method)?;
        let (start, more) = self.start_settings(s)?;
        warnings.extend(more);
        let reconnect = s.reconnect();
        let job = match s.streaming_method {
            StreamingMethod::HttpSnapshot => Job::Snapshot(SnapshotSettings {
                start,
                interval: Duration::from_millis(u64::from(s.snapshot_interval.max(1))),
            }),
            StreamingMethod::RtpRtspTcp => Job::Live(LiveSettings {
                start,
                transport: Transport::Tcp,
                playback: playback.clone(),
                reconnect,
            }),
            StreamingMethod::RtpUdp => Job::Live(LiveSettings {
                start,
                transport: Transport::Udp,
                playback: playback.clone(),
                reconnect,
            }),
            StreamingMethod::RtpRtspHttpTcp => Job::Live(LiveSettings {
                start,
                transport: Transport::Tunnel,
                playback: playback.clone(),
                reconnect,
            }),
        };
        Ok((job, warnings))
    }

    /// `mode=playback` settings, checked (spec §3: a setting that makes no sense with
    /// another fails at start naming both).
    fn playback_settings(
        &self,
        s: &Settings,
        method: &str,
    ) -> Result<Option<PlaybackSettings>, Error> {
        if s.mode != Mode::Playback {
            return Ok(None);
        }
        if s.streaming_method != StreamingMethod::RtpRtspHttpTcp {
            return Err(Error::Settings(format!(
                "mode=playback cannot be used with streaming-method={method}: edge storage \
                 is replayed through the RTSP tunnel over HTTPS; use \
                 streaming-method=rtp-rtsp-http-tcp"
            )));
        }
        let time = |name: &str, v: &Option<String>| -> Result<Option<i64>, Error> {
            match v {
                None => Ok(None),
                Some(t) => crate::clock::parse_utc_millis(t).map(Some).ok_or_else(|| {
                    Error::Settings(format!(
                        "{name}={t:?} is not an ISO 8601 UTC time such as \
                         2025-03-14T09:41:00Z"
                    ))
                }),
            }
        };
        let start_ms = time("playback-start", &s.playback_start)?;
        let end_ms = time("playback-end", &s.playback_end)?;
        if let (Some(a), Some(b)) = (start_ms, end_ms)
            && b <= a
        {
            return Err(Error::Settings(format!(
                "playback-end={} is not after playback-start={}",
                s.playback_end.as_deref().unwrap_or(""),
                s.playback_start.as_deref().unwrap_or("")
            )));
        }
        Ok(Some(PlaybackSettings {
            recording: s.recording_token.clone(),
            start_ms,
            end_ms,
            speed: s.playback_speed,
        }))
    }

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        gst::debug!(CAT, imp = self, "starting with {settings:?}");
        let (job, warnings) = self.prepare(&settings).map_err(|e| e.to_error_message())?;
        let (seek_hook, seek_rx) = match &job {
            Job::Live(l) if l.playback.is_some() => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let pending = Arc::new(std::sync::atomic::AtomicBool::new(false));
                (
                    Some(SeekHook {
                        positions: tx,
                        pending: pending.clone(),
                    }),
                    Some(session::Seeks {
                        positions: rx,
                        pending,
                    }),
                )
            }
            _ => (None, None),
        };
        let (limits, latency) = match &job {
            Job::Snapshot(_) => (
                Limits {
                    bytes_per_pad: usize::MAX,
                    items: SNAPSHOT_QUEUE,
                },
                gst::ClockTime::ZERO,
            ),
            Job::Live(_) => (
                Limits {
                    bytes_per_pad: RTP_QUEUE_BYTES,
                    items: usize::MAX,
                },
                gst::ClockTime::from_mseconds(u64::from(settings.latency)),
            ),
        };
        let pads = Pads::start(&self.obj(), limits, latency, seek_hook).map_err(|e| {
            gst::error_msg!(
                gst::CoreError::Thread,
                ["could not start the streaming thread: {}", e]
            )
        })?;
        let output = Arc::new(ElementOutput {
            element: self.obj().downgrade(),
            pads,
        });
        for w in &warnings {
            output.warning(w);
        }
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task_output = output.clone();
        let event_start = match &job {
            Job::Snapshot(s) => s.start.clone(),
            Job::Live(l) => l.start.clone(),
        };
        let join = match job {
            Job::Snapshot(snap) => RUNTIME.spawn(watched(
                "snapshot session",
                output.clone(),
                session::run_snapshot(snap, task_output, stop_rx),
            )),
            Job::Live(live) => RUNTIME.spawn(watched(
                "media session",
                output.clone(),
                session::run_live(live, task_output, stop_rx, seek_rx),
            )),
        };
        let events = settings.events.then(|| {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            (
                tx,
                RUNTIME.spawn(watched(
                    "event",
                    output.clone(),
                    crate::events::run(event_start, settings.reconnect(), output.clone(), rx),
                )),
            )
        });
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::Started(Started {
            stop_tx,
            join,
            output,
            events,
        });
        gst::info!(CAT, imp = self, "started");
        Ok(())
    }

    fn stop(&self) {
        let State::Started(started) =
            std::mem::take(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner))
        else {
            return;
        };
        let _ = started.stop_tx.send(());
        let mut joins = vec![started.join];
        if let Some((tx, join)) = started.events {
            let _ = tx.send(());
            joins.push(join);
        }
        if runtime::inside_runtime() {
            // Called from inside an application's tokio runtime: blocking here would panic.
            // The task has been told to stop and ends on its own.
            gst::debug!(
                CAT,
                imp = self,
                "not waiting for the session inside a runtime"
            );
        } else {
            let canceller = Mutex::new(runtime::Canceller::default());
            let aborts: Vec<_> = joins.iter().map(|j| j.abort_handle()).collect();
            let res = runtime::wait(&canceller, Some(STOP_DEADLINE), async move {
                for j in joins {
                    let _ = j.await;
                }
                Ok::<(), ()>(())
            });
            if res.is_err() {
                for a in aborts {
                    a.abort();
                }
                gst::warning!(CAT, imp = self, "session did not stop in time; abandoned");
            }
        }
        started.output.teardown();
        gst::info!(CAT, imp = self, "stopped");
    }

    /// The streaming thread pushes only while the element is PLAYING (a live source).
    fn set_playing(&self, playing: bool) {
        if let State::Started(started) = &*self.state.lock().unwrap_or_else(PoisonError::into_inner)
        {
            started.output.pads.set_playing(playing);
        }
    }

    /// Runs one action-signal command, blocking the caller up to a bound. Failures post a
    /// warning with the cause and give `None`.
    pub(super) fn control(&self, signal: &str, cmd: Command) -> Option<Answer> {
        // A panic must not unwind through GLib's C marshaller: FALSE/NULL and a warning.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.control_inner(signal, cmd)
        })) {
            Ok(answer) => answer,
            Err(payload) => {
                let msg = runtime::panic_message(payload.as_ref());
                let obj = self.obj();
                gst::error!(CAT, imp = self, "{signal} panicked: {msg}");
                let _ = obj.post_message(
                    gst::message::Warning::builder(
                        gst::LibraryError::Failed,
                        &format!("{signal}: internal error ({msg}), please report this"),
                    )
                    .src(&*obj)
                    .build(),
                );
                None
            }
        }
    }

    fn control_inner(&self, signal: &str, cmd: Command) -> Option<Answer> {
        let obj = self.obj();
        if obj.current_state() < gst::State::Ready {
            let _ = obj.post_message(
                gst::message::Warning::builder(
                    gst::CoreError::StateChange,
                    &format!("{signal}: the element must be in READY or above"),
                )
                .src(&*obj)
                .build(),
            );
            return None;
        }
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let start = match self.start_settings(&settings) {
            Ok((start, _)) => start,
            Err(e) => {
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                return None;
            }
        };
        // Start-up plus the call, each exchange bounded by `timeout`.
        let bound = start.timeout * 8;
        // The device, never the location as written (it may hold user:password@).
        let peer = format!(
            "{}:{}",
            start.location.host_str().unwrap_or(""),
            start.location.port_or_known_default().unwrap_or(0)
        );
        let slot = self.control.clone();
        let stale = self.control_stale.clone();
        let weak = obj.downgrade();
        // Registered so that going to NULL cancels the wait (the caller blocks on it).
        let canceller = Arc::new(Mutex::new(runtime::Canceller::default()));
        self.signal_waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(canceller.clone());
        let _unregister = Unregister(&self.signal_waits, canceller.clone());
        // Going to NULL between the READY check above and the registration: give up now.
        if obj.pending_state() == gst::State::Null || obj.current_state() < gst::State::Ready {
            return None;
        }
        let res = runtime::wait(&canceller, Some(bound), async move {
            crate::testing::maybe_panic("signal", &start.location);
            let mut guard = slot.lock().await;
            if stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
                *guard = None;
            }
            if guard.is_none() {
                let warn = |w: &str| {
                    if let Some(e) = weak.upgrade() {
                        gst::element_imp_warning!(
                            e.imp(),
                            gst::ResourceError::Settings,
                            ("{}", w),
                            ["{}", w]
                        );
                    }
                };
                *guard = Some(Control::connect(&start, &warn).await?);
            }
            let Some(ctl) = guard.as_mut() else {
                unreachable!("set above");
            };
            let r = ctl.execute(cmd).await;
            // A broken connection is rebuilt on the next call.
            if matches!(
                r,
                Err(Error::Io { .. }
                    | Error::TimedOut { .. }
                    | Error::Connect { .. }
                    | Error::Tls { .. })
            ) {
                *guard = None;
            }
            r
        });
        match res {
            Ok(a) => Some(a),
            Err(runtime::WaitError::Failed(e)) => {
                gst::warning!(CAT, imp = self, "{signal}: {e}");
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                None
            }
            Err(runtime::WaitError::TimedOut) => {
                let e = Error::TimedOut {
                    peer,
                    operation: signal.to_string(),
                    after: bound,
                };
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                None
            }
            Err(runtime::WaitError::Cancelled) => None,
        }
    }

    fn set_location(&self, value: Option<String>) -> Result<(), glib::Error> {
        if !matches!(
            *self.state.lock().unwrap_or_else(PoisonError::into_inner),
            State::Stopped
        ) {
            return Err(glib::Error::new(
                gst::URIError::BadState,
                "location cannot change while the element is running",
            ));
        }
        if let Some(v) = &value {
            parse_location(v)
                .map_err(|e| glib::Error::new(gst::URIError::BadUri, &e.to_string()))?;
        }
        let mut s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        s.location = value;
        s.uri_query = None;
        // Another device, or the same one elsewhere: its HTTPS port is found again.
        *self.boot.lock().unwrap_or_else(PoisonError::into_inner) = Default::default();
        Ok(())
    }

    /// `onvif://` (bootstrap over HTTP) or `onvifs://` (HTTPS from the start): host, port
    /// and path are the location, `user:password@` the credentials, and every query key a
    /// property of the element. Nothing is changed unless all of it is valid.
    fn set_uri_str(&self, uri: &str) -> Result<(), glib::Error> {
        let bad = |m: String| glib::Error::new(gst::URIError::BadUri, &m);
        let u = url::Url::parse(uri).map_err(|e| bad(format!("not a URI: {e}")))?;
        let scheme = match u.scheme() {
            "onvif" => "http",
            "onvifs" => "https",
            other => {
                return Err(glib::Error::new(
                    gst::URIError::UnsupportedProtocol,
                    &format!("{other}:// is not handled: use onvif:// or onvifs://"),
                ));
            }
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the URI has no host".into()))?;
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        let location = format!("{scheme}://{host}{port}{}", u.path());
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .to_string()
        };
        let user = Some(u.username()).filter(|u| !u.is_empty()).map(decode);
        let password = u.password().map(decode);
        let own = super::OnvifHttpsSrc::static_type();
        let mut values = Vec::new();
        let mut kept = Vec::new();
        // Split by hand: a `+` is a `+` (streams=video+audio), not a form-encoded space.
        let pairs = u
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            });
        for (key, value) in pairs {
            let pspec = self
                .obj()
                .find_property(&key)
                .filter(|p| p.owner_type() == own && p.name() != "location")
                .ok_or_else(|| {
                    bad(format!(
                        "unknown key {key:?} in the URI query: keys are the properties of \
                         onvifhttpssrc (see gst-inspect-1.0 onvifhttpssrc)"
                    ))
                })?;
            let v = glib::Value::deserialize_with_pspec(&value, &pspec)
                .ok()
                .filter(|v| in_range(&pspec, v))
                .ok_or_else(|| bad(format!("{key}={value:?} is not a valid value")))?;
            if pspec.name() != "user-pw" {
                kept.push(format!(
                    "{key}={}",
                    percent_encoding::utf8_percent_encode(&value, QUERY_VALUE)
                ));
            }
            values.push((pspec.name(), v));
        }
        self.set_location(Some(location))?;
        {
            let mut s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
            if user.is_some() {
                s.user_id = user;
                s.user_pw = password;
            }
        }
        for (name, v) in values {
            self.obj().set_property_from_value(name, &v);
        }
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .uri_query = (!kept.is_empty()).then(|| kept.join("&"));
        Ok(())
    }
}

/// What a value in the query of the URI the element reports is escaped for.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'`');

/// Whether a number from a URI query is within the property's range.
fn in_range(pspec: &glib::ParamSpec, v: &glib::Value) -> bool {
    if let (Some(p), Ok(n)) = (pspec.downcast_ref::<glib::ParamSpecUInt>(), v.get::<u32>()) {
        return (p.minimum()..=p.maximum()).contains(&n);
    }
    if let (Some(p), Ok(n)) = (
        pspec.downcast_ref::<glib::ParamSpecDouble>(),
        v.get::<f64>(),
    ) {
        return (p.minimum()..=p.maximum()).contains(&n);
    }
    true
}

/// `video+audio`, as gst-launch writes flags.
fn streams_nick(f: Streams) -> String {
    let mut v = Vec::new();
    for (flag, nick) in [
        (Streams::VIDEO, "video"),
        (Streams::AUDIO, "audio"),
        (Streams::METADATA, "metadata"),
    ] {
        if f.contains(flag) {
            v.push(nick);
        }
    }
    v.join("+")
}

/// Parses `location`: `http://` or `https://`, a host, and the default device path.
fn parse_location(s: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(s).map_err(|e| {
        Error::Settings(format!(
            "location is not a URL ({e}): expected http://HOST[:PORT][/PATH] or https://..."
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Settings(format!(
            "location scheme {:?} is not supported: use http:// or https://",
            url.scheme()
        )));
    }
    if url.host().is_none() {
        return Err(Error::Settings("location has no host".into()));
    }
    Ok(url)
}

#[glib::object_subclass]
impl ObjectSubclass for OnvifHttpsSrc {
    const NAME: &'static str = "GstOnvifHttpsSrc";
    type Type = super::OnvifHttpsSrc;
    type ParentType = gst::Element;
    type Interfaces = (gst::URIHandler,);
}

impl URIHandlerImpl for OnvifHttpsSrc {
    const URI_TYPE: gst::URIType = gst::URIType::Src;

    fn protocols() -> &'static [&'static str] {
        &["onvif", "onvifs"]
    }

    /// The location as `onvif(s)://`, with the user but never the password, and the query
    /// the URI was set with.
    fn uri(&self) -> Option<String> {
        let s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        let loc = url::Url::parse(s.location.as_deref()?).ok()?;
        let scheme = if loc.scheme() == "https" {
            "onvifs"
        } else {
            "onvif"
        };
        let user = s
            .user_id
            .as_deref()
            .or(Some(loc.username()).filter(|u| !u.is_empty()))
            .map(|u| {
                format!(
                    "{}@",
                    percent_encoding::utf8_percent_encode(u, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .unwrap_or_default();
        let port = loc.port().map(|p| format!(":{p}")).unwrap_or_default();
        let query = s
            .uri_query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        Some(format!(
            "{scheme}://{user}{}{port}{}{query}",
            loc.host_str()?,
            loc.path()
        ))
    }

    fn set_uri(&self, uri: &str) -> Result<(), glib::Error> {
        self.set_uri_str(uri)
    }
}

impl ObjectImpl for OnvifHttpsSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                /**
                 * GstOnvifHttpsSrc:location:
                 *
                 * The device: `http://host[:port][/path]` (its HTTP ONVIF address, as a VMS
                 * adds hardware) or `https://host[:port][/path]`. IPv6 in `[]`.
                 */
                glib::ParamSpecString::builder("location")
                    .nick("Location")
                    .blurb("ONVIF device address: http://HOST[:PORT] or https://HOST[:PORT]")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:user-id:
                 *
                 * User name for the device (SOAP, snapshots and RTSP).
                 */
                glib::ParamSpecString::builder("user-id")
                    .nick("User ID")
                    .blurb("User name for the device")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:user-pw:
                 *
                 * Password for the device. Never logged, never in error texts.
                 */
                glib::ParamSpecString::builder("user-pw")
                    .nick("User password")
                    .blurb("Password for the device (never logged)")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:https-enable:
                 *
                 * Do all ONVIF and media exchanges over HTTPS. With an `http://` location,
                 * only the clock and the HTTPS port are read over HTTP, with digest-only
                 * credentials.
                 */
                glib::ParamSpecBoolean::builder("https-enable")
                    .nick("HTTPS enable")
                    .blurb("Do all ONVIF and media exchanges over HTTPS")
                    .default_value(DEFAULT_HTTPS_ENABLE)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:https-port:
                 *
                 * 0: read the HTTPS port from the device (GetNetworkProtocols), 443 when it
                 * gives none. Else use this port, and try to set it on the device with
                 * SetNetworkProtocols; a device that refuses or ignores it gets a warning.
                 */
                glib::ParamSpecUInt::builder("https-port")
                    .nick("HTTPS port")
                    .blurb("HTTPS port of the device (0 = ask the device)")
                    .maximum(u32::from(u16::MAX))
                    .default_value(DEFAULT_HTTPS_PORT)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:https-validate-certificate:
                 *
                 * Check that the certificate chains to a trusted root (system roots and
                 * `tls-ca-file`) and is within its validity period.
                 */
                glib::ParamSpecBoolean::builder("https-validate-certificate")
                    .nick("Validate certificate")
                    .blurb("Check the certificate chain and validity period")
                    .default_value(DEFAULT_VALIDATE_CERTIFICATE)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:https-validate-hostname:
                 *
                 * Check that the certificate is issued for the host of `location` (DNS
                 * name or IP address).
                 */
                glib::ParamSpecBoolean::builder("https-validate-hostname")
                    .nick("Validate hostname")
                    .blurb("Check that the certificate is issued for the host in location")
                    .default_value(DEFAULT_VALIDATE_HOSTNAME)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:tls-ca-file:
                 *
                 * PEM file of extra trusted roots (the device's own CA), added to the
                 * system's roots.
                 */
                glib::ParamSpecString::builder("tls-ca-file")
                    .nick("TLS CA file")
                    .blurb("PEM file of extra trusted root certificates")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:tls-certificate-sha256:
                 *
                 * Pin: only a certificate whose SHA-256 fingerprint matches is accepted,
                 * whatever its chain and the https-validate-* switches (for self-signed
                 * cameras). 64 hex digits, colons allowed, or a comma-separated list of them
                 * for certificate rotation; the error for a refused certificate prints the
                 * value to use.
                 */
                glib::ParamSpecString::builder("tls-certificate-sha256")
                    .nick("TLS certificate SHA-256")
                    .blurb("SHA-256 fingerprint(s), comma-separated, of the only certificates accepted")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:streaming-method:
                 *
                 * How media travels: `rtp-rtsp-http-tcp` tunnels RTSP over HTTPS (over
                 * HTTP when `https-enable=false`); `http-snapshot` fetches JPEG images.
                 * `rtp-rtsp-tcp` and `rtp-udp` are not available in this version and fail
                 * at start with a RESOURCE/SETTINGS error.
                 */
                glib::ParamSpecEnum::builder_with_default("streaming-method", DEFAULT_STREAMING_METHOD)
                    .nick("Streaming method")
                    .blurb("How media travels from the camera")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:streams:
                 *
                 * Which media to expose, one sometimes pad each: `video_0`, `audio_0`,
                 * `metadata_0`. Flags, e.g. `streams=video+audio`.
                 */
                glib::ParamSpecFlags::builder::<Streams>("streams")
                    .default_value(DEFAULT_STREAMS)
                    .nick("Streams")
                    .blurb("Which media to expose: video, audio, metadata")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:backchannel:
                 *
                 * Audio OUT to the camera. Not supported over HTTPS (spec §2): with
                 * `https-enable=true` and `backchannel=onvif` the element fails at start
                 * with a RESOURCE/SETTINGS error that says why.
                 */
                glib::ParamSpecEnum::builder_with_default("backchannel", DEFAULT_BACKCHANNEL)
                    .nick("Backchannel")
                    .blurb("Audio OUT to the camera (not supported over HTTPS)")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:events:
                 *
                 * Subscribe to the camera's pull-point events and post each notification
                 * as an `onvif-event` element message (`topic`, `utc-time`,
                 * `property-operation`, `source`, `data`). Works with every streaming
                 * method, on its own HTTPS connection.
                 */
                /**
                 * GstOnvifHttpsSrc:mode:
                 *
                 * `live`, or `playback` of a recording from the camera's edge storage
                 * (ONVIF Profile G), replayed through the RTSP tunnel over HTTPS. Each
                 * buffer then carries the recorded time as a `GstReferenceTimestampMeta`
                 * with caps `timestamp/x-ntp`; DISCONT marks a gap; EOS ends the range.
                 */
                glib::ParamSpecEnum::builder_with_default("mode", DEFAULT_MODE)
                    .nick("Mode")
                    .blurb("live, or playback of edge storage")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:recording-token:
                 *
                 * The recording to replay; none: the first one the device lists.
                 */
                glib::ParamSpecString::builder("recording-token")
                    .nick("Recording token")
                    .blurb("Recording to replay (mode=playback); none = the first one")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:playback-start:
                 *
                 * Where the replay starts, ISO 8601 UTC (`2025-03-14T09:41:00Z`); none:
                 * the recording's earliest data.
                 */
                glib::ParamSpecString::builder("playback-start")
                    .nick("Playback start")
                    .blurb("Replay start, ISO 8601 UTC; none = the earliest recorded time")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:playback-end:
                 *
                 * Where the replay ends (EOS), ISO 8601 UTC; none: open, until the
                 * recording ends.
                 */
                glib::ParamSpecString::builder("playback-end")
                    .nick("Playback end")
                    .blurb("Replay end, ISO 8601 UTC; none = until the recording ends")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:playback-speed:
                 *
                 * Replay speed, sent as the RTSP `Scale`; 1.0 is real time.
                 */
                glib::ParamSpecDouble::builder("playback-speed")
                    .nick("Playback speed")
                    .blurb("Replay speed (RTSP Scale); 1.0 = real time")
                    .minimum(0.01)
                    .maximum(64.0)
                    .default_value(DEFAULT_PLAYBACK_SPEED)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("events")
                    .nick("Events")
                    .blurb("Post the camera's pull-point events as onvif-event messages")
                    .default_value(DEFAULT_EVENTS)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:profile:
                 *
                 * Media profile token (or name); none: the first profile with video.
                 */
                glib::ParamSpecString::builder("profile")
                    .nick("Profile")
                    .blurb("Media profile token; none = the first profile with video")
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:snapshot-interval:
                 *
                 * Period of `http-snapshot`, in milliseconds.
                 */
                glib::ParamSpecUInt::builder("snapshot-interval")
                    .nick("Snapshot interval")
                    .blurb("Period of http-snapshot in milliseconds")
                    .minimum(1)
                    .maximum(3_600_000)
                    .default_value(DEFAULT_SNAPSHOT_INTERVAL)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:timeout:
                 *
                 * Bound of every connect and SOAP/HTTP exchange, in seconds.
                 */
                glib::ParamSpecUInt::builder("timeout")
                    .nick("Timeout")
                    .blurb("Bound of every connect and SOAP/HTTP exchange in seconds")
                    .minimum(1)
                    .maximum(3600)
                    .default_value(DEFAULT_TIMEOUT)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:latency:
                 *
                 * Latency reported for the RTP streams, in milliseconds: the budget for
                 * network jitter between the camera and the pipeline.
                 */
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("Latency of the RTP streams in milliseconds")
                    .maximum(60_000)
                    .default_value(DEFAULT_LATENCY)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:reconnect:
                 *
                 * After the media stream was lost (connection closed or reset, keep-alive
                 * unanswered, device rebooting), post an `onvif-reconnecting` element
                 * message and a warning and start again with capped exponential back-off,
                 * staying in PLAYING (the first buffer after the gap has DISCONT). The same
                 * for the event subscription (`events`). FALSE: the loss is an error.
                 */
                glib::ParamSpecBoolean::builder("reconnect")
                    .nick("Reconnect")
                    .blurb("Reconnect after the media stream or the event subscription was lost instead of failing")
                    .default_value(DEFAULT_RECONNECT)
                    .mutable_ready()
                    .build(),
                /**
                 * GstOnvifHttpsSrc:reconnect-max-delay:
                 *
                 * Longest wait between two reconnection attempts, in seconds (the first
                 * comes after 250 ms, each next one waits twice as long).
                 */
                glib::ParamSpecUInt::builder("reconnect-max-delay")
                    .nick("Reconnect maximum delay")
                    .blurb("Longest wait between two reconnection attempts in seconds")
                    .minimum(1)
                    .maximum(3600)
                    .default_value(DEFAULT_RECONNECT_MAX_DELAY)
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        // The action signals' client belongs to the old settings.
        self.control_stale
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut c) = self.control.try_lock() {
            *c = None;
        }
        if matches!(pspec.name(), "https-port" | "https-enable") {
            // The bootstrap's port belongs to the old settings.
            *self.boot.lock().unwrap_or_else(PoisonError::into_inner) = Default::default();
        }
        if pspec.name() == "location" {
            let v = value
                .get::<Option<String>>()
                .expect("type checked upstream");
            if let Err(err) = self.set_location(v) {
                gst::error!(CAT, imp = self, "Failed to set property `location`: {err}");
            }
            return;
        }
        let mut s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        let opt = |v: &glib::Value| {
            v.get::<Option<String>>()
                .expect("type checked upstream")
                .filter(|s| !s.is_empty())
        };
        match pspec.name() {
            "user-id" => s.user_id = opt(value),
            "user-pw" => s.user_pw = opt(value),
            "https-enable" => s.https_enable = value.get().expect("type checked upstream"),
            "https-port" => s.https_port = value.get().expect("type checked upstream"),
            "https-validate-certificate" => {
                s.validate_certificate = value.get().expect("type checked upstream")
            }
            "https-validate-hostname" => {
                s.validate_hostname = value.get().expect("type checked upstream")
            }
            "tls-ca-file" => s.tls_ca_file = opt(value),
            "tls-certificate-sha256" => s.tls_certificate_sha256 = opt(value),
            "streaming-method" => s.streaming_method = value.get().expect("type checked upstream"),
            "profile" => s.profile = opt(value),
            "snapshot-interval" => {
                s.snapshot_interval = value.get().expect("type checked upstream")
            }
            "timeout" => s.timeout = value.get().expect("type checked upstream"),
            "streams" => s.streams = value.get().expect("type checked upstream"),
            "latency" => s.latency = value.get().expect("type checked upstream"),
            "backchannel" => s.backchannel = value.get().expect("type checked upstream"),
            "events" => s.events = value.get().expect("type checked upstream"),
            "mode" => s.mode = value.get().expect("type checked upstream"),
            "recording-token" => s.recording_token = opt(value),
            "playback-start" => s.playback_start = opt(value),
            "playback-end" => s.playback_end = opt(value),
            "playback-speed" => s.playback_speed = value.get().expect("type checked upstream"),
            "reconnect" => s.reconnect = value.get().expect("type checked upstream"),
            "reconnect-max-delay" => {
                s.reconnect_max_delay = value.get().expect("type checked upstream")
            }
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        match pspec.name() {
            // Read back without a password written into it (pipeline dumps, logs of
            // property values); the element keeps and uses it.
            "location" => s.location.as_deref().map(without_password).to_value(),
            "user-id" => s.user_id.to_value(),
            "user-pw" => s.user_pw.to_value(),
            "https-enable" => s.https_enable.to_value(),
            "https-port" => s.https_port.to_value(),
            "https-validate-certificate" => s.validate_certificate.to_value(),
            "https-validate-hostname" => s.validate_hostname.to_value(),
            "tls-ca-file" => s.tls_ca_file.to_value(),
            "tls-certificate-sha256" => s.tls_certificate_sha256.to_value(),
            "streaming-method" => s.streaming_method.to_value(),
            "profile" => s.profile.to_value(),
            "snapshot-interval" => s.snapshot_interval.to_value(),
            "timeout" => s.timeout.to_value(),
            "streams" => s.streams.to_value(),
            "latency" => s.latency.to_value(),
            "backchannel" => s.backchannel.to_value(),
            "events" => s.events.to_value(),
            "mode" => s.mode.to_value(),
            "recording-token" => s.recording_token.to_value(),
            "playback-start" => s.playback_start.to_value(),
            "playback-end" => s.playback_end.to_value(),
            "playback-speed" => s.playback_speed.to_value(),
            "reconnect" => s.reconnect.to_value(),
            "reconnect-max-delay" => s.reconnect_max_delay.to_value(),
            _ => unimplemented!(),
        }
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(super::signals::list);
        SIGNALS.as_ref()
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }
}

impl GstObjectImpl for OnvifHttpsSrc {}

impl ElementImpl for OnvifHttpsSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "ONVIF HTTPS Source",
                "Source/Network/Video/Audio",
                "Talks ONVIF to an IP camera over HTTPS and brings its media into the pipeline",
                "onvifhttps developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let video = gst::Caps::builder_full()
                .structure(gst::Structure::new_empty("application/x-rtp"))
                .structure(gst::Structure::new_empty("image/jpeg"))
                .build();
            let rtp = gst::Caps::new_empty_simple("application/x-rtp");
            vec![
                gst::PadTemplate::new(
                    "video_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &video,
                )
                .expect("valid template"),
                gst::PadTemplate::new(
                    "audio_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &rtp,
                )
                .expect("valid template"),
                gst::PadTemplate::new(
                    "metadata_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &rtp,
                )
                .expect("valid template"),
            ]
        });
        PAD_TEMPLATES.as_ref()
    }

    fn send_event(&self, event: gst::Event) -> bool {
        // An EOS to the element (a recorder finishing its file): every pad ends after what
        // is queued.
        if let gst::EventView::Eos(_) = event.view() {
            return match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
                State::Started(started) => {
                    started.output.pads.send_eos();
                    true
                }
                State::Stopped => false,
            };
        }
        self.parent_send_event(event)
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToNull {
            // An action signal blocked on a silent device returns now (FALSE/NULL).
            for c in self
                .signal_waits
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                runtime::cancel(c);
            }
        }
        if transition == gst::StateChange::ReadyToPaused
            && let Err(msg) = self.start()
        {
            self.post_error_message(msg);
            return Err(gst::StateChangeError);
        }
        if transition == gst::StateChange::PlayingToPaused {
            self.set_playing(false);
        }
        let mut success = self.parent_change_state(transition)?;
        match transition {
            gst::StateChange::PausedToPlaying => self.set_playing(true),
            // A live source: no preroll.
            gst::StateChange::ReadyToPaused | gst::StateChange::PlayingToPaused => {
                success = gst::StateChangeSuccess::NoPreroll;
            }
            gst::StateChange::PausedToReady => self.stop(),
            gst::StateChange::ReadyToNull => {
                self.control_stale
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                if let Ok(mut c) = self.control.try_lock() {
                    *c = None;
                }
            }
            _ => {}
        }
        Ok(success)
    }
}
