// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The device service's operations (`tds`): clock, services, capabilities, network
//! protocols.

use super::ops::{NS_TDS, NS_TT, ParseError, Request, empty, expect, num, request};
use super::soap::XmlWriter;
use super::xml::Element;
use crate::proto::clock;

/// `tds:GetSystemDateAndTime` (PRE_AUTH).
pub fn get_system_date_and_time() -> Request {
    empty("tds", NS_TDS, "GetSystemDateAndTime")
}

/// `tds:GetDeviceInformation`.
pub fn get_device_information() -> Request {
    empty("tds", NS_TDS, "GetDeviceInformation")
}

/// What `GetDeviceInformation` says of the device (empty where it says nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInformation {
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    pub serial: String,
    pub hardware: String,
}

/// The answer to `tds:GetDeviceInformation`.
pub fn parse_device_information(el: &Element) -> Result<DeviceInformation, ParseError> {
    let el = expect(el, NS_TDS, "GetDeviceInformationResponse")?;
    let text = |name: &str| {
        el.child(NS_TDS, name)
            .map(|e| e.text().trim().to_string())
            .unwrap_or_default()
    };
    Ok(DeviceInformation {
        manufacturer: text("Manufacturer"),
        model: text("Model"),
        firmware: text("FirmwareVersion"),
        serial: text("SerialNumber"),
        hardware: text("HardwareId"),
    })
}

/// `tds:GetServices` without capabilities (PRE_AUTH).
pub fn get_services() -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:GetServices", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:IncludeCapability", "false")
        .end("tds:GetServices");
    request(NS_TDS, "GetServices", w.finish())
}

/// `tds:GetCapabilities` for all categories (PRE_AUTH), the fallback of GetServices.
pub fn get_capabilities() -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:GetCapabilities", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:Category", "All")
        .end("tds:GetCapabilities");
    request(NS_TDS, "GetCapabilities", w.finish())
}

/// `tds:GetNetworkProtocols`.
pub fn get_network_protocols() -> Request {
    empty("tds", NS_TDS, "GetNetworkProtocols")
}

/// One `tt:NetworkProtocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkProtocol {
    /// `HTTP`, `HTTPS` or `RTSP`.
    pub name: String,
    pub enabled: bool,
    pub ports: Vec<u16>,
}

/// `tds:SetNetworkProtocols` with the given protocols.
pub fn set_network_protocols(protocols: &[NetworkProtocol]) -> Request {
    let mut w = XmlWriter::new();
    w.start(
        "tds:SetNetworkProtocols",
        &[("xmlns:tds", NS_TDS), ("xmlns:tt", NS_TT)],
    );
    for p in protocols {
        w.start("tds:NetworkProtocols", &[])
            .leaf("tt:Name", &p.name)
            .leaf("tt:Enabled", if p.enabled { "true" } else { "false" });
        for port in &p.ports {
            w.leaf("tt:Port", &port.to_string());
        }
        w.end("tds:NetworkProtocols");
    }
    w.end("tds:SetNetworkProtocols");
    request(NS_TDS, "SetNetworkProtocols", w.finish())
}

/// The device's UTC time in Unix seconds, from `GetSystemDateAndTimeResponse`.
pub fn parse_system_date_and_time(el: &Element) -> Result<i64, ParseError> {
    let el = expect(el, NS_TDS, "GetSystemDateAndTimeResponse")?;
    let utc = el
        .path(&[(NS_TDS, "SystemDateAndTime"), (NS_TT, "UTCDateTime")])
        .ok_or("no SystemDateAndTime/UTCDateTime")?;
    let date = utc.child(NS_TT, "Date").ok_or("no UTCDateTime/Date")?;
    let time = utc.child(NS_TT, "Time").ok_or("no UTCDateTime/Time")?;
    let y: i64 = num(date.child(NS_TT, "Year"), "Year")?;
    let mo: u32 = num(date.child(NS_TT, "Month"), "Month")?;
    let d: u32 = num(date.child(NS_TT, "Day"), "Day")?;
    let h: u32 = num(time.child(NS_TT, "Hour"), "Hour")?;
    let mi: u32 = num(time.child(NS_TT, "Minute"), "Minute")?;
    let s: u32 = num(time.child(NS_TT, "Second"), "Second")?;
    clock::unix_from_utc(y, mo, d, h, mi, s)
        .ok_or_else(|| format!("invalid date {y}-{mo}-{d} {h}:{mi}:{s}"))
}

