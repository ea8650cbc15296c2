// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The layers point one way (`docs/architecture.md` §1): element → session → client →
//! transport → proto; no file names a layer above its own, and the sans-I/O protocol code
//! does no I/O. Read from the sources, so that a
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

/// The layers, top to bottom (`docs/architecture.md` §1).
const LAYERS: [&str; 5] = ["element", "session", "client", "transport", "proto"];

fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    sources(&src().join(dir), &mut files);
    files
}

#[test]
fn test_no_layer_names_one_above_it() {
    let mut hits = Vec::new();
    for (i, layer) in LAYERS.iter().enumerate() {
        let files = files_under(layer);
        assert!(!files.is_empty(), "src/{layer} has sources");
        let above: Vec<String> = LAYERS[..i]
            .iter()
            .flat_map(|l| [format!("crate::{l}"), format!("super::super::{l}")])
            .collect();
        let names: Vec<&str> = above.iter().map(String::as_str).collect();
        hits.extend(naming(&files, &names));
    }
    assert!(
        hits.is_empty(),
        "a lower layer names a higher one:\n{}",
        hits.join("\n")
    );
}

#[test]
fn test_the_leaves_name_only_the_protocol_code() {
    // error, log, runtime and stats are used by every layer above proto; they name nothing but
    // proto (the error carries a SOAP fault), so no circle goes through them.
    let leaves: Vec<PathBuf> = ["error.rs", "log.rs", "runtime.rs", "stats.rs"]
        .iter()
        .map(|f| src().join(f))
        .collect();
    let names: Vec<String> = LAYERS[..4].iter().map(|l| format!("crate::{l}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let hits = naming(&leaves, &names);
    assert!(
        hits.is_empty(),
        "a leaf names a layer:\n{}",
        hits.join("\n")
    );
    // And the protocol code names no leaf: it only returns values.
    let hits = naming(
        &files_under("proto"),
        &["crate::error", "crate::log", "crate::runtime"],
    );
    assert!(hits.is_empty(), "proto names a leaf:\n{}", hits.join("\n"));
}

#[test]
fn test_protocol_code_does_no_io() {
    // The sans-I/O modules: parsers and builders that tests drive with bytes.
    let files = files_under("proto");
    assert!(files.len() >= 13, "{files:?}");
    let hits = naming(
        &files,
        &["tokio::", "std::net::TcpStream", "std::net::UdpSocket"],
    );
    assert!(
        hits.is_empty(),
        "sans-I/O code names an I/O layer:\n{}",
        hits.join("\n")
    );
}
