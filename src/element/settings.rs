// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's settings: the property values, their defaults, and the checks that turn
//! them into what the session needs (spec §3: a setting that makes no sense with another
//! fails at start, naming both).

use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::ObjectSubclassIsExt;

use super::{Backchannel, Mode, StreamingMethod, Streams};
use crate::client::onvif::cache::DeviceKey;
use crate::client::onvif::{StartSettings, Wants};
use crate::error::Error;
use crate::log::CAT;
use crate::proto::auth::Credentials;
use crate::session::{LiveSettings, PlaybackSettings, SnapshotSettings, Transport};
use crate::transport::tls::{self, TlsSettings};

pub(super) const DEFAULT_HTTPS_ENABLE: bool = true;
pub(super) const DEFAULT_HTTPS_PORT: u32 = 0;
pub(super) const DEFAULT_VALIDATE_CERTIFICATE: bool = true;
pub(super) const DEFAULT_VALIDATE_HOSTNAME: bool = true;
pub(super) const DEFAULT_STREAMING_METHOD: StreamingMethod = StreamingMethod::RtpRtspHttpTcp;
pub(super) const DEFAULT_SNAPSHOT_INTERVAL: u32 = 1000;
pub(super) const DEFAULT_TIMEOUT: u32 = 10;
pub(super) const DEFAULT_STREAMS: Streams = Streams::VIDEO;
pub(super) const DEFAULT_LATENCY: u32 = 200;
pub(super) const DEFAULT_BACKCHANNEL: Backchannel = Backchannel::None;
pub(super) const DEFAULT_MODE: Mode = Mode::Live;
pub(super) const DEFAULT_PLAYBACK_SPEED: f64 = 1.0;
pub(super) const DEFAULT_EVENTS: bool = false;
pub(super) const DEFAULT_RECONNECT: bool = true;
pub(super) const DEFAULT_RECONNECT_MAX_DELAY: u32 = 30;
/// `srtp-rekey-interval`: 0, the keys of the SETUP for the whole session.
pub(super) const DEFAULT_SRTP_REKEY_INTERVAL: u32 = 0;
/// The shortest `srtp-rekey-interval` taken: each re-key is a round trip per stream, and
/// the SRTP library keeps every old key's state (about 300 bytes) until the session ends.
pub(super) const MIN_SRTP_REKEY_INTERVAL: u32 = 60;

/// `location`, parsed and checked when it is set: the URL the element uses, and the text
/// as the user wrote it (read back without its password).
#[derive(Clone)]
pub(super) struct Location {
    pub(super) url: url::Url,
    pub(super) text: String,
}

impl Location {
    /// Parses and checks `text` (`http://` or `https://`, a host).
    pub(super) fn parse(text: &str) -> Result<Location, Error> {
        Ok(Location {
            url: parse_location(text)?,
            text: text.to_string(),
        })
    }
}

/// `playback-start` or `playback-end`, parsed when it is set: the text (read back as
/// written) and the time it names, Unix ms (`None`: not an ISO 8601 UTC time;
/// `mode=playback` then fails at start, naming it).
#[derive(Clone, Debug)]
pub(super) struct PlaybackTime {
    pub(super) text: String,
    pub(super) ms: Option<i64>,
}

impl PlaybackTime {
    fn parse(text: String) -> Self {
        let ms = crate::proto::clock::parse_utc_millis(&text);
        PlaybackTime { text, ms }
    }
}

/// The element's properties, as set.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) location: Option<Location>,
    pub(super) user_id: Option<String>,
    pub(super) user_pw: Option<String>,
    pub(super) https_enable: bool,
    pub(super) https_port: u32,
    pub(super) validate_certificate: bool,
    pub(super) validate_hostname: bool,
    pub(super) tls_ca_file: Option<String>,
    pub(super) tls_certificate_sha256: Option<String>,
    pub(super) tls_trust_store: Option<String>,
    pub(super) tls_trust_on_first_use: bool,
    pub(super) streaming_method: StreamingMethod,
    pub(super) profile: Option<String>,
    pub(super) snapshot_interval: u32,
    pub(super) timeout: u32,
    pub(super) streams: Streams,
    pub(super) latency: u32,
    pub(super) backchannel: Backchannel,
    pub(super) events: bool,
    pub(super) mode: Mode,
    pub(super) recording_token: Option<String>,
    pub(super) playback_start: Option<PlaybackTime>,
    pub(super) playback_end: Option<PlaybackTime>,
    pub(super) playback_speed: f64,
    pub(super) reconnect: bool,
    pub(super) reconnect_max_delay: u32,
    pub(super) srtp_rekey_interval: u32,
    pub(super) stats_interval: u32,
    /// The query of the `onvif(s)://` URI the element was given (without `user-pw`).
    pub(super) uri_query: Option<String>,
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
            tls_trust_store: None,
            tls_trust_on_first_use: false,
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
            srtp_rekey_interval: DEFAULT_SRTP_REKEY_INTERVAL,
            stats_interval: 0,
            uri_query: None,
        }
    }
}

