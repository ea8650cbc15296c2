// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The virtual camera as a program: `onvif-virtual-camera --help`.

use std::io::Write;

use onvif_virtual_camera::bench::{Bench, Framing};
use onvif_virtual_camera::certs;
use onvif_virtual_camera::{AuthMode, Camera, Config, Device, SetProtocols};

const HELP: &str = "\
onvif-virtual-camera: a virtual ONVIF camera on 127.0.0.1

USAGE: onvif-virtual-camera [OPTIONS]

When ready it prints one JSON line with its ports and CA file, then serves until killed.

OPTIONS:
  --http-port N            HTTP SOAP port (default 0: any free port)
  --https-port N           HTTPS SOAP/snapshot port (default 0: any free port)
  --ca-file PATH           write the CA certificate (PEM) that signed the camera's
                           certificate here; give it to onvifhttpssrc as tls-ca-file
  --user NAME              user name (default admin)
  --password PW            password (default password)
  --auth MODE              ws-security | digest | either (default either)
  --clock-skew SECONDS     camera clock offset from the real time (default 0)
  --set-protocols MODE     SetNetworkProtocols: accept | fault | ignore (default accept)
  --https-xaddrs           answer https:// XAddrs on HTTPS (default: http:// XAddrs on
                           the HTTP port, as many real cameras do)
  --no-media2              offer only Media1 (and so no RTSPS)
  --no-rtsps               no RTSPS port (Media2 says SecureRTSPStreaming=false)
  --no-backchannel         no ONVIF audio backchannel (a DESCRIBE requiring it gets 551)
  --srtp                   the RTSPS port offers SRTP over UDP instead of RTP (RTP/SAVP,
                           the key in the SDP's a=key-mgmt, as gst-rtsp-server gives it)
  --srtp-bad-tag           with --srtp: damage the SRTP tag of every audio packet
  --srtp-client-keys       with --srtp: encrypt with the key of the client's KeyMgmt (as
                           Axis does), not the SDP's
  --srtp-no-sdp-keys       with --srtp: no a=key-mgmt in the SDP (the client gives every
                           key, as with Axis; use with --srtp-client-keys)
  --srtp-rekey MODE        with --srtp: answer a re-keying SET_PARAMETER with refuse
                           (451, gst-rtsp-server's default), accept (either body
                           spelling) or keymgmt (only KeyMgmt:; mikey: gets 451)
  --srtp-suite NAME        with --srtp: encrypt with AES_CM_128_HMAC_SHA1_80,
                           AEAD_AES_128_GCM or AEAD_AES_256_GCM, said on the video
                           encoder's configuration
  --srtp-algorithms LIST   SecureStreamingProtocolAlgorithms of the video encoder's options
  --fault-on OPERATION     answer OPERATION with a SOAP fault
  --garbage-on OPERATION   answer OPERATION with malformed XML
  --session-timeout SECS   RTSP session timeout (default 60)
  --tunnel-auth            demand HTTP Digest on the RTSP tunnel's GET and POST
  --rtsp-basic             RTSP authentication with Basic instead of Digest
  --input-period SECS      toggle DigitalInput_1 and the motion alarm every SECS seconds
                           (default 5; 0: never)
  --relative-termination-bug  grant almost nothing for relative termination times
  --renew-refused          refuse Renew (PullMessages keeps subscriptions alive)
  --no-metadata            no ONVIF metadata track in the live media
  --multicast-discovery    WS-Discovery on the group too (239.255.255.250:3702): Probes
                           answered there, Hello at start, Bye at exit (use it inside a
                           network namespace of its own, unshare -rn)
  --multicast-interface IP with --multicast-discovery: the interface (by its IPv4
                           address) to join the group on and speak from
  --media-before-play-answer  send the first media packets before the answer to PLAY
  --rtp-faults             a lossy path for the first stream's interleaved RTP: packets
                           10, 20, 30 dropped, 40 and 50 sent twice, 61 before 60
  --rtcp-only-after N      after N RTP packets only RTCP receiver reports every 0.5 s
  --tiny-packet-flood N    after PLAY, N 12-byte RTP packets: over TCP each followed by a
                           65,535-byte frame on channel 200, over UDP as datagrams
  --service-listing MODE   GetServices lists services right | misfiled (PTZ under
                           ver10, events/recording/search/replay under ver20, ...) |
                           unlisted (only device and media; the rest in GetCapabilities)
  --bench-mbps MBPS        benchmark mode: the RTSP tunnel serves pre-packetised H.264
                           at MBPS Mbit/s (no encoder), SOAP as usual
  --bench-framing F        packet (one TLS record per RTP packet, default) or coalesced
                           (one write per frame, 16 KiB records)
  --bench-srtp             the RTSPS port serves the benchmark stream as SRTP over UDP
                           (RTP/SAVP, the key in the SDP), paced over each frame
  --identity-dir DIR       keep the CA and certificate in DIR (made on first use), so that
                           a restarted camera is the same device to its clients
  --persona NAME           behave like a vendor's firmware on RTSP and SOAP (listed
                           below with the source of each behaviour); flags after it
                           override its SOAP switches
  --udp-blocked            RTP over UDP never reaches the client (a firewall)
  --broken-sdp             DESCRIBE answers an SDP whose first m= line has no fields
  --hang-up-while-playing SECS  close the RTSP connection SECS seconds after PLAY
  --help                   this text
