// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTP and RTCP over UDP (`rtp-udp`), and SRTP and SRTCP (`rtsps-srtp`): the port
//! pairs, who may send on them, the receivers.

use crate::proto::srtp;

use super::*;

/// Largest UDP datagram read.
pub(super) const MAX_DATAGRAM: usize = 65536;

/// The receive buffer asked for an RTP socket: rtspsrc's `udp-buffer-size` default. The
/// kernel's 208 KiB default overflows on a key frame a camera sends in a burst (at 100
/// Mbit/s, half the packets were lost in `make bench`); the kernel caps what is asked at
/// `net.core.rmem_max`.
const UDP_RECV_BUFFER: usize = 512 * 1024;

/// The UDP sockets of one stream (`rtp-udp`).
pub(super) struct UdpLeg {
    pub(super) rtp: Arc<tokio::net::UdpSocket>,
    pub(super) rtcp: Arc<tokio::net::UdpSocket>,
    /// Where receiver reports go: the server's RTCP port.
    pub(super) server_rtcp: Option<std::net::SocketAddr>,
    pub(super) accept: UdpSources,
    /// SRTP (`rtsps-srtp`): what opens the device's packets and protects our reports.
    pub(super) srtp: Option<SrtpLeg>,
}

/// The keys of one SRTP stream.
pub(super) struct SrtpLeg {
    /// The device's packets (its key or ours: the first that authenticates decides).
    pub(super) receiver: Arc<std::sync::Mutex<srtp::Receiver>>,
    /// Our receiver reports, under the key of our `KeyMgmt`; `None` when the device
    /// refused it (no key to protect them with: none are sent).
    pub(super) sender: Option<std::sync::Mutex<srtp::Sender>>,
    /// The URL the stream was SET UP on: where its re-keying goes.
    pub(super) url: String,
}

impl SrtpLeg {
    /// The keys of a stream SET UP with `RTP/SAVP`: ours when our `KeyMgmt` went with the
    /// SETUP granted, and the key of the device's SDP, tried in that order. A device key
    /// that cannot be read is said and left out; no key at all is an error.
    pub(super) fn new<O: Output>(
        (i, url): (usize, &str),
        ours: Option<&crate::proto::mikey::SrtpKey>,
        sdp_key: Option<&str>,
        out: &O,
    ) -> Result<SrtpLeg, Error> {
        let mut keys = Vec::new();
        if let Some(k) = ours {
            keys.push((srtp::KeySource::Ours, k.clone()));
        }
        if let Some(text) = sdp_key {
            match crate::proto::mikey::decode_base64(text)
                .and_then(|b| crate::proto::mikey::parse(&b))
                .and_then(|m| m.srtp_key())
            {
                Ok(k) => keys.push((srtp::KeySource::Device, k)),
                Err(e) => out.debug(format_args!(
                    "stream {i}: the key of the device's SDP (a=key-mgmt) cannot be used: {e}"
                )),
            }
        }
        if keys.is_empty() {
            return Err(Error::Settings(format!(
                "stream {i}: no SRTP key: the device refused the element's KeyMgmt and its \
                 SDP gives none it can use; use streaming-method=rtsps (the media inside \
                 the TLS connection)"
            )));
        }
        let receiver = srtp::Receiver::new(&keys)
            .map_err(|e| Error::Settings(format!("stream {i}: SRTP: {e}")))?;
        let sender = match ours {
            Some(k) => Some(std::sync::Mutex::new(
                srtp::Sender::new(k)
                    .map_err(|e| Error::Settings(format!("stream {i}: SRTP: {e}")))?,
            )),
            None => None,
        };
        Ok(SrtpLeg {
            receiver: Arc::new(std::sync::Mutex::new(receiver)),
            sender,
            url: url.to_string(),
        })
    }

    /// Packets dropped so far, failing authentication.
    pub(super) fn dropped(&self) -> u64 {
        self.receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .dropped()
    }

    /// A receiver report protected with our key; `None` when there is no key for it, or
    /// when the device sends under our key from the SSRC of our reports (the same key,
    /// SSRC and index: a repeated keystream; the report is left out).
    pub(super) fn protect_report(&self, report: &[u8]) -> Option<Vec<u8>> {
        let ssrc = report
            .get(4..8)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)?;
        if self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .shares_our_keystream(ssrc)
        {
            return None;
        }
        self.sender
            .as_ref()?
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rtcp(report.to_vec())
    }
}

