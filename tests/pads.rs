// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Pipeline shapes users write with rtspsrc, written with this element: several pads
//! linked straight to sinks, without queues (issue 22 point 1). Each pad has its own
//! streaming thread, so a sink that waits (for its preroll while the pipeline waits for
//! the others, or because it is slow) never starves another pad.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// `gst-launch-1.0 onvifhttpssrc name=c ... c.video_0 ! fakesink c.audio_0 ! fakesink`, as
/// a user types it (the pads are linked by name once they appear), one sink per pad in
/// `pads`, each counting what it gets. `sync`: the sinks sync on the clock (as a display
/// sink does).
struct Launch {
    pipeline: gst::Pipeline,
    counts: Vec<(String, Arc<AtomicUsize>)>,
}

impl Launch {
    fn new(cam: &Camera, ca: &TempFile, streams: &str, pads: &[&str], sync: bool) -> Launch {
        init();
        let mut line = format!(
            "onvifhttpssrc name=c location={} user-id=admin user-pw=password \
             tls-ca-file={} timeout=5 streams={streams}",
            cam.http_url(),
            ca.as_str()
        );
        for p in pads {
            line.push_str(&format!(
                " c.{p} ! fakesink name=sink_{p} sync={sync} signal-handoffs=true"
            ));
        }
        let pipeline = gst::parse::launch(&line)
            .expect("the pipeline parses")
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        let counts = pads
            .iter()
            .map(|p| {
                let count = Arc::new(AtomicUsize::new(0));
                let c = count.clone();
                pipeline
                    .by_name(&format!("sink_{p}"))
                    .expect("the sink")
                    .connect("handoff", false, move |_| {
                        c.fetch_add(1, Ordering::SeqCst);
                        None
                    });
                (p.to_string(), count)
            })
            .collect();
        Launch { pipeline, counts }
    }

    fn count(&self, pad: &str) -> usize {
        self.counts
            .iter()
            .find(|(p, _)| p == pad)
            .map_or(0, |(_, c)| c.load(Ordering::SeqCst))
    }

    /// Plays until every pad has `n` buffers and the pipeline is PLAYING, or an error,
    /// or `deadline`; panics with what each pad got otherwise.
    fn play_until(&self, n: usize, deadline: Duration) {
        let bus = self.pipeline.bus().expect("a bus");
        let _ = self.pipeline.set_state(gst::State::Playing);
        let end = Instant::now() + deadline;
        loop {
            let playing = self.pipeline.current_state() == gst::State::Playing;
            if playing && self.counts.iter().all(|(p, _)| self.count(p) >= n) {
                return;
            }
            if Instant::now() >= end {
                let got: Vec<String> = self
                    .counts
                    .iter()
                    .map(|(p, _)| format!("{p}: {}", self.count(p)))
                    .collect();
                panic!(
                    "within {deadline:?}: pipeline {:?}, buffers {got:?} (wanted {n} each)",
                    self.pipeline.current_state()
                );
            }
            if let Some(msg) = bus.timed_pop_filtered(
                gst::ClockTime::from_mseconds(50),
                &[gst::MessageType::Error],
            ) && let gst::MessageView::Error(e) = msg.view()
            {
                panic!("error: {} ({:?})", e.error(), e.debug());
            }
        }
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        null_within_a_second(&self.pipeline);
    }
}

#[test]
fn test_two_pads_without_queues_play() {
    let (cam, ca) = camera(Config::default());
    for sync in [false, true] {
        let run = Launch::new(&cam, &ca, "video+audio", &["video_0", "audio_0"], sync);
        run.play_until(30, WAIT);
    }
    let (cam, ca) = camera(Config::default());
    let run = Launch::new(
        &cam,
        &ca,
        "video+metadata",
        &["video_0", "metadata_0"],
        false,
    );
    run.play_until(1, WAIT);
}

#[test]
fn test_three_pads_without_queues_play() {
    let (cam, ca) = camera(Config::default());
    let run = Launch::new(
        &cam,
        &ca,
        "video+audio+metadata",
        &["video_0", "audio_0", "metadata_0"],
        true,
    );
    run.play_until(1, WAIT);
    // And they keep flowing.
    let (v, a) = (run.count("video_0"), run.count("audio_0"));
    run.play_until(v.max(a) + 20, WAIT);
}

/// A sink that holds its first buffer for 5 s (a slow disk, a paused branch): the other
/// pad keeps flowing meanwhile, and the held pad goes on afterwards.
#[test]
fn test_a_pad_whose_sink_blocks_does_not_stop_the_other() {
    let (cam, ca) = camera(Config::default());
    let run = Launch::new(&cam, &ca, "video+audio", &["video_0", "audio_0"], false);
    let blocked: Arc<Mutex<Option<(Instant, Instant)>>> = Arc::default();
    let b = blocked.clone();
    let audio = run.counts[1].1.clone();
    // Audio buffers counted while video's sink was blocked, from 1 s into the block to
    // 4 s into it (the margins keep the count away from the block's edges).
    let during = Arc::new(Mutex::new((None::<usize>, None::<usize>)));
    let d = during.clone();
    run.pipeline
        .by_name("sink_video_0")
        .expect("the video sink")
        .connect("handoff", false, move |_| {
            let mut b = b.lock().unwrap();
            if b.is_none() {
                let start = Instant::now();
                std::thread::sleep(Duration::from_secs(1));
                d.lock().unwrap().0 = Some(audio.load(Ordering::SeqCst));
                std::thread::sleep(Duration::from_secs(3));
                d.lock().unwrap().1 = Some(audio.load(Ordering::SeqCst));
                std::thread::sleep(Duration::from_secs(1));
                *b = Some((start, Instant::now()));
            }
            None
        });
    run.play_until(1, WAIT);
    // The block is over once video has buffers after it.
    let v = run.count("video_0");
    run.play_until(v + 25, WAIT);
    let (start, end) = blocked.lock().unwrap().expect("the video sink blocked");
    assert!(end - start >= Duration::from_secs(5));
    let (from, to) = *during.lock().unwrap();
    let (from, to) = (from.expect("counted"), to.expect("counted"));
    // The camera's audio is AAC at 16 kHz, 1024 samples a packet: 15.6 packets a second,
    // about 47 in 3 s.
    assert!(
        to - from >= 30,
        "audio kept flowing while video's sink was blocked: {} buffers in 3 s",
        to - from
    );
}
