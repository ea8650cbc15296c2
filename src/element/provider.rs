// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `onvifdeviceprovider` (class `Source/Network`): the ONVIF cameras WS-Discovery finds,
//! for `gst-device-monitor-1.0` and `GstDeviceMonitor`, each a `GstDevice` whose
//! `create_element()` gives an `onvifhttpssrc` with `location` set (never credentials).
//! The model is gst-plugins-rs's NDI device provider. `probe()` runs a bounded discovery
//! (3 s). Started, the provider adds each camera as its answer comes (`start()` waits
//! for the first second of answers, so that `gst-device-monitor-1.0` lists them), then,
//! on the WS-Discovery group, keeps listening: a camera's Hello adds it (or its new
//! address), a Bye removes it; an interface that comes up is joined and probed.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::client::discovery::{self, Found};
use crate::log::CAT;

/// How long a probe listens for answers (the doc's 3 to 5 s).
const PROBE_WAIT: Duration = Duration::from_secs(3);
/// How long `start()` waits for the first answers (later ones are added as they come).
const START_WAIT: Duration = Duration::from_secs(1);

/// The devices a started provider added: each camera's endpoint, location and device
/// (`None`: stopped; nothing is added then).
type Added = std::sync::Arc<std::sync::Mutex<Option<Vec<(String, String, gst::Device)>>>>;

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct Provider {
        pub targets: std::sync::Mutex<Option<String>>,
        /// Started: the discovery under way.
        pub task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
        /// Started: the devices added (removed at stop; `devices()` there would wait for
        /// the lock the stop holds).
        pub added: Added,
    }

    impl Provider {
        fn targets(&self) -> Vec<std::net::SocketAddr> {
            let listed = self
                .targets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            discovery::targets(listed.as_deref())
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Provider {
        const NAME: &'static str = "GstOnvifDeviceProvider";
        type Type = super::OnvifDeviceProvider;
        type ParentType = gst::DeviceProvider;
    }

    impl ObjectImpl for Provider {
        fn properties() -> &'static [glib::ParamSpec] {
            static PROPS: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
                vec![
                    glib::ParamSpecString::builder("targets")
                        .nick("Targets")
                        .blurb(
                            "Where Probes go, comma-separated host:port (default: \
                             ONVIFHTTPS_DISCOVERY_TARGETS, else the WS-Discovery multicast \
                             group 239.255.255.250:3702)",
                        )
                        .build(),
                ]
            });
            PROPS.as_ref()
        }

        fn set_property(&self, _id: usize, value: &glib::Value, _pspec: &glib::ParamSpec) {
            *self
                .targets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                value.get::<Option<String>>().ok().flatten();
        }

        fn property(&self, _id: usize, _pspec: &glib::ParamSpec) -> glib::Value {
            self.targets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .to_value()
        }
    }

    impl GstObjectImpl for Provider {}

    impl DeviceProviderImpl for Provider {
        fn metadata() -> Option<&'static gst::subclass::DeviceProviderMetadata> {
            static META: LazyLock<gst::subclass::DeviceProviderMetadata> = LazyLock::new(|| {
                gst::subclass::DeviceProviderMetadata::new(
                    "ONVIF Device Provider",
                    "Source/Network",
                    "Lists the ONVIF cameras WS-Discovery finds, each opened with onvifhttpssrc",
                    "onvifhttps developers",
                )
            });
            Some(&META)
        }

        fn probe(&self) -> Vec<gst::Device> {
            let targets = self.targets();
            let found = crate::runtime::RUNTIME.block_on(discovery::discover(&targets, PROBE_WAIT));
            match found {
                Ok(found) => {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "discovery ({targets:?}): {} camera(s)",
                        found.len()
                    );
                    found.iter().filter_map(device).collect()
                }
                Err(e) => {
                    gst::warning!(CAT, imp = self, "discovery failed: {e}");
                    Vec::new()
                }
            }
        }

        /// A discovery in the background, each camera added as its answer comes; this
        /// waits for the first second of answers. On the WS-Discovery group (no unicast
        /// targets), Hello and Bye are listened to from then on, until stop.
        fn start(&self) -> Result<(), gst::LoggableError> {
            let targets = self.targets();
            let provider = self.obj().downgrade();
            let added = self.added.clone();
            *added
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Vec::new());
            let (first, first_done) = std::sync::mpsc::channel::<()>();
            let task = crate::runtime::RUNTIME.pick().spawn(async move {
                // Bound before the Probes go, so that no Hello falls between the two.
                let listener = if discovery::is_multicast(&targets) {
                    match discovery::listen() {
                        Ok(l) => Some(l),
                        Err(e) => {
                            gst::warning!(
                                CAT,
                                "discovery: Hello and Bye cannot be heard (the WS-Discovery \
                                 port: {e}); cameras are found by Probe only"
                            );
                            None
                        }
                    }
                } else {
                    None
                };
                let found = discovery::discover_each(&targets, PROBE_WAIT, &mut |f| {
                    super::add(&provider, &added, f);
                })
                .await;
                let _ = first.send(());
                if let Err(e) = found {
                    gst::warning!(CAT, "discovery failed: {e}");
                }
                if let Some((socket, known)) = listener {
                    super::listen(&socket, known, &targets, &provider, &added).await;
                }
            });
            if let Some(old) = self
                .task
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .replace(task)
            {
                old.abort();
            }
            let _ = first_done.recv_timeout(START_WAIT);
            Ok(())
        }

        fn stop(&self) {
            if let Some(task) = self
                .task
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
            {
                task.abort();
            }
            let added = std::mem::take(
                &mut *self
                    .added
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            let obj = self.obj();
            for (_, _, d) in added.unwrap_or_default() {
                obj.device_remove(&d);
            }
        }
    }

    #[derive(Default)]
    pub struct Device {
        pub location: OnceLock<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Device {
        const NAME: &'static str = "GstOnvifDevice";
        type Type = super::OnvifDevice;
        type ParentType = gst::Device;
    }

    impl ObjectImpl for Device {}
    impl GstObjectImpl for Device {}

    impl DeviceImpl for Device {
        fn create_element(&self, name: Option<&str>) -> Result<gst::Element, gst::LoggableError> {
            let location = self
                .location
                .get()
                .ok_or_else(|| gst::loggable_error!(CAT, "the device has no location"))?;
            let mut b = gst::ElementFactory::make("onvifhttpssrc").property("location", location);
            if let Some(name) = name {
                b = b.name(name);
            }
            b.build()
                .map_err(|e| gst::loggable_error!(CAT, "onvifhttpssrc cannot be made: {e}"))
        }
    }
}

