//! `GET /ws/echo`: sends back every text and binary message, for protocol experiments.
//!
//! Fragmented messages are reassembled before they are echoed (as one frame), up to
//! `--max-message-bytes`; larger ones close the connection with 1009. The subprotocols of the
//! slides' example (`chat`, `superchat`) are accepted, so students can watch a negotiation.

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason};

use super::ws::{SocketQuery, inspect_tag};
use crate::{
    server::AppState,
    ws::{Incoming, Outgoing, SocketEvent, choose_subprotocol, open_socket, record_handshake},
};

pub const SUBPROTOCOLS: [&str; 2] = ["chat", "superchat"];

pub async fn echo_socket(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<SocketQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let tag = inspect_tag(&query.inspect)?;
    let (response, mut socket) = open_socket(&req, payload, protocol, &state.config).await?;
    let connection = state.connection_id();
    if tag.is_some() {
        state
            .handshakes
            .push(record_handshake(&req, &response, connection, tag, protocol));
    }
    let shutdown = state.shutdown.clone();
    actix_web::rt::spawn(async move {
        let reason = loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
                }
                event = socket.next() => match event {
                    SocketEvent::Received(Incoming::Text(text)) => socket.queue(Outgoing::Text(text, None)),
                    SocketEvent::Received(Incoming::Binary(bytes)) => socket.queue(Outgoing::Binary(bytes, None)),
                    SocketEvent::Sent(_) => {}
                    SocketEvent::Closing(reason) => break reason,
                    SocketEvent::Gone => return,
                },
            }
        };
        socket.close(reason).await;
    });
    Ok(response)
}
