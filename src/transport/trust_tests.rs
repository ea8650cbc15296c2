// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The trust store's file: its lines read and refused, learning under the lock, the
//! serial filled in, writers at once.

use super::*;

/// A directory of its own under the system's temporary one, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!(
            "onvifhttps-trust-{name}-{}-{:08x}",
            std::process::id(),
            u32::from_be_bytes(crate::proto::auth::random::<4>())
        ));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fp(b: u8) -> [u8; 32] {
    [b; 32]
}

#[test]
fn test_keys_are_host_and_port_per_service() {
    assert_eq!(key("Camera.Example", 443), "camera.example:443");
    assert_eq!(key("192.0.2.1", 322), "192.0.2.1:322");
    assert_eq!(key("::1", 443), "[::1]:443");
    assert_eq!(key("[fe80::1]", 8443), "[fe80::1]:8443");
    // IP literals as the system writes them, names without a trailing dot.
    assert_eq!(key("[2001:DB8:0:0::A]", 443), "[2001:db8::a]:443");
    assert_eq!(key("Cam.Lan.", 443), "cam.lan:443");
    assert_eq!(host_of("[2001:db8::a]:443"), "[2001:db8::a]");
}

#[test]
fn test_lines_are_read_and_bad_ones_named() {
    let p = Path::new("/etc/cams.trust");
    let good = format!(
        "# comment\n\n192.0.2.1:443 spki-sha256={} cert-sha256={} added=2026-12-06T00:00:00Z serial=ACME%2042 future=x\n\
         [::1]:322 spki-sha256={} cert-sha256={} added=2026-12-06T00:00:01Z serial=-\n",
        format_fingerprint(&fp(1)),
        format_fingerprint(&fp(2)),
        format_fingerprint(&fp(3)).replace(':', "").to_lowercase(),
        format_fingerprint(&fp(4)),
    );
    let e = parse(&good, p).unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0].key.as_str(), e[0].spki, e[0].cert, e[0].line),
        ("192.0.2.1:443", fp(1), fp(2), 3)
    );
    assert_eq!(e[0].serial.as_deref(), Some("ACME 42"));
    assert_eq!(
        (e[1].key.as_str(), e[1].spki, e[1].serial.clone()),
        ("[::1]:322", fp(3), None)
    );
    // A serial of `-` alone is not taken for none.
    let dash = Entry {
        serial: Some("-".into()),
        ..e[0].clone()
    };
    assert_eq!(
        parse(&dash.to_line(), p).unwrap()[0].serial.as_deref(),
        Some("-")
    );
    // The line written reads back the same.
    assert_eq!(
        parse(&e[0].to_line(), p).unwrap()[0],
        Entry {
            line: 1,
            ..e[0].clone()
        }
    );

    let line = |rest: &str| format!("# a\n{rest}\n");
    let spki = format!("spki-sha256={}", format_fingerprint(&fp(1)));
    let cert = format!("cert-sha256={}", format_fingerprint(&fp(2)));
    for (text, why) in [
        (
            line(&format!("192.0.2.1 {spki} {cert}")),
            "does not begin with host:port",
        ),
        (
            line(&format!("192.0.2.1:0 {spki} {cert}")),
            "does not begin with host:port",
        ),
        (
            line(&format!("192.0.2.1:443 spki-sha256=abcd {cert}")),
            "bad spki-sha256",
        ),
        (
            line(&format!("192.0.2.1:443 {spki}")),
            "lacks spki-sha256 or cert-sha256",
        ),
        (
            line(&format!("192.0.2.1:443 {spki} {cert} junk")),
            "not name=value",
        ),
        (
            format!(
                "192.0.2.1:443 {spki} {cert}\nx:1 {spki} {cert}\n192.0.2.1:443 {spki} {cert}\n"
            ),
            "line 3 names 192.0.2.1:443 again (line 1 does already)",
        ),
    ] {
        let err = parse(&text, p).unwrap_err().0;
        assert!(err.contains(why), "{err}");
        assert!(
            err.starts_with("the trust store /etc/cams.trust cannot be used: line "),
            "{err}"
        );
    }
}

#[test]
fn test_learning_writes_once_and_never_replaces() {
    let d = Dir::new("learn");
    let store = TrustStore::new(d.0.join("cams.trust"));
    assert_eq!(store.entries().unwrap(), Vec::new(), "no file yet: empty");
    let Learned::Added(first) = store
        .learn(
            "192.0.2.1:443",
            (fp(1), fp(2)),
            ("2026-12-06T00:00:00Z", None),
        )
        .unwrap()
    else {
        panic!("added");
    };
    assert_eq!(first.line, 2, "after the header comment");
    let again = store
        .learn(
            "192.0.2.1:443",
            (fp(9), fp(9)),
            ("2026-12-06T00:00:09Z", None),
        )
        .unwrap();
    assert_eq!(again, Learned::Existing(first.clone()));
    store
        .set_serial("192.0.2.1:443", &fp(9), "not this key's")
        .unwrap();
    store.set_serial("192.0.2.1:443", &fp(1), "SN 7%").unwrap();
    store
        .set_serial("192.0.2.1:443", &fp(1), "another")
        .unwrap();
    let e = store.lookup("192.0.2.1:443").unwrap().unwrap();
    assert_eq!((e.spki, e.serial.as_deref()), (fp(1), Some("SN 7%")));
    // Nothing left beside the store but its lock.
    let mut names: Vec<String> = std::fs::read_dir(&d.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cams.trust", "cams.trust.lock"]);
}

/// Elements of one process (threads, each with its own handle on the file, as two
/// processes have) learning at once: every entry lands, the file reads.
#[test]
fn test_writers_at_once_all_land() {
    let d = Dir::new("writers");
    let path = d.0.join("cams.trust");
    let threads: Vec<_> = (0..8u8)
        .map(|i| {
            let store = TrustStore::new(path.clone());
            std::thread::spawn(move || {
                store
                    .learn(
                        &format!("192.0.2.{i}:443"),
                        (fp(i), fp(i)),
                        ("2026-12-06T00:00:00Z", None),
                    )
                    .unwrap()
            })
        })
        .collect();
    for t in threads {
        assert!(matches!(t.join().unwrap(), Learned::Added(_)));
    }
    let entries = TrustStore::new(path).entries().unwrap();
    assert_eq!(entries.len(), 8);
}

/// A file that is no trust store (too big) is refused, not read into memory.
#[test]
fn test_a_huge_file_is_refused() {
    let d = Dir::new("huge");
    let path = d.0.join("cams.trust");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MAX_STORE + 1).unwrap();
    let err = TrustStore::new(path).entries().unwrap_err().0;
    assert!(err.contains("not a trust store"), "{err}");
}
