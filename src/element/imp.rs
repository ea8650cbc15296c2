// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! GStreamer glue of `onvifhttpssrc`: the GObject, its properties and state changes. The
//! protocol flow lives in `session/` and below; this file starts and stops it. Beside
//! it: `settings.rs` (values and checks), `properties.rs` (their specs), `uri.rs`,
//! `pads.rs` (the source pads and their streaming thread), `messages.rs` (what the
//! session tells the element) and `signals.rs` (the action signals).
//!
//! Lock order: `state` before `settings`; neither is held across a wait.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::messages::{ElementOutput, watched};
use super::pads::{Limits, Pads, SeekHook};
use super::settings::{Job, Settings};
use super::signals::SignalWaits;
use crate::client::onvif::cache::{self as boot, BootCache, DeviceKey};
use crate::client::onvif::control::Control;
use crate::log::CAT;
use crate::runtime::{self, RUNTIME};
use crate::session::command::{Command, Commander};
use crate::session::{self, Output};

/// RTP bytes queued per stream before the oldest are dropped, each buffer and list charged
/// 256 bytes more (`pads::ITEM_OVERHEAD`): about 1.7 s of a 16 Mbit/s camera in
/// 1,400-byte packets. Keeps memory bounded when downstream stalls.
const RTP_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// Buffer lists (or buffers) queued per stream: a flood of tiny packets (one list each
/// over UDP) is bounded by count as well as by the bytes each is charged.
const RTP_QUEUE_ITEMS: usize = 8_192;
/// How long `stop()` waits for the session task before abandoning it: the spec wants NULL
/// within one second even when the device stops answering.
const STOP_DEADLINE: Duration = Duration::from_millis(500);
/// Snapshots queued for the pad; older ones are dropped, a live source wants the newest
/// image.
const SNAPSHOT_QUEUE: usize = 2;

pub(super) struct Started {
    /// The media (or snapshot) task's commands.
    commander: Commander,
    join: tokio::task::JoinHandle<()>,
    output: Arc<ElementOutput>,
    /// The pull-point event task, when `events=true`.
    events: Option<(Commander, tokio::task::JoinHandle<()>)>,
    /// The task posting the statistics, when `stats-interval` is set.
    stats_task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
pub(super) enum State {
    #[default]
    Stopped,
    Started(Started),
}

#[derive(Default)]
pub struct OnvifHttpsSrc {
    pub(super) state: Mutex<State>,
    pub(super) settings: Mutex<Settings>,
    /// The action signals' ONVIF client, connected on first use and kept until NULL.
    pub(super) control: Arc<tokio::sync::Mutex<Option<Control>>>,
    /// What is known of the device (the HTTPS port of the plain-HTTP bootstrap, an
    /// anonymous refusal), shared with the process's other elements for that device;
    /// dropped when `location`, `https-port` or `https-enable` changes.
    pub(super) boot: Mutex<Option<(DeviceKey, BootCache)>>,
    /// The waits of action signals in progress, cancelled when the element goes to NULL.
    pub(super) signal_waits: SignalWaits,
    /// The signals' cached client belongs to old settings or an old READY: it is dropped
    /// at its next use (it may be held by a signal while the flag is set).
    pub(super) control_stale: Arc<std::sync::atomic::AtomicBool>,
    /// Where the `stats` of the last start are read from.
    pub(super) watched: Mutex<Option<super::stats::Watched>>,
}

impl OnvifHttpsSrc {
    /// What the running session task may do to the element (`None` when stopped): its
    /// backchannel slot belongs to that start only, so that a task of an earlier start
    /// still winding down cannot replace it.
    pub(super) fn output(&self) -> Option<Arc<ElementOutput>> {
        match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            State::Started(s) => Some(s.output.clone()),
            State::Stopped => None,
        }
    }

