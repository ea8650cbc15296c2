// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! An RTSP connection's bytes, however they travel: the one trait the RTSP driver
//! (`client::rtsp`) reads from and writes to. RTSP tunnelled over HTTP(S)
//! ([`super::tunnel::Tunnel`]) and RTSP over TCP or TLS ([`Tcp`], [`open_tcp`],
//! [`open_tls`]) are its implementations; a new transport (RTSP over WebSocket) is one
//! more. RTP over UDP is not a channel: its
//! port pairs are a packet source beside it (`session::udp`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::error::Error;
use crate::proto::onvif::addr::Origin;
use crate::transport::net;

/// What a channel is, for errors, logs and the authorization rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    /// `host:port` of the connection.
    pub peer: String,
    /// Inside TLS: whether the peer's certificate was checked; `None` in clear.
    pub tls: Option<bool>,
    /// Requests travel where a server may read interleaved RTCP reports into them (a
    /// tunnel's POST: live555 does).
    pub requests_meet_reports: bool,
}

/// Boxed future of a write.
pub type Sending<'a> = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send + 'a>>;

/// Both directions of one RTSP connection: the server's bytes are read from it
/// (`AsyncRead`), the client's messages written with [`Channel::send`].
pub trait Channel: AsyncRead + Unpin + Send {
    /// Writes one RTSP message or interleaved frame in one go.
    fn send<'a>(&'a mut self, msg: &'a [u8]) -> Sending<'a>;
    /// Bytes of the server's stream already read while the channel opened (past the
    /// tunnel GET's answer head); each call takes them.
    fn take_initial(&mut self) -> Vec<u8>;
    /// What the channel is.
    fn about(&self) -> &About;
    /// How often the channel opened its sending leg again (a tunnel's POST).
    fn reopened(&self) -> u32 {
        0
    }
}

/// RTSP over one TCP connection (or any pair of byte streams): requests as they are.
pub struct Tcp {
    r: Box<dyn AsyncRead + Unpin + Send>,
    w: Box<dyn AsyncWrite + Unpin + Send>,
    about: About,
}

impl Tcp {
    /// A channel over a receiving and a sending byte stream, in clear.
    pub fn new(
        r: Box<dyn AsyncRead + Unpin + Send>,
        w: Box<dyn AsyncWrite + Unpin + Send>,
        peer: String,
    ) -> Self {
        Tcp {
            r,
            w,
            about: About {
                peer,
                tls: None,
                requests_meet_reports: false,
            },
        }
    }
}

impl AsyncRead for Tcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.r).poll_read(cx, buf)
    }
}

impl Channel for Tcp {
    fn send<'a>(&'a mut self, msg: &'a [u8]) -> Sending<'a> {
        Box::pin(async move {
            self.w.write_all(msg).await?;
            self.w.flush().await
        })
    }

    fn take_initial(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn about(&self) -> &About {
        &self.about
    }
}

/// A plain RTSP connection (RTP interleaved over TCP): one socket for both directions.
pub async fn open_tcp(origin: &Origin, timeout: Duration) -> Result<Tcp, Error> {
    let stream = net::connect(origin, None, timeout).await?;
    let (r, w) = tokio::io::split(stream);
    Ok(Tcp::new(Box::new(r), Box::new(w), origin.peer()))
}

/// An RTSPS connection (RTSP over TLS, RTP interleaved inside it), with the checks of
/// every other connection of the element; the peer counts as authenticated as `tls` says
/// (both checks on, or a pin), which decides how far authorization may go.
pub async fn open_tls(
    origin: &Origin,
    tls: &std::sync::Arc<crate::transport::tls::TlsConfig>,
    timeout: Duration,
) -> Result<Tcp, Error> {
    let stream = net::connect(origin, Some(tls), timeout).await?;
    let (r, w) = tokio::io::split(stream);
    let mut channel = Tcp::new(Box::new(r), Box::new(w), origin.peer());
    channel.about.tls =
        Some(tls.authenticates(crate::transport::net::bare_host(&origin.host), origin.port));
    Ok(channel)
}
