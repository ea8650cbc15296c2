// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Security review: with `https-validate-hostname=false` the system roots were trusted
//! too, so any publicly trusted certificate for any name passed. The camera's CA stands in
//! for a public root here (`SSL_CERT_FILE`, read by rustls-native-certs, is set before the
//! element loads the system roots; this file holds one test so that nothing else in the
//! process sees it).

mod common;

use std::time::Duration;

use common::*;

#[test]
fn test_without_the_name_check_only_tls_ca_file_is_trusted() {
    let (cam, ca) = camera(Config::default());
    // SAFETY: set before any thread of this test process reads the environment.
    unsafe { std::env::set_var("SSL_CERT_FILE", ca.as_str()) };
    init();
    let loc = cam.https_url();
    let snapshot = |vh: bool, ca_file: Option<&str>| {
        let mut props = snapshot_props(&loc, &ca, "password");
        props.retain(|(k, _)| *k != "tls-ca-file");
        if let Some(f) = ca_file {
            props.push(("tls-ca-file", Box::new(f.to_string())));
        }
        let run = run_with(props, &[("https-validate-hostname", &vh)]);
        run.collect(1, Duration::from_secs(15))
    };
    // The "system" root is trusted with both checks on...
    let out = snapshot(true, None);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    // ...but not when the name is not checked: only tls-ca-file then.
    let out = snapshot(false, None);
    out.assert_resource_error(gst::ResourceError::OpenRead, &["unknown authority"]);
    let out = snapshot(false, Some(ca.as_str()));
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
}
