// SPDX-License-Identifier: MPL-2.0
//! A MIKEY message from a device (SDP `a=key-mgmt`, a `KeyMgmt` answer): never a panic;
//! a key it gives has the suite's lengths, and what we build from it parses back the same.
#![no_main]
use gstonvifhttps::testing::mikey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = mikey::parse(data) else {
        return;
    };
    let Ok(key) = m.srtp_key() else {
        return;
    };
    let (k, s) = key.suite.lengths();
    assert_eq!((key.master_key.len(), key.master_salt.len()), (k, s));
    if key.mki.as_ref().is_none_or(|m| m.len() <= 255) {
        let again = mikey::parse(&mikey::build(&key, 1, 2, &[3; 16])).expect("ours parses");
        assert_eq!(again.srtp_key().expect("ours has a key"), key);
    }
});