/// `(namespace, XAddr)` of each service from `GetServicesResponse`.
pub fn parse_services(el: &Element) -> Result<Vec<(String, String)>, ParseError> {
    let el = expect(el, NS_TDS, "GetServicesResponse")?;
    Ok(el
        .children_named(NS_TDS, "Service")
        .filter_map(|s| {
            Some((
                s.child(NS_TDS, "Namespace")?.text().to_string(),
                s.child(NS_TDS, "XAddr")?.text().to_string(),
            ))
        })
        .collect())
}

/// The protocols of `GetNetworkProtocolsResponse`.
pub fn parse_network_protocols(el: &Element) -> Result<Vec<NetworkProtocol>, ParseError> {
    let el = expect(el, NS_TDS, "GetNetworkProtocolsResponse")?;
    Ok(el
        .children_named(NS_TDS, "NetworkProtocols")
        .map(|p| NetworkProtocol {
            name: p
                .child(NS_TT, "Name")
                .map(|n| n.text().to_string())
                .unwrap_or_default(),
            enabled: p
                .child(NS_TT, "Enabled")
                .is_some_and(|e| matches!(e.text(), "true" | "1")),
            ports: p
                .children_named(NS_TT, "Port")
                .filter_map(|e| e.text().parse::<u16>().ok())
                .filter(|p| *p != 0)
                .collect(),
        })
        .collect())
}

/// The first enabled HTTPS port among the protocols (`onvif-reference.md` §4).
pub fn https_port(protocols: &[NetworkProtocol]) -> Option<u16> {
    protocols
        .iter()
        .find(|p| p.name == "HTTPS" && p.enabled)
        .and_then(|p| p.ports.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::ops::NS_TR2;
    use crate::proto::onvif::shared_example as example;
    use crate::proto::onvif::xml;

    #[test]
    fn test_parse_shared_examples() {
        let Some(el) = example("device-GetSystemDateAndTime.resp.xml") else {
            eprintln!("../shared not present; skipping");
            return;
        };
        assert_eq!(parse_system_date_and_time(&el), Ok(1_741_945_267));

        let el = example("device-GetServices.resp.xml").unwrap();
        let s = parse_services(&el).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[1],
            (
                NS_TR2.to_string(),
                "https://192.0.2.10/onvif/media2_service".to_string()
            )
        );

        let el = example("device-GetNetworkProtocols.resp.xml").unwrap();
        let p = parse_network_protocols(&el).unwrap();
        assert_eq!(https_port(&p), Some(443));
        assert_eq!(p[2].name, "RTSP");
    }

    /// Security review: a year of 999999999 overflowed the clock offset in milliseconds
    /// (a panic in debug builds); now the answer is refused as malformed.
    #[test]
    fn test_absurd_device_year_is_refused() {
        let doc = |year: &str| {
            format!(
                "<tds:GetSystemDateAndTimeResponse xmlns:tds=\"{NS_TDS}\" xmlns:tt=\"{NS_TT}\">\
                 <tds:SystemDateAndTime><tt:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour>\
                 <tt:Minute>2</tt:Minute><tt:Second>3</tt:Second></tt:Time><tt:Date>\
                 <tt:Year>{year}</tt:Year><tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date>\
                 </tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
            )
        };
        let parse = |y: &str| parse_system_date_and_time(&xml::parse(doc(y).as_bytes()).unwrap());
        assert_eq!(parse("2026"), Ok(1_767_315_723));
        for y in ["999999999", "-5", "99999999999999999999"] {
            assert!(parse(y).is_err(), "{y}");
        }
    }

    #[test]
    fn test_wrong_answer_element() {
        let el = xml::parse(b"<x:Other xmlns:x=\"urn:x\"/>").unwrap();
        assert!(parse_services(&el).is_err());
    }
}
