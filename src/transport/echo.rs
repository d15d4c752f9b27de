//! `GET /ws/echo`: sends back every text and binary message, for protocol experiments.
//!
//! Fragmented messages are reassembled before they are echoed (as one frame), up to
//! `--max-message-bytes`; larger ones close the connection with 1009. The subprotocols of the
//! slides' example (`chat`, `superchat`) are accepted, so students can watch a negotiation.

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason};
use tokio_util::sync::CancellationToken;

use super::ws::{SocketQuery, inspect_tag};
use crate::{
    server::{AppState, ClientStream},
    ws::{Socket, SocketEvent, accept, choose_subprotocol, record_handshake},
};

pub const SUBPROTOCOLS: [&str; 2] = ["chat", "superchat"];

pub async fn echo_socket(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SocketQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let tag = inspect_tag(&query.inspect)?;
    let shutdown = state.shutdown.clone();
    let response = accept(&req, protocol, &state.config, |socket| {
        echo(socket, shutdown)
    })?;
    let connection = state.connection_id();
    if tag.is_some() {
        state
            .handshakes
            .push(record_handshake(&req, &response, connection, tag, protocol));
    }
    Ok(response)
}

async fn echo(mut socket: Socket<ClientStream>, shutdown: CancellationToken) {
    let reason = loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
            event = socket.next() => match event {
                SocketEvent::Received(message) => socket.send(&message),
                SocketEvent::Flushed => {}
                SocketEvent::Closing(reason) => break reason,
                SocketEvent::Gone => return,
            },
        }
    };
    socket.close(reason).await;
}
