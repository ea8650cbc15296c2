// SPDX-License-Identifier: MPL-2.0
//! SOAP answers and faults, then every answer parser on what parsed.
#![no_main]
use gstonvifhttps::onvif::{ops, soap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(el) = soap::parse_response(data) {
        let _ = ops::parse_system_date_and_time(&el);
        let _ = ops::parse_services(&el);
        let _ = ops::parse_capabilities(&el);
        let _ = ops::parse_network_protocols(&el);
        let _ = ops::parse_profiles(&el, true);
        let _ = ops::parse_profiles(&el, false);
        let _ = ops::parse_media_uri(&el, true, "GetStreamUri");
        let _ = ops::parse_media_uri(&el, false, "GetSnapshotUri");
    }
});