/// Where RTP and RTCP may come from: the device (its RTSP address or the `source=` of its
/// SETUP reply) and, when the reply names them, its server ports. Anything else is
/// dropped and counted: unconnected UDP ports take datagrams from anyone.
#[derive(Debug, Clone)]
pub(super) struct UdpSources {
    pub(super) ips: Vec<std::net::IpAddr>,
    pub(super) ports: Option<(u16, u16)>,
}

impl UdpSources {
    /// Either server port on either socket: some devices send RTCP from their RTP port.
    pub(super) fn accepts(&self, from: std::net::SocketAddr) -> bool {
        let port_ok = self
            .ports
            .is_none_or(|(rtp, rtcp)| from.port() == rtp || from.port() == rtcp);
        port_ok && self.ips.contains(&from.ip().to_canonical())
    }
}

/// The UDP leg of a stream SET UP over UDP: our pair, where its RTCP goes, and the
/// sources accepted (the device's addresses, and a `source=` its Transport names).
pub(super) async fn udp_leg(
    origin: &crate::proto::onvif::addr::Origin,
    timeout: Duration,
    (rtp, rtcp): (tokio::net::UdpSocket, tokio::net::UdpSocket),
    granted: &crate::proto::rtsp::transport::Reply,
) -> Result<UdpLeg, Error> {
    let ports = granted.server_port;
    // Bounded by `timeout`, as every exchange (a resolver that never answers must not
    // hold the start until stop).
    let lookup = tokio::net::lookup_host((crate::transport::net::bare_host(&origin.host), 0));
    let found = crate::error::Context::new(origin.peer(), "name lookup for the UDP sources")
        .within(timeout, async { Ok(lookup.await) })
        .await?;
    let mut sources: Vec<std::net::IpAddr> = match found {
        Ok(it) => it.map(|a| a.ip().to_canonical()).collect(),
        Err(_) => Vec::new(),
    };
    if let Some(ip) = granted.source {
        sources.push(ip.to_canonical());
    }
    let server_rtcp = match (ports, sources.first()) {
        (Some((_, port)), Some(ip)) => Some(std::net::SocketAddr::new(*ip, port)),
        _ => None,
    };
    Ok(UdpLeg {
        rtp: Arc::new(rtp),
        rtcp: Arc::new(rtcp),
        server_rtcp,
        accept: UdpSources {
            ips: sources,
            ports,
        },
        srtp: None,
    })
}

/// Binds an even/odd pair of UDP ports (RFC 3550 §11: RTP even, RTCP the next one).
pub(super) async fn udp_pair(
    v6: bool,
) -> Result<(tokio::net::UdpSocket, tokio::net::UdpSocket), std::io::Error> {
    let any: std::net::IpAddr = if v6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    for _ in 0..64 {
        let rtp = tokio::net::UdpSocket::bind((any, 0)).await?;
        let port = rtp.local_addr()?.port();
        if !port.is_multiple_of(2) || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = tokio::net::UdpSocket::bind((any, port + 1)).await {
            // Best effort: a smaller buffer still works, and loses bursts sooner.
            let _ = socket2::SockRef::from(&rtp).set_recv_buffer_size(UDP_RECV_BUFFER);
            return Ok((rtp, rtcp));
        }
    }
    Err(std::io::Error::other("no free even/odd UDP port pair"))
}

