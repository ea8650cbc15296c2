// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Discovery datagrams in the shapes devices send (`docs/secure-streaming-and-
//! discovery.md` §7.3): several XAddrs, link-local and `0.0.0.0` addresses, other
//! prefixes, Hello and Bye, faults, printers.

use super::*;

/// A ProbeMatches datagram with one match; prefixes chosen unlike the usual ones.
fn matches(types: &str, scopes: &str, xaddrs: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><env:Envelope xmlns:env=\"{NS_SOAP}\" xmlns:wsa=\"{NS_ADDRESSING}\" \
         xmlns:wsd=\"{NS_DISCOVERY}\" xmlns:nw=\"{NS_NETWORK}\" xmlns:dev=\"{NS_DEVICE}\">\
         <env:Header><wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:RelatesTo>urn:uuid:probe</wsa:RelatesTo>\
         </env:Header><env:Body><wsd:ProbeMatches><wsd:ProbeMatch>\
         <wsa:EndpointReference><wsa:Address>urn:uuid:cam-1</wsa:Address></wsa:EndpointReference>\
         <wsd:Types>{types}</wsd:Types><wsd:Scopes>{scopes}</wsd:Scopes>\
         <wsd:XAddrs>{xaddrs}</wsd:XAddrs><wsd:MetadataVersion>3</wsd:MetadataVersion>\
         </wsd:ProbeMatch></wsd:ProbeMatches></env:Body></env:Envelope>"
    )
    .into_bytes()
}

