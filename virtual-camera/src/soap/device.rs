// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The device service (`tds`): the clock, the other services' addresses, capabilities,
//! identity, network protocols (the HTTPS port), auxiliary commands and relay outputs.

use std::sync::atomic::Ordering;

use super::{Call, Op, base, camera_now, fault, ok};
use crate::SetProtocols;
use crate::http::Response;

pub(super) const PATH: &str = "/onvif/device_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/device/wsdl";

pub(super) const OPS: &[Op] = &[
    Op::now(PATH, NS, "GetSystemDateAndTime", get_system_date_and_time),
    Op::now(PATH, NS, "GetServices", get_services),
    Op::now(PATH, NS, "GetCapabilities", get_capabilities),
    Op::now(PATH, NS, "GetDeviceInformation", get_device_information),
    Op::now(PATH, NS, "GetNetworkProtocols", get_network_protocols),
    Op::now(PATH, NS, "SetNetworkProtocols", set_network_protocols),
    Op::now(PATH, NS, "SendAuxiliaryCommand", send_auxiliary_command),
    Op::now(PATH, NS, "GetRelayOutputs", get_relay_outputs),
    Op::now(PATH, NS, "SetRelayOutputState", set_relay_output_state),
];

fn get_system_date_and_time(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let t = camera_now(shared);
    ok(&format!(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>\
         <tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>\
         <tt:UTCDateTime><tt:Time><tt:Hour>{}</tt:Hour><tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time>\
         <tt:Date><tt:Year>{}</tt:Year><tt:Month>{}</tt:Month><tt:Day>{}</tt:Day></tt:Date></tt:UTCDateTime>\
         </tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
        t.hour(),
        t.minute(),
        t.second(),
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

fn get_services(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let b = base(c.shared, c.req);
    let mut s = String::from("<tds:GetServicesResponse>");
    for (ns, path) in super::advertised(&shared.config) {
        s.push_str(&format!(
            "<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{b}{path}</tds:XAddr>\
             <tds:Version><tt:Major>23</tt:Major><tt:Minor>12</tt:Minor></tds:Version></tds:Service>"
        ));
    }
    s.push_str("</tds:GetServicesResponse>");
    ok(&s)
}

/// Every service but Media2 (which GetCapabilities has no entry for), the newer ones
/// under `tt:Extension`, as Profile S devices answer.
fn get_capabilities(c: &Call<'_>) -> Response {
    let b = base(c.shared, c.req);
    let config = &c.shared.config;
    let mut extension = String::new();
    for (ns, name, path) in [
        (super::deviceio::NS, "DeviceIO", super::deviceio::PATH),
        (super::recording::NS, "Recording", super::recording::PATH),
        (super::search::NS, "Search", super::search::PATH),
        (super::replay::NS, "Replay", super::replay::PATH),
    ] {
        if super::offers(config, ns) {
            extension.push_str(&format!(
                "<tt:{name}><tt:XAddr>{b}{path}</tt:XAddr></tt:{name}>"
            ));
        }
    }
    ok(&format!(
        "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>{b}/onvif/device_service</tt:XAddr></tt:Device>\
     <tt:Events><tt:XAddr>{b}{}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>\
     <tt:WSPullPointSupport>true</tt:WSPullPointSupport>\
     <tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>\
     <tt:Media><tt:XAddr>{b}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>\
     <tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>\
     <tt:PTZ><tt:XAddr>{b}{}</tt:XAddr></tt:PTZ><tt:Extension>{extension}</tt:Extension>\
     </tds:Capabilities></tds:GetCapabilitiesResponse>",
        super::events::PATH,
        super::ptz::PATH,
    ))
}

fn get_device_information(c: &Call<'_>) -> Response {
    let (manufacturer, model, firmware) = c
        .shared
        .config
        .quirks
        .persona
        .map_or(("onvifhttps", "Virtual Camera", "0.1.0"), |p| {
            p.device_information()
        });
    ok(&format!(
        "<tds:GetDeviceInformationResponse><tds:Manufacturer>{manufacturer}</tds:Manufacturer>\
         <tds:Model>{model}</tds:Model><tds:FirmwareVersion>{firmware}</tds:FirmwareVersion>\
         <tds:SerialNumber>VC-0001</tds:SerialNumber><tds:HardwareId>virtual</tds:HardwareId>\
         </tds:GetDeviceInformationResponse>"
    ))
}

fn get_network_protocols(c: &Call<'_>) -> Response {
    let shared = c.shared;
    ok(&format!(
        "<tds:GetNetworkProtocolsResponse>\
     <tds:NetworkProtocols><tt:Name>HTTP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>{}</tt:Port></tds:NetworkProtocols>\
     <tds:NetworkProtocols><tt:Name>HTTPS</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>{}</tt:Port></tds:NetworkProtocols>\
     <tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>554</tt:Port></tds:NetworkProtocols>\
     </tds:GetNetworkProtocolsResponse>",
        shared.http_port,
        shared.https_port.load(Ordering::SeqCst)
    ))
}

fn send_auxiliary_command(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let cmd = p.text("AuxiliaryCommand").unwrap_or("").to_string();
    if !crate::state::AUX_COMMANDS.contains(&cmd.as_str()) {
        return fault(
            400,
            "s:Sender",
            &["ter:InvalidArgVal", "ter:AuxiliaryDataNotSupported"],
            "Unknown auxiliary command",
        );
    }
    shared.state.lock().unwrap().aux.push(cmd.clone());
    let mut w = String::from("<tds:SendAuxiliaryCommandResponse><tds:AuxiliaryCommandResponse>");
    w.push_str(&cmd.replace('&', "&amp;").replace('<', "&lt;"));
    w.push_str("</tds:AuxiliaryCommandResponse></tds:SendAuxiliaryCommandResponse>");
    ok(&w)
}

fn get_relay_outputs(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let mut s = String::from("<tds:GetRelayOutputsResponse>");
    for (token, _) in &shared.state.lock().unwrap().relays {
        s.push_str(&format!(
            "<tds:RelayOutputs token=\"{token}\"><tt:Properties><tt:Mode>Bistable</tt:Mode>\
             <tt:DelayTime>PT0S</tt:DelayTime><tt:IdleState>open</tt:IdleState></tt:Properties></tds:RelayOutputs>"
        ));
    }
    s.push_str("</tds:GetRelayOutputsResponse>");
    ok(&s)
}

fn set_relay_output_state(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let token = p.text("RelayOutputToken").unwrap_or("");
    let active = p.text("LogicalState") == Some("active");
    let mut st = shared.state.lock().unwrap();
    match st.relays.iter_mut().find(|(t, _)| t == token) {
        Some((_, state)) => {
            let changed = *state != active;
            *state = active;
            drop(st);
            if changed {
                let msg = crate::events::notification(
                    "tns1:Device/Trigger/Relay",
                    "Changed",
                    camera_now(shared),
                    ("RelayToken", token),
                    ("LogicalState", if active { "active" } else { "inactive" }),
                );
                shared.events.lock().unwrap().publish(msg, None);
            }
            ok("<tds:SetRelayOutputStateResponse/>")
        }
        None => fault(
            400,
            "s:Sender",
            &["ter:InvalidArgVal", "ter:RelayToken"],
            "Unknown relay output",
        ),
    }
}

fn set_network_protocols(c: &Call<'_>) -> Response {
    let (shared, p) = (c.shared, c.p);
    // The texts come in document order: Name, Enabled, Port per protocol.
    let mut want = None;
    let mut current = "";
    for (k, v) in &p.texts {
        match k.as_str() {
            "Name" => current = v.as_str(),
            "Port" if current == "HTTPS" => want = v.parse::<u16>().ok(),
            _ => {}
        }
    }
    let done = ok("<tds:SetNetworkProtocolsResponse/>");
    match shared.config.quirks.set_protocols {
        SetProtocols::Fault => fault(
            500,
            "s:Receiver",
            &["ter:ActionNotSupported", "ter:EnablingTlsFailed"],
            "Changing the HTTPS port is not supported",
        ),
        SetProtocols::Ignore => done,
        SetProtocols::Accept => {
            let Some(port) = want else {
                return done;
            };
            if port == shared.https_port.load(Ordering::SeqCst) {
                return done;
            }
            match shared.listen_https(port) {
                Ok(()) => {
                    shared.https_port.store(port, Ordering::SeqCst);
                    done
                }
                Err(_) => fault(
                    400,
                    "s:Sender",
                    &["ter:InvalidArgVal", "ter:PortAlreadyInUse"],
                    "Port already in use",
                ),
            }
        }
    }
}
