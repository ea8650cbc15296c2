// SPDX-License-Identifier: MPL-2.0
//! The sans-I/O RTSP session driven by what a hostile device and the clock may do:
//! answers in any order and shape (CSeq of the last request where the input says `##`),
//! time passing, seeks, stops, hang-ups (`gstonvifhttps::testing::rtsp_session_script`).
//! Nothing may panic, a handled deadline must move, nothing may follow the end.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gstonvifhttps::testing::rtsp_session_script(data);
});
