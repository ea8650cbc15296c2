// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A virtual ONVIF camera on 127.0.0.1 for the tests, the demo and the benchmarks of
//! `onvifhttpssrc` (spec §12).
//!
//! It serves SOAP over HTTP and HTTPS (certificates generated at start), checks
//! WS-UsernameToken and HTTP Digest, and serves JPEG snapshots behind Digest. Switches
//! reproduce what real devices do: Digest-only or WS-Security-only authentication, a
//! skewed clock, SetNetworkProtocols accepted, refused or silently ignored, and `http://`
//! XAddrs on an HTTPS session. It runs on its own runtime, so a test needs no tokio.

mod auth;
pub mod bench;
pub mod certs;
mod device;
pub mod discovery;
pub mod events;
mod flood;
mod front;
mod http;
pub mod media;
pub mod metadata;
mod ntp;
pub mod persona;
pub mod profiles;
pub mod recording;
pub mod replay;
mod server;
mod snapshot;
mod soap;
pub mod srtp;
pub mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use device::{Device, RtspsUriPort};
pub use gst_rtsp_server::gio;
pub use http::Request;

/// How the camera authenticates SOAP requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// WS-UsernameToken only: HTTP 400 with a `ter:NotAuthorized` fault otherwise
    /// (TP-Link Tapo).
    WsSecurity,
    /// HTTP Digest only: HTTP 401 challenges (Hikvision in "Digest" mode).
    Digest,
    /// Either one (most devices).
    Either,
}

/// How the camera refuses a SOAP request, when a device's own shape is wanted instead of
/// the auth mode's (`docs/rtsp-urls-and-vendors.md` §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// The SOAP fault `(code, subcode, reason)`; `None`: an HTML error page.
    pub fault: Option<(String, Option<String>, String)>,
    /// A Digest challenge goes with it.
    pub challenge: bool,
}

impl Refusal {
    /// A SOAP fault refusal.
    pub fn fault(status: u16, code: &str, subcode: Option<&str>, reason: &str) -> Refusal {
        Refusal {
            status,
            fault: Some((code.into(), subcode.map(String::from), reason.into())),
            challenge: false,
        }
    }

    /// An HTML "Document Error: Unauthorized" page (Hikvision).
    pub fn html(status: u16, challenge: bool) -> Refusal {
        Refusal {
            status,
            fault: None,
            challenge,
        }
    }
}

/// What the camera does with SetNetworkProtocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetProtocols {
    /// Moves HTTPS to the asked port.
    Accept,
    /// Answers a SOAP fault.
    Fault,
    /// Answers success and keeps the old port (Milestone's silent refusal).
    Ignore,
}

/// How GetServices lists the camera's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceListing {
    /// Each under its own namespace.
    #[default]
    Right,
    /// Under the namespaces a device built on a third-party ONVIF server crate and other
    /// firmware write: PTZ under ver10, events, recording, search and replay under ver20,
    /// DeviceIO as `deviceio`, Media2 with a trailing slash. The services themselves
    /// answer in their own namespaces.
    Misfiled,
    /// Only the device and media services; the others only in GetCapabilities (older
    /// firmware).
    Unlisted,
}

/// The camera's switches, in groups: device facts, vendor quirks and personas, faults, and
/// the benchmark mode.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub device: Device,
    pub quirks: Quirks,
    pub faults: Faults,
    /// Benchmark mode: the tunnel serves a fixed-bitrate pre-packetised stream instead of
    /// gst-rtsp-server's media.
    pub bench: Option<bench::Bench>,
}

