//! The feed over WebSocket: `GET /ws`, one frame per event, chat from the client.
//!
//! Subprotocol `pushlab.json` (the default) sends each event's JSON as a text frame;
//! `pushlab.bin` sends the binary layout of `Event::binary`. `?since=S` resumes. The connection
//! follows the hub with a cursor and fills its outbox only when the outbox is empty, so a slow
//! client lags in the replay buffer (and is told `{"type":"missed",...}` if it falls out of it)
//! instead of growing a queue. Close codes: 1001 on shutdown or silence, 1003 for a binary
//! message (the feed speaks JSON text), and the guard's codes for RFC 6455 violations. An
//! instructor's drop ends the connection with no close frame at all (the client sees 1006), and
//! an added delay holds each event back until its publish time plus the delay.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use serde::Deserialize;

use super::{
    chat::{ChatPost, publish_chat},
    network::added_delay,
    since::{cursor_or_now, missed_notice},
};
use crate::{
    meter::{ConnectionGuard, Transport},
    server::{AppState, error::ApiError},
    ws::{
        Incoming, Outgoing, Socket, SocketEvent, choose_subprotocol, open_socket, record_handshake,
    },
};

pub const SUBPROTOCOLS: [&str; 2] = ["pushlab.json", "pushlab.bin"];

/// Events taken from the hub per refill of the outbox (below `ws::socket::MAX_OUTBOX`).
const REFILL_EVENTS: usize = 48;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketQuery {
    pub since: Option<u64>,
    /// A tag chosen by the protocol inspector page, to find this handshake again.
    pub inspect: Option<String>,
}

/// Checks a `?inspect=` tag: short, and plain enough to put in a URL.
pub fn inspect_tag(tag: &Option<String>) -> Result<Option<String>, ApiError> {
    match tag {
        None => Ok(None),
        Some(t)
            if (1..=64).contains(&t.len())
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Ok(Some(t.clone()))
        }
        Some(_) => Err(ApiError::bad_request(
            "inspect must be 1 to 64 letters, digits or dashes",
        )),
    }
}

pub async fn feed_socket(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<SocketQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let binary = protocol == Some("pushlab.bin");
    let tag = inspect_tag(&query.inspect)?;
    let cursor = cursor_or_now(query.since, state.hub.last_seq());
    state.hub.since(cursor, 0).map_err(ApiError::from)?;

    let (response, socket) = open_socket(&req, payload, protocol, &state.config).await?;
    let connection = state.connection_id();
    if tag.is_some() {
        state
            .handshakes
            .push(record_handshake(&req, &response, connection, tag, protocol));
    }
    let open = state.meter.connection(Transport::Ws);
    actix_web::rt::spawn(follow_feed(
        state.into_inner(),
        socket,
        cursor,
        binary,
        open,
    ));
    Ok(response)
}

#[tracing::instrument(skip_all, fields(transport = "ws"))]
async fn follow_feed(
    state: Arc<AppState>,
    mut socket: Socket,
    mut cursor: u64,
    binary: bool,
    _open: ConnectionGuard,
) {
    let hub = &state.hub;
    let mut wake = hub.subscribe();
    let dropped = state.faults.drop_token(Transport::Ws);
    // When the first event held back by an added delay may leave.
    let mut held_until = None;
    let reason = loop {
        if socket.outbox_is_empty() {
            wake.borrow_and_update();
            // The cursor only moves forward from a checked value: it is never ahead of the feed.
            let Ok(mut batch) = hub.since(cursor, REFILL_EVENTS) else {
                break None;
            };
            held_until = batch.hold_back(added_delay(&state, Transport::Ws));
            if batch.missed > 0 {
                let notice = missed_notice(batch.missed, batch.events.first(), batch.last_seq);
                socket.queue(Outgoing::Text(ByteString::from(notice), None));
                state.meter.missed(Transport::Ws, batch.missed);
            }
            for event in &batch.events {
                socket.queue(if binary {
                    Outgoing::Binary(event.binary().clone(), Some(event.clone()))
                } else {
                    Outgoing::Text(event.json().clone(), Some(event.clone()))
                });
            }
            cursor = batch.next_cursor(cursor);
        }
        let idle = socket.outbox_is_empty();
        let held = async {
            match held_until {
                Some(due) => tokio::time::sleep_until(due).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
            // No close frame: to the client this is a network failure (1006).
            _ = dropped.cancelled() => return,
            changed = wake.changed(), if idle => if changed.is_err() { break None },
            _ = held, if idle => {}
            event = socket.next() => match event {
                SocketEvent::Sent(Some(event)) => state.meter.delivered(Transport::Ws, &[event]),
                SocketEvent::Sent(None) => {}
                SocketEvent::Received(Incoming::Text(text)) => {
                    if let Some(reply) = chat_from_socket(&state, &text) {
                        socket.queue(Outgoing::Text(reply, None));
                    }
                }
                SocketEvent::Received(Incoming::Binary(_)) => {
                    break Some(CloseReason {
                        code: CloseCode::Unsupported,
                        description: Some("the feed socket takes JSON text messages, not binary".into()),
                    });
                }
                SocketEvent::Closing(reason) => break reason,
                SocketEvent::Gone => return,
            },
        }
    };
    socket.close(reason).await;
}

/// Publishes a chat sent on the socket; returns an error message for the client if it is bad.
fn chat_from_socket(state: &AppState, text: &str) -> Option<ByteString> {
    #[derive(Deserialize)]
    #[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
    enum ClientMessage {
        Chat { author: String, text: String },
    }
    let problem = match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::Chat { author, text }) => match (ChatPost { author, text }).validate() {
            Ok(message) => {
                publish_chat(&state.hub, &message);
                return None;
            }
            Err(e) => e.to_string(),
        },
        Err(e) => format!("expected {{\"type\":\"chat\",\"author\":..,\"text\":..}}: {e}"),
    };
    Some(ByteString::from(
        serde_json::json!({ "type": "error", "error": problem }).to_string(),
    ))
}
