// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The crate's one error type, and its one mapping to a `gst::ErrorMessage`.
//!
//! Every variant carries where the failure happened (the device's `host:port`, never a URL
//! with credentials), what was being done (the ONVIF operation or HTTP request), and what the
//! peer said (HTTP status, SOAP fault). The mapping to GStreamer error domains follows
//! spec §10.

use std::fmt;
use std::time::Duration;

use crate::proto::onvif::soap::Fault;

/// Where an error was raised: the `ErrorMessage` names this place. Any two are equal: two
/// errors are the same error wherever they were raised.
#[derive(Clone, Copy)]
pub struct At(pub &'static std::panic::Location<'static>);

impl At {
    /// The caller's place.
    #[track_caller]
    pub fn here() -> At {
        At(std::panic::Location::caller())
    }
}

impl PartialEq for At {
    fn eq(&self, _: &At) -> bool {
        true
    }
}

impl Eq for At {}

impl fmt::Debug for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0.file(), self.0.line())
    }
}

/// The lower-level error an error came from (what `std::error::Error::source` gives): the
/// OS error of a failed connect or read, rustls's error of a failed handshake. Any two are
/// equal, as for [`At`].
#[derive(Clone)]
pub struct Source(pub std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl Source {
    pub fn of(e: impl std::error::Error + Send + Sync + 'static) -> Option<Source> {
        Some(Source(std::sync::Arc::new(e)))
    }
}

impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

impl Eq for Source {}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Where in what the device sent a malformed answer goes wrong, to find it in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A byte of the answer's body (an XML document), counted from 0.
    BodyByte(u64),
    /// A byte of the RTSP stream (the tunnel's GET body, or the RTSP connection), counted
    /// from 0 at its first byte.
    StreamByte(u64),
    /// A line of the SDP, counted from 1.
    SdpLine(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::BodyByte(b) => write!(f, "at byte {b} of its body"),
            Position::StreamByte(b) => write!(f, "at byte {b} of the RTSP stream"),
            Position::SdpLine(l) => write!(f, "at line {l} of its SDP"),
        }
    }
}

