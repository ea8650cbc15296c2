// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Edge storage against the virtual camera: finding the recording and its replay URI over
//! HTTPS with every certificate check on (spec §7).

mod common;

use std::time::Duration;

use common::*;
use gstonvifhttps::device::{self, Credentials, StartSettings, Wants};
use gstonvifhttps::edge::{self, ReplayTarget};
use gstonvifhttps::error::Error;
use gstonvifhttps::runtime::RUNTIME;
use gstonvifhttps::tls::{TlsSettings, client_config};
use onvif_virtual_camera::{Camera, Config};

fn find(cam: &Camera, ca: &TempFile, token: Option<&str>) -> Result<ReplayTarget, Error> {
    let tls = client_config(&TlsSettings {
        validate_certificate: true,
        validate_hostname: true,
        ca_file: Some(ca.as_str().to_string()),
        pin_sha256: None,
    })
    .expect("TLS settings");
    let settings = StartSettings {
        location: format!("http://127.0.0.1:{}", cam.http_port())
            .parse()
            .unwrap(),
        creds: Some(Credentials {
            user: "admin".into(),
            password: "password".into(),
        }),
        https_enable: true,
        https_port: 0,
        tls: Some(tls),
        profile: None,
        timeout: Duration::from_secs(5),
        wants: Wants {
            video: true,
            audio: false,
            metadata: false,
        },
    };
    RUNTIME.block_on(async {
        let mut started = device::start(&settings, &|_| {}).await?;
        edge::find_replay(&mut started.client, &started.services, token).await
    })
}

fn edge_ops(cam: &Camera) -> Vec<String> {
    camera_ops(cam)
        .into_iter()
        .filter(|op| {
            matches!(
                op.as_str(),
                "GetRecordings"
                    | "FindRecordings"
                    | "GetRecordingSearchResults"
                    | "EndSearch"
                    | "GetReplayUri"
            )
        })
        .collect()
}

fn expected_tracks() -> Vec<(String, String)> {
    [
        ("VIDEO001", "Video"),
        ("AUDIO001", "Audio"),
        ("META001", "Metadata"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[test]
fn test_first_recording_with_span_and_replay_uri() {
    init();
    let (cam, ca) = camera(Config::default());
    let t = find(&cam, &ca, None).expect("replay target");
    let archive = cam.archive();
    assert_eq!(t.recording.token, "Recording_1");
    assert_eq!(t.recording.tracks, expected_tracks());
    assert_eq!(t.recording.earliest, Some(archive.earliest()));
    assert_eq!(t.recording.latest, Some(archive.latest()));
    assert_eq!(
        t.uri,
        format!(
            "rtsp://127.0.0.1:{}/onvif-replay/Recording_1",
            cam.http_port()
        )
    );
    // GetRecordings for the list, the search for the span, over HTTPS only.
    assert_eq!(
        edge_ops(&cam),
        [
            "GetRecordings",
            "FindRecordings",
            "GetRecordingSearchResults",
            "EndSearch",
            "GetReplayUri"
        ]
    );
    assert_eq!(cam.open_searches(), 0, "the search is ended");
    assert!(
        cam.stats
            .heads
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.contains("/onvif/recording_service")
                || h.contains("/onvif/search_service")
                || h.contains("/onvif/replay_service"))
            .all(|h| h.starts_with("https POST"))
    );
}

#[test]
fn test_search_only_device() {
    init();
    let (cam, ca) = camera(Config {
        recording_control: false,
        ..Config::default()
    });
    let t = find(&cam, &ca, Some("Recording_1")).expect("replay target");
    assert_eq!(t.recording.tracks, expected_tracks());
    assert_eq!(t.recording.earliest, Some(cam.archive().earliest()));
    assert_eq!(
        edge_ops(&cam),
        [
            "FindRecordings",
            "GetRecordingSearchResults",
            "EndSearch",
            "GetReplayUri"
        ]
    );
}

#[test]
fn test_unknown_recording_token_names_the_ones_there() {
    init();
    let (cam, ca) = camera(Config::default());
    let err = find(&cam, &ca, Some("Recording_9")).expect_err("no such recording");
    let msg = err.to_string();
    assert!(
        msg.contains("no recording \"Recording_9\" (recordings: Recording_1)"),
        "{msg}"
    );
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(!edge_ops(&cam).contains(&"GetReplayUri".to_string()));
}

#[test]
fn test_replay_fault_is_reported_with_its_operation() {
    init();
    let (cam, ca) = camera(Config {
        fault_on: Some("GetReplayUri".into()),
        ..Config::default()
    });
    let err = find(&cam, &ca, None).expect_err("fault");
    let msg = err.to_string();
    assert!(matches!(err, Error::Fault { .. }), "{err:?}");
    assert!(msg.contains("GetReplayUri"), "{msg}");
    assert!(msg.contains("ActionFailed"), "{msg}");
}
