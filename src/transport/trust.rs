// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The trust store (`tls-trust-store`, issue 26 point 1): one file shared by every element
//! of a process and by processes, like SSH's `known_hosts`, with one line per `host:port`
//! (a camera's HTTPS and RTSPS ports may present different certificates):
//!
//! ```text
//! # onvifhttpssrc trust store
//! 192.0.2.10:443 spki-sha256=AB:...:EF cert-sha256=01:...:89 added=2026-12-06T00:05:00Z serial=ACME%2042
//! ```
//!
//! The SHA-256 of the certificate's public key (its SubjectPublicKeyInfo: a self-signed
//! certificate issued again with the same key keeps it) decides; the certificate's own
//! SHA-256 is there to be shown (it is what `tls-certificate-sha256` pins). Writes are
//! atomic (a temporary file renamed over the store) under an advisory lock on
//! `PATH.lock`, the store read again under the lock before it is written: two elements, or
//! two processes, learning at once both land. A line that cannot be read is an error naming
//! it, never a silent trust; an entry is never replaced by the element.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::transport::tls::{format_fingerprint, parse_fingerprint};

/// How long a writer waits for another's lock on the store.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The largest store read (about 40,000 cameras' lines): a file bigger than that is not a
/// trust store.
const MAX_STORE: u64 = 8 * 1024 * 1024;

/// One `host:port` the store trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `host:port` (`[v6]:port` for an IPv6 address).
    pub key: String,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo.
    pub spki: [u8; 32],
    /// SHA-256 of the certificate.
    pub cert: [u8; 32],
    /// When it was learned (RFC 3339, UTC).
    pub added: String,
    /// The device's serial number (GetDeviceInformation), when known.
    pub serial: Option<String>,
    /// Its line in the file (1-based).
    pub line: usize,
}

impl Entry {
    /// The line as the file has it.
    pub fn to_line(&self) -> String {
        let serial = match self.serial.as_deref() {
            None => "-".to_string(),
            // `-` alone means none.
            Some("-") => "%2D".to_string(),
            Some(s) => percent_encoding::utf8_percent_encode(s, SERIAL_SET).to_string(),
        };
        format!(
            "{} spki-sha256={} cert-sha256={} added={} serial={serial}",
            self.key,
            format_fingerprint(&self.spki),
            format_fingerprint(&self.cert),
            self.added
        )
    }
}

/// What a serial number may not carry as it is: white space, `%`, control characters.
const SERIAL_SET: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'%').add(b'\t');

/// The `host:port` of an entry: an IP address as the system writes it (an IPv6 one in
/// brackets), a name in lower case without a trailing dot.
pub fn key(host: &str, port: u16) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        Ok(ip) => format!("{ip}:{port}"),
        Err(_) => format!("{}:{port}", host.trim_end_matches('.').to_ascii_lowercase()),
    }
}

/// The host part of a key, as [`key`] writes it.
pub fn host_of(key: &str) -> &str {
    key.rsplit_once(':').map_or(key, |(h, _)| h)
}

/// The host part of the keys of `host`, whatever the port.
pub fn host_key(host: &str) -> String {
    host_of(&key(host, 1)).to_string()
}

/// The longest serial number kept (printable characters only): a device's answer is not
/// to grow the store without bound.
pub const MAX_SERIAL: usize = 64;

/// The fingerprints of a certificate (DER): its public key's (SPKI) and its own.
pub fn fingerprints(cert_der: &[u8]) -> Result<([u8; 32], [u8; 32]), String> {
    let cert = rustls::pki_types::CertificateDer::from(cert_der);
    let parsed = webpki::EndEntityCert::try_from(&cert)
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    let spki = parsed.subject_public_key_info();
    Ok((
        Sha256::digest(spki.as_ref()).into(),
        Sha256::digest(cert_der).into(),
    ))
}

