//! The feed over WebSocket: `GET /ws`, one frame per event, chat from the client.
//!
//! Subprotocol `pushlab.json` (the default) sends each event's JSON as a text frame;
//! `pushlab.bin` sends the binary layout of `Event::binary`. `?since=S` resumes.
//!
//! The hot path: the response body itself follows the hub and writes each event's frame,
//! encoded once at publish and shared by every client (see [`Follower`]); a second task,
//! [`listen`], reads the client. No channel and no per-client encoding stand between a publish
//! and the socket. Close codes: 1001 on shutdown or silence, 1003 for a binary
//! message (the feed speaks JSON text), and the guard's codes for RFC 6455 violations. An
//! instructor's drop ends the connection with no close frame at all (the client sees 1006), and
//! an added delay holds each event back until its publish time plus the delay.

use std::{future::poll_fn, pin::Pin, sync::Arc};

use actix_web::{
    HttpRequest, HttpResponse,
    body::{BoxBody, MessageBody},
    web::{self, Bytes, BytesMut},
};
use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use futures_util::{FutureExt, stream};
use serde::Deserialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    chat::{ChatPost, publish_chat},
    network::{added_delay, dropped_error},
    since::{cursor_or_now, missed_notice},
};
use crate::{
    feed::{Batch, Hub},
    meter::{ConnectionGuard, Transport},
    server::{AppState, error::ApiError},
    ws::{
        FIN_TEXT, Incoming, Outgoing, Socket, SocketEvent, choose_subprotocol, open_socket,
        record_handshake, server_frame,
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
    // The response body actix-ws made carries the socket's control frames (pongs, pings,
    // replies, the close); the feed's frames are merged into it below, without a channel.
    let (head, control) = response.into_parts();
    let state = state.into_inner();
    actix_web::rt::spawn(listen(state.clone(), socket));
    let follower = Follower {
        hub: state.hub.clone(),
        wake: state.hub.subscribe(),
        dropped: state.faults.drop_token(Transport::Ws),
        _open: state.meter.connection(Transport::Ws),
        state,
        control,
        cursor,
        binary,
        feeding: true,
        held_until: None,
    };
    let body = stream::unfold(follower, |mut f| async move {
        let chunk = f.next_chunk().await?;
        Some((chunk, f))
    });
    Ok(head
        .set_body(actix_web::body::BodyStream::new(body))
        .map_into_boxed_body())
}

/// The client's side of the feed socket: chat messages, pings, the close handshake, and the
/// shutdown's 1001. Its replies go out through the session, as control frames of the body.
async fn listen(state: Arc<AppState>, mut socket: Socket) {
    let reason = loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
            event = socket.next() => match event {
                SocketEvent::Sent(_) => {}
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

/// The feed socket's response body: the control frames of the session first, then the feed's
/// frames, read from the hub with a cursor each time the connection can take more bytes. A slow
/// client therefore lags in the replay buffer instead of growing a queue, and is told
/// `{"type":"missed",...}` if it falls out of it. One task per connection does all the sending.
struct Follower {
    state: Arc<AppState>,
    hub: Hub,
    wake: watch::Receiver<u64>,
    dropped: CancellationToken,
    control: BoxBody,
    cursor: u64,
    binary: bool,
    /// False after shutdown (the listener is sending 1001) or once the hub is gone.
    feeding: bool,
    /// When the first event held back by an added delay may leave.
    held_until: Option<tokio::time::Instant>,
    _open: ConnectionGuard,
}

type Chunk = Result<Bytes, Box<dyn std::error::Error>>;

impl Follower {
    /// The next bytes to write, `None` once the close frame went out (or the client is gone),
    /// or an error to break the connection off (an instructor's drop).
    async fn next_chunk(&mut self) -> Option<Chunk> {
        loop {
            if self.dropped.is_cancelled() {
                return Some(Err(Box::new(dropped_error())));
            }
            // Control frames go before data: a pong or a close must not wait behind the feed.
            if let Some(ready) =
                poll_fn(|cx| Pin::new(&mut self.control).poll_next(cx)).now_or_never()
            {
                return ready;
            }
            if self.feeding {
                // Mark the current seq as seen before reading: a publish after this wakes us.
                self.wake.borrow_and_update();
                // The cursor only moves forward from a checked value: never ahead of the feed.
                let Ok(mut batch) = self.hub.since(self.cursor, REFILL_EVENTS) else {
                    self.feeding = false;
                    continue;
                };
                self.held_until = batch.hold_back(added_delay(&self.state, Transport::Ws));
                if !batch.is_empty() {
                    return Some(Ok(self.frames(&batch)));
                }
            }
            let held_until = self.held_until;
            let held = async move {
                match held_until {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            let feeding = self.feeding;
            tokio::select! {
                biased;
                control = poll_fn(|cx| Pin::new(&mut self.control).poll_next(cx)) => return control,
                _ = self.dropped.cancelled() => return Some(Err(Box::new(dropped_error()))),
                changed = self.wake.changed(), if feeding => if changed.is_err() { self.feeding = false },
                _ = held, if feeding => {}
                _ = self.state.shutdown.cancelled(), if feeding => self.feeding = false,
            }
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