// Written by hand so that the password never reaches a log.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let location = self
            .location
            .as_ref()
            .map(|l| crate::error::sanitize_url(&l.url));
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
            .field("tls_trust_store", &self.tls_trust_store)
            .field("tls_trust_on_first_use", &self.tls_trust_on_first_use)
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
            .field(
                "playback_start",
                &self.playback_start.as_ref().map(|t| &t.text),
            )
            .field("playback_end", &self.playback_end.as_ref().map(|t| &t.text))
            .field("playback_speed", &self.playback_speed)
            .field("reconnect", &self.reconnect)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("srtp_rekey_interval", &self.srtp_rekey_interval)
            .finish()
    }
}

/// What `start()` runs.
pub(super) enum Job {
    Snapshot(SnapshotSettings),
    Live(LiveSettings),
}

impl Settings {
    /// How long at most between two attempts to start a lost stream or event
    /// subscription again; `None` (`reconnect=false`): a loss is an error.
    pub(super) fn reconnect(&self) -> Option<Duration> {
        self.reconnect
            .then(|| Duration::from_secs(u64::from(self.reconnect_max_delay)))
    }

    /// Sets property `name` from `value` (of its type: GObject checked it); `location`
    /// is checked and set by the element.
    pub(super) fn set(&mut self, name: &str, value: &glib::Value) {
        let s = self;
        let opt = |v: &glib::Value| {
            v.get::<Option<String>>()
                .expect("type checked upstream")
                .filter(|s| !s.is_empty())
        };
        match name {
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
            "tls-trust-store" => s.tls_trust_store = opt(value),
            "tls-trust-on-first-use" => {
                s.tls_trust_on_first_use = value.get().expect("type checked upstream")
            }
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
            "playback-start" => s.playback_start = opt(value).map(PlaybackTime::parse),
            "playback-end" => s.playback_end = opt(value).map(PlaybackTime::parse),
            "playback-speed" => s.playback_speed = value.get().expect("type checked upstream"),
            "reconnect" => s.reconnect = value.get().expect("type checked upstream"),
            "reconnect-max-delay" => {
                s.reconnect_max_delay = value.get().expect("type checked upstream")
            }
            "srtp-rekey-interval" => {
                s.srtp_rekey_interval = value.get().expect("type checked upstream")
            }
            "stats-interval" => s.stats_interval = value.get().expect("type checked upstream"),
            _ => unimplemented!(),
        }
    }

    /// The value of property `name` (`location` is read back by the element).
    pub(super) fn get(&self, name: &str) -> glib::Value {
        let s = self;
        match name {
            "user-id" => s.user_id.to_value(),
            // Write-only: GObject never asks; nothing to give if it did.
            "user-pw" => None::<String>.to_value(),
            "https-enable" => s.https_enable.to_value(),
            "https-port" => s.https_port.to_value(),
            "https-validate-certificate" => s.validate_certificate.to_value(),
            "https-validate-hostname" => s.validate_hostname.to_value(),
            "tls-ca-file" => s.tls_ca_file.to_value(),
            "tls-certificate-sha256" => s.tls_certificate_sha256.to_value(),
            "tls-trust-store" => s.tls_trust_store.to_value(),
            "tls-trust-on-first-use" => s.tls_trust_on_first_use.to_value(),
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
            "playback-start" => s.playback_start.as_ref().map(|t| t.text.clone()).to_value(),
            "playback-end" => s.playback_end.as_ref().map(|t| t.text.clone()).to_value(),
            "playback-speed" => s.playback_speed.to_value(),
            "reconnect" => s.reconnect.to_value(),
            "reconnect-max-delay" => s.reconnect_max_delay.to_value(),
            "srtp-rekey-interval" => s.srtp_rekey_interval.to_value(),
            "stats-interval" => s.stats_interval.to_value(),
            _ => unimplemented!(),
        }
    }

