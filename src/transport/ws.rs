//! The feed over WebSocket: `GET /ws`, one frame per event, chat from the client.
//!
//! Subprotocol `pushlab.json` (the default) sends each event's JSON as a text frame;
//! `pushlab.bin` sends the binary layout of `Event::binary`. `?since=S` resumes.
//!
//! The hot path: a socket that has caught up with the feed sits in its worker's fan-out lane
//! (`fanout`), whose one task sends each event's frame, encoded once at publish and shared by
//! every client, with one non-blocking send per socket (64 to one system call through
//! io_uring, `batch_send`): a publish wakes one task per worker,
//! not one per connection. A socket that cannot take a frame at once goes back to its own task
//! (the connection's, see `server::upgrade`), which writes the rest and follows the hub from its
//! cursor until it has caught up; the same task always reads the client. No channel and no
//! per-client encoding stand between a publish and the socket.
//!
//! Close codes: 1001 on shutdown or silence, 1003 for a binary message (the feed speaks JSON
//! text), and the guard's codes for RFC 6455 violations. An instructor's drop ends the connection with no close frame at all (the client
//! sees 1006), and an added delay holds each event back until its publish time plus the delay.

use std::{cell::RefCell, future::poll_fn, io, os::fd::RawFd, rc::Rc, sync::Arc};

use actix_web::{
    HttpRequest, HttpResponse,
    web::{self, Bytes, BytesMut},
};
use bytestring::ByteString;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use super::{
    chat::{ChatPost, ChatRefusal, admit},
    cursor::{QueryParams, Resume},
    fanout::{self, FastWrite, Seat},
    follower::Follower,
    handshake::{inspect_tag, note_handshake, socket_limits},
};
use crate::{
    batch_send::SendStraight,
    error::{JsonObject, json_problem},
    feed::{Event, Start},
    limits::{ClientKey, client_key},
    state::AppState,
    transport_kind::Transport,
    ws::{
        CloseCode, CloseReason, FIN_TEXT, Message, Socket, SocketEvent, accept, choose_subprotocol,
        server_frame,
    },
};

pub const SUBPROTOCOLS: [&str; 2] = ["pushlab.json", "pushlab.bin"];

/// Most events written in one chunk; the rest follow when the connection takes more.
const REFILL_EVENTS: usize = 48;