/// Vendor behaviours a client must survive, one switch each, and the vendor personas
/// (which set several).
#[derive(Debug, Clone)]
pub struct Quirks {
    pub set_protocols: SetProtocols,
    /// Return `http://` XAddrs and URIs on the HTTP port even to HTTPS requests.
    pub http_xaddrs: bool,
    /// Demand HTTP Digest on the RTSP tunnel's GET and POST (ONVIF says devices should
    /// not; some Axis firmware does).
    pub tunnel_auth: bool,
    /// RTSP authentication with Basic instead of Digest.
    pub rtsp_basic: bool,
    /// Answer a relative termination time with almost nothing (field quirk); absolute
    /// times are honoured, and PullMessages does not extend the subscription.
    pub relative_termination_bug: bool,
    /// Refuse Renew with ActionNotSupported (PullMessages keeps subscriptions alive).
    pub renew_refused: bool,
    /// Hold the answer to PLAY in the tunnel until a few media packets have gone out
    /// after it, as devices do that start sending before they answer (the packets come
    /// first on the wire).
    pub media_before_play_answer: bool,
    /// PRE_AUTH operations (GetSystemDateAndTime, GetServices, GetCapabilities,
    /// GetServiceCapabilities) need credentials too, as devices may demand.
    pub strict_pre_auth: bool,
    /// How a request without credentials is refused (`None`: as the auth mode does).
    pub anonymous_refusal: Option<Refusal>,
    /// How a request with wrong credentials is refused (`None`: as the auth mode does).
    pub credentials_refusal: Option<Refusal>,
    /// A vendor's behaviour on the RTSP and SOAP sides (set with [`persona::Persona::apply`],
    /// which also sets the SOAP switches the vendor needs). `None`: the camera's own.
    pub persona: Option<persona::Persona>,
    /// HTTP Digest challenges without `qop` (RFC 2069 style).
    pub digest_without_qop: bool,
    /// Answer GetNetworkProtocols without credentials (devices that treat it as PRE_AUTH).
    pub open_network_protocols: bool,
    /// How GetServices lists the services.
    pub service_listing: ServiceListing,
    /// After a PAUSE, send the last RTP packets sent before it once more, just before the
    /// answer to the PLAY that follows: packets of the old position after the PAUSE
    /// answer, as gst-rtsp-server's send queue can let through (a seek's client must drop
    /// them by the PLAY answer's `RTP-Info` seq).
    pub stale_after_pause: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            set_protocols: SetProtocols::Accept,
            http_xaddrs: true,
            tunnel_auth: false,
            rtsp_basic: false,
            relative_termination_bug: false,
            renew_refused: false,
            media_before_play_answer: false,
            strict_pre_auth: false,
            anonymous_refusal: None,
            credentials_refusal: None,
            persona: None,
            digest_without_qop: false,
            open_network_protocols: false,
            service_listing: ServiceListing::Right,
            stale_after_pause: false,
        }
    }
}

/// Failures on purpose: faults and garbage on one operation, lost subscriptions, a device
/// that hangs up, floods or whose UDP never arrives.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer this operation with a SOAP fault (`ter:ActionFailed`).
    pub fault_on: Option<String>,
    /// Answer this operation with malformed XML.
    pub garbage_on: Option<String>,
    /// Lose each subscription after this many PullMessages (then ResourceUnknown).
    pub pulls_per_subscription: Option<u32>,
    /// Close the RTSP connection right after answering PLAY (a device that accepts the
    /// session and drops it at once).
    pub hang_up_after_play: bool,
    /// Close the RTSP connection this long after answering PLAY (a device that drops a
    /// session that was playing). With both, this one wins over `hang_up_after_play`.
    pub hang_up_while_playing: Option<std::time::Duration>,
    /// Answer every PullMessages at once with this many notifications, whatever the
    /// MessageLimit (a hostile device); each one's source item has a name of its own,
    /// `Item<HTTP port>_<index>`.
    pub event_flood: Option<usize>,
    /// RTP over UDP never arrives: SETUP's client ports are swapped for ports nobody
    /// reads (a firewall between camera and client).
    pub udp_blocked: bool,
    /// The first answer to this operation comes this much later (a device busy right
    /// after boot); later ones at once.
    pub slow_once: Option<(String, std::time::Duration)>,
    /// DESCRIBE answers an SDP whose first media line has no fields (`m=video`), which
    /// the SDP grammar refuses (firmware that writes its SDP by hand).
    pub broken_sdp: bool,
    /// After this many RTP packets on an RTSP connection, no more media: only RTCP
    /// receiver reports every 0.5 s on the first stream's RTCP channel (what an RTCP
    /// stack keeps doing when its encoder has stalled).
    pub rtcp_only_after: Option<u32>,
    /// A lossy path for the first stream's interleaved RTP ([`RTP_FAULTS`]): packets
    /// dropped, sent twice and swapped, at fixed places among its first 100.
    pub rtp_faults: bool,
    /// Right after the PLAY answer, this many tiny RTP packets: over TCP each followed by
    /// a 65,535-byte frame on a channel never set up, over UDP as datagrams (the SETUP
    /// answer then names no `server_port`). See `flood.rs`.
    pub tiny_packet_flood: Option<u32>,
    /// Close the RTSP connection right after answering each of the first N PAUSEs (a
    /// device that drops a replay as it is seeked); later PAUSEs are kept. 0: never.
    pub hang_up_after_pause: u32,
}