/// Why a store cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The entries of a store's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, StoreError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            StoreError(format!(
                "the trust store {} cannot be used: line {line} {why} (a line is `host:port \
                 spki-sha256=... cert-sha256=... added=... serial=...`; fix or delete it)",
                path.display()
            ))
        };
        let mut words = t.split_whitespace();
        let host_port = words.next().unwrap_or_default();
        let Some(key) = key_of(host_port) else {
            return Err(bad("does not begin with host:port"));
        };
        let (mut spki, mut cert, mut added, mut serial) = (None, None, None, None);
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                return Err(bad(&format!("has {w:?}, not name=value")));
            };
            match k {
                "spki-sha256" => {
                    spki = Some(parse_fingerprint(v).ok_or_else(|| bad("has a bad spki-sha256"))?)
                }
                "cert-sha256" => {
                    cert = Some(parse_fingerprint(v).ok_or_else(|| bad("has a bad cert-sha256"))?)
                }
                "added" => added = Some(v.to_string()),
                "serial" if v == "-" => {}
                "serial" => {
                    serial = Some(
                        percent_encoding::percent_decode_str(v)
                            .decode_utf8()
                            .map_err(|_| bad("has a serial that is not UTF-8"))?
                            .into_owned(),
                    )
                }
                // A later version's field: kept out of the decision.
                _ => {}
            }
        }
        let (Some(spki), Some(cert)) = (spki, cert) else {
            return Err(bad("lacks spki-sha256 or cert-sha256"));
        };
        if let Some(first) = seen.get(&key) {
            return Err(bad(&format!(
                "names {key} again (line {first} does already)"
            )));
        }
        seen.insert(key.clone(), line);
        entries.push(Entry {
            key,
            spki,
            cert,
            added: added.unwrap_or_default(),
            serial,
            line,
        });
    }
    Ok(entries)
}

/// A `host:port` as written, in [`key`]'s form; `None` without a host or a port.
fn key_of(host_port: &str) -> Option<String> {
    let (h, p) = host_port.rsplit_once(':')?;
    let port = p.parse::<u16>().ok().filter(|p| *p > 0)?;
    let bare = h.trim_start_matches('[').trim_end_matches(']');
    (!bare.is_empty()).then(|| key(bare, port))
}

/// What learning a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    /// Written as this line.
    Added(Entry),
    /// Another element or process wrote an entry for it first: this one decides.
    Existing(Entry),
}

/// A trust store file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    pub path: PathBuf,
}

impl TrustStore {
    /// The store at `path`; a symbolic link is followed once here, so that every writer
    /// replaces (and locks) the same file.
    pub fn new(path: impl Into<PathBuf>) -> TrustStore {
        let path = path.into();
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        TrustStore { path }
    }