    /// What the ONVIF start-up needs: location, TLS, credentials and wanted streams,
    /// checked, with the warnings the settings deserve. Shared by the streaming session
    /// and the action signals, with what the element knows of the device.
    pub(super) fn start_settings(
        &self,
        element: &super::OnvifHttpsSrc,
    ) -> Result<(StartSettings, Vec<String>), Error> {
        let s = self;
        let mut warnings = Vec::new();
        let url =
            s.location.as_ref().map(|l| l.url.clone()).ok_or_else(|| {
                Error::Settings("No location set: set location=http://CAMERA".into())
            })?;
        let pins = match &s.tls_certificate_sha256 {
            Some(p) => tls::parse_pins(p).ok_or_else(|| {
                Error::Settings(format!(
                    "tls-certificate-sha256={p:?} is not a SHA-256 fingerprint (64 hex digits, \
                     colons allowed) or a comma-separated list of them"
                ))
            })?,
            None => Vec::new(),
        };
        let uses_tls = s.https_enable || url.scheme() == "https" || s.streaming_method.is_rtsps();
        if uses_tls && std::env::var_os("SSLKEYLOGFILE").is_some() {
            gst::info!(
                CAT,
                obj = element,
                "SSLKEYLOGFILE is set: TLS session keys are written to it"
            );
        }
        let trust = self.trust_store(&pins, &mut warnings)?;
        let tls = if uses_tls {
            Some(
                tls::client_config(
                    &TlsSettings {
                        validate_certificate: s.validate_certificate,
                        validate_hostname: s.validate_hostname,
                        ca_file: s.tls_ca_file.clone(),
                        pins: pins.clone(),
                        trust,
                    },
                    Some(trusted_on_first_use(element)),
                )
                .map_err(Error::Settings)?,
            )
        } else {
            None
        };
        let rtsps = s.streaming_method.is_rtsps();
        if !s.https_enable {
            warnings.push(if rtsps {
                let method = if s.streaming_method == StreamingMethod::RtspsSrtp {
                    "encrypted (streaming-method=rtsps-srtp)"
                } else {
                    "inside TLS (streaming-method=rtsps)"
                };
                format!(
                    "https-enable=false: the ONVIF exchanges travel in clear (passwords only \
                     as digests); anyone on the path can read and change them. The RTSP \
                     session and the media stay {method}"
                )
            } else {
                "https-enable=false: everything travels in clear: the ONVIF exchanges \
                 (passwords only as digests), the RTSP session and the media; anyone on the \
                 path can read and change them"
                    .to_string()
            });
        }
        // What TLS there is, checked less than fully.
        if (s.https_enable || rtsps) && !(s.validate_certificate && s.validate_hostname) {
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
        let https_port = u16::try_from(s.https_port).unwrap_or(0);
        let boot = element
            .imp()
            .boot_cache(DeviceKey::of(&url, https_port, s.https_enable));
        let start = StartSettings {
            location: url,
            creds,
            https_enable: s.https_enable,
            https_port,
            tls,
            profile: s.profile.clone(),
            timeout: Duration::from_secs(u64::from(s.timeout.max(1))),
            wants: Wants {
                video: s.streams.contains(Streams::VIDEO),
                audio: s.streams.contains(Streams::AUDIO),
                metadata: s.streams.contains(Streams::METADATA),
            },
            boot,
            stats: Default::default(),
        };
        Ok((start, warnings))
    }

    /// Checks the settings and turns them into what the session needs.
    pub(super) fn prepare(
        &self,
        element: &super::OnvifHttpsSrc,
    ) -> Result<(Job, Vec<String>), Error> {
        let s = self;
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
            let (audio, fix) = if s.backchannel == Backchannel::Onvif {
                (
                    ", and the backchannel's audio",
                    ", or streaming-method=rtsps for encrypted Audio OUT",
                )
            } else {
                ("", "")
            };
            warnings.push(format!(
                "streaming-method={method}: the media (and the RTSP session{audio}) travel \
                 unencrypted; ONVIF stays on HTTPS. Use streaming-method=rtp-rtsp-http-tcp \
                 for encrypted media{fix}"
            ));
        }
        let backchannel = s.backchannel == Backchannel::Onvif;
        if backchannel {
            match s.streaming_method {
                // Spec §2: neither ONVIF nor Apple's tunnelling note defines how a
                // backchannel travels through the HTTP tunnel.
                StreamingMethod::RtpRtspHttpTcp => {
                    return Err(Error::Settings(format!(
                        "backchannel=onvif cannot be used with streaming-method=rtp-rtsp-http-tcp{}: \
                         Audio OUT (backchannel) is not supported over HTTPS, because neither \
                         the ONVIF specification nor Apple's RTSP-over-HTTP document defines \
                         how a backchannel travels through the tunnel. Use \
                         streaming-method=rtsps for encrypted Audio OUT (RTSP over TLS, where \
                         the device offers it), rtp-rtsp-tcp unencrypted, or backchannel=none",
                        if s.https_enable {
                            " and https-enable=true"
                        } else {
                            ""
                        }
                    )));
                }
                StreamingMethod::HttpSnapshot => {
                    return Err(Error::Settings(
                        "backchannel=onvif cannot be used with streaming-method=http-snapshot: \
                         Audio OUT goes with an RTSP session. Use streaming-method=rtsps \
                         (encrypted)"
                            .into(),
                    ));
                }
                StreamingMethod::Rtsps
                | StreamingMethod::RtspsSrtp
                | StreamingMethod::RtpRtspTcp
                | StreamingMethod::RtpUdp => {}
            }
            if s.mode == Mode::Playback {
                return Err(Error::Settings(
                    "backchannel=onvif cannot be used with mode=playback: Audio OUT goes to \
                     the live camera"
                        .into(),
                ));
            }
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
        let playback = self.playback_settings(&method)?;
        let (start, more) = self.start_settings(element)?;
        warnings.extend(more);
        let reconnect = s.reconnect();
        let srtp_rekey = self.srtp_rekey(&method, &mut warnings);
        let job = match transport_of(s.streaming_method) {
            None => Job::Snapshot(SnapshotSettings {
                start,
                interval: Duration::from_millis(u64::from(s.snapshot_interval.max(1))),
            }),
            Some(transport) => Job::Live(LiveSettings {
                start,
                transport,
                playback,
                reconnect,
                backchannel,
                srtp_rekey,
            }),
        };
        Ok((job, warnings))
    }

    /// The trust store and whether it learns (`tls-trust-store`,
    /// `tls-trust-on-first-use`): first use needs a store; a pin decides alone (a warning
    /// says the store is not consulted).
    fn trust_store(
        &self,
        pins: &[[u8; 32]],
        warnings: &mut Vec<String>,
    ) -> Result<Option<(crate::transport::trust::TrustStore, bool)>, Error> {
        let Some(path) = self.tls_trust_store.as_deref() else {
            if self.tls_trust_on_first_use {
                return Err(Error::Settings(
                    "tls-trust-on-first-use=true needs tls-trust-store=FILE: the file where \
                     the certificates trusted on first use are kept (and required from then \
                     on)"
                    .into(),
                ));
            }
            return Ok(None);
        };
        if !pins.is_empty() {
            warnings.push(format!(
                "tls-trust-store={path} is not consulted: tls-certificate-sha256 is set, and a \
                 pin decides alone"
            ));
            return Ok(None);
        }
        let store = crate::transport::trust::TrustStore::new(path);
        store.check().map_err(|e| Error::Settings(e.0))?;
        Ok(Some((store, self.tls_trust_on_first_use)))
    }

    /// How often the SRTP keys are replaced: `srtp-rekey-interval`, raised to its
    /// minimum, only with `rtsps-srtp` (a warning says what is not taken).
    fn srtp_rekey(&self, method: &str, warnings: &mut Vec<String>) -> Option<Duration> {
        let every = self.srtp_rekey_interval;
        if every == 0 {
            return None;
        }
        if self.streaming_method != StreamingMethod::RtspsSrtp {
            warnings.push(format!(
                "srtp-rekey-interval={every} is ignored with streaming-method={method}: only \
                 rtsps-srtp has SRTP keys to replace"
            ));
            return None;
        }
        if every < MIN_SRTP_REKEY_INTERVAL {
            warnings.push(format!(
                "srtp-rekey-interval={every} is raised to {MIN_SRTP_REKEY_INTERVAL} s: each \
                 re-key is a round trip per stream, and every old key's state stays until \
                 the session ends"
            ));
        }
        Some(Duration::from_secs(u64::from(
            every.max(MIN_SRTP_REKEY_INTERVAL),
        )))
    }

    /// `mode=playback` settings, checked (spec §3: a setting that makes no sense with
    /// another fails at start naming both).
    fn playback_settings(&self, method: &str) -> Result<Option<PlaybackSettings>, Error> {
        let s = self;
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
        let time = |name: &str, v: &Option<PlaybackTime>| -> Result<Option<i64>, Error> {
            match v {
                None => Ok(None),
                Some(t) => t.ms.map(Some).ok_or_else(|| {
                    Error::Settings(format!(
                        "{name}={:?} is not an ISO 8601 UTC time such as 2025-03-14T09:41:00Z",
                        t.text
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
                s.playback_end.as_ref().map_or("", |t| t.text.as_str()),
                s.playback_start.as_ref().map_or("", |t| t.text.as_str())
            )));
        }
        Ok(Some(PlaybackSettings {
            recording: s.recording_token.clone(),
            start_ms,
            end_ms,
            speed: s.playback_speed,
        }))
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

/// `video+audio`, as gst-launch writes flags.
pub(super) fn streams_nick(f: Streams) -> String {
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
pub(super) fn parse_location(s: &str) -> Result<url::Url, Error> {
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

/// How the RTSP session of `method` travels; `None` for snapshots (no RTSP).
fn transport_of(method: StreamingMethod) -> Option<Transport> {
    match method {
        StreamingMethod::HttpSnapshot => None,
        StreamingMethod::RtpRtspHttpTcp => Some(Transport::Http),
        StreamingMethod::RtpRtspTcp => Some(Transport::Rtsp),
        StreamingMethod::RtpUdp => Some(Transport::Udp),
        StreamingMethod::Rtsps => Some(Transport::Rtsps),
        StreamingMethod::RtspsSrtp => Some(Transport::RtspsSrtp),
    }
}

/// Said when a certificate is trusted on first use: an `onvif-certificate-trusted`
/// element message (host, port, both fingerprints, subject, validity, the store and its
/// line) and a warning.
fn trusted_on_first_use(element: &super::OnvifHttpsSrc) -> tls::Notify {
    let weak = element.downgrade();
    std::sync::Arc::new(move |t: &tls::Trusted| {
        let Some(e) = weak.upgrade() else {
            return;
        };
        let s = gst::Structure::builder("onvif-certificate-trusted")
            .field("host", t.host.as_str())
            .field("port", u32::from(t.port))
            .field("spki-sha256", t.spki.as_str())
            .field("certificate-sha256", t.cert.as_str())
            .field("subject", t.subject.as_str())
            .field("not-before", t.not_before.as_str())
            .field("not-after", t.not_after.as_str())
            .field("trust-store", t.store.as_str())
            .field("line", u32::try_from(t.line).unwrap_or(u32::MAX))
            .build();
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
        let text = crate::error::printable(&format!(
            "trusted on first use: {} presented a certificate no check vouches for ({}, \
             SHA-256 {}); its public key (SPKI SHA-256 {}) is now line {} of {}, and only \
             that key is accepted there from now on (HTTP Basic is not answered to it until \
             the next start)",
            t.key, t.subject, t.cert, t.spki, t.line, t.store
        ))
        .into_owned();
        gst::element_warning!(e, gst::ResourceError::OpenRead, ("{}", text), ["{}", text]);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `srtp-rekey-interval`: off at 0, raised to its floor, and only with `rtsps-srtp`
    /// (with another method a warning says it is ignored).
    #[test]
    fn test_the_rekey_interval_is_checked() {
        let mut s = Settings {
            streaming_method: StreamingMethod::RtspsSrtp,
            ..Settings::default()
        };
        let mut warnings = Vec::new();
        assert_eq!(s.srtp_rekey("rtsps-srtp", &mut warnings), None);
        s.srtp_rekey_interval = 3600;
        assert_eq!(
            s.srtp_rekey("rtsps-srtp", &mut warnings),
            Some(Duration::from_secs(3600))
        );
        assert!(warnings.is_empty());
        s.srtp_rekey_interval = 5;
        assert_eq!(
            s.srtp_rekey("rtsps-srtp", &mut warnings),
            Some(Duration::from_secs(60))
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("srtp-rekey-interval=5 is raised to 60 s"));
        s.streaming_method = StreamingMethod::Rtsps;
        assert_eq!(s.srtp_rekey("rtsps", &mut warnings), None);
        assert!(warnings[1].starts_with(
            "srtp-rekey-interval=5 is ignored with streaming-method=rtsps: only rtsps-srtp"
        ));
    }
}
