// SPDX-License-Identifier: MPL-2.0
//! SOAP answers and faults, then every answer parser on what parsed.
#![no_main]
use gstonvifhttps::testing::onvif::{events, ops, recording, services, soap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(el) = soap::parse_response(data) {
        let _ = ops::parse_system_date_and_time(&el);
        let _ = ops::parse_services(&el);
        if let Ok(caps) = services::parse_capabilities(&el) {
            for s in services::Service::ALL {
                let _ = s.find(&caps);
            }
        }
        let _ = ops::parse_network_protocols(&el);
        let _ = ops::parse_profiles(&el, true);
        let _ = ops::parse_profiles(&el, false);
        let _ = ops::parse_media_uri(&el, true, "GetStreamUri");
        let _ = ops::parse_media_uri(&el, false, "GetSnapshotUri");
        let _ = ops::parse_presets(&el);
        let _ = ops::parse_ptz_status(&el);
        let _ = ops::parse_digital_inputs(&el);
        let _ = ops::parse_relay_outputs(&el);
        let _ = ops::parse_aux_response(&el);
        let _ = events::parse_subscription(&el);
        let _ = events::parse_times(&el);
        let _ = events::parse_notifications(&el, 100);
        let _ = recording::parse_recordings(&el);
        let _ = recording::parse_search_token(&el);
        let _ = recording::parse_search_results(&el);
        let _ = recording::parse_replay_uri(&el);
    }
});
