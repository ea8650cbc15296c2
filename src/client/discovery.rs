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

/// At most this many interfaces are probed and listened on.
const MAX_INTERFACES: usize = 64;

/// The IPv4 addresses of the interfaces that are up, have a link (a NIC whose cable is out
/// is left for when it has one) and take multicast: Probes go out of each, and the group
/// is joined on each (a camera network on a NIC of its own is not the default route's,
/// which is all the kernel would choose).
pub fn multicast_interfaces() -> Vec<std::net::Ipv4Addr> {
    let mut out: Vec<std::net::Ipv4Addr> = Vec::new();
    for (_, ip) in indexed_interfaces() {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// An interface as the listener knows it: its index and an IPv4 address of it (an
/// interface removed and made again, a USB adapter plugged back, has a new index, and
/// the group to join again).
pub type Interface = (u32, std::net::Ipv4Addr);

/// [`multicast_interfaces`] with each one's index.
fn indexed_interfaces() -> Vec<Interface> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list that freeifaddrs frees below;
    // nothing of it is kept.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return out;
    }
    let mut node = list;
    while !node.is_null() && out.len() < MAX_INTERFACES {
        // SAFETY: `node` is a node of the list getifaddrs gave, not freed yet.
        let ifa = unsafe { &*node };
        node = ifa.ifa_next;
        let flags = ifa.ifa_flags;
        let wanted = (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_MULTICAST) as libc::c_uint;
        if flags & wanted != wanted || ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: `ifa_addr` is not null and points to a socket address of its family.
        if i32::from(unsafe { (*ifa.ifa_addr).sa_family }) != libc::AF_INET {
            continue;
        }
        // SAFETY: an AF_INET address is a sockaddr_in.
        let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
        let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
        let index = if ifa.ifa_name.is_null() {
            0
        } else {
            // SAFETY: a non-null `ifa_name` is the interface's NUL-terminated name.
            unsafe { libc::if_nametoindex(ifa.ifa_name) }
        };
        if !out.contains(&(index, ip)) {
            out.push((index, ip));
        }
    }
    // SAFETY: the list getifaddrs gave, freed once.
    unsafe { libc::freeifaddrs(list) };
    out
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
    discover_on(targets, &multicast_interfaces(), wait, each).await
}

/// As [`discover_each`], the group's Probes going out of `interfaces` only (the kernel's
/// choice when the list is empty).
pub async fn discover_on(
    targets: &[SocketAddr],
    interfaces: &[std::net::Ipv4Addr],
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
            // To the group: out of every interface (or the kernel's choice when none
            // is listed); to an address: as routed.
            let outs: Vec<Option<std::net::Ipv4Addr>> =
                if to.ip().is_multicast() && !interfaces.is_empty() {
                    interfaces.iter().copied().map(Some).collect()
                } else {
                    vec![None]
                };
            for out in outs {
                if let Some(ip) = out
                    && let Err(e) = socket2::SockRef::from(socket).set_multicast_if_v4(&ip)
                {
                    crate::log::debug!("discovery: no Probes out of {ip}: {e}");
                    continue;
                }
                for p in &probes {
                    if let Err(e) = socket.send_to(p, to).await {
                        crate::log::debug!("discovery: a Probe to {to} could not be sent: {e}");
                    }
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
/// send there, and the interfaces it joined it on. Bound to the group's address, so that
/// it takes only what is sent to the group (a Probe sent to a WS-Discovery service of this
/// host still reaches it), and with address reuse, as every WS-Discovery client of a host
/// listens there. The group is joined on every interface that takes multicast (else on
/// the default route's); [`join_new`] joins it on those that come up later.
pub fn listen() -> std::io::Result<(tokio::net::UdpSocket, Vec<Interface>)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (group, port) = discovery::MULTICAST_V4;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    // Only what comes for the groups this socket joined, on the interfaces it joined them
    // on (Linux's IP_MULTICAST_ALL is on by default: a socket takes every group any socket
    // of the host joined).
    socket.set_multicast_all_v4(false)?;
    socket.bind(&SocketAddr::new(group.into(), port).into())?;
    let interfaces = indexed_interfaces();
    let joined = interfaces
        .iter()
        .filter(|(_, ip)| join(socket2::SockRef::from(&socket), *ip))
        .count();
    if joined == 0 {
        socket.join_multicast_v4(&group, &std::net::Ipv4Addr::UNSPECIFIED)?;
    }
    socket.set_nonblocking(true)?;
    Ok((tokio::net::UdpSocket::from_std(socket.into())?, interfaces))
}

/// How often a listener looks for interfaces that came up (a recorder often starts before
/// its camera network's NIC is up, or the NIC comes back after a cable was pulled).
pub const RESCAN: Duration = Duration::from_secs(5);

/// The addresses of the interfaces that take multicast now and were not in `known` (which
/// becomes the list of now): `socket` joins the group on each (one it is still a member
/// on, as after a cable was out, is kept), and Probes are to go out of them. An interface
/// of `known` gone, or without a link, is left (by its index, which a removed interface
/// keeps in the socket's list): the kernel allows a socket 20 groups, and bridges and
/// adapters that come and go would use them up.
pub fn join_new(
    socket: &tokio::net::UdpSocket,
    known: &mut Vec<Interface>,
) -> Vec<std::net::Ipv4Addr> {
    use socket2::InterfaceIndexOrAddress;
    let (group, _) = discovery::MULTICAST_V4;
    let now = indexed_interfaces();
    let mut gone: Vec<u32> = Vec::new();
    for (index, _) in known.iter() {
        if *index != 0 && !now.iter().any(|(i, _)| i == index) && !gone.contains(index) {
            gone.push(*index);
        }
    }
    for index in gone {
        let by = InterfaceIndexOrAddress::Index(index);
        if let Err(e) = socket2::SockRef::from(socket).leave_multicast_v4_n(&group, &by) {
            crate::log::debug!("discovery: the group not left on interface {index}: {e}");
        }
    }
    let mut new: Vec<std::net::Ipv4Addr> = Vec::new();
    for (_, ip) in now.iter().filter(|i| !known.contains(i)) {
        if !new.contains(ip) {
            new.push(*ip);
        }
    }
    for ip in &new {
        // Probes still go out of one that could not be joined.
        join(socket2::SockRef::from(socket), *ip);
    }
    *known = now;
    new
}

/// Joins the WS-Discovery group on the interface of address `ip`: whether `socket` is a
/// member there now (it may have been one already: a link that went and came back).
fn join(socket: socket2::SockRef<'_>, ip: std::net::Ipv4Addr) -> bool {
    let (group, _) = discovery::MULTICAST_V4;
    match socket.join_multicast_v4(&group, &ip) {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => true,
        Err(e) => {
            crate::log::debug!("discovery: the group not joined on {ip}: {e}");
            false
        }
    }
}
