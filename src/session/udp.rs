// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTP and RTCP over UDP (`rtp-udp`): the port pairs, who may send on them, the
//! receivers.

use super::*;

/// Largest UDP datagram read.
pub(super) const MAX_DATAGRAM: usize = 65536;

/// The UDP sockets of one stream (`rtp-udp`).
pub(super) struct UdpLeg {
    pub(super) rtp: Arc<tokio::net::UdpSocket>,
    pub(super) rtcp: Arc<tokio::net::UdpSocket>,
    /// Where receiver reports go: the server's RTCP port.
    pub(super) server_rtcp: Option<std::net::SocketAddr>,
    pub(super) accept: UdpSources,
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

pub(super) async fn udp_receiver<O: Output>(
    i: usize,
    leg: (Arc<tokio::net::UdpSocket>, Arc<tokio::net::UdpSocket>),
    accept: UdpSources,
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
                let mut st = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if st.replay.is_some() && out.seek_pending() {
                    continue;
                }
                st.rtp(i, Packet::copied(&rtp_buf[..n]), &*out);
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
                let now = out.running_time().unwrap_or(0);
                streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rtcp(i, &rtcp_buf[..n], now);
            }
        }
    }
}

/// Why a live session saw no media for `waited`: over UDP with nothing ever received,
/// the ports and what usually drops them; else the silence.
#[track_caller]
pub(super) fn no_media(peer: &str, udp_ports: &[u16], ever: bool, waited: Duration) -> Error {
    let secs = waited.as_secs();
    if !udp_ports.is_empty() && !ever {
        let ports: Vec<String> = udp_ports
            .iter()
            .map(|p| format!("{p}-{}", p.saturating_add(1)))
            .collect();
        return crate::error::Context::new(peer, "RTP over UDP").broken(format!(
            "no RTP arrived on UDP ports {} within {secs} s of PLAY: something between \
                 the device and here (a firewall, NAT) drops UDP; use \
                 streaming-method=rtp-rtsp-http-tcp or rtp-rtsp-tcp",
            ports.join(", ")
        ));
    }
    crate::error::Context::new(peer, "RTP").broken(format!("no media for {secs} s while playing"))
}
