// SPDX-License-Identifier: MPL-2.0
//! A trust store file (`tls-trust-store`) that is not what the element wrote: never a
//! panic; each entry read is written back as a line that reads the same, and no two
//! entries name one `host:port`.
#![no_main]
use gstonvifhttps::testing::trust;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(entries) = trust::parse(text, std::path::Path::new("fuzz.trust")) else {
        return;
    };
    for (i, e) in entries.iter().enumerate() {
        assert!(entries[..i].iter().all(|o| o.key != e.key), "one entry per host:port");
        let again = trust::parse(&e.to_line(), std::path::Path::new("x")).expect("ours reads");
        assert_eq!(again.len(), 1);
        assert_eq!((&again[0].key, again[0].spki, again[0].cert), (&e.key, e.spki, e.cert));
        assert_eq!(again[0].serial, e.serial);
    }
});