/// `rtp_faults`: what becomes of the first stream's interleaved RTP packets, counted from
/// 1 on each connection: dropped, sent twice, and the pair sent in reverse order (the
/// second, then the first). Their effect on a receiver's counts: 3 lost, 2 duplicates,
/// 1 late; RFC 3550's cumulative loss (expected minus received) is 3 - 2 = 1.
pub const RTP_FAULTS: RtpFaults = RtpFaults {
    dropped: [10, 20, 30],
    doubled: [40, 50],
    swapped: (60, 61),
};

/// See [`RTP_FAULTS`].
#[derive(Debug, Clone, Copy)]
pub struct RtpFaults {
    pub dropped: [u32; 3],
    pub doubled: [u32; 2],
    pub swapped: (u32, u32),
}

/// What the camera saw, for assertions.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests received, over HTTP and HTTPS.
    pub requests: AtomicU64,
    /// HTTPS requests received.
    pub https_requests: AtomicU64,
    /// TLS handshakes that failed (a client refusing our certificate shows here).
    pub tls_failures: AtomicU64,
    /// Signalled on each failed handshake (see [`Stats::wait_tls_failures`]).
    tls_failed: (Mutex<()>, std::sync::Condvar),
    /// TLS handshakes that succeeded.
    pub tls_handshakes: AtomicU64,
    /// Snapshots served.
    pub snapshots: AtomicU64,
    /// RTSP tunnel connections (GET and POST) handed to the RTSP server.
    pub tunnel_connections: AtomicU64,
    /// RTSP requests the media engine received, by method, in arrival order.
    pub rtsp_requests: Arc<Mutex<Vec<String>>>,
    /// What the camera's speaker got through the ONVIF backchannel.
    pub backchannel: Arc<media::Speaker>,
    /// `(operation, how it was authenticated)` in arrival order.
    pub log: Mutex<Vec<(String, String)>>,
    /// Request heads in arrival order (to check what crossed the wire).
    pub heads: Mutex<Vec<String>>,
    /// With a persona: `"METHOD path?query STATUS"` of every RTSP request the camera's
    /// RTSP front answered or passed on, in arrival order.
    pub rtsp_urls: Mutex<Vec<String>>,
    /// The SOAP operation of each request over plain HTTP that carried credentials (a
    /// Digest or Basic header, or a WS-UsernameToken); `?` for a body that is not SOAP.
    pub plain_http_credential_ops: Mutex<Vec<String>>,
    /// The SOAP operations that came over HTTPS, in order.
    pub https_ops: Mutex<Vec<String>>,
    /// With the RTSP front: the Transport header of every SETUP as the client sent it.
    pub setup_transports: Mutex<Vec<String>>,
    /// `broken_sdp`: the line (counted from 1) of the last SDP that was broken.
    pub broken_sdp_line: AtomicU64,
    /// `stale_after_pause`: RTP packets sent again after a PAUSE answer.
    pub stale_sent: AtomicU64,
    /// `hang_up_after_pause`: connections closed after a PAUSE answer.
    pub pause_hang_ups: AtomicU64,
    /// `slow_once`: whether the late answer is being held (see [`Stats::wait_slowed`]).
    slowed: (Mutex<bool>, std::sync::Condvar),
    /// `tiny_packet_flood`: bytes of the flood sent so far (RTP and frames).
    pub flood_sent: AtomicU64,
    /// `tiny_packet_flood`: floods finished (see [`Stats::wait_flood`]).
    flood_done: (Mutex<u64>, std::sync::Condvar),
    /// `tiny_packet_flood`: a flood waits for [`Stats::open_flood`] once the PLAY answer
    /// went out, so that a test can measure before it.
    flood_gate: FloodGate,
}

