// SPDX-License-Identifier: MPL-2.0
//! The server->client stream (RTSP messages and `$` frames) cut in two at every offset, as
//! reads deliver it, and trickled a byte at a time through the reader's resumable
//! `Framer`: the units found are the same as in one piece.
#![no_main]
use gstonvifhttps::testing::rtsp::framing::{self, Frame};
use libfuzzer_sys::fuzz_target;

type Units = Vec<(Frame, Vec<u8>)>;
type Next<'a> = dyn FnMut(&[u8]) -> Result<Option<(Frame, usize)>, framing::FramingError> + 'a;

/// Takes every complete unit off the front of `buf` with `next`; false on a framing error.
fn take(buf: &mut Vec<u8>, out: &mut Units, next: &mut Next<'_>) -> bool {
    loop {
        match next(buf) {
            Ok(Some((f, used))) => {
                let bytes = match &f {
                    Frame::Data { start, len, .. } => buf[*start..start + len].to_vec(),
                    _ => Vec::new(),
                };
                out.push((f, bytes));
                buf.drain(..used);
            }
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// Units of `data` fed in pieces ending at each of `cuts`, as the reader does: parse what
/// is complete, keep the rest.
fn units(data: &[u8], cuts: &[usize]) -> Option<Units> {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        buf.extend_from_slice(&data[fed..cut]);
        fed = cut;
        if !take(&mut buf, &mut out, &mut framing::next) {
            return None;
        }
    }
    Some(out)
}

/// Units of `data` fed `piece` bytes at a time through one `Framer`.
fn trickled(data: &[u8], piece: usize) -> Option<Units> {
    let mut framer = framing::Framer::default();
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        buf.extend_from_slice(chunk);
        if !take(&mut buf, &mut out, &mut |b: &[u8]| framer.next(b)) {
            return None;
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let Some(whole) = units(data, &[]) else {
        return;
    };
    // Garbage may resynchronise differently when cut, so compare only what is data.
    let frames = |u: &Units| -> Vec<(u8, Vec<u8>)> {
        u.iter()
            .filter_map(|(f, b)| match f {
                Frame::Data { channel, .. } => Some((*channel, b.clone())),
                _ => None,
            })
            .collect()
    };
    let skipped = whole.iter().any(|(f, _)| matches!(f, Frame::Skipped(_)));
    // A clean stream gives the same units whichever way it arrives.
    if !skipped {
        for piece in [1, 3, 64] {
            let t = trickled(data, piece).expect("a clean stream frames whichever way it comes");
            assert_eq!(whole, t, "trickled {piece} bytes at a time");
        }
    }
    for cut in 1..data.len() {
        if let Some(parts) = units(data, &[cut]) {
            if !skipped {
                assert_eq!(frames(&whole), frames(&parts), "cut at {cut}");
            }
        }
    }
});
