// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Finding ONVIF cameras (`onvifdeviceprovider`): the three Probes of
//! `proto::onvif::discovery` sent from one UDP socket to each target (the WS-Discovery
//! multicast group, or unicast addresses), sent again after a second (UDP is lossy),
//! and the ProbeMatches read for a bounded time. No credentials go anywhere.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::proto::onvif::discovery::{self, Message, ProbeKind, Target};

/// At most this many cameras are kept from one discovery (a flood of forged answers is
/// bounded).
pub const MAX_FOUND: usize = 1024;

/// A camera found: what it said, where from, and the location to open it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub target: Target,
    pub source: IpAddr,
    pub location: Option<String>,
}

/// Where Probes go: `listed` (comma-separated `host:port`: the provider's `targets`, else
/// `ONVIFHTTPS_DISCOVERY_TARGETS`; for a network without multicast, or a test), else the
/// WS-Discovery group.
pub fn targets(listed: Option<&str>) -> Vec<SocketAddr> {
    let listed: Vec<SocketAddr> = listed
        .map(str::to_string)
        .or_else(|| std::env::var("ONVIFHTTPS_DISCOVERY_TARGETS").ok())
        .unwrap_or_default()
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    if listed.is_empty() {
        let (ip, port) = discovery::MULTICAST_V4;
        vec![SocketAddr::new(ip.into(), port)]
    } else {
        listed
    }
}

/// Probes `targets` and collects the ONVIF cameras that answer within `wait`, one per
/// endpoint (the first answer's, or the first with a usable location).
pub async fn discover(targets: &[SocketAddr], wait: Duration) -> std::io::Result<Vec<Found>> {
    use crate::proto::auth::random;
    let socket = tokio::net::UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).await?;
    let probes: Vec<Vec<u8>> = [
        ProbeKind::Any,
        ProbeKind::VideoTransmitter,
        ProbeKind::Device,
    ]
    .into_iter()
    .map(|k| discovery::probe(k, &random::<16>()).1)
    .collect();
    let send = async |socket: &tokio::net::UdpSocket| {
        for to in targets {
            for p in &probes {
                if let Err(e) = socket.send_to(p, to).await {
                    crate::log::debug!("discovery: a Probe to {to} could not be sent: {e}");
                }
            }
        }
    };
    send(&socket).await;
    let end = tokio::time::Instant::now() + wait;
    let mut again = Some(tokio::time::Instant::now() + Duration::from_secs(1));
    let mut found: Vec<Found> = Vec::new();
    let mut buf = vec![0u8; discovery::MAX_DATAGRAM + 1];
    loop {
        let until = again.map_or(end, |a| a.min(end));
        match tokio::time::timeout_at(until, socket.recv_from(&mut buf)).await {
            Err(_) if again.is_some_and(|a| a <= tokio::time::Instant::now()) => {
                again = None;
                send(&socket).await;
            }
            Err(_) => break,
            Ok(Err(e)) => {
                crate::log::debug!("discovery: {e}");
                break;
            }
            Ok(Ok((n, from))) => {
                let Some(datagram) = buf.get(..n) else {
                    continue;
                };
                let targets = match discovery::parse(datagram) {
                    Ok(Message::ProbeMatches { targets, .. }) => targets,
                    Ok(Message::Hello(t)) => vec![t],
                    Ok(_) => continue,
                    Err(e) => {
                        crate::log::debug!("discovery: {from} sent something else ({})", e.0);
                        continue;
                    }
                };
                for target in targets.into_iter().filter(Target::is_onvif) {
                    let location = target.location(from.ip());
                    let f = Found {
                        target,
                        source: from.ip(),
                        location,
                    };
                    match found
                        .iter()
                        .position(|k| k.target.endpoint == f.target.endpoint)
                    {
                        Some(i) => {
                            if let Some(k) = found.get_mut(i)
                                && k.location.is_none()
                                && f.location.is_some()
                            {
                                *k = f;
                            }
                        }
                        None if found.len() < MAX_FOUND => found.push(f),
                        None => {}
                    }
                }
            }
        }
    }
    Ok(found)
}