";

/// Set by SIGINT or SIGTERM.
static STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOPPED.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn main() {
    let mut cfg = Config {
        device: Device {
            input_period: Some(std::time::Duration::from_secs(5)),
            ..Device::default()
        },
        ..Config::default()
    };
    let mut ca_file: Option<String> = None;
    let mut identity_dir: Option<String> = None;
    let mut args = std::env::args().skip(1);
    let fail = |msg: String| -> ! {
        eprintln!("onvif-virtual-camera: {msg}\n\n{HELP}");
        std::process::exit(2);
    };
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(format!("{a} needs a value")))
        };
        match a.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                println!("\nPersonas:");
                for p in onvif_virtual_camera::persona::Persona::ALL {
                    println!("  {:<12} {}", p.name(), p.about());
                }
                return;
            }
            "--http-port" => {
                cfg.device.http_port = value()
                    .parse()
                    .unwrap_or_else(|_| fail("bad --http-port".into()))
            }
            "--https-port" => {
                cfg.device.https_port = value()
                    .parse()
                    .unwrap_or_else(|_| fail("bad --https-port".into()))
            }
            "--ca-file" => ca_file = Some(value()),
            "--identity-dir" => identity_dir = Some(value()),
            "--user" => cfg.device.user = value(),
            "--password" => cfg.device.password = value(),
            "--auth" => {
                cfg.device.auth = match value().as_str() {
                    "ws-security" => AuthMode::WsSecurity,
                    "digest" => AuthMode::Digest,
                    "either" => AuthMode::Either,
                    other => fail(format!("unknown --auth {other}")),
                }
            }
            "--clock-skew" => {
                cfg.device.clock_skew_secs = value()
                    .parse()
                    .unwrap_or_else(|_| fail("bad --clock-skew".into()))
            }
            "--set-protocols" => {
                cfg.quirks.set_protocols = match value().as_str() {
                    "accept" => SetProtocols::Accept,
                    "fault" => SetProtocols::Fault,
                    "ignore" => SetProtocols::Ignore,
                    other => fail(format!("unknown --set-protocols {other}")),
                }
            }
            "--https-xaddrs" => cfg.quirks.http_xaddrs = false,
            "--no-media2" => cfg.device.media2 = false,
            "--fault-on" => cfg.faults.fault_on = Some(value()),
            "--garbage-on" => cfg.faults.garbage_on = Some(value()),
            "--tunnel-auth" => cfg.quirks.tunnel_auth = true,
            "--rtsp-basic" => cfg.quirks.rtsp_basic = true,
            "--input-period" => {
                let secs: u64 = value()
                    .parse()
                    .unwrap_or_else(|_| fail("bad --input-period".into()));
                cfg.device.input_period = (secs > 0).then(|| std::time::Duration::from_secs(secs));
            }
            "--relative-termination-bug" => cfg.quirks.relative_termination_bug = true,
            "--renew-refused" => cfg.quirks.renew_refused = true,
            "--no-metadata" => cfg.device.metadata = false,
            "--no-rtsps" => cfg.device.rtsps = false,
            "--no-backchannel" => cfg.device.backchannel = false,
            "--srtp" => cfg.device.srtp = true,
            "--srtp-bad-tag" => cfg.device.srtp_bad_tag = true,
            "--srtp-client-keys" => cfg.device.srtp_client_keys = true,
            "--srtp-no-sdp-keys" => cfg.device.srtp_sdp_keys = false,
            "--srtp-rekey" => {
                let v = value();
                cfg.device.srtp_rekey = onvif_virtual_camera::srtp::Rekey::parse(&v)
                    .unwrap_or_else(|| {
                        fail(format!("--srtp-rekey {v}: refuse, accept or keymgmt"))
                    });
            }
            // Leaked: the camera's configuration lives as long as the process.
            "--srtp-suite" => cfg.device.srtp_suite = Some(value().leak()),
            "--srtp-algorithms" => cfg.device.srtp_algorithms = Some(value().leak()),
            "--media-before-play-answer" => cfg.quirks.media_before_play_answer = true,
            "--multicast-discovery" => cfg.device.multicast_discovery = true,
            "--multicast-interface" => {
                cfg.device.multicast_interface = Some(
                    value()
                        .parse()
                        .unwrap_or_else(|_| fail("bad --multicast-interface".into())),
                );
            }
            "--service-listing" => {
                cfg.quirks.service_listing = match value().as_str() {
                    "right" => onvif_virtual_camera::ServiceListing::Right,
                    "misfiled" => onvif_virtual_camera::ServiceListing::Misfiled,
                    "unlisted" => onvif_virtual_camera::ServiceListing::Unlisted,
                    other => fail(format!("unknown --service-listing {other}")),
                }
            }
            "--persona" => match value().parse::<onvif_virtual_camera::persona::Persona>() {
                Ok(p) => p.apply(&mut cfg),
                Err(e) => fail(e),
            },
            "--udp-blocked" => cfg.faults.udp_blocked = true,
            "--broken-sdp" => cfg.faults.broken_sdp = true,
            "--rtp-faults" => cfg.faults.rtp_faults = true,
            "--rtcp-only-after" => {
                cfg.faults.rtcp_only_after = Some(
                    value()
                        .parse()
                        .unwrap_or_else(|_| fail("bad --rtcp-only-after".into())),
                );
            }
            "--tiny-packet-flood" => {
                cfg.faults.tiny_packet_flood = Some(
                    value()
                        .parse()
                        .unwrap_or_else(|_| fail("bad --tiny-packet-flood".into())),
                );
            }
            "--hang-up-while-playing" => {
                let secs: f64 = value()
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                    .unwrap_or_else(|| fail("bad --hang-up-while-playing".into()));
                cfg.faults.hang_up_while_playing = Some(std::time::Duration::from_secs_f64(secs));
            }
            "--bench-mbps" => {
                let mbps: f64 = value()
                    .parse()
                    .ok()
                    .filter(|m: &f64| *m > 0.0 && *m <= 10_000.0)
                    .unwrap_or_else(|| fail("bad --bench-mbps (0 to 10000)".into()));
                cfg.bench = Some(Bench {
                    mbps,
                    ..bench_of(cfg.bench)
                });
            }
            "--bench-framing" => {
                let framing: Framing = value().parse().unwrap_or_else(|e| fail(e));
                cfg.bench = Some(Bench {
                    framing,
                    ..bench_of(cfg.bench)
                });
            }
            "--bench-srtp" => {
                cfg.bench = Some(Bench {
                    srtp: true,
                    ..bench_of(cfg.bench)
                })
            }
            "--session-timeout" => {
                cfg.device.session_timeout = Some(
                    value()
                        .parse()
                        .unwrap_or_else(|_| fail("bad --session-timeout".into())),
                )
            }
            other => fail(format!("unknown option {other}")),
        }
    }
    let mut ca_pem = None;
    if let Some(dir) = &identity_dir {
        let (identity, ca) = stored_identity(std::path::Path::new(dir))
            .unwrap_or_else(|e| fail(format!("--identity-dir {dir}: {e}")));
        cfg.device.identity = Some(identity);
        ca_pem = Some(ca);
    }
    let camera = Camera::start(cfg.clone()).unwrap_or_else(|e| fail(format!("cannot start: {e}")));
    // `--tiny-packet-flood`: no test here to measure first.
    camera.stats.open_flood();
    let ca_pem = ca_pem.unwrap_or_else(|| camera.ca_pem.clone());
    if let Some(path) = &ca_file
        && let Err(e) = std::fs::write(path, &ca_pem)
    {
        fail(format!("cannot write {path}: {e}"));
    }
    let json_str = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    println!(
        "{{\"http_port\":{},\"https_port\":{},\"rtsp_port\":{},\"rtsps_port\":{},\"discovery_port\":{},\"stream_path\":\"{}\",\"ca_file\":\"{}\",\"user\":\"{}\"}}",
        camera.http_port(),
        camera.https_port(),
        camera.rtsp_port(),
        camera
            .rtsps_port()
            .map_or("null".to_string(), |p| p.to_string()),
        camera.discovery_port(),
        json_str(&camera.stream_path("Profile_1")),
        json_str(ca_file.as_deref().unwrap_or("")),
        json_str(&cfg.device.user)
    );
    let _ = std::io::stdout().flush();
    // SIGINT and SIGTERM stop the camera as its Drop does (a Bye on the WS-Discovery group
    // with --multicast-discovery), not in the middle.
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    // What the speaker hears through the ONVIF backchannel, once a second while it grows.
    let speaker = camera.stats.backchannel.clone();
    let mut said = 0;
    loop {
        for _ in 0..5 {
            if STOPPED.load(std::sync::atomic::Ordering::SeqCst) {
                drop(camera);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let packets = speaker.packets.load(std::sync::atomic::Ordering::SeqCst);
        if packets != said {
            said = packets;
            let samples = speaker.samples.load(std::sync::atomic::Ordering::SeqCst);
            eprintln!(
                "speaker: {packets} RTP packets, {samples} samples ({:.1} s), about {:.0} Hz",
                samples as f64 / 8000.0,
                speaker.frequency()
            );
        }
    }
}

/// The identity kept in `dir` (`ca.pem`, `chain.pem`, `key.pem`), made there first when
/// missing; and the CA's PEM.
fn stored_identity(dir: &std::path::Path) -> std::io::Result<(certs::Identity, String)> {
    let (ca, chain, key) = (
        dir.join("ca.pem"),
        dir.join("chain.pem"),
        dir.join("key.pem"),
    );
    if !(ca.exists() && chain.exists() && key.exists()) {
        std::fs::create_dir_all(dir)?;
        let authority = certs::Ca::new("onvif-virtual-camera CA");
        let leaf = authority.leaf(
            &["127.0.0.1", "localhost", "::1"],
            certs::Validity::default(),
        );
        std::fs::write(&ca, authority.pem())?;
        std::fs::write(&chain, &leaf.chain_pem)?;
        std::fs::write(&key, &leaf.key_pem)?;
    }
    Ok((
        certs::Identity {
            chain_pem: std::fs::read_to_string(&chain)?,
            key_pem: std::fs::read_to_string(&key)?,
        },
        std::fs::read_to_string(&ca)?,
    ))
}

/// The benchmark stream as the options so far set it: 8 Mbit/s, one TLS record per
/// packet, no SRTP until they say otherwise.
fn bench_of(b: Option<Bench>) -> Bench {
    b.unwrap_or(Bench {
        mbps: 8.0,
        framing: Framing::PerPacket,
        srtp: false,
    })
}
