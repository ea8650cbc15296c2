// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's WS-Discovery target (`docs/secure-streaming-and-discovery.md` §7): a UDP
//! socket that answers each Probe for an ONVIF device (no Types, `tds:Device` or
//! `dn:NetworkVideoTransmitter`) with a ProbeMatch, unicast to the Probe's sender, as
//! devices do; with `multicast_discovery`, also on the WS-Discovery group, where it says
//! Hello when it starts and Bye when it stops. Read as a test camera may: by text, not by
//! schema.

use std::sync::{Condvar, Mutex};

/// The WS-Discovery group and port.
pub const GROUP: (std::net::Ipv4Addr, u16) = (std::net::Ipv4Addr::new(239, 255, 255, 250), 3702);

/// The Probes answered, counted and waited for.
#[derive(Debug, Default)]
pub struct Probes {
    answered: Mutex<u64>,
    changed: Condvar,
}

impl Probes {
    pub fn answered(&self) -> u64 {
        *self.answered.lock().unwrap()
    }

    fn one(&self) {
        *self.answered.lock().unwrap() += 1;
        self.changed.notify_all();
    }

    /// Waits until `n` Probes were answered, at most `timeout`; whether they were.
    pub fn wait(&self, n: u64, timeout: std::time::Duration) -> bool {
        let guard = self.answered.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |a| *a < n)
            .unwrap();
        *guard >= n
    }
}

/// A socket on the WS-Discovery port that joined the group on `interface` (its address;
/// `None`: the default route's), and sends from it there (shared with other listeners of
/// the port, as on a host with several WS-Discovery clients).
pub fn group_socket(interface: Option<std::net::Ipv4Addr>) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    // Only what comes for the groups this socket joined, on the interfaces it joined them
    // on (Linux's IP_MULTICAST_ALL is on by default: a socket takes every group any socket
    // of the host joined).
    socket.set_multicast_all_v4(false)?;
    socket.bind(&std::net::SocketAddr::from(GROUP).into())?;
    let interface = interface.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
    socket.join_multicast_v4(&GROUP.0, &interface)?;
    if !interface.is_unspecified() {
        socket.set_multicast_if_v4(&interface)?;
    }
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// A fresh `urn:uuid:` message id.
pub fn message_id() -> String {
    let mut random = [0u8; 16];
    let _ = getrandom::fill(&mut random);
    format!(
        "urn:uuid:{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

const ENVELOPE_START: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope \
     xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
     xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" \
     xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" \
     xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\" \
     xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\">";

/// The envelope's start and header of an announcement on the group (`Hello`, `Bye`), the
/// camera's `number`th.
fn announcement(action: &str, message_id: &str, number: u32) -> String {
    format!(
        "{ENVELOPE_START}<s:Header><a:MessageID>{message_id}</a:MessageID>\
         <a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>\
         <a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/{action}</a:Action>\
         <d:AppSequence InstanceId=\"1\" MessageNumber=\"{number}\"/></s:Header>"
    )
}

/// The Hello the camera says on the group when it starts.
pub fn hello(advert: &Advert, message_id: &str) -> String {
    format!(
        "{}<s:Body><d:Hello><a:EndpointReference><a:Address>{}</a:Address></a:EndpointReference>\
         <d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types><d:Scopes>{}</d:Scopes>\
         <d:XAddrs>{}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:Hello></s:Body>\
         </s:Envelope>",
        announcement("Hello", message_id, 1),
        advert.endpoint,
        advert.scopes,
        advert.xaddrs
    )
}

/// The Bye the camera says on the group when it stops.
pub fn bye(advert: &Advert, message_id: &str) -> String {
    format!(
        "{}<s:Body><d:Bye><a:EndpointReference><a:Address>{}</a:Address></a:EndpointReference>\
         </d:Bye></s:Body></s:Envelope>",
        announcement("Bye", message_id, 2),
        advert.endpoint
    )
}

/// What the camera says of itself.
#[derive(Debug, Clone)]
pub struct Advert {
    /// `urn:uuid:...`, stable for the camera's life.
    pub endpoint: String,
    pub scopes: String,
    pub xaddrs: String,
}

/// The MessageID of a datagram, if it is a Probe an ONVIF device answers.
fn probe_id(text: &str) -> Option<String> {
    if !(text.contains(":Probe>") || text.contains("<Probe>") || text.contains(":Probe/>")) {
        return None;
    }
    // Types, when given, must name a device or a video transmitter.
    if let Some(start) = text.find("Types>") {
        let rest = &text[start + 6..];
        let types = &rest[..rest.find('<').unwrap_or(rest.len())];
        if !types.trim().is_empty()
            && !types
                .split_whitespace()
                .any(|t| t.ends_with(":Device") || t.ends_with(":NetworkVideoTransmitter"))
        {
            return None;
        }
    }
    let start = text.find("MessageID>")? + "MessageID>".len();
    let rest = &text[start..];
    Some(rest[..rest.find('<')?].trim().to_string())
}

/// The ProbeMatches answer to the Probe `relates_to`.
pub fn probe_matches(advert: &Advert, relates_to: &str, message_id: &str) -> String {
    format!(
        "{ENVELOPE_START}<s:Header><a:MessageID>{message_id}</a:MessageID><a:RelatesTo>{relates_to}</a:RelatesTo>\
         <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>\
         <a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>\
         </s:Header><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>{}\
         </a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device\
         </d:Types><d:Scopes>{}</d:Scopes><d:XAddrs>{}</d:XAddrs><d:MetadataVersion>1\
         </d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>",
        advert.endpoint, advert.scopes, advert.xaddrs
    )
}

/// Answers Probes on `socket` until the runtime stops; counts them in `probes`.
pub async fn serve(socket: tokio::net::UdpSocket, advert: Advert, probes: std::sync::Arc<Probes>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        let Some(id) = probe_id(&text) else {
            continue;
        };
        let reply = probe_matches(&advert, &id, &message_id());
        let _ = socket.send_to(reply.as_bytes(), from).await;
        probes.one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_probes_answered_and_others_not() {
        let probe = |types: &str| {
            format!(
                "<s:Envelope><s:Header><a:MessageID>urn:uuid:42</a:MessageID></s:Header>\
                 <s:Body><d:Probe>{types}</d:Probe></s:Body></s:Envelope>"
            )
        };
        assert_eq!(probe_id(&probe("")).as_deref(), Some("urn:uuid:42"));
        assert_eq!(
            probe_id(&probe("<d:Types>dn:NetworkVideoTransmitter</d:Types>")).as_deref(),
            Some("urn:uuid:42")
        );
        assert_eq!(
            probe_id(&probe("<d:Types>tds:Device</d:Types>")).as_deref(),
            Some("urn:uuid:42")
        );
        assert_eq!(probe_id(&probe("<d:Types>wsdp:Printer</d:Types>")), None);
        assert_eq!(
            probe_id("<s:Envelope><s:Body><d:Hello/></s:Body></s:Envelope>"),
            None
        );
    }
}