fn one(datagram: &[u8]) -> Target {
    match parse(datagram).unwrap() {
        Message::ProbeMatches {
            relates_to,
            mut targets,
        } => {
            assert_eq!(relates_to.as_deref(), Some("urn:uuid:probe"));
            assert_eq!(targets.len(), 1);
            targets.remove(0)
        }
        other => panic!("{other:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn test_a_camera_match_is_read_by_namespace() {
    let t = one(&matches(
        "nw:NetworkVideoTransmitter dev:Device",
        "onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/Profile/T \
         onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/hardware/EC-1000",
        "http://192.0.2.10/onvif/device_service https://192.0.2.10/onvif/device_service",
    ));
    assert_eq!(t.endpoint, "urn:uuid:cam-1");
    assert!(t.is_onvif());
    assert_eq!(
        t.types,
        [
            (
                NS_NETWORK.to_string(),
                "NetworkVideoTransmitter".to_string()
            ),
            (NS_DEVICE.to_string(), "Device".to_string())
        ]
    );
    assert_eq!(t.scope("name").as_deref(), Some("Front Door"));
    assert_eq!(t.scope("hardware").as_deref(), Some("EC-1000"));
    assert_eq!(t.scopes_of("Profile"), ["Streaming", "T"]);
    assert_eq!(t.metadata_version, Some(3));
    // Bosch's shape: http and https on one address; https wins.
    assert_eq!(
        t.location(ip("192.0.2.10")).as_deref(),
        Some("https://192.0.2.10/onvif/device_service")
    );
}

/// Axis: a link-local address first, then the one the datagram came from: the source's
/// wins. A device that writes `0.0.0.0` is reached on the datagram's source; an IPv6
/// link-local address has no zone in a URL and is left out.
#[test]
fn test_the_location_is_one_a_client_can_reach() {
    let t = one(&matches(
        "dev:Device",
        "",
        "http://169.254.12.34/onvif/device_service http://192.168.1.20/onvif/device_service",
    ));
    assert_eq!(
        t.location(ip("192.168.1.20")).as_deref(),
        Some("http://192.168.1.20/onvif/device_service")
    );
    let t = one(&matches(
        "dev:Device",
        "",
        "http://0.0.0.0:8080/onvif/device_service",
    ));
    assert_eq!(
        t.location(ip("192.0.2.7")).as_deref(),
        Some("http://192.0.2.7:8080/onvif/device_service")
    );
    let t = one(&matches(
        "dev:Device",
        "",
        "http://[fe80::1]/onvif/device_service http://192.0.2.8/onvif/device_service",
    ));
    assert_eq!(
        t.location(ip("192.0.2.8")).as_deref(),
        Some("http://192.0.2.8/onvif/device_service")
    );
    let t = one(&matches(
        "dev:Device",
        "",
        "http://[fe80::1]/onvif/device_service",
    ));
    assert_eq!(t.location(ip("fe80::1")), None);
    let t = one(&matches("dev:Device", "", "ftp://192.0.2.8/x urn:nothing"));
    assert_eq!(t.location(ip("192.0.2.8")), None);
}

/// A printer (WSD) answers Probes too: not a camera. Types in a prefix the datagram does
/// not declare are left out, not guessed.
#[test]
fn test_what_is_not_a_camera() {
    let printer = one(&matches("wsdp:Device", "", "http://192.0.2.9:5357/"));
    assert!(!printer.is_onvif());
    assert_eq!(printer.types, []);
    // Scopes alone say ONVIF (a device that lists no Types).
    let scoped = one(&matches(
        "",
        "onvif://www.onvif.org/name/x",
        "http://192.0.2.9/",
    ));
    assert!(scoped.is_onvif());
}

#[test]
fn test_hello_bye_faults_and_garbage() {
    let env = |body: &str| {
        format!(
            "<s:Envelope xmlns:s=\"{NS_SOAP}\" xmlns:a=\"{NS_ADDRESSING}\" xmlns:d=\"{NS_DISCOVERY}\" \
             xmlns:dn=\"{NS_NETWORK}\"><s:Header/><s:Body>{body}</s:Body></s:Envelope>"
        )
        .into_bytes()
    };
    let hello = env(
        "<d:Hello><a:EndpointReference><a:Address>urn:uuid:cam-2</a:Address></a:EndpointReference>\
         <d:Types>dn:NetworkVideoTransmitter</d:Types><d:XAddrs>https://192.0.2.3/onvif/device_service</d:XAddrs>\
         <d:MetadataVersion>1</d:MetadataVersion></d:Hello>",
    );
    let Message::Hello(t) = parse(&hello).unwrap() else {
        panic!("a Hello");
    };
    assert_eq!(
        (t.endpoint.as_str(), t.is_onvif()),
        ("urn:uuid:cam-2", true)
    );
    let bye = env(
        "<d:Bye><a:EndpointReference><a:Address>urn:uuid:cam-2</a:Address></a:EndpointReference></d:Bye>",
    );
    assert_eq!(parse(&bye).unwrap(), Message::Bye("urn:uuid:cam-2".into()));
    // A Hello without an endpoint has nothing to key it by.
    assert_eq!(
        parse(&env(
            "<d:Hello><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Hello>"
        ))
        .unwrap(),
        Message::Other
    );
    // Hikvision's answer to a Probe it did not like.
    let fault = env(
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en\">the xml format error</s:Text></s:Reason></s:Fault>",
    );
    assert_eq!(parse(&fault).unwrap(), Message::Other);
    assert!(parse(b"M-SEARCH * HTTP/1.1\r\n").is_err());
    assert!(parse(b"<x/>").is_err());
    assert!(parse(&vec![b' '; MAX_DATAGRAM + 1]).is_err());
}

/// Our Probes: one line each, a fresh v4 UUID, Types in each of the three shapes, and
/// what a device reads of them is a Probe (nothing for a client).
#[test]
fn test_probes_are_compact_and_typed() {
    for (kind, types) in [
        (ProbeKind::Any, None),
        (
            ProbeKind::VideoTransmitter,
            Some((NS_NETWORK, "NetworkVideoTransmitter")),
        ),
        (ProbeKind::Device, Some((NS_DEVICE, "Device"))),
    ] {
        let (id, bytes) = probe(kind, &[0xAB; 16]);
        assert_eq!(id, "urn:uuid:abababab-abab-4bab-abab-abababababab");
        assert!(!bytes.contains(&b'\n'), "one line");
        assert!(bytes.len() < 1024);
        assert_eq!(parse(&bytes).unwrap(), Message::Other);
        let root = xml::parse(&bytes).unwrap();
        let probe = root
            .path(&[(NS_SOAP, "Body"), (NS_DISCOVERY, "Probe")])
            .unwrap();
        let read = probe.child(NS_DISCOVERY, "Types").map(|t| {
            let (p, local) = t.text().split_once(':').unwrap();
            (t.scope.lookup(p).unwrap().to_string(), local.to_string())
        });
        assert_eq!(
            read,
            types.map(|(ns, name)| (ns.to_string(), name.to_string()))
        );
        let id_in = root
            .path(&[(NS_SOAP, "Header"), (NS_ADDRESSING, "MessageID")])
            .unwrap()
            .text()
            .to_string();
        assert_eq!(id_in, id);
    }
}