/// Floods waiting (counted, for the test) and the gate they wait behind.
struct FloodGate {
    waiting: (Mutex<u64>, std::sync::Condvar),
    open: tokio::sync::watch::Sender<bool>,
}

impl Default for FloodGate {
    fn default() -> Self {
        FloodGate {
            waiting: Default::default(),
            open: tokio::sync::watch::channel(false).0,
        }
    }
}

impl std::fmt::Debug for FloodGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FloodGate")
    }
}

impl Stats {
    /// `slow_once`: true for the first call only (that answer is the late one).
    pub(crate) fn slow_now(&self) -> bool {
        let mut slowed = self.slowed.0.lock().unwrap();
        let first = !*slowed;
        *slowed = true;
        self.slowed.1.notify_all();
        first
    }

    /// Waits until the `slow_once` answer is being held, at most `timeout`.
    pub fn wait_slowed(&self, timeout: std::time::Duration) -> bool {
        let guard = self.slowed.0.lock().unwrap();
        let (_guard, res) = self
            .slowed
            .1
            .wait_timeout_while(guard, timeout, |slowed| !*slowed)
            .unwrap();
        !res.timed_out()
    }

    /// `tiny_packet_flood`: a flood is due; returns once [`Stats::open_flood`] was called.
    pub(crate) async fn flood_gate(&self) {
        let mut open = self.flood_gate.open.subscribe();
        {
            *self.flood_gate.waiting.0.lock().unwrap() += 1;
            self.flood_gate.waiting.1.notify_all();
        }
        let _ = open.wait_for(|o| *o).await;
    }

    /// Waits until a flood is due (the PLAY answer went out), at most `timeout`.
    pub fn wait_flood_due(&self, timeout: std::time::Duration) -> bool {
        let guard = self.flood_gate.waiting.0.lock().unwrap();
        let (_guard, res) = self
            .flood_gate
            .waiting
            .1
            .wait_timeout_while(guard, timeout, |n| *n == 0)
            .unwrap();
        !res.timed_out()
    }

    /// Lets every flood go, those due and those to come.
    pub fn open_flood(&self) {
        self.flood_gate.open.send_replace(true);
    }

    /// `tiny_packet_flood`: one flood was sent whole (or its peer went away).
    pub(crate) fn flood_finished(&self) {
        *self.flood_done.0.lock().unwrap() += 1;
        self.flood_done.1.notify_all();
    }

    /// Waits until a flood was sent whole, at most `timeout`.
    pub fn wait_flood(&self, timeout: std::time::Duration) -> bool {
        let guard = self.flood_done.0.lock().unwrap();
        let (_guard, res) = self
            .flood_done
            .1
            .wait_timeout_while(guard, timeout, |done| *done == 0)
            .unwrap();
        !res.timed_out()
    }

