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

/// Whether `targets` is the WS-Discovery group alone (then Hello and Bye can be heard).
pub fn is_multicast(targets: &[SocketAddr]) -> bool {
    let (ip, port) = discovery::MULTICAST_V4;
    targets == [SocketAddr::new(ip.into(), port)]
}

/// Probes `targets` and collects the ONVIF cameras that answer within `wait`, one per
/// endpoint (the first answer's, or the first with a usable location).
pub async fn discover(targets: &[SocketAddr], wait: Duration) -> std::io::Result<Vec<Found>> {
    discover_each(targets, wait, &mut |_| {}).await
}

/// As [`discover`], telling `each` of every camera as it is found (and again when a
/// later answer gives it the location the first lacked).
pub async fn discover_each(
    targets: &[SocketAddr],
    wait: Duration,
    each: &mut (dyn FnMut(&Found) + Send),
) -> std::io::Result<Vec<Found>> {
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
                    keep(&mut found, found_at(target, from.ip()), each);
                }
            }
        }
    }
    Ok(found)
}

fn found_at(target: Target, source: IpAddr) -> Found {
    let location = target.location(source);
    Found {
        target,
        source,
        location,
    }
}

/// Adds `f` to `found` unless its endpoint is there (then only a location it lacked is
/// taken); `each` is told of what changed.
fn keep(found: &mut Vec<Found>, f: Found, each: &mut (dyn FnMut(&Found) + Send)) {
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
                each(k);
            }
        }
        None if found.len() < MAX_FOUND => {
            each(&f);
            found.push(f);
        }
        None => {}
    }
}

/// What a device announced on the WS-Discovery group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announced {
    /// It joined or changed (a camera, with its location when one is usable).
    Hello(Found),
    /// It leaves: its endpoint.
    Bye(String),
}

/// A datagram heard on the group: a camera's Hello or any device's Bye; `None` for
/// anything else (Probes, ours included, and devices that are not cameras).
pub fn announced(datagram: &[u8], from: IpAddr) -> Option<Announced> {
    match discovery::parse(datagram) {
        Ok(Message::Hello(t)) if t.is_onvif() => Some(Announced::Hello(found_at(t, from))),
        Ok(Message::Bye(endpoint)) => Some(Announced::Bye(endpoint)),
        Ok(_) => None,
        Err(e) => {
            crate::log::debug!("discovery: {from} sent something else ({})", e.0);
            None
        }
    }
}

/// A socket that has joined the WS-Discovery group (IPv4), for the Hellos and Byes devices
/// send there. Bound to the group's address, so that it takes only what is sent to the
/// group (a Probe sent to a WS-Discovery service of this host still reaches it), and with
/// address reuse, as every WS-Discovery client of a host listens there. The group is
/// joined on the interface of the default route.
pub fn listen() -> std::io::Result<tokio::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (group, port) = discovery::MULTICAST_V4;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::new(group.into(), port).into())?;
    socket.join_multicast_v4(&group, &std::net::Ipv4Addr::UNSPECIFIED)?;
    socket.set_nonblocking(true)?;
    tokio::net::UdpSocket::from_std(socket.into())
}
