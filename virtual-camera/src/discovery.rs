// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's WS-Discovery target (`docs/secure-streaming-and-discovery.md` §7): a UDP
//! socket that answers each Probe for an ONVIF device (no Types, `tds:Device` or
//! `dn:NetworkVideoTransmitter`) with a ProbeMatch, unicast to the Probe's sender, as
//! devices do. Read as a test camera may: by text, not by schema.

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
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope \
         xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
         xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" \
         xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" \
         xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\" \
         xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\"><s:Header>\
         <a:MessageID>{message_id}</a:MessageID><a:RelatesTo>{relates_to}</a:RelatesTo>\
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
pub async fn serve(
    socket: tokio::net::UdpSocket,
    advert: Advert,
    probes: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        let Some(id) = probe_id(&text) else {
            continue;
        };
        probes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut random = [0u8; 16];
        let _ = getrandom::fill(&mut random);
        let reply_id = format!(
            "urn:uuid:{}",
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let reply = probe_matches(&advert, &id, &reply_id);
        let _ = socket.send_to(reply.as_bytes(), from).await;
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