glib::wrapper! {
    pub struct OnvifDeviceProvider(ObjectSubclass<imp::Provider>)
        @extends gst::DeviceProvider, gst::Object;
}

glib::wrapper! {
    pub struct OnvifDevice(ObjectSubclass<imp::Device>) @extends gst::Device, gst::Object;
}

/// The `GstDevice` of a camera found; `None` without a location a client can reach.
fn device(f: &Found) -> Option<gst::Device> {
    let location = f.location.clone()?;
    let t = &f.target;
    let name = t.scope("name").unwrap_or_else(|| t.endpoint.clone());
    let mut props = gst::Structure::builder("onvif-device-properties")
        .field("onvif.endpoint", t.endpoint.as_str())
        .field("onvif.xaddrs", t.xaddrs.join(" "))
        .field("onvif.location", location.as_str())
        .field("onvif.source", f.source.to_string());
    if let Some(h) = t.scope("hardware") {
        props = props.field("onvif.hardware", h);
    }
    let profiles = t.scopes_of("Profile");
    if !profiles.is_empty() {
        props = props.field("onvif.profiles", profiles.join(" "));
    }
    let caps = gst::Caps::builder("application/x-rtp").build();
    let device = glib::Object::builder::<OnvifDevice>()
        .property("display-name", name)
        .property("device-class", "Source/Network")
        .property("caps", caps)
        .property("properties", props.build())
        .build();
    let _ = device.imp().location.set(location);
    Some(device.upcast())
}

