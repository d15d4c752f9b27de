//! What a client sends, from raw bytes to messages: the guard first, then frames, then whole
//! messages reassembled from their fragments.
//!
//! Pure: it knows bytes, not sockets, so every split of the input gives the same messages. Bounds:
//! the [`FrameGuard`] refuses a message above the configured size from its frame header, before
//! its payload is buffered; an incomplete frame waits in `partial`, which is freed as soon as it
//! is empty again, so an idle connection keeps no buffer at all.

use std::collections::VecDeque;

use actix_http::ws::{CloseCode, CloseReason, OpCode, Parser};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::guard::FrameGuard;

/// A data message: what a client sends, and what the echo sends back.
#[derive(Debug, PartialEq)]
pub enum Message {
    Text(ByteString),
    Binary(Bytes),
}

/// One thing the client said, in the order it said it.
#[derive(Debug, PartialEq)]
pub enum Received {
    Message(Message),
    Ping(Bytes),
    Pong,
    /// The client's close frame, with its code and reason if it gave one.
    Close(Option<CloseReason>),
    /// The client broke RFC 6455: the close to send, after which nothing more is read.
    Violation(CloseReason),
}

pub struct Inbound {
    guard: FrameGuard,
    max_message: usize,
    /// Bytes of a frame not yet complete; empty and unallocated between frames.
    partial: BytesMut,
    /// The data message in progress: its opcode and the fragments so far.
    message: Option<(OpCode, BytesMut)>,
    ready: VecDeque<Received>,
    /// Set after a close or a violation: later bytes are not even looked at (RFC 6455 §7.1.7).
    ended: bool,
}

impl Inbound {
    pub fn new(max_message: usize) -> Inbound {
        Inbound {
            guard: FrameGuard::new(max_message),
            max_message,
            partial: BytesMut::new(),
            message: None,
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// Takes bytes as they came off the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.ended {
            return;
        }
        let (sound, violation) = match self.guard.check(bytes) {
            Ok(()) => (bytes, None),
            Err((sound, violation)) => {
                tracing::debug!(?violation, "websocket client broke RFC 6455");
                (&bytes[..sound], Some(violation))
            }
        };
        self.partial.extend_from_slice(sound);
        self.decode();
        if let Some(violation) = violation {
            self.end(Received::Violation(violation.close_reason()));
        }
        if self.partial.is_empty() {
            self.partial = BytesMut::new(); // give the buffer back while the client is idle
        }
    }

    /// The next thing the client said, if a whole one has arrived.
    pub fn next(&mut self) -> Option<Received> {
        self.ready.pop_front()
    }

    /// Whether nothing more will come: the client closed or broke the protocol.
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn end(&mut self, last: Received) {
        if !self.ended {
            self.ended = true;
            self.ready.push_back(last);
        }
    }

    /// Turns every complete frame in `partial` into what it means. The guard has already
    /// checked each frame, so the parser's own errors are a last line only.
    fn decode(&mut self) {
        while !self.ended {
            let (fin, opcode, payload) =
                match Parser::parse(&mut self.partial, true, self.max_message) {
                    Ok(Some((fin, opcode, payload))) => (fin, opcode, payload.unwrap_or_default()),
                    Ok(None) => return,
                    Err(err) => {
                        self.end(Received::Violation(CloseReason {
                            code: CloseCode::Protocol,
                            description: Some(err.to_string()),
                        }));
                        return;
                    }
                };
            match opcode {
                OpCode::Text | OpCode::Binary if fin => self.message_done(opcode, payload),
                OpCode::Text | OpCode::Binary => self.message = Some((opcode, payload)),
                OpCode::Continue => {
                    if let Some((_, so_far)) = self.message.as_mut() {
                        so_far.extend_from_slice(&payload);
                    }
                    if fin && let Some((opcode, whole)) = self.message.take() {
                        self.message_done(opcode, whole);
                    }
                }
                OpCode::Ping => self.ready.push_back(Received::Ping(payload.freeze())),
                OpCode::Pong => self.ready.push_back(Received::Pong),
                OpCode::Close => {
                    // The guard has checked the code and the reason; a payload it let through
                    // always parses, so an error here can only mean "no code".
                    let reason = Parser::try_parse_close_payload(&payload).ok().flatten();
                    self.end(Received::Close(reason));
                }
                OpCode::Bad => self.end(Received::Violation(CloseReason {
                    code: CloseCode::Protocol,
                    description: Some("reserved opcode".into()),
                })),
            }
        }
    }

    fn message_done(&mut self, opcode: OpCode, payload: BytesMut) {
        let message = if opcode == OpCode::Text {
            match ByteString::try_from(payload.freeze()) {
                Ok(text) => Message::Text(text),
                Err(_) => {
                    // The guard checks UTF-8 as fragments arrive; this is the last line.
                    return self.end(Received::Violation(CloseReason {
                        code: CloseCode::Invalid,
                        description: Some("text message is not UTF-8".into()),
                    }));
                }
            }
        } else {
            Message::Binary(payload.freeze())
        };
        self.ready.push_back(Received::Message(message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        crate::ws::client_frame(first, payload, [9, 8, 7, 6])
    }

    /// Everything `bytes` means, fed whole and fed one byte at a time (the two must agree).
    fn meaning(bytes: &[u8]) -> Vec<Received> {
        let drain =
            |inbound: &mut Inbound| std::iter::from_fn(|| inbound.next()).collect::<Vec<_>>();
        let mut whole = Inbound::new(1000);
        whole.push(bytes);
        let whole = drain(&mut whole);
        let mut split = Inbound::new(1000);
        let mut got = Vec::new();
        for b in bytes {
            split.push(std::slice::from_ref(b));
            got.extend(drain(&mut split));
        }
        assert_eq!(whole, got, "same meaning whole and byte by byte");
        whole
    }

    #[test]
    fn fragments_are_reassembled_around_a_ping() {
        let bytes = [
            frame(0x01, "frag".as_bytes()),
            frame(0x89, b"p"),
            frame(0x80, "mentée".as_bytes()),
            frame(0x82, &[1, 2]),
        ]
        .concat();
        assert_eq!(
            meaning(&bytes),
            vec![
                Received::Ping(Bytes::from_static(b"p")),
                Received::Message(Message::Text("fragmentée".into())),
                Received::Message(Message::Binary(Bytes::from_static(&[1, 2]))),
            ]
        );
    }

    #[test]
    fn nothing_is_read_after_a_close_or_a_violation() {
        let close = [frame(0x88, &[0x03, 0xe8]), frame(0x81, b"late")].concat();
        assert_eq!(
            meaning(&close),
            vec![Received::Close(Some(CloseCode::Normal.into()))]
        );
        let broken = [frame(0x81, b"ok"), frame(0xC1, b"x"), frame(0x81, b"late")].concat();
        let got = meaning(&broken);
        assert_eq!(got[0], Received::Message(Message::Text("ok".into())));
        assert!(matches!(&got[1], Received::Violation(r) if r.code == CloseCode::Protocol));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_idle_connection_keeps_no_read_buffer() {
        let mut inbound = Inbound::new(1000);
        inbound.push(&frame(0x81, &[b'x'; 600]));
        assert_eq!(inbound.partial.capacity(), 0);
        inbound.push(&frame(0x81, b"half")[..3]);
        assert!(inbound.partial.capacity() > 0, "a partial frame waits");
    }
}