/// Aborts the UDP receivers when the session ends, whichever way.
pub(super) struct AbortOnDrop(pub(super) Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// A fresh key of ours for one stream's `KeyMgmt` (our SSRC; MKI 1 when it has one), and
/// the MIKEY message that carries it.
pub(super) fn our_srtp_key(
    suite: crate::proto::mikey::Suite,
    wanted: crate::proto::rtsp::sequence::OurKey,
    ssrc: u32,
) -> (crate::proto::mikey::SrtpKey, Vec<u8>) {
    use crate::proto::auth::random;
    let mki = wanted.mki.then_some(1);
    let key = srtp::our_key(suite, &random::<{ srtp::KEY_RANDOM }>(), mki, ssrc);
    let message = mikey_message(&key);
    (key, message)
}

/// The MIKEY message that gives `key` to the device (a SETUP's `KeyMgmt`, a re-keying's
/// `SET_PARAMETER`): a fresh CSB id and RAND, the time now.
pub(super) fn mikey_message(key: &crate::proto::mikey::SrtpKey) -> Vec<u8> {
    use crate::proto::auth::random;
    // NTP-UTC (RFC 3830 §6.6): the system clock as a 64-bit NTP timestamp.
    let now = crate::proto::clock::now_unix_millis();
    let ntp = crate::proto::rtp::ns_to_ntp(ntp_ns_of_unix_ms(now));
    crate::proto::mikey::build(key, u32::from_be_bytes(random::<4>()), ntp, &random::<16>())
}

/// A datagram of stream `i` in clear: as it came over plain UDP; opened, over SRTP; `None`
/// when SRTP drops it (the first drop said in a warning, the key the device uses in a
/// debug line).
fn clear<'a, O: Output>(
    i: usize,
    receiver: Option<&std::sync::Mutex<srtp::Receiver>>,
    packet: &'a [u8],
    rtcp: bool,
    out: &O,
) -> Option<std::borrow::Cow<'a, [u8]>> {
    let Some(receiver) = receiver else {
        return Some(std::borrow::Cow::Borrowed(packet));
    };
    let mut r = receiver
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let opened = if rtcp {
        r.rtcp(packet.to_vec())
    } else {
        r.rtp(packet.to_vec())
    };
    match opened {
        srtp::Unprotected::Packet { bytes, found } => {
            match found {
                Some(srtp::Found::Decided(source)) => out.debug(format_args!(
                    "stream {i}: the device encrypts with {}",
                    source.describe()
                )),
                Some(srtp::Found::Switched { roc_restarted }) => out.debug(format_args!(
                    "stream {i}: the device encrypts with the element's new key; the old \
                     key is dropped{}",
                    if roc_restarted {
                        " (the device counts its roll-overs from 0 again, as srtpenc \
                         before GStreamer 1.28 does)"
                    } else {
                        ""
                    }
                )),
                None => {}
            }
            Some(std::borrow::Cow::Owned(bytes))
        }
        srtp::Unprotected::Dropped => {
            out.lost(1);
            if r.dropped() == 1 {
                out.warning(&format!(
                    "stream {i}: dropping SRTP packets that fail authentication (a wrong key \
                     or tag, a damaged or replayed packet); they are counted"
                ));
            }
            None
        }
    }
}

pub(super) async fn udp_receiver<O: Output>(
    i: usize,
    leg: (Arc<tokio::net::UdpSocket>, Arc<tokio::net::UdpSocket>),
    (accept, srtp): (UdpSources, Option<Arc<std::sync::Mutex<srtp::Receiver>>>),
    streams: SharedStreams,
    out: Arc<O>,
) {
    let (rtp_sock, rtcp_sock) = leg;
    let mut rtp_buf = vec![0u8; MAX_DATAGRAM];
    let mut rtcp_buf = vec![0u8; MAX_DATAGRAM];
    let mut foreign = 0u64;
    let mut drop_foreign = |from: std::net::SocketAddr| {
        foreign = foreign.saturating_add(1);
        if foreign == 1 || foreign.is_power_of_two() {
            out.warning(&format!(
                "stream {i}: dropped {foreign} UDP datagram(s) that did not come from the \
                 device (the last from {from})"
            ));
        }
    };
    let stats = streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .stats
        .clone();
    loop {
        tokio::select! {
            r = rtp_sock.recv_from(&mut rtp_buf) => {
                let n = match r {
                    Ok((n, from)) if accept.accepts(from) => n,
                    Ok((_, from)) => {
                        drop_foreign(from);
                        continue;
                    }
                    Err(e) => {
                        crate::log::debug!("stream {i}: RTP socket: {e}");
                        return;
                    }
                };
                crate::log::trace!("stream {i}: {n} bytes of RTP over UDP");
                stats.received(n);
                let Some(packet) = rtp_buf
                    .get(..n)
                    .and_then(|p| clear(i, srtp.as_deref(), p, false, &*out))
                else {
                    continue;
                };
                let mut st = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if st.replay.is_some() && out.seek_pending() {
                    continue;
                }
                st.rtp(i, Packet::copied(&packet), &*out);
                st.end_read(0, &*out);
                if !st.flowing {
                    return;
                }
            }
            r = rtcp_sock.recv_from(&mut rtcp_buf) => {
                let n = match r {
                    Ok((n, from)) if accept.accepts(from) => n,
                    Ok((_, from)) => {
                        drop_foreign(from);
                        continue;
                    }
                    Err(e) => {
                        crate::log::debug!("stream {i}: RTCP socket: {e}");
                        return;
                    }
                };
                stats.received(n);
                let Some(packet) = rtcp_buf
                    .get(..n)
                    .and_then(|p| clear(i, srtp.as_deref(), p, true, &*out))
                else {
                    continue;
                };
                let now = out.running_time().unwrap_or(0);
                streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rtcp(i, &packet, now);
            }
        }
    }
}

