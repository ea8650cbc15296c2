// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `onvifdeviceprovider` (class `Source/Network`): the ONVIF cameras WS-Discovery finds,
//! for `gst-device-monitor-1.0` and `GstDeviceMonitor`, each a `GstDevice` whose
//! `create_element()` gives an `onvifhttpssrc` with `location` set (never credentials).
//! The model is gst-plugins-rs's NDI device provider. `probe()` runs a bounded discovery
//! (3 s); started, the provider lists what that finds.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::client::discovery::{self, Found};
use crate::log::CAT;

/// How long a probe listens for answers (the doc's 3 to 5 s).
const PROBE_WAIT: Duration = Duration::from_secs(3);

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct Provider {
        pub targets: std::sync::Mutex<Option<String>>,
        /// Started: the discovery under way.
        pub task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
        /// Started: the devices added (removed at stop; `devices()` there would wait for
        /// the lock the stop holds).
        pub added: std::sync::Arc<std::sync::Mutex<Vec<gst::Device>>>,
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

        /// A discovery in the background; each camera it finds is added as it is
        /// found's end comes (the monitor's start does not wait for it).
        fn start(&self) -> Result<(), gst::LoggableError> {
            let targets = self.targets();
            let provider = self.obj().downgrade();
            let added = self.added.clone();
            let task = crate::runtime::RUNTIME.pick().spawn(async move {
                let found = discovery::discover(&targets, PROBE_WAIT).await;
                let Some(provider) = provider.upgrade() else {
                    return;
                };
                match found {
                    Ok(found) => {
                        for d in found.iter().filter_map(device) {
                            provider.device_add(&d);
                            added
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(d);
                        }
                    }
                    Err(e) => gst::warning!(CAT, obj = provider, "discovery failed: {e}"),
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
            for d in added {
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

/// Registers `onvifdeviceprovider`.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::DeviceProvider::register(
        Some(plugin),
        "onvifdeviceprovider",
        gst::Rank::PRIMARY,
        OnvifDeviceProvider::static_type(),
    )
}
