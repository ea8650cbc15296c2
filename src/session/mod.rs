// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The session task: runs the ONVIF start-up, then feeds the element's streams. Beside
//! it, the other task an element runs: `events.rs` (the pull point). The action signals'
//! client and the recording lookup are ONVIF clients (`client::onvif::control`,
//! `client::onvif::recording`).
//!
//! It runs on the plugin runtime and talks to the element only through [`Output`], so that
//! this module holds the protocol flow and the element only GStreamer glue. The element
//! tells a task what to do on one channel ([`command`]: `Seek`, `Stop`) and joins it
//! with a deadline at stop.

mod batch;
pub mod command;
mod counting;
pub mod events;
mod keys;
mod live;
mod media;
mod replay;
mod snapshot;
mod streams;
mod supervisor;
mod udp;

pub use self::keys::Rekeyed;
pub use self::live::run_live;
pub use self::replay::recorded_time;
pub use self::snapshot::{SnapshotSettings, jpeg_dimensions, run_snapshot};
pub use self::streams::rtp_caps;
pub use self::supervisor::reconnect_delay;
// The rooms of a live session share their items through this module (`use super::*`).
use self::{media::*, replay::*, streams::*, supervisor::*, udp::*};

use std::sync::Arc;
use std::time::Duration;

use self::command::{Command, Commands};

use crate::client::onvif::{self, MAX_SNAPSHOT_BODY, StartSettings};
use crate::client::rtsp::Rtsp;
use crate::error::Error;
use crate::proto::onvif::recording;
use crate::proto::rtp::{self, Timeline};
use crate::proto::rtsp::{self, sdp};
use crate::transport::tunnel;

/// What the session needs from the element.
pub trait Output: Send + Sync + 'static {
    /// Debug-level log line, formatted only when the level is enabled.
    fn debug(&self, args: std::fmt::Arguments<'_>);
    /// A warning message on the bus.
    fn warning(&self, text: &str);
    /// Adds a src pad `name` with `caps`. `timestamp_on_arrival`: the element stamps
    /// buffers with the running time (snapshots); otherwise the session sets PTS.
    fn add_stream(&self, name: &str, caps: gst::Caps, timestamp_on_arrival: bool) -> Option<usize>;
    /// All pads are there.
    fn streams_complete(&self);
    /// Pushes a buffer on stream `index`; false when the pipeline no longer takes data.
    fn push(&self, index: usize, buffer: gst::Buffer) -> bool;
    /// Pushes the buffers of one read on stream `index` at once; false as for `push`.
    fn push_list(&self, index: usize, list: gst::BufferList) -> bool;
    /// Stream `index` has no more data (end of a replayed range).
    fn end_of_stream(&self, index: usize);
    /// What is delivered from now on is of the seek of `epoch` ([`Command::Seek`]).
    fn seek_applied(&self, epoch: u64);
    /// A seek the session has not applied yet: the pads have flushed, and what comes is
    /// of the old position (asked once per read of a replay, never per packet).
    fn seek_pending(&self) -> bool;
    /// The element's running time in nanoseconds, if it has a clock.
    fn running_time(&self) -> Option<u64>;
    /// Posts the error; the session ends after it.
    #[track_caller]
    fn error(&self, err: &Error);
    /// Posts an `onvif-event` element message.
    fn event(&self, notification: &crate::proto::onvif::events::Notification);
    /// `what` was lost; attempt `attempt` to start it again comes after `delay` (an
    /// `onvif-reconnecting` element message and a warning).
    fn reconnecting(&self, what: Lost, cause: &Error, attempt: u32, delay: Duration);
    /// The device's SDP offers stream `id` (its index there) with `caps` (rtspsrc's
    /// `select-stream`).
    fn offered(&self, _id: u32, _caps: &gst::Caps) {}
    /// The ONVIF backchannel, stream `id` of the SDP, is SET UP: RTP packets sent to `tx`
    /// go to the device until the session ends (then `tx` is closed).
    fn backchannel(&self, _id: u32, _caps: gst::Caps, _tx: BackchannelTx) {}
    /// `n` packets were lost before they became buffers (SRTP failing authentication):
    /// counted in the element's QoS messages.
    fn lost(&self, _n: u64) {}
    /// A stream's SRTP re-keying is answered (an `onvif-srtp-rekeyed` element message).
    fn rekeyed(&self, _rekeyed: &Rekeyed) {}
}

/// Where the element's backchannel packets go: to the RTSP session that set it up; at
/// most [`BACKCHANNEL_QUEUE`] wait (what comes faster than the connection takes is the
/// element's to drop).
pub type BackchannelTx = tokio::sync::mpsc::Sender<Vec<u8>>;

/// Backchannel packets that may wait for the connection (at 50 packets a second, about a
/// second of audio).
pub const BACKCHANNEL_QUEUE: usize = 64;

/// What a reconnection starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The media session (RTSP, and the ONVIF start when the device rebooted).
    Media,
    /// The pull-point event subscription.
    Events,
}

impl Lost {
    /// The `what` field of the `onvif-reconnecting` message.
    pub fn name(self) -> &'static str {
        match self {
            Lost::Media => "media",
            Lost::Events => "events",
        }
    }
}

/// What the live RTSP session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub start: StartSettings,
    pub transport: Transport,
    /// Replay of edge storage instead of the live stream (`mode=playback`).
    pub playback: Option<PlaybackSettings>,
    /// After the stream was lost: start again, waiting at most this long between two
    /// attempts (spec §9). `None`: the loss is an error.
    pub reconnect: Option<Duration>,
    /// Set up the ONVIF audio backchannel (`backchannel=onvif`).
    pub backchannel: bool,
    /// Replace the SRTP keys this often while playing (`srtp-rekey-interval`).
    pub srtp_rekey: Option<Duration>,
}

/// Edge storage playback (spec §7).
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackSettings {
    /// The recording; `None`: the first one.
    pub recording: Option<String>,
    /// Unix milliseconds; `None`: the recording's earliest time.
    pub start_ms: Option<i64>,
    /// Unix milliseconds; `None`: open (until the recording ends).
    pub end_ms: Option<i64>,
    /// `Scale`; 1.0 is real time.
    pub speed: f64,
}

/// How the RTSP session and its media travel: the transport GetStreamUri is asked for
/// (one enum from the element's `streaming-method` to the request body).
pub use crate::proto::onvif::ops::StreamTransport as Transport;
