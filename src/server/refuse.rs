//! Refusing a connection politely: the client gets a FATAL ErrorResponse it can show (53300
//! "too many connections", as PostgreSQL sends) instead of a reset socket.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The SSLRequest code a client may send before its startup packet.
const SSL_REQUEST: u32 = 80877103;
/// How long a refused client gets to send its startup packet.
const STARTUP_WAIT: Duration = Duration::from_secs(5);
/// Startup packets larger than this are not read (the error goes out anyway).
const MAX_STARTUP: usize = 10_000;

/// Answers the client's startup with FATAL 53300 and closes the connection.
pub async fn too_many_connections(socket: TcpStream) {
    let _ = tokio::time::timeout(
        STARTUP_WAIT,
        refuse(socket, "53300", "sorry, too many clients already"),
    )
    .await;
}

async fn refuse(mut socket: TcpStream, code: &str, message: &str) -> std::io::Result<()> {
    // Read the startup packet (after declining TLS if asked), so the client is listening.
    loop {
        let length = socket.read_u32().await? as usize;
        if !(8..=MAX_STARTUP).contains(&length) {
            break;
        }
        let mut body = vec![0u8; length - 4];
        socket.read_exact(&mut body).await?;
        let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        if code == SSL_REQUEST {
            socket.write_all(b"N").await?;
            continue;
        }
        break;
    }
    let mut fields = Vec::new();
    for (tag, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', code),
        (b'M', message),
    ] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut frame = vec![b'E'];
    frame.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
    frame.extend_from_slice(&fields);
    socket.write_all(&frame).await?;
    socket.shutdown().await
}