    /// `rekey-srtp`: asks the session to replace its SRTP keys; false when not started
    /// with `rtsps-srtp` (nothing to replace).
    fn rekey_srtp(&self) -> bool {
        let srtp = self
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .streaming_method
            == super::StreamingMethod::RtspsSrtp;
        match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            State::Started(s) if srtp => s.commander.send(Command::Rekey).is_ok(),
            _ => {
                gst::debug!(CAT, imp = self, "rekey-srtp: not started with rtsps-srtp");
                false
            }
        }
    }

    /// What is known of the device `key` names, for a start-up: the element keeps it, so
    /// that it lives as long as the element does.
    pub(super) fn boot_cache(&self, key: DeviceKey) -> BootCache {
        let mut held = self.boot.lock().unwrap_or_else(PoisonError::into_inner);
        match &*held {
            Some((k, boot)) if *k == key => boot.clone(),
            _ => {
                let boot = boot::boot_of(&key);
                *held = Some((key, boot.clone()));
                boot
            }
        }
    }

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        gst::debug!(CAT, imp = self, "starting with {settings:?}");
        let (job, warnings) = settings
            .prepare(&self.obj())
            .map_err(|e| e.to_error_message())?;
        // The session's commands: seeks (a replay's pads send them) and the stop.
        let (commander, commands) = session::command::channel();
        let seek_hook = match &job {
            Job::Live(l) if l.playback.is_some() => Some(SeekHook {
                commands: commander.downgrade(),
            }),
            _ => None,
        };
        let (limits, latency) = match &job {
            Job::Snapshot(_) => (
                Limits {
                    bytes_per_pad: usize::MAX,
                    items: SNAPSHOT_QUEUE,
                },
                gst::ClockTime::ZERO,
            ),
            Job::Live(_) => (
                Limits {
                    bytes_per_pad: RTP_QUEUE_BYTES,
                    items: RTP_QUEUE_ITEMS,
                },
                gst::ClockTime::from_mseconds(u64::from(settings.latency)),
            ),
        };
        let pads = Pads::start(&self.obj(), limits, latency, seek_hook);
        let output = Arc::new(ElementOutput {
            element: self.obj().downgrade(),
            pads,
            backchannel: Default::default(),
        });
        for w in &warnings {
            output.warning(w);
        }
        let task_output = output.clone();
        let event_start = match &job {
            Job::Snapshot(s) => s.start.clone(),
            Job::Live(l) => l.start.clone(),
        };
        let read_from = super::stats::Watched {
            stats: event_start.stats.clone(),
            tls: event_start.tls.clone(),
            streaming_method: super::stats::nick(&settings.streaming_method),
            checks: (settings.validate_certificate, settings.validate_hostname),
            output: output.clone(),
        };
        *self.watched.lock().unwrap_or_else(PoisonError::into_inner) = Some(read_from.clone());
        // The signals' client counts into the stats of the start it was made in: the next
        // signal makes one counting into this start's.
        self.control_stale
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Every task of this element on one thread of the runtime.
        let shard = RUNTIME.pick();
        let stats_task = (settings.stats_interval > 0).then(|| {
            shard.spawn(super::stats::post_every(
                self.obj().downgrade(),
                read_from,
                Duration::from_millis(u64::from(settings.stats_interval)),
            ))
        });
        let join = match job {
            Job::Snapshot(snap) => shard.spawn(watched(
                "snapshot session",
                output.clone(),
                session::run_snapshot(snap, task_output, commands),
            )),
            Job::Live(live) => shard.spawn(watched(
                "media session",
                output.clone(),
                session::run_live(live, task_output, commands),
            )),
        };
        let events = settings.events.then(|| {
            let (tx, rx) = session::command::channel();
            (
                tx,
                shard.spawn(watched(
                    "event",
                    output.clone(),
                    crate::session::events::run(
                        event_start,
                        settings.reconnect(),
                        output.clone(),
                        rx,
                    ),
                )),
            )
        });
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::Started(Started {
            commander,
            join,
            output,
            events,
            stats_task,
        });
        gst::info!(CAT, imp = self, "started");
        Ok(())
    }

    fn stop(&self) {
        let State::Started(started) =
            std::mem::take(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner))
        else {
            return;
        };
        let _ = started.commander.send(Command::Stop);
        started.output.backchannel.close();
        let mut joins = vec![started.join];
        if let Some((tx, join)) = started.events {
            let _ = tx.send(Command::Stop);
            joins.push(join);
        }
        // Aborted and waited for: no statistics message after the stop.
        if let Some(t) = started.stats_task {
            t.abort();
            joins.push(t);
        }
        if runtime::inside_runtime() {
            // Called from inside an application's tokio runtime: blocking here would panic.
            // The task has been told to stop and ends on its own.
            gst::debug!(
                CAT,
                imp = self,
                "not waiting for the session inside a runtime"
            );
        } else {
            let canceller = Mutex::new(runtime::Canceller::default());
            let aborts: Vec<_> = joins.iter().map(|j| j.abort_handle()).collect();
            let res = runtime::wait(&canceller, Some(STOP_DEADLINE), async move {
                for j in joins {
                    let _ = j.await;
                }
                Ok::<(), ()>(())
            });
            if res.is_err() {
                for a in aborts {
                    a.abort();
                }
                gst::warning!(CAT, imp = self, "session did not stop in time; abandoned");
            }
        }
        started.output.teardown();
        // What the streams counted stays readable without the session (one aborted at the
        // deadline did not leave it), and their keys are let go.
        if let Some(w) = self
            .watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            w.stats.freeze();
        }
        gst::info!(CAT, imp = self, "stopped");
    }

    /// The streaming thread pushes only while the element is PLAYING (a live source).
    fn set_playing(&self, playing: bool) {
        if let State::Started(started) = &*self.state.lock().unwrap_or_else(PoisonError::into_inner)
        {
            started.output.pads.set_playing(playing);
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for OnvifHttpsSrc {
    const NAME: &'static str = "GstOnvifHttpsSrc";
    type Type = super::OnvifHttpsSrc;
    type ParentType = gst::Element;
    type Interfaces = (gst::URIHandler,);
}

impl URIHandlerImpl for OnvifHttpsSrc {
    const URI_TYPE: gst::URIType = gst::URIType::Src;

    fn protocols() -> &'static [&'static str] {
        &["onvif", "onvifs"]
    }

    /// The location as `onvif(s)://`, with the user but never the password, and the query
    /// the URI was set with.
    fn uri(&self) -> Option<String> {
        super::uri::uri(&self.settings.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn set_uri(&self, uri: &str) -> Result<(), glib::Error> {
        self.set_uri_str(uri)
    }
}

impl ObjectImpl for OnvifHttpsSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(super::properties::list);
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        // The action signals' client belongs to the old settings.
        self.control_stale
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut c) = self.control.try_lock() {
            *c = None;
        }
        if matches!(pspec.name(), "https-port" | "https-enable") {
            // The bootstrap's port belongs to the old settings.
            *self.boot.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        if pspec.name() == "location" {
            let v = value
                .get::<Option<String>>()
                .expect("type checked upstream");
            if let Err(err) = self.set_location(v) {
                gst::error!(CAT, imp = self, "Failed to set property `location`: {err}");
            }
            return;
        }
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set(pspec.name(), value);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if pspec.name() == "stats" {
            let watched = self
                .watched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            return super::stats::structure(watched.as_ref()).to_value();
        }
        let s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        match pspec.name() {
            // Read back without a password written into it (pipeline dumps, logs of
            // property values); the element keeps and uses it.
            "location" => s
                .location
                .as_ref()
                .map(|l| super::uri::without_password(&l.text))
                .to_value(),
            name => s.get(name),
        }
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            let mut all = super::signals::list();
            all.extend(super::backchannel::signals());
            all.push(
                /**
                 * GstOnvifHttpsSrc::rekey-srtp:
                 *
                 * With `streaming-method=rtsps-srtp`: replace the element's SRTP keys
                 * now (as `srtp-rekey-interval` does on its period). Returns TRUE when
                 * the element is started with `rtsps-srtp` (the re-keying goes once the
                 * session plays); each stream's answer posts an `onvif-srtp-rekeyed`
                 * element message.
                 */
                glib::subclass::Signal::builder("rekey-srtp")
                    .return_type::<bool>()
                    .action()
                    .class_handler(|args| {
                        let e = args[0].get::<super::OnvifHttpsSrc>().expect("signal arg");
                        Some(e.imp().rekey_srtp().to_value())
                    })
                    .build(),
            );
            all
        });
        SIGNALS.as_ref()
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_element_flags(gst::ElementFlags::SOURCE);
    }
}

