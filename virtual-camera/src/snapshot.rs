// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Live JPEG images for the snapshot endpoint: a moving test pattern with a clock drawn in
//! (when the Pango plugin is installed), encoded by GStreamer.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use gst::prelude::*;

/// How long a snapshot request waits for the first image.
const FIRST_IMAGE_WAIT: Duration = Duration::from_secs(5);

type Latest = Arc<(Mutex<Option<Vec<u8>>>, Condvar)>;

pub struct Source {
    pipeline: Option<gst::Pipeline>,
    latest: Latest,
}

impl Source {
    pub fn start() -> Source {
        let latest: Latest = Arc::new((Mutex::new(None), Condvar::new()));
        let overlay = if gst::ElementFactory::find("timeoverlay").is_some() {
            "timeoverlay font-desc=\"Sans 24\" ! "
        } else {
            ""
        };
        let desc = format!(
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=10/1 ! \
             {overlay}videoconvert ! jpegenc ! appsink name=sink max-buffers=1 drop=true sync=false"
        );
        let pipeline = gst::parse::launch(&desc)
            .ok()
            .and_then(|p| p.downcast::<gst::Pipeline>().ok());
        if let Some(p) = &pipeline
            && let Some(sink) = p.by_name("sink")
            && let Ok(sink) = sink.downcast::<gst_app::AppSink>()
        {
            let l = latest.clone();
            sink.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |s| {
                        let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        if let Some(buf) = sample.buffer()
                            && let Ok(map) = buf.map_readable()
                        {
                            *l.0.lock().unwrap() = Some(map.to_vec());
                            l.1.notify_all();
                        }
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .build(),
            );
            let _ = p.set_state(gst::State::Playing);
        }
        Source { pipeline, latest }
    }

    /// The newest image, waiting for the first one.
    pub fn latest(&self) -> Option<Vec<u8>> {
        let (lock, cv) = &*self.latest;
        let guard = lock.lock().unwrap();
        let (guard, _) = cv
            .wait_timeout_while(guard, FIRST_IMAGE_WAIT, |v| v.is_none())
            .unwrap();
        guard.clone()
    }

    pub fn stop(&self) {
        if let Some(p) = &self.pipeline {
            let _ = p.set_state(gst::State::Null);
        }
    }
}