/// What went wrong, with enough context to find it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The element's properties cannot work together (spec §3).
    Settings(String),
    /// The device's certificate was refused; nothing was sent to it.
    Certificate {
        at: At,
        peer: String,
        reason: String,
        fingerprint: String,
        /// What to do about it, when not the usual (a CA file or a pin).
        hint: Option<String>,
    },
    /// The TLS handshake failed for another reason than the certificate.
    Tls {
        at: At,
        peer: String,
        detail: String,
        /// What it came from.
        source: Option<Source>,
    },
    /// The TCP connection could not be made.
    Connect {
        at: At,
        peer: String,
        detail: String,
        /// What it came from.
        source: Option<Source>,
    },
    /// The device did not answer within the `timeout` property.
    TimedOut {
        at: At,
        peer: String,
        operation: String,
        after: Duration,
    },
    /// Reading from or writing to an established connection failed.
    Io {
        at: At,
        peer: String,
        operation: String,
        detail: String,
        /// What it came from.
        source: Option<Source>,
    },
    /// An HTTP status that is neither success nor an authentication challenge.
    HttpStatus {
        at: At,
        peer: String,
        operation: String,
        status: u16,
        reason: String,
    },
    /// The device refused the credentials (HTTP 401, or a `NotAuthorized` SOAP fault).
    NotAuthorized {
        at: At,
        peer: String,
        operation: String,
        detail: String,
    },
    /// The device wants credentials in a form this element refuses to send there (HTTP
    /// Basic to a peer that is not authenticated).
    CredentialsWithheld {
        at: At,
        peer: String,
        operation: String,
        reason: String,
    },
    /// A SOAP fault that is not about authentication.
    Fault {
        at: At,
        peer: String,
        operation: String,
        fault: Box<Fault>,
    },
    /// A profile, recording or stream the user asked for does not exist.
    NotFound { at: At, peer: String, what: String },
    /// The device sent something that cannot be parsed.
    Malformed {
        at: At,
        peer: String,
        operation: String,
        detail: String,
        /// Where in the answer, when the parser knows.
        position: Option<Position>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Settings(msg) => write!(f, "{msg}"),
            Error::Certificate {
                peer,
                reason,
                fingerprint,
                hint: None,
                ..
            } => write!(
                f,
                "The certificate of {peer} was refused: {reason}. Its SHA-256 fingerprint is \
                 {fingerprint}. Nothing was sent to the device. To trust it, give its CA in \
                 tls-ca-file, or pin it with tls-certificate-sha256={fingerprint}"
            ),
            Error::Certificate {
                peer,
                reason,
                fingerprint,
                hint: Some(hint),
                ..
            } => write!(
                f,
                "The certificate of {peer} was refused: {reason}. Its SHA-256 fingerprint is \
                 {fingerprint}. Nothing was sent to the device. {hint}"
            ),
            Error::Tls { peer, detail, .. } => {
                write!(f, "TLS handshake with {peer} failed: {detail}")
            }
            Error::Connect { peer, detail, .. } => {
                write!(f, "Could not connect to {peer}: {detail}")
            }
            Error::TimedOut {
                peer,
                operation,
                after,
                ..
            } => write!(
                f,
                "{peer} did not answer {operation} within {} s (timeout property)",
                after.as_secs_f32()
            ),
            Error::Io {
                peer,
                operation,
                detail,
                ..
            } => write!(
                f,
                "Connection to {peer} failed during {operation}: {detail}"
            ),
            Error::HttpStatus {
                peer,
                operation,
                status,
                reason,
                ..
            } => write!(f, "{peer} answered {operation} with HTTP {status} {reason}"),
            Error::NotAuthorized {
                peer,
                operation,
                detail,
                ..
            } => write!(
                f,
                "{peer} refused the credentials for {operation} ({detail}): check user-id and \
                 user-pw"
            ),
            Error::CredentialsWithheld {
                peer,
                operation,
                reason,
                ..
            } => write!(f, "{peer} wants credentials for {operation}: {reason}"),
            Error::Fault {
                peer,
                operation,
                fault,
                ..
            } => write!(f, "{peer} answered {operation} with a SOAP fault: {fault}"),
            Error::NotFound { peer, what, .. } => write!(f, "{peer}: {what}"),
            Error::Malformed {
                peer,
                operation,
                detail,
                position,
                ..
            } => {
                write!(f, "{peer} sent a malformed answer to {operation}")?;
                if let Some(p) = position {
                    write!(f, " {p}")?;
                }
                write!(f, ": {detail}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tls {
                source: Some(s), ..
            }
            | Error::Connect {
                source: Some(s), ..
            }
            | Error::Io {
                source: Some(s), ..
            } => Some(&*s.0),
            _ => None,
        }
    }
}

/// What a failed read or write says to a user: a peer gone without closing TLS is "closed",
/// not rustls's guide to truncation attacks.
pub fn io_detail(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            "the device closed the connection (without a TLS close_notify)".into()
        }
        std::io::ErrorKind::ConnectionReset => "the device reset the connection".into(),
        std::io::ErrorKind::BrokenPipe => "the device closed the connection".into(),
        _ => e.to_string(),
    }
}

/// Who and what an error is about: the peer (`host:port`) and the operation. Its
/// constructors are `#[track_caller]`, so an error is one line at the place that raised
/// it (retina's `ConnectionContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub peer: String,
    pub operation: String,
}

impl Context {
    pub fn new(peer: impl Into<String>, operation: impl Into<String>) -> Context {
        Context {
            peer: peer.into(),
            operation: operation.into(),
        }
    }

    /// A read or write failed ([`Error::io`]).
    #[track_caller]
    pub fn io(&self, e: std::io::Error) -> Error {
        Error::io(&self.peer, &self.operation, e)
    }