impl GstObjectImpl for OnvifHttpsSrc {}

impl ElementImpl for OnvifHttpsSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "ONVIF HTTPS Source",
                "Source/Network/Video/Audio",
                "Talks ONVIF to an IP camera over HTTPS and brings its media into the pipeline",
                "onvifhttps developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let video = gst::Caps::builder_full()
                .structure(gst::Structure::new_empty("application/x-rtp"))
                .structure(gst::Structure::new_empty("image/jpeg"))
                .build();
            let rtp = gst::Caps::new_empty_simple("application/x-rtp");
            vec![
                gst::PadTemplate::new(
                    "video_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &video,
                )
                .expect("valid template"),
                gst::PadTemplate::new(
                    "audio_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &rtp,
                )
                .expect("valid template"),
                gst::PadTemplate::new(
                    "metadata_%u",
                    gst::PadDirection::Src,
                    gst::PadPresence::Sometimes,
                    &rtp,
                )
                .expect("valid template"),
            ]
        });
        PAD_TEMPLATES.as_ref()
    }

    fn send_event(&self, event: gst::Event) -> bool {
        // An EOS to the element (a recorder finishing its file): every pad ends after what
        // is queued.
        if let gst::EventView::Eos(_) = event.view() {
            return match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
                State::Started(started) => {
                    started.output.pads.send_eos();
                    true
                }
                State::Stopped => false,
            };
        }
        self.parent_send_event(event)
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToNull {
            // An action signal blocked on a silent device returns now (FALSE/NULL).
            for c in self
                .signal_waits
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                runtime::cancel(c);
            }
        }
        if transition == gst::StateChange::ReadyToPaused
            && let Err(msg) = self.start()
        {
            self.post_error_message(msg);
            return Err(gst::StateChangeError);
        }
        if transition == gst::StateChange::PlayingToPaused {
            self.set_playing(false);
        }
        let mut success = self.parent_change_state(transition)?;
        match transition {
            gst::StateChange::PausedToPlaying => self.set_playing(true),
            // A live source: no preroll.
            gst::StateChange::ReadyToPaused | gst::StateChange::PlayingToPaused => {
                success = gst::StateChangeSuccess::NoPreroll;
            }
            gst::StateChange::PausedToReady => self.stop(),
            gst::StateChange::ReadyToNull => {
                self.control_stale
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                if let Ok(mut c) = self.control.try_lock() {
                    *c = None;
                }
            }
            _ => {}
        }
        Ok(success)
    }
}
