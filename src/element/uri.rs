// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's URIs (`onvif://`, `onvifs://`) and `location`: parsing, the query of
//! properties, and reading them back without a password.

use std::sync::PoisonError;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::imp::{OnvifHttpsSrc, State};
use super::settings::{Location, Settings};

/// `location` with the password of a `user:password@` removed.
pub(super) fn without_password(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => location.to_string(),
    }
}

/// The location as `onvif(s)://`, with the user but never the password, and the query
/// the URI was set with.
pub(super) fn uri(s: &Settings) -> Option<String> {
    let loc = &s.location.as_ref()?.url;
    let scheme = if loc.scheme() == "https" {
        "onvifs"
    } else {
        "onvif"
    };
    let user = s
        .user_id
        .as_deref()
        .or(Some(loc.username()).filter(|u| !u.is_empty()))
        .map(|u| {
            format!(
                "{}@",
                percent_encoding::utf8_percent_encode(u, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .unwrap_or_default();
    let port = loc.port().map(|p| format!(":{p}")).unwrap_or_default();
    let query = s
        .uri_query
        .as_deref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    Some(format!(
        "{scheme}://{user}{}{port}{}{query}",
        loc.host_str()?,
        loc.path()
    ))
}

impl OnvifHttpsSrc {
    pub(super) fn set_location(&self, value: Option<String>) -> Result<(), glib::Error> {
        if !matches!(
            *self.state.lock().unwrap_or_else(PoisonError::into_inner),
            State::Stopped
        ) {
            return Err(glib::Error::new(
                gst::URIError::BadState,
                "location cannot change while the element is running",
            ));
        }
        let location = match &value {
            Some(v) => Some(
                Location::parse(v)
                    .map_err(|e| glib::Error::new(gst::URIError::BadUri, &e.to_string()))?,
            ),
            None => None,
        };
        let mut s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        s.location = location;
        s.uri_query = None;
        // Another device, or the same one elsewhere: what is known of the device is that of
        // the new location (found again unless another element holds it).
        *self.boot.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }

    /// `onvif://` (bootstrap over HTTP) or `onvifs://` (HTTPS from the start): host, port
    /// and path are the location, `user:password@` the credentials, and every query key a
    /// property of the element. Nothing is changed unless all of it is valid.
    pub(super) fn set_uri_str(&self, uri: &str) -> Result<(), glib::Error> {
        let bad = |m: String| glib::Error::new(gst::URIError::BadUri, &m);
        let u = url::Url::parse(uri).map_err(|e| bad(format!("not a URI: {e}")))?;
        let scheme = match u.scheme() {
            "onvif" => "http",
            "onvifs" => "https",
            other => {
                return Err(glib::Error::new(
                    gst::URIError::UnsupportedProtocol,
                    &format!("{other}:// is not handled: use onvif:// or onvifs://"),
                ));
            }
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the URI has no host".into()))?;
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        let location = format!("{scheme}://{host}{port}{}", u.path());
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .to_string()
        };
        let user = Some(u.username()).filter(|u| !u.is_empty()).map(decode);
        let password = u.password().map(decode);
        let own = super::OnvifHttpsSrc::static_type();
        let mut values = Vec::new();
        let mut kept = Vec::new();
        // Split by hand: a `+` is a `+` (streams=video+audio), not a form-encoded space.
        let pairs = u
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            });
        for (key, value) in pairs {
            let pspec = self
                .obj()
                .find_property(&key)
                .filter(|p| p.owner_type() == own && p.name() != "location")
                .ok_or_else(|| {
                    bad(format!(
                        "unknown key {key:?} in the URI query: keys are the properties of \
                         onvifhttpssrc (see gst-inspect-1.0 onvifhttpssrc)"
                    ))
                })?;
            let v = glib::Value::deserialize_with_pspec(&value, &pspec)
                .ok()
                .filter(|v| in_range(&pspec, v))
                .ok_or_else(|| bad(format!("{key}={value:?} is not a valid value")))?;
            if pspec.name() != "user-pw" {
                kept.push(format!(
                    "{key}={}",
                    percent_encoding::utf8_percent_encode(&value, QUERY_VALUE)
                ));
            }
            values.push((pspec.name(), v));
        }
        self.set_location(Some(location))?;
        {
            let mut s = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
            if user.is_some() {
                s.user_id = user;
                s.user_pw = password;
            }
        }
        for (name, v) in values {
            self.obj().set_property_from_value(name, &v);
        }
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .uri_query = (!kept.is_empty()).then(|| kept.join("&"));
        Ok(())
    }
}

/// What a value in the query of the URI the element reports is escaped for.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'`');

/// Whether a number from a URI query is within the property's range.
fn in_range(pspec: &glib::ParamSpec, v: &glib::Value) -> bool {
    if let (Some(p), Ok(n)) = (pspec.downcast_ref::<glib::ParamSpecUInt>(), v.get::<u32>()) {
        return (p.minimum()..=p.maximum()).contains(&n);
    }
    if let (Some(p), Ok(n)) = (
        pspec.downcast_ref::<glib::ParamSpecDouble>(),
        v.get::<f64>(),
    ) {
        return (p.minimum()..=p.maximum()).contains(&n);
    }
    true
}