/// The receiver reports due: over UDP to the device's RTCP port, else on the stream's
/// interleaved RTCP channel (queued in the session).
pub(super) async fn send_reports<O: Output>(
    rtsp: &mut Rtsp,
    streams: &SharedStreams,
    legs: &[Option<UdpLeg>],
    out: &O,
) {
    let now = out.running_time().unwrap_or(0);
    let reports = streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .reports(now);
    for (i, report) in reports {
        match legs.get(i).and_then(Option::as_ref) {
            Some(leg) => {
                let report = match &leg.srtp {
                    None => Some(report),
                    Some(keys) => keys.protect_report(&report),
                };
                if let (Some(to), Some(report)) = (leg.server_rtcp, report) {
                    let _ = leg.rtcp.send_to(&report, to).await;
                }
            }
            None => {
                let ch = streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .list
                    .get(i)
                    .map(|s| s.rtcp_channel);
                if let Some(ch) = ch {
                    rtsp.session.report(ch, &report);
                }
            }
        }
    }
}

/// Why a live session saw no media for `waited`: over UDP with nothing ever received,
/// the ports and what usually drops them, or, over SRTP, the packets that came and failed
/// authentication (`srtp`: the packets dropped, over SRTP); else the silence.
#[track_caller]
pub(super) fn no_media(
    peer: &str,
    udp_ports: &[u16],
    (ever, srtp): (bool, Option<u64>),
    waited: Duration,
) -> Error {
    let secs = waited.as_secs();
    if !udp_ports.is_empty() && !ever {
        let ports: Vec<String> = udp_ports
            .iter()
            .map(|p| format!("{p}-{}", p.saturating_add(1)))
            .collect();
        if let Some(srtp_dropped) = srtp.filter(|n| *n > 0) {
            return crate::error::Context::new(peer, "SRTP over UDP").broken(format!(
                "{srtp_dropped} SRTP packet(s) arrived on UDP ports {} within {secs} s of \
                 PLAY and none authenticated: the device encrypts with a key (or an MKI) \
                 that neither the element's KeyMgmt nor its SDP gave; use \
                 streaming-method=rtsps (the media inside the TLS connection)",
                ports.join(", ")
            ));
        }
        // Over SRTP, the ways that stay encrypted.
        let (what, instead) = if srtp.is_some() {
            (
                "SRTP",
                "streaming-method=rtsps (the media inside the TLS connection)",
            )
        } else {
            ("RTP", "streaming-method=rtp-rtsp-http-tcp or rtp-rtsp-tcp")
        };
        return crate::error::Context::new(peer, format!("{what} over UDP")).broken(format!(
            "no {what} arrived on UDP ports {} within {secs} s of PLAY: something between \
             the device and here (a firewall, NAT) drops UDP; use {instead}",
            ports.join(", ")
        ));
    }
    crate::error::Context::new(peer, "RTP").broken(format!("no media for {secs} s while playing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RTP socket gets rtspsrc's receive buffer, as far as the kernel allows
    /// (`net.core.rmem_max`; Linux doubles what it grants, for its bookkeeping).
    #[tokio::test]
    async fn test_the_rtp_socket_has_a_receive_buffer_for_bursts() {
        let Ok(max) = std::fs::read_to_string("/proc/sys/net/core/rmem_max") else {
            eprintln!("no /proc/sys/net/core/rmem_max: skipped");
            return;
        };
        let max: usize = max.trim().parse().expect("a number");
        let (rtp, rtcp) = udp_pair(false).await.expect("a pair");
        let granted = socket2::SockRef::from(&rtp)
            .recv_buffer_size()
            .expect("SO_RCVBUF");
        assert_eq!(granted, 2 * UDP_RECV_BUFFER.min(max));
        assert_eq!(
            rtcp.local_addr().unwrap().port(),
            rtp.local_addr().unwrap().port() + 1
        );
    }
}