    /// The connection broke in a way no `io::Error` says (closed, stalled).
    #[track_caller]
    pub fn broken(&self, detail: impl Into<String>) -> Error {
        Error::Io {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            detail: detail.into(),
            source: None,
        }
    }

    /// No answer within `after`.
    #[track_caller]
    pub fn timed_out(&self, after: Duration) -> Error {
        Error::TimedOut {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            after,
        }
    }

    /// An answer that cannot be read.
    #[track_caller]
    pub fn malformed(&self, detail: impl Into<String>, position: Option<Position>) -> Error {
        Error::Malformed {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            detail: detail.into(),
            position,
        }
    }

    /// The device refused the credentials (or asked for some none were set for).
    #[track_caller]
    pub fn not_authorized(&self, detail: impl Into<String>) -> Error {
        Error::NotAuthorized {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            detail: detail.into(),
        }
    }

    /// A challenge the exchange does not answer, for `reason`.
    #[track_caller]
    pub fn withheld(&self, reason: impl Into<String>) -> Error {
        Error::CredentialsWithheld {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            reason: reason.into(),
        }
    }

    /// An HTTP or RTSP status that is neither success nor a challenge.
    #[track_caller]
    pub fn status(&self, status: u16, reason: impl Into<String>) -> Error {
        Error::HttpStatus {
            at: At::here(),
            peer: self.peer.clone(),
            operation: self.operation.clone(),
            status,
            reason: reason.into(),
        }
    }

    /// `work` within `limit`, else [`Error::TimedOut`] raised where this is called: the one
    /// way an exchange's wait becomes an error.
    #[track_caller]
    pub fn within<'a, T>(
        &'a self,
        limit: Duration,
        work: impl std::future::Future<Output = Result<T, Error>> + 'a,
    ) -> impl std::future::Future<Output = Result<T, Error>> + 'a {
        let at = At::here();
        async move {
            match tokio::time::timeout(limit, work).await {
                Ok(r) => r,
                Err(_) => Err(Error::TimedOut {
                    at,
                    peer: self.peer.clone(),
                    operation: self.operation.clone(),
                    after: limit,
                }),
            }
        }
    }
}

