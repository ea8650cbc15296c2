// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What the process knows of each device while an element holds it: the HTTPS port the
//! plain-HTTP bootstrap found and an anonymous refusal, shared by every element that
//! reaches the device the same way ([`DeviceKey`]).

use std::sync::Arc;

/// See [`super::StartSettings::boot`].
pub type BootCache = Arc<tokio::sync::Mutex<Boot>>;

/// Which device a [`Boot`] is about, and how it is reached: `location`'s scheme, host and
/// port, and the settings that decide the HTTPS port. Elements with the same key (a
/// camera's main and sub stream, say) share what one of them learnt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceKey {
    scheme: String,
    host: String,
    port: Option<u16>,
    https_port: u16,
    https_enable: bool,
}

impl DeviceKey {
    pub fn of(location: &url::Url, https_port: u16, https_enable: bool) -> DeviceKey {
        DeviceKey {
            scheme: location.scheme().to_string(),
            host: location.host_str().unwrap_or_default().to_ascii_lowercase(),
            port: location.port_or_known_default(),
            https_port,
            https_enable,
        }
    }
}

/// What the process knows of each device, for as long as an element holds it: once the
/// last element that reaches a device one way is gone, the next one learns it again (an
/// address may have been given to another device by then).
static DEVICES: std::sync::LazyLock<
    std::sync::Mutex<
        std::collections::HashMap<DeviceKey, std::sync::Weak<tokio::sync::Mutex<Boot>>>,
    >,
> = std::sync::LazyLock::new(Default::default);

/// The knowledge of the device `key` names, shared by every element that holds it.
pub fn boot_of(key: &DeviceKey) -> BootCache {
    let mut devices = DEVICES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(boot) = devices.get(key).and_then(std::sync::Weak::upgrade) {
        return boot;
    }
    devices.retain(|_, b| b.strong_count() > 0);
    let boot = BootCache::default();
    devices.insert(key.clone(), Arc::downgrade(&boot));
    boot
}

/// What one start learnt of the device that the next starts use: the element's own (media
/// after a reconnect, events, control) and those of the process's other elements with the
/// same [`DeviceKey`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Boot {
    /// The HTTPS port the plain-HTTP bootstrap found.
    pub https_port: Option<u16>,
    /// The device refused an operation ONVIF lets through without credentials
    /// (GetSystemDateAndTime, GetServices): every later client sends credentials at once
    /// instead of being refused again.
    pub anonymous_refused: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 point 4: one device's knowledge per way of reaching it, kept while held.
    #[test]
    fn test_what_a_device_answered_is_shared_while_held() {
        let url = |u: &str| url::Url::parse(u).expect("a URL");
        let key = DeviceKey::of(
            &url("http://Cam.example:8080/onvif/device_service"),
            0,
            true,
        );
        let a = boot_of(&key);
        a.try_lock().expect("free").https_port = Some(8443);
        // Another path, the host in capitals: the same device reached the same way.
        let same = DeviceKey::of(&url("http://cam.example:8080/"), 0, true);
        assert_eq!(
            boot_of(&same).try_lock().expect("free").https_port,
            Some(8443),
            "the same device, the same knowledge"
        );
        // Another https-port, port of location or https-enable: not the same.
        for other in [
            DeviceKey::of(&url("http://cam.example:8080/"), 443, true),
            DeviceKey::of(&url("http://cam.example:8081/"), 0, true),
            DeviceKey::of(&url("http://cam.example:8080/"), 0, false),
        ] {
            assert_eq!(
                boot_of(&other).try_lock().expect("free").https_port,
                None,
                "{other:?} is another way to the device"
            );
        }
        drop(a);
        assert_eq!(
            boot_of(&key).try_lock().expect("free").https_port,
            None,
            "forgotten once nobody holds it"
        );
    }
}
