//! One WebSocket connection: its guarded input, its bounded outbox, pings and the close.
//!
//! [`Socket::next`] is the heart of every connection loop. It waits, at once, for a client
//! message, the heartbeat, and room to send the front of the outbox, and tells the endpoint what
//! happened. Every wait in it is cancel-safe, so endpoints can `select!` it against the hub and
//! the shutdown token. Bounds: the outbox holds at most [`MAX_OUTBOX`] messages; while it is full
//! the client's input is not read (TCP pushes back on the client), and a client silent for the
//! timeout is closed with 1001.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_http::Payload as DevPayload;
use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL},
    web::{self, Bytes},
};
use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session,
};
use bytestring::ByteString;

use super::guard::{GuardedPayload, ViolationSlot};
use crate::{config::Config, feed::Event};

/// Most messages waiting to be sent on one connection.
pub const MAX_OUTBOX: usize = 64;

/// Something to send. Events carry their `Event` so that the hand-off can be measured.
pub enum Outgoing {
    Text(ByteString, Option<Arc<Event>>),
    Binary(Bytes, Option<Arc<Event>>),
}

/// A data message from the client (control frames are handled here).
pub enum Incoming {
    Text(ByteString),
    Binary(Bytes),
}

pub enum SocketEvent {
    Received(Incoming),
    /// The front of the outbox was handed to the connection.
    Sent(Option<Arc<Event>>),
    /// The connection must end; send this close frame (RFC 6455 §5.5.1 reply, or a failure code).
    Closing(Option<CloseReason>),
    /// The client is gone without a close frame: nothing more can be sent.
    Gone,
}

/// What woke [`Socket::next`], handled once every borrow of the wait is released.
enum Step {
    Received(Option<Result<AggregatedMessage, ProtocolError>>),
    Heartbeat,
    Sent(Result<Option<Option<Arc<Event>>>, actix_ws::Closed>),
}

pub struct Socket {
    session: Session,
    incoming: AggregatedMessageStream,
    violation: ViolationSlot,
    heartbeat: tokio::time::Interval,
    last_heard: Instant,
    timeout: Duration,
    outbox: VecDeque<Outgoing>,
    /// Control frames go before data; only the latest ping is answered (RFC 6455 §5.5.3).
    pong_due: Option<Bytes>,
    ping_due: bool,
}

/// Completes the upgrade: checks frames through the guard and answers with `protocol`.
pub async fn open_socket(
    req: &HttpRequest,
    payload: web::Payload,
    protocol: Option<&'static str>,
    config: &Config,
) -> Result<(HttpResponse, Socket), actix_web::Error> {
    let (guarded, violation) = GuardedPayload::new(payload.into_inner(), config.max_message_bytes);
    let stream: actix_http::BoxedPayloadStream = Box::pin(guarded);
    let mut raw = DevPayload::Stream { payload: stream };
    let payload = web::Payload::from_request(req, &mut raw).await?;
    let (mut response, session, stream) = actix_ws::handle(req, payload)?;
    if let Some(protocol) = protocol {
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
    }
    let incoming = stream
        .max_frame_size(config.max_message_bytes)
        .aggregate_continuations()
        .max_continuation_size(config.max_message_bytes);
    let interval = config.heartbeat_interval();
    let socket = Socket {
        session,
        incoming,
        violation,
        heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + interval, interval),
        last_heard: Instant::now(),
        timeout: config.client_timeout(),
        outbox: VecDeque::new(),
        pong_due: None,
        ping_due: false,
    };
    Ok((response, socket))
}

impl Socket {
    pub fn queue(&mut self, message: Outgoing) {
        self.outbox.push_back(message);
    }

    pub fn outbox_is_empty(&self) -> bool {
        self.outbox.is_empty()
    }

