// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Issue 23 point 1: what a SOAP answer costs in memory, whatever its shape. Every
//! allocation of this test binary is counted; each hostile shape is parsed alone and the
//! peak of what the parse held is compared with the document's size. The reader's bound:
//! the tree takes at most `MAX_TREE_FACTOR` (8) times the document plus `TREE_FLOOR`
//! (256 KiB); the whole parse (the reader's own buffers included) at most 9 times plus
//! 1 MiB. Before, one 8,000-byte namespace URI on 100,000 empty elements (0.8 MB) took
//! 1.6 GB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use gstonvifhttps::testing::onvif::xml;

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block arriving before the old one goes.
            let now = NOW.fetch_add(new_size, Ordering::SeqCst) + new_size;
            PEAK.fetch_max(now, Ordering::SeqCst);
            NOW.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most the parse of `doc` held at once beyond what was held before, and whether it
/// was refused.
fn peak_of(doc: &[u8]) -> (usize, Result<(), String>) {
    let before = NOW.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let r = xml::parse(doc).map(drop).map_err(|e| e.to_string());
    (PEAK.load(Ordering::SeqCst).saturating_sub(before), r)
}

fn envelope(decl: &str, body: &str, n: usize) -> Vec<u8> {
    let mut d = format!("<r {decl}>").into_bytes();
    for _ in 0..n {
        d.extend_from_slice(body.as_bytes());
    }
    d.extend_from_slice(b"</r>");
    d
}

/// One test: the shapes run one after the other, so that the counts are each parse's own.
#[test]
fn test_any_answer_costs_at_most_a_bounded_multiple_of_its_size() {
    let long_uri = format!("urn:{}", "x".repeat(8_000));
    let attrs: String = (0..120).map(|i| format!(" p:a{i}=\"\"")).collect();
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        // The review's shape: a long URI bound once, many empty elements in it.
        (
            "8,000-byte namespace on 100,000 empty elements",
            envelope(&format!("xmlns:p=\"{long_uri}\""), "<p:a/>", 100_000),
        ),
        (
            "long namespace on as many elements as allowed",
            envelope(&format!("xmlns:p=\"{long_uri}\""), "<p:a/>", 199_000),
        ),
        (
            "120 namespaced attributes per element",
            envelope(
                &format!("xmlns:p=\"{long_uri}\""),
                &format!("<a{attrs}/>"),
                (4 * 1024 * 1024 - long_uri.len() - 64) / (attrs.len() + 5),
            ),
        ),
        (
            "small elements with text",
            envelope("", "<a>x</a>", 190_000),
        ),
        ("a new 1 KiB namespace on every element", {
            let mut d = b"<r>".to_vec();
            for i in 0..3_900 {
                d.extend_from_slice(
                    format!("<q:a xmlns:q=\"urn:{i}:{}\"/>", "y".repeat(1000)).as_bytes(),
                );
            }
            d.extend_from_slice(b"</r>");
            d
        }),
        (
            "one 4 MiB text",
            envelope("", &"z".repeat(4 * 1024 * 1024 - 20), 1),
        ),
        (
            "deep and wide",
            envelope(
                "",
                &format!("{}{}", "<a>".repeat(60), "</a>".repeat(60)),
                4_000,
            ),
        ),
    ];
    let mut report = Vec::new();
    for (what, doc) in &shapes {
        assert!(doc.len() <= 4 * 1024 * 1024, "{what}: {} bytes", doc.len());
        let (peak, result) = peak_of(doc);
        let bound = doc.len() * 9 + 1024 * 1024;
        report.push(format!(
            "{what}: {} bytes, peak {} bytes ({:.1}x), {}",
            doc.len(),
            peak,
            peak as f64 / doc.len() as f64,
            match &result {
                Ok(()) => "parsed".to_string(),
                Err(e) => format!("refused: {e}"),
            }
        ));
        assert!(
            peak <= bound,
            "{what}: the parse held {peak} bytes for a {}-byte document (bound {bound})\n{}",
            doc.len(),
            report.join("\n")
        );
    }
    // An ordinary answer still parses: 2,000 profiles' worth of ordinary elements.
    let ordinary = envelope(
        "xmlns:tt=\"http://www.onvif.org/ver10/schema\" xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\"",
        "<trt:Profiles token=\"Profile_1\" fixed=\"true\"><tt:Name>Profile_1</tt:Name>\
         <tt:VideoEncoderConfiguration token=\"V1\"><tt:Name>V1</tt:Name><tt:UseCount>1</tt:UseCount>\
         <tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height>\
         </tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>",
        2_000,
    );
    let (peak, result) = peak_of(&ordinary);
    assert_eq!(result, Ok(()), "an ordinary answer parses");
    report.push(format!(
        "ordinary: {} bytes, peak {peak} bytes ({:.1}x)",
        ordinary.len(),
        peak as f64 / ordinary.len() as f64
    ));
    println!("{}", report.join("\n"));
}
