// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The pads' side of a replay seek (issue 24 point 4: the element flushes and sets the
//! segment, the session owns the rest): one seek per seqnum whichever sink sends it, the
//! epoch it goes to the session with, the old position's data dropped until the session
//! says `seek_applied(epoch)`, DISCONT on the first buffer after it, and a seek with no
//! session left not holding data back. A real element and pad, a sink pad of our own; no
//! session, no network.

use std::sync::mpsc;

use super::*;
use crate::session::command::{self, Command};

/// What reaches the sink: each buffer's PTS and whether it is DISCONT.
type Seen = mpsc::Receiver<(Option<gst::ClockTime>, bool)>;

/// Started pads with one video pad linked to a sink of ours (kept alive with the
/// element: a peer holds no reference), PLAYING, and the session's end of the command
/// channel.
fn setup() -> (
    (super::super::OnvifHttpsSrc, gst::Pad),
    Arc<Pads>,
    gst::Pad,
    Seen,
    command::Commander,
    command::Commands,
) {
    gst::init().expect("gst init");
    let element = glib::Object::new::<super::super::OnvifHttpsSrc>();
    let (commander, commands) = command::channel();
    let limits = Limits {
        bytes_per_pad: 1 << 20,
        items: 100,
    };
    let pads = Pads::start(
        &element,
        limits,
        gst::ClockTime::ZERO,
        Some(SeekHook {
            commands: commander.downgrade(),
        }),
    );
    let caps = gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .build();
    assert_eq!(pads.add("video_0", caps, false), Some(0));
    let src = element.static_pad("video_0").expect("the pad");
    let (tx, seen) = mpsc::channel();
    let tx_list = tx.clone();
    let sink = gst::Pad::builder(gst::PadDirection::Sink)
        .name("sink")
        .chain_function(move |_, _, buffer| {
            let _ = tx.send((
                buffer.pts(),
                buffer.flags().contains(gst::BufferFlags::DISCONT),
            ));
            Ok(gst::FlowSuccess::Ok)
        })
        .chain_list_function(move |_, _, list| {
            for buffer in list.iter() {
                let discont = buffer.flags().contains(gst::BufferFlags::DISCONT);
                let _ = tx_list.send((buffer.pts(), discont));
            }
            Ok(gst::FlowSuccess::Ok)
        })
        .event_function(|_, _, _| true)
        .build();
    sink.set_active(true).expect("active");
    src.link(&sink).expect("linked");
    pads.set_playing(true);
    ((element, sink), pads, src, seen, commander, commands)
}

fn list(pts_ms: u64) -> gst::BufferList {
    let mut buffer = gst::Buffer::with_size(100).expect("buffer");
    buffer
        .get_mut()
        .expect("writable")
        .set_pts(gst::ClockTime::from_mseconds(pts_ms));
    let mut list = gst::BufferList::new();
    list.get_mut().expect("writable").add(buffer);
    list
}

fn next(seen: &Seen) -> (Option<gst::ClockTime>, bool) {
    seen.recv_timeout(std::time::Duration::from_secs(5))
        .expect("a buffer within 5 s")
}

fn seek(to_s: u64, seqnum: gst::Seqnum) -> gst::Event {
    gst::event::Seek::builder(
        1.0,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::from_seconds(to_s),
        gst::SeekType::None,
        gst::ClockTime::NONE,
    )
    .seqnum(seqnum)
    .build()
}

/// A seek goes to the session once with the next epoch; until the session applies it,
/// what it delivers is dropped (nothing is queued); after, the first buffer is DISCONT.
#[test]
fn test_a_seek_holds_old_data_until_the_session_applies_it() {
    let (_element, pads, src, seen, _commander, mut commands) = setup();
    assert!(pads.push_list(0, list(0)));
    assert_eq!(next(&seen), (Some(gst::ClockTime::ZERO), true), "first");
    assert!(pads.push_list(0, list(40)));
    assert!(!next(&seen).1, "not DISCONT");
    assert!(!pads.seek_pending());

    let seqnum = gst::Seqnum::next();
    assert!(src.send_event(seek(30, seqnum)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let cmd = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(5), commands.next()).await
    });
    assert_eq!(
        cmd,
        Ok(Command::Seek {
            position: 30_000_000_000,
            epoch: 1
        })
    );
    assert!(pads.seek_pending());
    // The same seek from another sink: handled, not sent again.
    assert!(src.send_event(seek(30, seqnum)));
    let again = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_millis(50), commands.next()).await
    });
    assert!(again.is_err(), "one command per seqnum: {again:?}");
    // The old position's data, delivered before the session applied the seek: dropped.
    assert!(pads.push_list(0, list(80)));
    assert_eq!(locked(&pads.queue).streams[0].data_items, 0, "not queued");
    pads.seek_applied(1);
    assert!(!pads.seek_pending());
    assert!(pads.push_list(0, list(30_000)));
    assert_eq!(
        next(&seen),
        (Some(gst::ClockTime::from_seconds(30)), true),
        "the new position, DISCONT"
    );
    assert!(seen.try_recv().is_err(), "nothing of the old position");
    pads.shutdown();
}

/// A seek with no session left to take it does not hold data back (the element would
/// otherwise drop everything for ever), and says it was not handled.
#[test]
fn test_a_seek_without_a_session_does_not_hold_data_back() {
    let (_element, pads, src, seen, commander, commands) = setup();
    drop(commands);
    drop(commander);
    assert!(!src.send_event(seek(10, gst::Seqnum::next())));
    assert!(!pads.seek_pending());
    assert!(pads.push_list(0, list(10_000)));
    assert_eq!(next(&seen), (Some(gst::ClockTime::from_seconds(10)), true));
    pads.shutdown();
}