    /// Counts a failed TLS handshake.
    pub(crate) fn tls_failure(&self) {
        let _guard = self.tls_failed.0.lock().unwrap();
        self.tls_failures.fetch_add(1, Ordering::SeqCst);
        self.tls_failed.1.notify_all();
    }

    /// Waits until `n` TLS handshakes have failed, at most `timeout`. The server counts a
    /// failure when its side of the handshake ends, which can be just after the client's
    /// error.
    pub fn wait_tls_failures(&self, n: u64, timeout: std::time::Duration) -> bool {
        let guard = self.tls_failed.0.lock().unwrap();
        let (_guard, res) = self
            .tls_failed
            .1
            .wait_timeout_while(guard, timeout, |_| {
                self.tls_failures.load(Ordering::SeqCst) < n
            })
            .unwrap();
        !res.timed_out()
    }
}

/// Shared state of a running camera.
pub(crate) struct Shared {
    pub config: Config,
    pub http_port: u16,
    pub https_port: AtomicU16,
    pub stats: Arc<Stats>,
    pub nonce: String,
    pub snapshots: snapshot::Source,
    pub tls: Arc<rustls::ServerConfig>,
    pub runtime: tokio::runtime::Handle,
    /// Port of the gst-rtsp-server behind the camera (plain RTSP, and the tunnel's target).
    pub rtsp_port: u16,
    /// Port of the RTSPS server, when the camera has one.
    pub rtsps_port: Option<u16>,
    /// The port of the `rtsps://` URIs GetStreamUri answers.
    pub rtsps_uri_port: Mutex<RtspsUriPort>,
    /// What clients can change: PTZ, relays, auxiliary commands.
    pub state: Mutex<state::DeviceState>,
    /// Pull-point subscriptions and the states events report.
    pub events: Mutex<events::EventBus>,
    /// Edge storage, fixed at start.
    pub archive: recording::Archive,
    pub searches: Mutex<recording::Searches>,
    /// The RTSP front's port (a persona or a media fault): clients' RTSP goes there, and
    /// the tunnel ends in the camera itself.
    pub front_port: Option<u16>,
    /// The front's tunnels: session cookie to the pipe its POST legs write into.
    pub tunnels: front::Tunnels,
    /// UDP ports nobody reads (`udp_blocked`), held open for the camera's life.
    pub udp_sink: Option<(std::net::UdpSocket, std::net::UdpSocket)>,
}

impl Shared {
    /// Binds an extra HTTPS listener (an accepted SetNetworkProtocols).
    pub(crate) fn listen_https(self: &Arc<Self>, port: u16) -> std::io::Result<()> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let shared = self.clone();
        self.runtime.spawn(async move {
            if let Ok(l) = tokio::net::TcpListener::from_std(std_listener) {
                server::serve(l, shared, true).await;
            }
        });
        Ok(())
    }

    /// The realm of the camera's Digest challenges.
    pub fn realm(&self) -> String {
        self.config
            .quirks
            .persona
            .map_or(auth::REALM, |p| p.realm())
            .to_string()
    }

    /// The port clients' RTSP goes to.
    pub fn rtsp_public_port(&self) -> u16 {
        self.front_port.unwrap_or(self.rtsp_port)
    }

    /// `path?query` of a profile's live stream.
    pub fn stream_path(&self, token: &str) -> String {
        let index = profiles::by_token(token).map(|(i, _)| i);
        match (self.config.quirks.persona, index) {
            (Some(p), Some(i)) => p.shape(i, token, "").stream,
            _ => format!("/media/{token}"),
        }
    }
}

