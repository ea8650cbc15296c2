// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Connections (TCP, and TLS with the element's checks) and an HTTP/1.1 keep-alive client
//! on top of them. Async, run on the plugin runtime; every exchange is bounded by the
//! `timeout` property.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Context, Error};
use crate::proto::http::{self, Framing, ResponseHead};
use crate::proto::onvif::addr::Origin;
use crate::transport::tls;

/// Size of each read from the socket or TLS stream.
const READ_CHUNK: usize = 64 * 1024;

/// A byte stream: plain TCP or TLS over TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Host part of an origin without IPv6 brackets.
pub fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Opens a connection to `origin`; TLS when `tls` is given. The certificate is checked
/// during the handshake, before anything else is written.
pub async fn connect(
    origin: &Origin,
    tls: Option<&Arc<tls::TlsConfig>>,
    timeout: Duration,
) -> Result<Box<dyn Stream>, Error> {
    let peer = origin.peer();
    let host = bare_host(&origin.host).to_string();
    let connecting = async {
        TcpStream::connect((host.as_str(), origin.port))
            .await
            .map_err(|e| Error::Connect {
                at: crate::error::At::here(),
                peer: peer.clone(),
                detail: e.to_string(),
                source: crate::error::Source::of(e),
            })
    };
    let tcp = Context::new(&peer, "TCP connect")
        .within(timeout, connecting)
        .await?;
    let _ = tcp.set_nodelay(true);
    let Some(config) = tls else {
        crate::log::info!("connected to {peer} (plain TCP)");
        return Ok(Box::new(tcp));
    };
    let name = ServerName::try_from(host.clone())
        .map_err(|e| Error::Settings(format!("{host:?} is not a valid host name for TLS: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(config.for_port(origin.port));
    let handshake = async {
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| match tls::refusal(&e) {
                Some(r) => Error::Certificate {
                    at: crate::error::At::here(),
                    peer: peer.clone(),
                    reason: r.reason,
                    fingerprint: r.fingerprint,
                    hint: r.hint,
                },
                None => Error::Tls {
                    at: crate::error::At::here(),
                    peer: peer.clone(),
                    detail: e.to_string(),
                    source: crate::error::Source::of(e),
                },
            })
    };
    let stream = Context::new(&peer, "TLS handshake")
        .within(timeout, handshake)
        .await?;
    let (_, conn) = stream.get_ref();
    config.record_handshake(origin.port, conn);
    crate::log::info!(
        "connected to {peer} ({:?}, {:?})",
        conn.protocol_version(),
        conn.negotiated_cipher_suite().map(|s| s.suite())
    );
    Ok(Box::new(stream))
}

/// A complete HTTP response.
#[derive(Debug)]
pub struct Response {
    pub head: ResponseHead,
    pub body: Vec<u8>,
}

/// Interim (1xx) answers skipped before an answer at most.
const MAX_INTERIM: u32 = 16;

/// One keep-alive HTTP/1.1 connection to an origin, reopened when the peer closes it.
pub struct HttpClient {
    pub origin: Origin,
    tls: Option<Arc<tls::TlsConfig>>,
    pub timeout: Duration,
    conn: Option<Box<dyn Stream>>,
    buf: Vec<u8>,
    /// Connections opened so far (TLS handshakes when over TLS).
    pub connects: u32,
    /// Requests sent so far.
    pub requests: u32,
    /// An exchange started and never finished: its request was cancelled (a dropped
    /// future), so the connection may still carry its answer and cannot be reused.
    in_flight: bool,
}

impl HttpClient {
    pub fn new(origin: Origin, tls: Option<Arc<tls::TlsConfig>>, timeout: Duration) -> Self {
        Self {
            origin,
            tls,
            timeout,
            conn: None,
            buf: Vec::new(),
            connects: 0,
            requests: 0,
            in_flight: false,
        }
    }

    /// Whether this client talks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// TLS with an authenticated peer (both checks on, or a pin): only then is HTTP
    /// Basic answered.
    pub fn basic_allowed(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| t.authenticates(bare_host(&self.origin.host), self.origin.port))
    }

    /// The TLS configuration, for other connections to the same origin (the tunnel).
    pub fn tls(&self) -> Option<&Arc<tls::TlsConfig>> {
        self.tls.as_ref()
    }

    /// Sends a request and reads the whole response, with a body of at most `body_limit`
    /// bytes. A reused connection that turns out closed is reopened once.
    pub async fn request(
        &mut self,
        operation: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        body_limit: u64,
    ) -> Result<Response, Error> {
        let bytes = http::build_request(method, target, &self.origin.host_header(), headers, body);
        if self.in_flight {
            self.conn = None;
        }
        self.in_flight = true;
        let timeout = self.timeout;
        let peer = self.origin.peer();
        let fut = async {
            for attempt in 0..2 {
                let reused = self.conn.is_some();
                if self.conn.is_none() {
                    self.conn = Some(connect(&self.origin, self.tls.as_ref(), timeout).await?);
                    self.connects += 1;
                    self.buf.clear();
                }
                self.requests += 1;
                match self.exchange(operation, &bytes, body_limit).await {
                    Ok(r) => return Ok(r),
                    Err(Exchange::Stale) if reused && attempt == 0 => {
                        self.conn = None;
                        continue;
                    }
                    Err(Exchange::Stale) => {
                        self.conn = None;
                        return Err(Context::new(&peer, operation)
                            .broken("the device closed the connection without answering"));
                    }
                    Err(Exchange::Failed(e)) => {
                        self.conn = None;
                        return Err(e);
                    }
                }
            }
            unreachable!("the loop returns on its second attempt")
        };
        let res = tokio::time::timeout(timeout, fut).await;
        self.in_flight = false;
        match res {
            Ok(r) => r,
            Err(_) => {
                self.conn = None;
                Err(Context::new(self.origin.peer(), operation).timed_out(timeout))
            }
        }
    }

    async fn read_more(&mut self) -> std::io::Result<usize> {
        let conn = self.conn.as_mut().expect("connected before reading");
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let res = conn.read(&mut self.buf[old..]).await;
        let n = *res.as_ref().unwrap_or(&0);
        self.buf.truncate(old + n);
        res
    }

    async fn exchange(
        &mut self,
        operation: &str,
        request: &[u8],
        body_limit: u64,
    ) -> Result<Response, Exchange> {
        let peer = self.origin.peer();
        let io_err = |e: std::io::Error| Exchange::Failed(Error::io(&peer, operation, e));
        let malformed = |detail: String| {
            Exchange::Failed(Context::new(&peer, operation).malformed(detail, None))
        };
        let conn = self.conn.as_mut().expect("connected before writing");
        if let Err(e) = conn.write_all(request).await {
            return Err(if is_closed(&e) {
                Exchange::Stale
            } else {
                io_err(e)
            });
        }
        conn.flush().await.map_err(io_err)?;

        // Interim answers (`100 Continue` sent unasked, `102 Processing`) come before the
        // answer: skipped, or every later answer on this connection would be off by one.
        let mut interim = 0u32;
        let head = loop {
            match http::parse_head(&self.buf).map_err(|e| malformed(e.to_string()))? {
                Some(h) if (100..200).contains(&h.status) && h.status != 101 => {
                    interim += 1;
                    if interim > MAX_INTERIM {
                        return Err(malformed(format!(
                            "more than {MAX_INTERIM} interim (1xx) answers before the answer"
                        )));
                    }
                    self.buf.drain(..h.len);
                }
                Some(h) => break h,
                None => {
                    let n = match self.read_more().await {
                        Ok(n) => n,
                        Err(e) if is_closed(&e) && self.buf.is_empty() => {
                            return Err(Exchange::Stale);
                        }
                        Err(e) => return Err(io_err(e)),
                    };
                    if n == 0 {
                        if self.buf.is_empty() {
                            return Err(Exchange::Stale);
                        }
                        return Err(malformed(
                            "connection closed inside the response head".into(),
                        ));
                    }
                }
            }
        };
        self.buf.drain(..head.len);
        let framing = head.framing().map_err(|e| malformed(e.to_string()))?;
        let body = match framing {
            Framing::Length(n) => {
                if n > body_limit {
                    return Err(malformed(format!(
                        "Content-Length {n} is larger than the limit of {body_limit} bytes"
                    )));
                }
                // n is bounded by body_limit.
                let n = n as usize;
                while self.buf.len() < n {
                    if self.read_more().await.map_err(io_err)? == 0 {
                        return Err(malformed(format!(
                            "connection closed after {} of {n} body bytes",
                            self.buf.len()
                        )));
                    }
                }
                self.buf.drain(..n).collect()
            }
            Framing::Chunked => {
                // Decoded as it comes: the raw buffer never holds more than a line.
                let mut decoder = http::ChunkedDecoder::new(body_limit);
                loop {
                    if decoder
                        .feed(&mut self.buf)
                        .map_err(|e| malformed(e.to_string()))?
                    {
                        break decoder.into_body();
                    }
                    if self.read_more().await.map_err(io_err)? == 0 {
                        return Err(malformed("connection closed inside a chunked body".into()));
                    }
                }
            }
            Framing::UntilClose => {
                loop {
                    if self.buf.len() as u64 > body_limit {
                        return Err(malformed(format!(
                            "body larger than the limit of {body_limit} bytes"
                        )));
                    }
                    if self.read_more().await.map_err(io_err)? == 0 {
                        break;
                    }
                }
                self.conn = None;
                std::mem::take(&mut self.buf)
            }
        };
        if !head.keep_alive() {
            self.conn = None;
        }
        Ok(Response { head, body })
    }
}

enum Exchange {
    /// The peer had closed the connection before answering (a stale keep-alive).
    Stale,
    Failed(Error),
}

fn is_closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof | NotConnected
    )
}
