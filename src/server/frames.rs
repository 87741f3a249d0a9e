//! The connection loop with a configurable maximum message size.
//!
//! pgwire's own `process_socket` accepts frontend messages up to ~1 GiB, and a client that
//! announces such a message makes the server buffer it. [`serve`] runs the same loop (TLS
//! negotiation and the message dispatch are pgwire's public functions) over a stream that reads
//! every frame header as it passes and refuses a frame longer than `server.max_message_bytes`
//! before its body is buffered: the client gets a FATAL 54000 and the connection is closed, as
//! PostgreSQL closes one on an invalid message length.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pgwire::api::{ClientInfo, PgWireConnectionState, PgWireServerHandlers};
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

/// How long a client may take from connecting to finishing authentication (pgwire's value).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves one connection until the client leaves, like `pgwire::tokio::process_socket`, with
/// frontend messages limited to `max_message_bytes`.
pub async fn serve<H: PgWireServerHandlers>(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: Arc<H>,
    max_message_bytes: usize,
) -> io::Result<()> {
    let startup_deadline = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(startup_deadline);
    let negotiated = tokio::select! {
        _ = &mut startup_deadline => return Ok(()),
        negotiated = negotiate_tls(socket, tls) => negotiated?,
    };
    let Some(negotiated) = negotiated else {
        return Ok(());
    };
    let old = negotiated.into_parts();
    let mut limited = FrameLimit::new(old.io, max_message_bytes);
    if let Err(e) = limited.observe(&old.read_buf) {
        tracing::warn!(error = %e, "message refused");
        return Ok(());
    }
    let mut parts = FramedParts::new(limited, old.codec);
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket = Framed::from_parts(parts);

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    loop {
        let next = if matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        ) {
            tokio::select! {
                _ = &mut startup_deadline => None,
                next = socket.next() => next,
            }
        } else {
            socket.next().await
        };
        let message = match next {
            Some(Ok(PgWireFrontendMessage::Terminate(_))) | None => break,
            Some(Ok(message)) => message,
            Some(Err(PgWireError::IoError(e))) => {
                if let Some(too_large) = e.get_ref().and_then(|e| e.downcast_ref::<TooLarge>()) {
                    tracing::warn!(peer = %socket.socket_addr(), error = %too_large, "message refused");
                    let info =
                        ErrorInfo::new("FATAL".into(), "54000".into(), too_large.to_string());
                    let _ = socket
                        .send(PgWireBackendMessage::ErrorResponse(info.into()))
                        .await;
                }
                break;
            }
            Some(Err(_)) => break,
        };
        let extended_protocol = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => message.is_extended_query(),
        };
        if let Err(e) = process_message(
            message,
            &mut socket,
            startup.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await
        {
            process_error(&mut socket, e, extended_protocol).await?;
        }
    }
    Ok(())
}

/// A frame longer than the limit; the io error's payload, so [`serve`] can tell it apart.
#[derive(Debug)]
struct TooLarge {
    length: usize,
    limit: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "message of {} bytes exceeds the server's limit of {} bytes (server.max_message_size)",
            self.length, self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

/// Where the reader is in the frame stream.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// Reading a header: `have` of its bytes seen so far.
    Header { have: usize },
    /// Inside a frame body with this many bytes still to pass.
    Body { remaining: usize },
}

/// A stream that follows frame boundaries as bytes are read and fails the read that brings a
/// header announcing more than `limit` bytes. The first frame (the startup message, after any
/// SSL negotiation) has no type byte; every later frame has one.
pub struct FrameLimit<S> {
    inner: S,
    limit: usize,
    typed: bool,
    header: [u8; 5],
    position: Position,
}

impl<S> FrameLimit<S> {
    /// Follows frames from the start of the startup message.
    pub fn new(inner: S, limit: usize) -> Self {
        Self {
            inner,
            limit,
            typed: false,
            header: [0; 5],
            position: Position::Header { have: 0 },
        }
    }

    /// Advances over bytes the client sent, failing on a frame over the limit.
    fn observe(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.position {
                Position::Body { remaining } => {
                    let step = remaining.min(bytes.len());
                    bytes = &bytes[step..];
                    self.position = if remaining == step {
                        Position::Header { have: 0 }
                    } else {
                        Position::Body {
                            remaining: remaining - step,
                        }
                    };
                }
                Position::Header { have } => {
                    let size = if self.typed { 5 } else { 4 };
                    let step = (size - have).min(bytes.len());
                    self.header[have..have + step].copy_from_slice(&bytes[..step]);
                    bytes = &bytes[step..];
                    if have + step < size {
                        self.position = Position::Header { have: have + step };
                        continue;
                    }
                    let at = size - 4;
                    let length = i32::from_be_bytes([
                        self.header[at],
                        self.header[at + 1],
                        self.header[at + 2],
                        self.header[at + 3],
                    ]);
                    // The length counts itself; a negative or too-small one is for pgwire's
                    // decoder to reject as malformed.
                    let length = usize::try_from(length).unwrap_or(0);
                    if length > self.limit {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            TooLarge {
                                length,
                                limit: self.limit,
                            },
                        ));
                    }
                    self.typed = true;
                    self.position = match length.saturating_sub(4) {
                        0 => Position::Header { have: 0 },
                        remaining => Position::Body { remaining },
                    };
                }
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameLimit<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                Poll::Ready(this.observe(fresh))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameLimit<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, body: usize) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&((body + 4) as i32).to_be_bytes());
        out.extend(std::iter::repeat_n(b'x', body));
        out
    }

    #[test]
    fn follows_frames_split_anywhere_and_refuses_the_long_one() {
        let mut stream = 12i32.to_be_bytes().to_vec();
        stream.extend_from_slice(&[0; 8]); // startup: untyped, 12 bytes
        stream.extend(frame(b'Q', 50));
        stream.extend(frame(b'S', 0));
        stream.extend(frame(b'Q', 96));
        for chunk in [1, 3, 7, 64] {
            let mut limit = FrameLimit::new((), 100);
            for piece in stream.chunks(chunk) {
                limit.observe(piece).expect("frames within the limit");
            }
            assert!(matches!(limit.position, Position::Header { have: 0 }));
            let error = limit.observe(&frame(b'Q', 97)[..5]).unwrap_err();
            assert!(error.to_string().contains("101 bytes exceeds"), "{error}");
        }
    }
}