    /// Waits for the next thing the endpoint must know about.
    pub async fn next(&mut self) -> SocketEvent {
        loop {
            let step = {
                let Socket {
                    session,
                    incoming,
                    outbox,
                    pong_due,
                    ping_due,
                    heartbeat,
                    ..
                } = self;
                let can_send = pong_due.is_some() || *ping_due || !outbox.is_empty();
                let can_read = outbox.len() < MAX_OUTBOX;
                tokio::select! {
                    message = incoming.recv(), if can_read => Step::Received(message),
                    _ = heartbeat.tick() => Step::Heartbeat,
                    sent = send_front(session, outbox, pong_due, ping_due), if can_send => Step::Sent(sent),
                }
            };
            match step {
                Step::Received(message) => {
                    self.last_heard = Instant::now();
                    match message {
                        None => return SocketEvent::Gone,
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            return SocketEvent::Received(Incoming::Text(text));
                        }
                        Some(Ok(AggregatedMessage::Binary(bytes))) => {
                            return SocketEvent::Received(Incoming::Binary(bytes));
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => self.pong_due = Some(bytes),
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(reason))) => {
                            // Echo the client's code, as RFC 6455 §5.5.1 suggests; no code, no code.
                            let reply = reason.map(|r| CloseReason {
                                code: r.code,
                                description: None,
                            });
                            return SocketEvent::Closing(reply);
                        }
                        Some(Err(err)) => return SocketEvent::Closing(Some(self.failure(err))),
                    }
                }
                Step::Heartbeat => {
                    if self.last_heard.elapsed() > self.timeout {
                        return SocketEvent::Closing(Some(CloseReason {
                            code: CloseCode::Away,
                            description: Some(format!(
                                "no answer to pings for {} s",
                                self.timeout.as_secs()
                            )),
                        }));
                    }
                    self.ping_due = true;
                }
                Step::Sent(Err(actix_ws::Closed)) => return SocketEvent::Gone,
                Step::Sent(Ok(Some(event))) => return SocketEvent::Sent(event),
                Step::Sent(Ok(None)) => {} // a control frame went out
            }
        }
    }

    /// The close code for a decoding error: the guard's precise verdict when it has one.
    fn failure(&self, err: ProtocolError) -> CloseReason {
        if let Some(violation) = self.violation.borrow().as_ref() {
            return violation.close_reason();
        }
        let (code, text) = match &err {
            ProtocolError::Overflow => (CloseCode::Size, "message too large".to_owned()),
            ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                (CloseCode::Invalid, "invalid data".to_owned())
            }
            other => (CloseCode::Protocol, other.to_string()),
        };
        CloseReason {
            code,
            description: Some(text),
        }
    }

    /// Sends `reason` as the close frame (if any) and ends the connection.
    pub async fn close(self, reason: Option<CloseReason>) {
        // Err means the connection is already gone: nothing left to tell the client.
        let _ = self.session.close(reason).await;
    }
}

/// Sends one pending control frame, else the front of the outbox. `Ok(Some(event))` for a data
/// message (with its event, if it is one), `Ok(None)` for a control frame. Cancel-safe: an item
/// leaves its queue only once actix-ws has taken it.
async fn send_front(
    session: &mut Session,
    outbox: &mut VecDeque<Outgoing>,
    pong_due: &mut Option<Bytes>,
    ping_due: &mut bool,
) -> Result<Option<Option<Arc<Event>>>, actix_ws::Closed> {
    if let Some(payload) = pong_due.as_ref() {
        session.pong(payload).await?;
        *pong_due = None;
        return Ok(None);
    }
    if *ping_due {
        session.ping(b"").await?;
        *ping_due = false;
        return Ok(None);
    }
    let event = match outbox.front() {
        Some(Outgoing::Text(text, event)) => {
            session.text(text.clone()).await?;
            event.clone()
        }
        Some(Outgoing::Binary(bytes, event)) => {
            session.binary(bytes.clone()).await?;
            event.clone()
        }
        None => return Ok(None),
    };
    outbox.pop_front();
    Ok(Some(event))
}