impl Error {
    /// A read or write on an established connection failed: every such error is built
    /// here, so that its detail reads the same whichever exchange it broke.
    #[track_caller]
    pub fn io(peer: &str, operation: &str, e: std::io::Error) -> Error {
        // A failure the I/O layer only carried (a certificate refused on a reopened
        // tunnel leg) keeps what it is: a refusal stays final.
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
            return inner.clone();
        }
        Error::Io {
            at: At::here(),
            peer: peer.to_string(),
            operation: operation.to_string(),
            detail: io_detail(&e),
            source: Source::of(e),
        }
    }

    /// A loss the network or a rebooting device explains, after which starting again can
    /// work (spec §9): connections refused, reset, closed or silent, TLS broken off, a
    /// server error status. Not: settings, certificates, credentials, faults, missing
    /// profiles or garbage, which another attempt would only repeat.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::TimedOut { .. }
            | Error::Io { .. }
            | Error::Tls { .. } => true,
            Error::HttpStatus { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The GStreamer error domain and code of spec §10.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Error::Settings(_) => ErrorKind::Resource(gst::ResourceError::Settings),
            Error::Certificate { .. } | Error::Tls { .. } | Error::Connect { .. } => {
                ErrorKind::Resource(gst::ResourceError::OpenRead)
            }
            Error::TimedOut { .. } | Error::Io { .. } => {
                ErrorKind::Resource(gst::ResourceError::Read)
            }
            Error::HttpStatus { status, .. } => match status {
                401 | 403 | 407 => ErrorKind::Resource(gst::ResourceError::NotAuthorized),
                404 | 454 => ErrorKind::Resource(gst::ResourceError::NotFound),
                _ => ErrorKind::Resource(gst::ResourceError::OpenRead),
            },
            Error::NotAuthorized { .. } | Error::CredentialsWithheld { .. } => {
                ErrorKind::Resource(gst::ResourceError::NotAuthorized)
            }
            Error::Fault { fault, .. } if fault.is_not_found() => {
                ErrorKind::Resource(gst::ResourceError::NotFound)
            }
            Error::Fault { .. } => ErrorKind::Resource(gst::ResourceError::OpenRead),
            Error::NotFound { .. } => ErrorKind::Resource(gst::ResourceError::NotFound),
            Error::Malformed { .. } => ErrorKind::Stream(gst::StreamError::Decode),
        }
    }

    /// A warning message with this error's domain and code, for failures that do not end
    /// the stream (an action signal that failed).
    pub fn warning_message(&self, src: &gst::Object, context: &str) -> gst::Message {
        let text = format!("{context}: {self}");
        let debug = format!("{self:?}");
        match self.kind() {
            ErrorKind::Resource(code) => gst::message::Warning::builder(code, &text)
                .debug(&debug)
                .src(src)
                .build(),
            ErrorKind::Stream(code) => gst::message::Warning::builder(code, &text)
                .debug(&debug)
                .src(src)
                .build(),
        }
    }

    /// Where the error was raised (`None` for a setting, raised where it is checked).
    pub fn raised_at(&self) -> Option<At> {
        match self {
            Error::Settings(_) => None,
            Error::Certificate { at, .. }
            | Error::Tls { at, .. }
            | Error::Connect { at, .. }
            | Error::TimedOut { at, .. }
            | Error::Io { at, .. }
            | Error::HttpStatus { at, .. }
            | Error::NotAuthorized { at, .. }
            | Error::CredentialsWithheld { at, .. }
            | Error::Fault { at, .. }
            | Error::NotFound { at, .. }
            | Error::Malformed { at, .. } => Some(*at),
        }
    }

    /// Turns the error into the message the element posts. The text is the user-facing
    /// explanation; the debug string repeats it with the variant for `gst-launch -v`. The
    /// message records the place that raised the error (a setting: the caller's place, the
    /// check that refused it), not this file's.
    #[track_caller]
    pub fn to_error_message(&self) -> gst::ErrorMessage {
        let text = printable(&self.to_string()).into_owned();
        let debug = format!("{self:?}");
        let caller = std::panic::Location::caller();
        let at = self.raised_at().map_or(caller, |a| a.0);
        match self.kind() {
            ErrorKind::Resource(code) => gst::ErrorMessage::new(
                &code,
                Some(&text),
                Some(&debug),
                at.file(),
                "onvifhttpssrc",
                at.line(),
            ),
            ErrorKind::Stream(code) => gst::ErrorMessage::new(
                &code,
                Some(&text),
                Some(&debug),
                at.file(),
                "onvifhttpssrc",
                at.line(),
            ),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Resource(gst::ResourceError),
    Stream(gst::StreamError),
}

/// `s` with every control character but tab and line breaks replaced by U+FFFD, for text
/// from the network on its way into GLib (error and warning texts, structures, caps): a NUL
/// byte panicked in debug builds (glib's string conversion) and cut the text short in
/// release ones.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// Formats a URL for logs and error texts: scheme, host, port, path and query, never the
/// user-info part (`user:password@`).
pub fn sanitize_url(url: &url::Url) -> String {
    let mut clean = url.clone();
    // Both setters only fail for URLs that cannot have credentials at all.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait that runs out is `TimedOut`, raised where `within` was called (not in
    /// error.rs's own helper), with the context's peer and operation.
    #[test]
    fn test_within_times_out_at_the_caller() {
        let ctx = Context::new("cam:443", "RTSP DESCRIBE");
        let limit = Duration::from_millis(1);
        let line = line!() + 1;
        let waiting = ctx.within(limit, std::future::pending::<Result<(), Error>>());
        let r = crate::runtime::RUNTIME.block_on(waiting);
        match r {
            Err(Error::TimedOut {
                at,
                peer,
                operation,
                after,
            }) => {
                assert_eq!((at.0.file(), at.0.line()), (file!(), line));
                assert_eq!(
                    (peer.as_str(), operation.as_str()),
                    ("cam:443", "RTSP DESCRIBE")
                );
                assert_eq!(after, limit);
            }
            other => panic!("{other:?}"),
        }
        let done = crate::runtime::RUNTIME.block_on(ctx.within(limit, async { Ok(7) }));
        assert_eq!(done, Ok(7));
    }

    #[test]
    fn test_io_detail_says_closed() {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify: https://docs.rs/...",
        );
        assert_eq!(
            io_detail(&eof),
            "the device closed the connection (without a TLS close_notify)"
        );
        let other = std::io::Error::other("boom");
        assert_eq!(io_detail(&other), "boom");
    }

    #[test]
    fn test_sanitize_url_drops_credentials() {
        let url = url::Url::parse("https://admin:s3cr%3Ct@192.0.2.10:8443/onvif?x=1").unwrap();
        let clean = sanitize_url(&url);
        assert_eq!(clean, "https://192.0.2.10:8443/onvif?x=1");
        assert!(
            !clean.contains("s3cr"),
            "password must not survive: {clean}"
        );
    }

    /// Issue 13 point 5: an I/O error keeps what it came from, and where it was raised.
    #[test]
    fn test_an_io_error_keeps_its_source_and_place() {
        use std::error::Error as _;
        let e = Error::io(
            "127.0.0.1:1",
            "RTSP PLAY",
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        );
        let source = e.source().expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error itself");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
        let at = e.raised_at().expect("a place");
        assert_eq!(at.0.file(), file!());
        let debug = format!("{e:?}");
        assert!(
            debug.contains("ConnectionReset"),
            "the debug text shows it: {debug}"
        );
        // Errors still compare by what they say, not where or from what.
        let again = Error::io(
            "127.0.0.1:1",
            "RTSP PLAY",
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        );
        assert_eq!(e, again);
        assert!(Error::Settings("x".into()).source().is_none());
    }

    #[test]
    fn test_domains_follow_spec_section_10() {
        let peer = || "127.0.0.1:1".to_string();
        let op = || "GetProfiles".to_string();
        use gst::{ResourceError as R, StreamError as S};
        let cases = [
            (
                Error::Settings("x".into()),
                ErrorKind::Resource(R::Settings),
            ),
            (
                Error::NotAuthorized {
                    at: crate::error::At::here(),
                    peer: peer(),
                    operation: op(),
                    detail: "401".into(),
                },
                ErrorKind::Resource(R::NotAuthorized),
            ),
            (
                Error::TimedOut {
                    at: crate::error::At::here(),
                    peer: peer(),
                    operation: op(),
                    after: Duration::from_secs(1),
                },
                ErrorKind::Resource(R::Read),
            ),
            (
                Error::Certificate {
                    at: crate::error::At::here(),
                    peer: peer(),
                    reason: "x".into(),
                    fingerprint: "AA".into(),
                    hint: None,
                },
                ErrorKind::Resource(R::OpenRead),
            ),
            (
                Error::Fault {
                    at: crate::error::At::here(),
                    peer: peer(),
                    operation: op(),
                    fault: Box::new(Fault {
                        code: "s:Sender".into(),
                        subcodes: vec!["ter:InvalidArgVal".into(), "ter:NoProfile".into()],
                        reason: String::new(),
                    }),
                },
                ErrorKind::Resource(R::NotFound),
            ),
            (
                Error::Malformed {
                    at: crate::error::At::here(),
                    peer: peer(),
                    operation: op(),
                    detail: "x".into(),
                    position: None,
                },
                ErrorKind::Stream(S::Decode),
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}