/// A running camera; dropping it stops every listener.
pub struct Camera {
    shared: Arc<Shared>,
    /// PEM of the CA that signed the camera's certificate (empty with a custom identity).
    pub ca_pem: String,
    pub stats: Arc<Stats>,
    /// PEM of the certificate chain the camera presents.
    chain_pem: String,
    runtime: Option<tokio::runtime::Runtime>,
    media: media::Media,
    rtsps: Option<media::Media>,
    /// Its WS-Discovery port on 127.0.0.1, and the Probes answered there (and on the
    /// group).
    discovery: (u16, Arc<discovery::Probes>),
    /// With `multicast_discovery`: the group's socket and the Bye said on it at the end.
    bye: Option<(std::net::UdpSocket, String)>,
}

impl Camera {
    /// Starts the camera on 127.0.0.1.
    pub fn start(config: Config) -> std::io::Result<Camera> {
        let _ = gst::init();
        let (identity, ca_pem) = match &config.device.identity {
            Some(id) => (id.clone(), String::new()),
            None => {
                let ca = certs::Ca::new("onvif-virtual-camera CA");
                (
                    ca.leaf(
                        &["127.0.0.1", "localhost", "::1"],
                        certs::Validity::default(),
                    ),
                    ca.pem(),
                )
            }
        };
        let tls = server::tls_config(&identity)?;
        let front_wanted = config.quirks.persona.is_some()
            || config.faults.udp_blocked
            || config.faults.hang_up_after_play
            || config.faults.hang_up_while_playing.is_some()
            || config.faults.broken_sdp
            || config.faults.rtcp_only_after.is_some()
            || config.faults.rtp_faults
            || config.faults.tiny_packet_flood.is_some()
            || config.faults.hang_up_after_pause > 0
            || config.quirks.stale_after_pause;
        let stats = Arc::new(Stats::default());
        let archive = recording::Archive {
            metadata: config.device.recording_metadata,
            ..recording::Archive::before(
                time::OffsetDateTime::now_utc().unix_timestamp() + config.device.clock_skew_secs,
            )
        };
        // What the plain RTSP server and the RTSPS one share.
        let options = || media::MediaOptions {
            user: config.device.user.clone(),
            password: config.device.password.clone(),
            session_timeout: config.device.session_timeout,
            requests: stats.rtsp_requests.clone(),
            basic: config.quirks.rtsp_basic,
            metadata: config.device.metadata,
            speaker: config.device.backchannel.then(|| stats.backchannel.clone()),
            ..Default::default()
        };
        let media = media::Media::start(media::MediaOptions {
            archive: Some(archive.clone()),
            open: front_wanted,
            ..options()
        })
        .map_err(std::io::Error::other)?;
        // In benchmark mode the RTSPS port serves the benchmark stream itself.
        let rtsps = if config.device.rtsps && config.bench.is_none() {
            Some(
                media::Media::start(media::MediaOptions {
                    tls: Some(
                        config
                            .device
                            .rtsps_identity
                            .clone()
                            .unwrap_or_else(|| identity.clone()),
                    ),
                    srtp: config.device.srtp,
                    srtp_bad_tag: config.device.srtp_bad_tag,
                    srtp_client_keys: config.device.srtp_client_keys,
                    srtp_sdp_keys: config.device.srtp_sdp_keys,
                    srtp_rekey: config.device.srtp_rekey,
                    srtp_suite: config.device.srtp_suite,
                    ..options()
                })
                .map_err(std::io::Error::other)?,
            )
        } else {
            None
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("onvif-virtual-camera")
            .enable_all()
            .build()?;
        let http = runtime.block_on(tokio::net::TcpListener::bind((
            "127.0.0.1",
            config.device.http_port,
        )))?;
        let https = runtime.block_on(tokio::net::TcpListener::bind((
            "127.0.0.1",
            config.device.https_port,
        )))?;
        let bench_rtsps = match config.bench {
            Some(_) if config.device.rtsps => {
                Some(runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))?)
            }
            _ => None,
        };
        let front = if front_wanted {
            Some(runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))?)
        } else {
            None
        };
        let udp_sink = if config.faults.udp_blocked {
            let pair = (
                std::net::UdpSocket::bind(("127.0.0.1", 0))?,
                std::net::UdpSocket::bind(("127.0.0.1", 0))?,
            );
            Some(pair)
        } else {
            None
        };
        let mut nonce = [0u8; 16];
        let _ = getrandom::fill(&mut nonce);
        let shared = Arc::new(Shared {
            http_port: http.local_addr()?.port(),
            https_port: AtomicU16::new(https.local_addr()?.port()),
            config,
            stats: stats.clone(),
            nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
            snapshots: snapshot::Source::start(),
            tls,
            runtime: runtime.handle().clone(),
            rtsp_port: media.port,
            rtsps_port: match &bench_rtsps {
                Some(l) => Some(l.local_addr()?.port()),
                None => rtsps.as_ref().map(|m| m.port),
            },
            rtsps_uri_port: Mutex::new(RtspsUriPort::Real),
            state: Mutex::new(state::DeviceState::default()),
            events: Mutex::new(events::EventBus::default()),
            archive,
            searches: Mutex::new(recording::Searches::default()),
            front_port: match &front {
                Some(l) => Some(l.local_addr()?.port()),
                None => None,
            },
            tunnels: front::Tunnels::default(),
            udp_sink,
        });
        if let Some(listener) = front {
            runtime.spawn(front::serve(listener, shared.clone()));
        }
        if let (Some(listener), Some(bench)) = (bench_rtsps, shared.config.bench) {
            runtime.spawn(server::serve_bench_rtsps(listener, shared.clone(), bench));
        }
        if let Some(period) = shared.config.device.input_period {
            let s = shared.clone();
            runtime.spawn(async move {
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                loop {
                    tick.tick().await;
                    soap::toggle_input(&s, "DigitalInput_1");
                    soap::toggle_motion(&s);
                }
            });
        }
        runtime.spawn(server::serve(http, shared.clone(), false));
        runtime.spawn(server::serve(https, shared.clone(), true));
        let discovery = runtime.block_on(tokio::net::UdpSocket::bind(("127.0.0.1", 0)))?;
        let discovery_port = discovery.local_addr()?.port();
        let probes = Arc::new(discovery::Probes::default());
        let advert = discovery::Advert {
            endpoint: format!(
                "urn:uuid:{}-0000-4000-8000-000000000001",
                &shared.nonce[..8]
            ),
            scopes: "onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/Profile/T \
                     onvif://www.onvif.org/name/Virtual%20Camera \
                     onvif://www.onvif.org/hardware/virtual"
                .into(),
            xaddrs: format!(
                "http://127.0.0.1:{}/onvif/device_service https://127.0.0.1:{}/onvif/device_service",
                shared.http_port,
                shared.https_port.load(Ordering::SeqCst)
            ),
        };
        let bye = if shared.config.device.multicast_discovery {
            let group = discovery::group_socket(shared.config.device.multicast_interface)?;
            let to = std::net::SocketAddr::from(discovery::GROUP);
            let speaker = group.try_clone()?;
            let listener = {
                let _enter = runtime.enter();
                tokio::net::UdpSocket::from_std(group)?
            };
            runtime.spawn(discovery::serve(listener, advert.clone(), probes.clone()));
            // Lost when the link is down (a camera booting with its cable out): it
            // starts all the same, as devices do, and answers Probes once the link is up.
            let _ = speaker.send_to(
                discovery::hello(&advert, &discovery::message_id()).as_bytes(),
                to,
            );
            Some((speaker, discovery::bye(&advert, &discovery::message_id())))
        } else {
            None
        };
        runtime.spawn(discovery::serve(discovery, advert, probes.clone()));
        Ok(Camera {
            shared,
            ca_pem,
            stats,
            chain_pem: identity.chain_pem.clone(),
            runtime: Some(runtime),
            media,
            rtsps,
            discovery: (discovery_port, probes),
            bye,
        })
    }

    /// The plain HTTP SOAP port.
    /// What the camera holds in edge storage.
    pub fn archive(&self) -> recording::Archive {
        self.shared.archive.clone()
    }

    /// Recording searches still open (FindRecordings without EndSearch).
    pub fn open_searches(&self) -> usize {
        self.shared.searches.lock().unwrap().len()
    }

    pub fn http_port(&self) -> u16 {
        self.shared.http_port
    }

    /// The HTTPS port (after an accepted SetNetworkProtocols, the new one).
    pub fn https_port(&self) -> u16 {
        self.shared.https_port.load(Ordering::SeqCst)
    }

    /// PTZ position `(pan, tilt, zoom)` now.
    pub fn ptz_position(&self) -> (f64, f64, f64) {
        self.shared.state.lock().unwrap().ptz.position()
    }

    /// Whether the PTZ head is moving.
    pub fn ptz_moving(&self) -> bool {
        self.shared.state.lock().unwrap().ptz.moving()
    }

    /// Whether a relay output is active; `None` for an unknown token.
    pub fn relay_active(&self, token: &str) -> Option<bool> {
        let st = self.shared.state.lock().unwrap();
        st.relays.iter().find(|(t, _)| t == token).map(|(_, a)| *a)
    }

    /// Toggles a digital input now and publishes the event; returns the new state.
    pub fn toggle_input(&self, token: &str) -> Option<bool> {
        soap::toggle_input(&self.shared, token)
    }

    /// The WS-Discovery port (UDP, 127.0.0.1) that answers Probes.
    pub fn discovery_port(&self) -> u16 {
        self.discovery.0
    }

    /// Probes answered so far.
    pub fn probes_answered(&self) -> u64 {
        self.discovery.1.answered()
    }

    /// Waits until `n` Probes were answered, at most `timeout`; whether they were.
    pub fn wait_probes_answered(&self, n: u64, timeout: std::time::Duration) -> bool {
        self.discovery.1.wait(n, timeout)
    }

    /// Forgets every event subscription, as a reboot does.
    pub fn drop_subscriptions(&self) {
        self.shared.events.lock().unwrap().drop_all();
    }

    /// Live event subscriptions.
    pub fn subscription_count(&self) -> usize {
        self.shared.events.lock().unwrap().count()
    }

    /// Auxiliary commands received so far.
    pub fn aux_commands(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().aux.clone()
    }

    /// The plain RTSP port (gst-rtsp-server).
    /// PEM of the certificate chain the camera presents (leaf first).
    pub fn identity_chain_pem(&self) -> String {
        self.chain_pem.clone()
    }

    /// `path?query` of a profile's live stream, as GetStreamUri answers it.
    pub fn stream_path(&self, token: &str) -> String {
        self.shared.stream_path(token)
    }

    /// The port clients' RTSP goes to (the RTSP front with a persona).
    pub fn rtsp_port(&self) -> u16 {
        self.shared.rtsp_public_port()
    }

    /// The RTSPS port (gst-rtsp-server doing TLS), when the camera has one.
    pub fn rtsps_port(&self) -> Option<u16> {
        self.shared.rtsps_port
    }

    /// Sets the port GetStreamUri writes into `rtsps://` URIs from now on.
    pub fn set_rtsps_uri_port(&self, port: RtspsUriPort) {
        *self.shared.rtsps_uri_port.lock().unwrap() = port;
    }

    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.http_port()))
    }

    /// `http://127.0.0.1:PORT`, the address a VMS would add the camera with.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port())
    }

    /// `https://127.0.0.1:PORT`.
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https_port())
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        if let Some((socket, bye)) = &self.bye {
            let _ = socket.send_to(bye.as_bytes(), std::net::SocketAddr::from(discovery::GROUP));
        }
        self.shared.snapshots.stop();
        self.media.stop();
        if let Some(m) = self.rtsps.as_mut() {
            m.stop();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
