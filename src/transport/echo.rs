//! `GET /ws/echo`: sends back every text and binary message, for protocol experiments.
//!
//! Fragmented messages are reassembled before they are echoed (as one frame), up to
//! `--echo-max-message-bytes` (16 MiB by default: a photo sent with `ws.send(file)`); larger
//! ones close the connection with 1009 from their frame header, before the payload is read.
//! Memory: one message being received and the echoes waiting to be written, charged to the
//! sockets' shared budget (`--ws-memory-bytes`, 1013 when spent; see `ws::MemoryBudget`). The subprotocols of the
//! slides' example (`chat`, `superchat`) are accepted, so students can watch a negotiation.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{
    cursor::QueryParams,
    handshake::{inspect_tag, note_handshake, socket_limits},
};
use crate::{
    state::AppState,
    ws::{CloseCode, CloseReason, Socket, SocketEvent, accept, choose_subprotocol},
};

pub const SUBPROTOCOLS: [&str; 2] = ["chat", "superchat"];

/// The echo endpoint, over the server's stream type `IO` (chosen by the route table).
pub async fn echo_socket<IO>(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let tag = inspect_tag(&QueryParams::of(&req)?)?;
    let shutdown = state.shutdown.clone();
    let inspected = tag.clone().map(|tag| (state.clone().into_inner(), tag));
    let span = tracing::debug_span!("echo", connection = tracing::field::Empty);
    let life = span.clone();
    let mut response = accept(
        &req,
        protocol,
        socket_limits(&state, state.config.echo_max_message_bytes),
        move |socket: Socket<IO>| echo(socket, shutdown, inspected).instrument(life),
    )?;
    let connection = note_handshake(&state, &req, &mut response, tag, protocol, &SUBPROTOCOLS);
    span.record("connection", connection);
    Ok(response)
}

/// Sends back every message; on a connection the inspector tagged, also notes how each message
/// was framed (the page reads it back with `GET /api/handshake/{tag}`).
async fn echo<IO: AsyncRead + AsyncWrite + Unpin>(
    mut socket: Socket<IO>,
    shutdown: CancellationToken,
    inspected: Option<(Arc<AppState>, String)>,
) {
    tracing::debug!("open");
    let reason = loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
            event = socket.next() => match event {
                SocketEvent::Received(message) => {
                    if let Some((state, tag)) = &inspected {
                        state.handshakes.note_message(tag, socket.last_message_frames());
                    }
                    socket.send(&message);
                }
                SocketEvent::Flushed => {}
                SocketEvent::Closing(reason) => break reason,
                SocketEvent::Gone => {
                    tracing::debug!("gone without a close frame");
                    return;
                }
            },
        }
    };
    tracing::debug!(?reason, "closing");
    socket.close(reason).await;
}
