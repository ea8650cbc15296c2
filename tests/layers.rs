// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The layers point one way (`docs/architecture.md` §1): nothing below the element names
//! it, and the sans-I/O protocol code names no I/O layer. Read from the sources, so that a
//! new import that runs back up fails here, in `make test`.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file, line)` of every line in `files` that names one of `names`.
fn naming(files: &[PathBuf], names: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if names.iter().any(|name| code.contains(name)) {
                hits.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn test_nothing_below_the_element_names_it() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let below: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| !f.starts_with(src().join("onvifhttpssrc")) && !f.ends_with("lib.rs"))
        .collect();
    assert!(below.len() > 20, "{below:?}");
    let hits = naming(&below, &["crate::onvifhttpssrc", "super::onvifhttpssrc"]);
    assert!(
        hits.is_empty(),
        "a lower layer names the element:\n{}",
        hits.join("\n")
    );
}

#[test]
fn test_protocol_code_does_no_io() {
    // The sans-I/O modules: parsers and builders that tests drive with bytes.
    let pure = [
        "http.rs",
        "digest.rs",
        "clock.rs",
        "rtp.rs",
        "rtsp/framing.rs",
        "rtsp/sdp.rs",
        "rtsp/url.rs",
        "onvif/xml.rs",
        "onvif/soap.rs",
        "onvif/ops.rs",
        "onvif/events.rs",
    ];
    let files: Vec<PathBuf> = pure.iter().map(|p| src().join(p)).collect();
    let hits = naming(
        &files,
        &[
            "tokio::",
            "crate::net",
            "crate::tunnel",
            "crate::session",
            "crate::device",
            "std::net::TcpStream",
        ],
    );
    assert!(
        hits.is_empty(),
        "sans-I/O code names an I/O layer:\n{}",
        hits.join("\n")
    );
}