    /// Why the store cannot be used at all: its directory missing, or its path not a
    /// file.
    pub fn check(&self) -> Result<(), StoreError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(StoreError(format!(
                "the trust store {} cannot be used: its directory {} does not exist",
                self.path.display(),
                dir.display()
            )));
        }
        if self.path.exists() && !self.path.is_file() {
            return Err(StoreError(format!(
                "the trust store {} cannot be used: it is not a file",
                self.path.display()
            )));
        }
        self.entries().map(|_| ())
    }

    /// Every entry; a store that does not exist yet has none.
    pub fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        // Read at each handshake the checks refuse: parsed once per version of the file.
        static CACHE: std::sync::LazyLock<std::sync::Mutex<Parsed>> =
            std::sync::LazyLock::new(Default::default);
        let stamp = stamp(&self.path);
        if let Some(stamp) = &stamp
            && let Some((s, entries)) = CACHE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&self.path)
            && s == stamp
        {
            return Ok(entries.clone());
        }
        let entries = self.read()?;
        if let Some(stamp) = stamp {
            let mut cache = CACHE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // A process watches a handful of stores at most.
            if cache.len() >= 16 {
                cache.clear();
            }
            cache.insert(self.path.clone(), (stamp, entries.clone()));
        }
        Ok(entries)
    }

    fn read(&self) -> Result<Vec<Entry>, StoreError> {
        if self.path.exists() && !self.path.is_file() {
            return Err(StoreError(format!(
                "the trust store {} cannot be read: it is not a file",
                self.path.display()
            )));
        }
        let text = match read_bounded(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StoreError(format!(
                    "the trust store {} cannot be read: {e}",
                    self.path.display()
                )));
            }
        };
        parse(&text, &self.path)
    }

    /// The entry of `key`.
    pub fn lookup(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self.entries()?.into_iter().find(|e| e.key == key))
    }

    /// Records `key`'s fingerprints, unless an entry for it is there by now (read again
    /// under the lock): that one is returned, untouched.
    pub fn learn(
        &self,
        key: &str,
        (spki, cert): ([u8; 32], [u8; 32]),
        (added, serial): (&str, Option<&str>),
    ) -> Result<Learned, StoreError> {
        let _lock = self.lock()?;
        let text = match read_bounded(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                "# onvifhttpssrc trust store: host:port, the SHA-256 of the certificate's \
                 public key and of the certificate, when it was added, the device's serial\n"
                    .to_string()
            }
            Err(e) => return Err(self.io("read", &e)),
        };
        let entries = parse(&text, &self.path)?;
        if let Some(e) = entries.into_iter().find(|e| e.key == key) {
            return Ok(Learned::Existing(e));
        }
        let mut text = text;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let line = text.lines().count() + 1;
        let entry = Entry {
            key: key.to_string(),
            spki,
            cert,
            added: added.to_string(),
            serial: serial.map(str::to_string),
            line,
        };
        text.push_str(&entry.to_line());
        text.push('\n');
        self.replace(&text)?;
        Ok(Learned::Added(entry))
    }

    /// Fills in the serial of `key`'s entry when it has none and its public key is
    /// `spki` (it is learned in the TLS handshake, before any request).
    pub fn set_serial(&self, key: &str, spki: &[u8; 32], serial: &str) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let text = read_bounded(&self.path).map_err(|e| self.io("read", &e))?;
        let entries = parse(&text, &self.path)?;
        let Some(e) = entries
            .into_iter()
            .find(|e| e.key == key && e.serial.is_none() && e.spki == *spki)
        else {
            return Ok(());
        };
        let with = Entry {
            serial: Some(serial.to_string()),
            ..e.clone()
        };
        let out: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i + 1 == e.line {
                    with.to_line()
                } else {
                    l.to_string()
                }
            })
            .collect();
        self.replace(&(out.join("\n") + "\n"))
    }

    /// Writes `text` as the store: a new temporary file beside it (the store's mode, 0644
    /// for a new store), flushed, renamed over it, the directory flushed.
    fn replace(&self, text: &str) -> Result<(), StoreError> {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        if text.len() as u64 > MAX_STORE {
            return Err(StoreError(format!(
                "the trust store {} would grow over {} MiB: not written",
                self.path.display(),
                MAX_STORE / 1024 / 1024
            )));
        }
        let mode = std::fs::metadata(&self.path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(
            ".{name}.{}.{:08x}.tmp",
            std::process::id(),
            u32::from_be_bytes(crate::proto::auth::random::<4>())
        ));
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            std::fs::File::open(dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io("write", &e));
        }
        Ok(())
    }

    /// The advisory lock of `PATH.lock` (the store itself is replaced by a rename, so
    /// its own lock would not hold), waited for [`LOCK_WAIT`] at most.
    fn lock(&self) -> Result<Locked, StoreError> {
        // The writers of this process one at a time (flock also excludes them, but a
        // wait here is only for another process).
        static WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let guard = WRITERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)
            .map_err(|e| self.io("lock", &e))?;
        let until = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match f.try_lock() {
                Ok(()) => {
                    return Ok(Locked {
                        _file: f,
                        _writers: guard,
                    });
                }
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError(format!(
                        "the trust store {} stayed locked by another writer for {} s \
                         ({}.lock)",
                        self.path.display(),
                        LOCK_WAIT.as_secs(),
                        self.path.display()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(self.io("lock", &e)),
            }
        }
    }

    fn io(&self, what: &str, e: &std::io::Error) -> StoreError {
        StoreError(format!(
            "the trust store {} cannot be {}: {e}",
            self.path.display(),
            match what {
                "read" => "read",
                "write" => "written",
                _ => "locked",
            }
        ))
    }
}

/// The store's lock: the file locked, and this process's writers held.
struct Locked {
    _file: std::fs::File,
    _writers: std::sync::MutexGuard<'static, ()>,
}

/// The stores parsed, by path, with the version of each.
type Parsed = HashMap<PathBuf, (Stamp, Vec<Entry>)>;

/// What tells one version of the store from another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        inode: m.ino(),
        len: m.len(),
        modified: m.modified().ok(),
    })
}

/// The store's text, [`MAX_STORE`] bytes at most.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path)?;
    let mut text = String::new();
    let n = f.take(MAX_STORE + 1).read_to_string(&mut text)?;
    if n as u64 > MAX_STORE {
        return Err(std::io::Error::other(format!(
            "over {} MiB: not a trust store",
            MAX_STORE / 1024 / 1024
        )));
    }
    Ok(text)
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