/// The feed endpoint, over the server's stream type `IO` (chosen by the route table).
pub async fn feed_socket<IO>(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + SendStraight + 'static,
{
    let protocol = choose_subprotocol(&req, &SUBPROTOCOLS)?;
    let binary = protocol == Some("pushlab.bin");
    let params = QueryParams::of(&req)?;
    let tag = inspect_tag(&params)?;
    let resume = Resume::of(&req, &params)?;
    let (start, backlog) = state.resume(resume.since, resume.epoch.as_deref()).await;

    let feed_state = state.clone().into_inner();
    let client = client_key(&req);
    let span = tracing::debug_span!(
        "ws",
        connection = tracing::field::Empty,
        cursor = start.cursor,
        reset = start.reset.is_some(),
        binary
    );
    let life = span.clone();
    let limits = socket_limits(&state, state.config.max_message_bytes);
    let mut response = accept(&req, protocol, limits, move |mut socket: Socket<IO>| {
        for text in greetings(&feed_state, &start) {
            socket.send(&Message::Text(text));
        }
        let follower =
            Follower::new(&feed_state, Transport::Ws, start.cursor, client).with_backlog(backlog);
        // The socket goes to the heap once, in its seat: passed by value, it would also keep
        // room in the connection's future (RSS per idle connection).
        let seat = Seat::new(FeedWriter::new(socket, binary));
        follow(feed_state, follower, client, seat).instrument(life)
    })?;
    let connection = note_handshake(&state, &req, &mut response, tag, protocol, &SUBPROTOCOLS);
    span.record("connection", connection);
    Ok(response)
}

/// The feed socket as its worker's fan-out lane writes to it (public for `benches/`).
pub struct FeedWriter<IO> {
    socket: RefCell<Socket<IO>>,
    binary: bool,
}

impl<IO> FeedWriter<IO> {
    /// The writer of `socket`, sending the events' JSON text frames, or their binary layout
    /// when `binary` (subprotocol `pushlab.bin`).
    pub fn new(socket: Socket<IO>, binary: bool) -> FeedWriter<IO> {
        FeedWriter {
            socket: RefCell::new(socket),
            binary,
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin + SendStraight> FastWrite for FeedWriter<IO> {
    fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
        event.ws_frame(self.binary)
    }

    fn straight_fd(&self) -> Option<RawFd> {
        self.socket.borrow().straight_fd()
    }

    fn sent_straight(&self, bytes: &Bytes, sent: io::Result<usize>) -> bool {
        self.socket.borrow_mut().sent_straight(bytes, sent)
    }

    fn write_now(&self, bytes: &Bytes) -> bool {
        self.socket.borrow_mut().write_now(bytes)
    }
}

/// How a connection ends: with a close handshake, or cut off (a drop fault, a vanished client).
enum End {
    Close(Option<CloseReason>),
    Cut,
}

/// The connection's whole life: events out, chat in, until a close, a drop or the end.
///
/// The connection's follower is either its own (its task asks it for more once the socket has
/// written everything queued) or, once caught up with the feed over plain TCP, its worker's
/// fan-out lane's (see `fanout`): then the task only reads the client, and takes the follower
/// back when the lane sends it away. The socket is shared with the lane, borrowed only while
/// polled, never across an `.await`.
async fn follow<IO: AsyncRead + AsyncWrite + Unpin + SendStraight + 'static>(
    state: Arc<AppState>,
    follower: Follower,
    client: ClientKey,
    seat: Rc<Seat<FeedWriter<IO>>>,
) {
    tracing::debug!("open");
    let binary = seat.writer.binary;
    // Over TLS a write may leave records in the TLS layer that only the task's next write
    // flushes: those connections always follow on their own.
    let may_sit = !state.config.tls();
    let mut own = Some(follower);
    // Made once: a fresh wait on a shared token per event would lock its list each time.
    let dropped = state.faults.drop_token(Transport::Ws).cancelled_owned();
    let shutdown = state.shutdown.clone().cancelled_owned();
    tokio::pin!(dropped, shutdown);
    let end = loop {
        if seat.is_evicted() {
            own = seat.stand_up();
        }
        if let Some(mut follower) = own.take() {
            let idle = follower.is_feeding() && seat.writer.socket.borrow().outbox_is_empty();
            match idle.then(|| follower.take(REFILL_EVENTS)) {
                Some(Some(delivery)) => {
                    let frames =
                        event_frames(delivery.missed_notice.as_deref(), &delivery.events, binary);
                    seat.writer.socket.borrow_mut().send_frame(frames);
                    own = Some(follower);
                }
                Some(None) if may_sit => {
                    own = fanout::sit(&state, Transport::Ws, &seat, follower);
                }
                _ => own = Some(follower),
            }
        }
        let waiting = own.as_ref().is_some_and(|f| f.is_feeding())
            && seat.writer.socket.borrow().outbox_is_empty();
        let seated = own.is_none();
        tokio::select! {
            biased;
            // An instructor's drop: the socket goes without a close frame (the client sees 1006).
            _ = &mut dropped => {
                tracing::debug!("dropped by a fault");
                break End::Cut;
            }
            _ = &mut shutdown => break End::Close(Some(CloseReason {
                code: CloseCode::Away,
                description: Some("server shutting down".into()),
            })),
            event = poll_fn(|cx| seat.writer.socket.borrow_mut().poll_event(cx)) => match event {
                SocketEvent::Flushed => {}
                SocketEvent::Received(Message::Text(text)) => {
                    // With a broker this waits for its confirm and echo (a few ms, bounded by
                    // broker::CONFIRM_TIMEOUT and ECHO_TIMEOUT); events wait in the buffer.
                    // Boxed: with a broker, posting a chat is a large future that exists only
                    // while a chat is in flight; inline, every idle socket would keep its room.
                    let chat = Box::pin(chat_from_socket(&state, client, &text));
                    if let Some(reply) = chat.await {
                        seat.writer.socket.borrow_mut().send(&Message::Text(reply));
                    }
                }
                SocketEvent::Received(Message::Binary(_)) => break End::Close(Some(CloseReason {
                    code: CloseCode::Unsupported,
                    description: Some("the feed socket takes JSON text messages, not binary".into()),
                })),
                SocketEvent::Closing(reason) => break End::Close(reason),
                SocketEvent::Gone => {
                    tracing::debug!("gone without a close frame");
                    break End::Cut;
                }
            },
            _ = async { own.as_mut().expect("own follower").ready().await }, if waiting => {}
            _ = seat.evicted(), if seated => {}
        }
    };
    // Out of the lane before the socket is closed: the lane holds the seat only while seated.
    drop(seat.stand_up());
    drop(own);
    let Ok(seat) = Rc::try_unwrap(seat) else {
        unreachable!("a seat that stood up is held by its connection alone")
    };
    if let End::Close(reason) = end {
        tracing::debug!(?reason, "closing");
        // Boxed: the close handshake's future exists only at the end; inline, every open
        // socket's future would keep its room.
        Box::pin(seat.writer.socket.into_inner().close(reason)).await;
    }
}

/// The first message of every feed socket, `{"type":"hello","epoch":E,"last_seq":N}` (the run
/// the client follows), then `{"type":"reset","epoch":..,"previous_epoch":..}` when it resumed
/// from another run (PROTOCOL.md "Runs of the feed").
fn greetings(state: &AppState, start: &Start) -> Vec<ByteString> {
    let hello = serde_json::json!({
        "type": "hello",
        "epoch": &**state.hub.epoch(),
        "last_seq": state.hub.last_seq(),
    });
    let reset = start.reset.as_ref().map(|reset| {
        serde_json::json!({
            "type": "reset",
            "epoch": &*reset.epoch,
            "previous_epoch": reset.previous_epoch,
        })
    });
    std::iter::once(hello)
        .chain(reset)
        .map(|message| ByteString::from(message.to_string()))
        .collect()
}

/// The frames of `events` (their shared frames), after a `missed` notice if any.
fn event_frames(missed_notice: Option<&str>, events: &[Arc<Event>], binary: bool) -> Bytes {
    let notice = missed_notice.map(|text| server_frame(FIN_TEXT, text.as_bytes()).0);
    match (notice, events) {
        // The common case, one event and nothing missed: its shared frame, no copy.
        (None, [event]) => event.ws_frame(binary).clone(),
        (notice, events) => {
            let mut chunk = BytesMut::new();
            let frames = events.iter().map(|e| e.ws_frame(binary));
            for frame in notice.iter().chain(frames) {
                chunk.extend_from_slice(frame);
            }
            chunk.freeze()
        }
    }
}

/// Publishes a chat sent on the socket; returns an error frame for the client if it is refused:
/// `{"type":"error","error":"..."}`, plus `"retry_after"` (seconds) over the chat limit. The
/// socket stays open either way. The message must be a JSON object (an array or any other
/// JSON value is refused like bad JSON), and its fields get the same verdict as on every
/// other transport ([`admit`]); with a broker that cannot take it, the error says so.
async fn chat_from_socket(state: &AppState, client: ClientKey, text: &str) -> Option<ByteString> {
    #[derive(Deserialize)]
    #[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
    enum ClientMessage {
        Chat { author: String, text: String },
    }
    let refusal = match serde_json::from_str::<JsonObject<ClientMessage>>(text) {
        Ok(JsonObject(ClientMessage::Chat { author, text })) => {
            match admit(state, client, ChatPost { author, text }).await {
                Ok(_) => return None,
                Err(refusal) => refusal,
            }
        }
        Err(e) => {
            let problem = format!(
                "expected {{\"type\":\"chat\",\"author\":..,\"text\":..}}: {}",
                json_problem(&e)
            );
            return Some(error_frame(&problem, None));
        }
    };
    let retry_after = match &refusal {
        ChatRefusal::TooMany(refused) => Some(refused.retry_after_secs()),
        ChatRefusal::Invalid(_) | ChatRefusal::Unavailable(_) => None,
    };
    Some(error_frame(&refusal.message(), retry_after))
}

/// `{"type":"error","error":<problem>}`, with `"retry_after":<secs>` when the client should wait.
fn error_frame(problem: &str, retry_after: Option<u64>) -> ByteString {
    let mut frame = serde_json::json!({ "type": "error", "error": problem });
    if let Some(secs) = retry_after {
        frame["retry_after"] = secs.into();
    }
    ByteString::from(frame.to_string())
}
