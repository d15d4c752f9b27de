//! The feed over WebSocket: `GET /ws`, one frame per event, chat from the client.
//!
//! Subprotocol `pushlab.json` (the default) sends each event's JSON as a text frame;
//! `pushlab.bin` sends the binary layout of `Event::binary`. `?since=S` resumes.
//!
//! The hot path: one task per connection (the connection's own, see `server::upgrade`) follows
//! the hub and writes each event's frame, encoded once at publish and shared by every client,
//! straight to the socket; the same task reads the client. No channel and no per-client
//! encoding stand between a publish and the socket. Close codes: 1001 on shutdown or silence,
//! 1003 for a binary message (the feed speaks JSON text), and the guard's codes for RFC 6455
//! violations. An instructor's drop ends the connection with no close frame at all (the client
//! sees 1006), and an added delay holds each event back until its publish time plus the delay.

use std::sync::Arc;

use actix_web::{
    HttpRequest, HttpResponse,
    web::{self, Bytes, BytesMut},
};
use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use serde::Deserialize;
use tokio::sync::watch;

use super::{
    chat::{ChatPost, publish_chat},
    network::added_delay,
    since::{cursor_or_now, missed_notice},
};
use crate::{
    feed::Batch,
    meter::{ConnectionGuard, Transport},
    server::{AppState, ClientStream, error::ApiError},
    ws::{
        FIN_TEXT, Message, Socket, SocketEvent, accept, choose_subprotocol, record_handshake,
        server_frame,
    },
};

pub const SUBPROTOCOLS: [&str; 2] = ["pushlab.json", "pushlab.bin"];

/// Most events written in one chunk; the rest follow when the connection takes more.
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
    state: web::Data<AppState>,
    query: web::Query<SocketQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let binary = protocol == Some("pushlab.bin");
    let tag = inspect_tag(&query.inspect)?;
    let cursor = cursor_or_now(query.since, state.hub.last_seq());
    state.hub.since(cursor, 0).map_err(ApiError::from)?;

    let feed_state = state.clone().into_inner();
    let response = accept(&req, protocol, &state.config, move |socket| {
        Follower::new(feed_state, cursor, binary).follow(socket)
    })?;
    let connection = state.connection_id();
    if tag.is_some() {
        state
            .handshakes
            .push(record_handshake(&req, &response, connection, tag, protocol));
    }
    Ok(response)
}

/// One feed socket's reading of the hub: a cursor, moved each time the connection has taken
/// everything written so far. A slow client therefore lags in the replay buffer instead of
/// growing a queue, and is told `{"type":"missed",...}` if it falls out of it.
struct Follower {
    state: Arc<AppState>,
    wake: watch::Receiver<u64>,
    cursor: u64,
    binary: bool,
    /// False once the hub is gone.
    feeding: bool,
    /// When the first event held back by an added delay may leave.
    held_until: Option<tokio::time::Instant>,
    _open: ConnectionGuard,
}

impl Follower {
    fn new(state: Arc<AppState>, cursor: u64, binary: bool) -> Follower {
        Follower {
            wake: state.hub.subscribe(),
            _open: state.meter.connection(Transport::Ws),
            state,
            cursor,
            binary,
            feeding: true,
            held_until: None,
        }
    }

    /// The connection's whole life: events out, chat in, until a close, a drop or the end.
    async fn follow(mut self, mut socket: Socket<ClientStream>) {
        // Made once: a fresh wait on a shared token per event would lock its list each time.
        let dropped = self
            .state
            .faults
            .drop_token(Transport::Ws)
            .cancelled_owned();
        let shutdown = self.state.shutdown.clone().cancelled_owned();
        tokio::pin!(dropped, shutdown);
        let reason = loop {
            if self.feeding && socket.outbox_is_empty() {
                self.refill(&mut socket);
            }
            let waiting = self.feeding && socket.outbox_is_empty();
            let held_until = self.held_until;
            let held = async move {
                match held_until {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                // An instructor's drop: the socket goes without a close frame (the client sees 1006).
                _ = &mut dropped => return,
                _ = &mut shutdown => break Some(CloseReason {
                    code: CloseCode::Away,
                    description: Some("server shutting down".into()),
                }),
                event = socket.next() => match event {
                    SocketEvent::Flushed => {}
                    SocketEvent::Received(Message::Text(text)) => {
                        if let Some(reply) = chat_from_socket(&self.state, &text) {
                            socket.send(&Message::Text(reply));
                        }
                    }
                    SocketEvent::Received(Message::Binary(_)) => break Some(CloseReason {
                        code: CloseCode::Unsupported,
                        description: Some("the feed socket takes JSON text messages, not binary".into()),
                    }),
                    SocketEvent::Closing(reason) => break reason,
                    SocketEvent::Gone => return,
                },
                changed = self.wake.changed(), if waiting => if changed.is_err() { self.feeding = false },
                _ = held, if waiting => {}
            }
        };
        socket.close(reason).await;
    }

    /// Queues the events after the cursor that may leave now (at most [`REFILL_EVENTS`]).
    fn refill(&mut self, socket: &mut Socket<ClientStream>) {
        // Mark the current seq as seen before reading: a publish after this wakes us.
        self.wake.borrow_and_update();
        // The cursor only moves forward from a checked value: never ahead of the feed.
        let Ok(mut batch) = self.state.hub.since(self.cursor, REFILL_EVENTS) else {
            self.feeding = false;
            return;
        };
        self.held_until = batch.hold_back(added_delay(&self.state, Transport::Ws));
        if !batch.is_empty() {
            socket.send_frame(self.frames(&batch));
        }
    }

    /// The batch's frames, counted as delivered now that they are handed to the connection.
    fn frames(&mut self, batch: &Batch) -> Bytes {
        let meter = &self.state.meter;
        let mut notice = None;
        if batch.missed > 0 {
            let text = missed_notice(batch.missed, batch.events.first(), batch.last_seq);
            notice = Some(server_frame(FIN_TEXT, text.as_bytes()).0);
            meter.missed(Transport::Ws, batch.missed);
        }
        meter.delivered(Transport::Ws, &batch.events);
        self.cursor = batch.next_cursor(self.cursor);
        let frames = batch.events.iter().map(|e| e.ws_frame(self.binary));
        match (notice, batch.events.as_slice()) {
            // The common case, one event and nothing missed: its shared frame, no copy.
            (None, [event]) => event.ws_frame(self.binary).clone(),
            (notice, _) => {
                let mut chunk = BytesMut::new();
                for frame in notice.iter().chain(frames) {
                    chunk.extend_from_slice(frame);
                }
                chunk.freeze()
            }
        }
    }
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