/// Adds the camera `f` (a new location replaces the device of its endpoint).
fn add(provider: &glib::WeakRef<OnvifDeviceProvider>, added: &Added, f: &Found) {
    let (Some(p), Some(location)) = (provider.upgrade(), f.location.as_ref()) else {
        return;
    };
    let endpoint = &f.target.endpoint;
    let (d, old) = {
        let mut guard = added
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(list) = guard.as_mut() else {
            return;
        };
        let at = list.iter().position(|(e, _, _)| e == endpoint);
        if at.is_some_and(|i| list.get(i).is_some_and(|(_, l, _)| l == location))
            || (at.is_none() && list.len() >= discovery::MAX_FOUND)
        {
            return;
        }
        let Some(d) = device(f) else {
            return;
        };
        let old = at.map(|i| list.remove(i).2);
        list.push((endpoint.clone(), location.clone(), d.clone()));
        (d, old)
    };
    // Posted without the lock: a handler of the message may stop the provider.
    p.device_add(&d);
    if let Some(old) = old {
        gst::debug!(CAT, obj = p, "discovery: {endpoint} moved to {location}");
        p.device_remove(&old);
    }
    // Stopped, or replaced, meanwhile: the device is not listed any more.
    let listed = added
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .is_some_and(|l| l.iter().any(|(_, _, x)| *x == d));
    if !listed {
        p.device_remove(&d);
    }
}

/// Hellos and Byes on the group, until the provider stops (its task is aborted). Every
/// [`discovery::RESCAN`], an interface that came up (not in `known`) has the group joined
/// on it and Probes sent out of it: a camera there said its Hello before anyone listened.
async fn listen(
    socket: &tokio::net::UdpSocket,
    mut known: Vec<discovery::Interface>,
    targets: &[std::net::SocketAddr],
    provider: &glib::WeakRef<OnvifDeviceProvider>,
    added: &Added,
) {
    let mut buf = vec![0u8; crate::proto::onvif::discovery::MAX_DATAGRAM + 1];
    let mut rescan = tokio::time::interval_at(
        tokio::time::Instant::now() + discovery::RESCAN,
        discovery::RESCAN,
    );
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let received = tokio::select! {
            r = socket.recv_from(&mut buf) => r,
            _ = rescan.tick() => {
                let new = discovery::join_new(socket, &mut known);
                if !new.is_empty() {
                    gst::debug!(CAT, "discovery: interface(s) {new:?} came up: Probes out of them");
                    let found = discovery::discover_on(targets, &new, PROBE_WAIT, &mut |f| {
                        add(provider, added, f);
                    })
                    .await;
                    if let Err(e) = found {
                        gst::debug!(CAT, "discovery on {new:?} failed: {e}");
                    }
                }
                continue;
            }
        };
        let (n, from) = match received {
            Ok(r) => r,
            Err(e) => {
                gst::debug!(CAT, "discovery: {e}");
                return;
            }
        };
        let Some(datagram) = buf.get(..n) else {
            continue;
        };
        match discovery::announced(datagram, from.ip()) {
            Some(discovery::Announced::Hello(f)) => add(provider, added, &f),
            Some(discovery::Announced::Bye(endpoint)) => {
                let gone = {
                    let mut guard = added
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    guard.as_mut().and_then(|list| {
                        list.iter()
                            .position(|(e, _, _)| *e == endpoint)
                            .map(|i| list.remove(i).2)
                    })
                };
                if let (Some(d), Some(p)) = (gone, provider.upgrade()) {
                    gst::debug!(CAT, obj = p, "discovery: {endpoint} said Bye");
                    p.device_remove(&d);
                }
            }
            None => {}
        }
    }
}

/// Registers `onvifdeviceprovider`.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::DeviceProvider::register(
        Some(plugin),
        "onvifdeviceprovider",
        gst::Rank::PRIMARY,
        OnvifDeviceProvider::static_type(),
    )
}
