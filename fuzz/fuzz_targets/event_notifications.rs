// SPDX-License-Identifier: MPL-2.0
//! PullMessages answers with huge notification counts and odd topics: at most `max`
//! notifications come out, and the total counts them all.
#![no_main]
use gstonvifhttps::testing::onvif::{events, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(n) * 40;
    let topic: String = String::from_utf8_lossy(rest)
        .chars()
        .filter(|c| !matches!(c, '<' | '&'))
        .take(64)
        .collect();
    let one = format!(
        "<wsnt:NotificationMessage><wsnt:Topic>tns1:{topic}</wsnt:Topic><wsnt:Message>\
         <tt:Message UtcTime=\"2026-01-01T00:00:00Z\"><tt:Source><tt:SimpleItem Name=\"a\" \
         Value=\"b\"/></tt:Source></tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    );
    let doc = format!(
        "<tev:PullMessagesResponse xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" \
         xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" \
         xmlns:tns1=\"http://www.onvif.org/ver10/topics\" \
         xmlns:tt=\"http://www.onvif.org/ver10/schema\">{}</tev:PullMessagesResponse>",
        one.repeat(count)
    );
    let Ok(el) = xml::parse(doc.as_bytes()) else {
        return;
    };
    let max = usize::from(rest.first().copied().unwrap_or(100));
    let (first, total) = events::parse_notifications(&el, max);
    assert_eq!(total, count);
    assert_eq!(first.len(), count.min(max));
    for n in &first {
        assert!(n.source.len() <= events::MAX_SIMPLE_ITEMS && n.data.len() <= events::MAX_SIMPLE_ITEMS);
    }
});
