// SPDX-License-Identifier: MPL-2.0
//! Device addresses: whatever comes in, the result stays on the origin.
#![no_main]
use gstonvifhttps::testing::onvif::addr::{self, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let o = Origin {
        scheme: "https",
        host: "192.0.2.1".into(),
        port: 443,
    };
    let r = addr::rewrite(s, &o, "/onvif/device_service");
    assert!(r.starts_with("https://192.0.2.1:443/"), "{r}");
});
