//! What a client sends, from raw bytes to messages: the guard first, then whole messages built
//! from the pieces it hands on (a frame's start, its unmasked payload, its end).
//!
//! Pure: it knows bytes, not sockets, so every split of the input gives the same messages. Bounds:
//! the [`FrameGuard`] refuses a message above the configured size from its frame header, before
//! its payload is read; a message's buffer grows only as its data arrives (at most doubling, and
//! never past the end of the frame being read), so a header announcing 16 MiB costs nothing until
//! 16 MiB have been sent; that buffer is charged to the sockets' shared [`MemoryBudget`] as it
//! grows (1013 when the budget is spent) and given back when the message is handed over. A
//! control frame's payload is at most 125 bytes. Between messages nothing is held.

use std::{collections::VecDeque, sync::Arc};

use actix_http::ws::{CloseCode, CloseReason, Parser};
use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use super::{
    budget::{Lease, MemoryBudget},
    guard::{FrameGuard, Piece, Violation},
};

/// Smallest step by which a message's buffer grows, in bytes: a read's worth, so that a message
/// arriving in small pieces is not copied at every piece.
const MIN_GROWTH: usize = 4096;

/// A data message: what a client sends, and what the echo sends back.
#[derive(Debug, PartialEq)]
pub enum Message {
    Text(ByteString),
    Binary(Bytes),
}

/// One frame as the client sent it: opcode, FIN bit and payload length (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FrameSummary {
    pub opcode: u8,
    pub fin: bool,
    pub len: u64,
}

/// How one message came: how many frames, which first and last, the largest. Fixed size, so
/// keeping it for every message costs no allocation; the inspector shows it (a browser may send
/// a large `ws.send(file)` as many frames).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MessageFrames {
    /// Frames the message came in (1 when not fragmented); control frames between them excluded.
    pub count: u64,
    /// Payload bytes of the whole message.
    pub bytes: u64,
    pub first: FrameSummary,
    pub last: FrameSummary,
    /// Payload length of its largest frame.
    pub largest: u64,
}

impl MessageFrames {
    fn add(&mut self, frame: FrameSummary) {
        if self.count == 0 {
            self.first = frame;
        }
        self.count += 1;
        self.bytes += frame.len;
        self.last = frame;
        self.largest = self.largest.max(frame.len);
    }
}

/// One thing the client said, in the order it said it.
#[derive(Debug, PartialEq)]
pub enum Received {
    /// A whole message, and the frames it came in.
    Message(Message, MessageFrames),
    Ping(Bytes),
    Pong,
    /// The client's close frame, with its code and reason if it gave one.
    Close(Option<CloseReason>),
    /// The client broke RFC 6455 (or the budget is spent): the close to send, after which
    /// nothing more is read.
    Violation(CloseReason),
}

/// The frame being read: what it is, and how many of its payload bytes are still to come.
#[derive(Debug, Clone, Copy)]
struct Current {
    opcode: u8,
    fin: bool,
    remaining: u64,
}

pub struct Inbound {
    guard: FrameGuard,
    reader: Reader,
}

/// What the guard's pieces build: the frame being read, the message in progress, what is ready.
struct Reader {
    /// The memory of `message`'s buffer, charged to the sockets' budget.
    lease: Lease,
    current: Option<Current>,
    /// The data message in progress: text or binary, and its bytes so far.
    message: Option<(bool, Vec<u8>)>,
    /// The frames of the message in progress.
    frames: MessageFrames,
    /// The payload of the control frame in progress (at most 125 bytes).
    control: Vec<u8>,
    ready: VecDeque<Received>,
    /// Set after a close or a violation: later bytes are not even looked at (RFC 6455 §7.1.7).
    ended: bool,
}

impl Inbound {
    /// A reader for messages of at most `max_message` bytes whose buffers are charged to `budget`.
    pub fn new(max_message: usize, budget: Arc<MemoryBudget>) -> Inbound {
        Inbound {
            guard: FrameGuard::new(max_message),
            reader: Reader {
                lease: Lease::new(budget),
                current: None,
                message: None,
                frames: MessageFrames::default(),
                control: Vec::new(),
                ready: VecDeque::new(),
                ended: false,
            },
        }
    }

    /// Takes bytes as they came off the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        let Inbound { guard, reader } = self;
        if reader.ended {
            return;
        }
        if let Err((_, violation)) = guard.check(bytes, &mut |piece| reader.piece(piece)) {
            tracing::debug!(?violation, "websocket client broke RFC 6455 or the budget");
            reader.drop_message();
            reader.end(Received::Violation(violation.close_reason()));
        }
    }

    /// The next thing the client said, if a whole one has arrived.
    pub fn next(&mut self) -> Option<Received> {
        self.reader.ready.pop_front()
    }

    /// Whether nothing more will come: the client closed or broke the protocol.
    pub fn ended(&self) -> bool {
        self.reader.ended
    }

    /// Bytes held for the message in progress (its buffer's capacity).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.reader.lease.bytes()
    }
}

impl Reader {
    fn end(&mut self, last: Received) {
        if !self.ended {
            self.ended = true;
            self.ready.push_back(last);
        }
    }

    /// One piece the guard let through.
    fn piece(&mut self, piece: Piece<'_>) -> Result<(), Violation> {
        if self.ended {
            return Ok(()); // after the client's close, bytes in the same read mean nothing
        }
        match piece {
            Piece::Start { opcode, fin, len } => {
                self.current = Some(Current {
                    opcode,
                    fin,
                    remaining: len,
                });
                let frame = FrameSummary { opcode, fin, len };
                match opcode {
                    1 | 2 => {
                        self.message = Some((opcode == 1, Vec::new()));
                        self.frames = MessageFrames::default();
                        self.frames.add(frame);
                    }
                    8.. => self.control.clear(),
                    // A continuation: the guard checked there is a message to continue.
                    _ => self.frames.add(frame),
                }
            }
            Piece::Data(data) => {
                let Some(current) = self.current.as_mut() else {
                    return Ok(());
                };
                let to_come = current.remaining;
                current.remaining = to_come.saturating_sub(data.len() as u64);
                if current.opcode >= 8 {
                    self.control.extend_from_slice(data);
                } else {
                    self.append(data, to_come)?;
                }
            }
            Piece::End => {
                let Some(current) = self.current.take() else {
                    return Ok(());
                };
                match current.opcode {
                    8 => {
                        // The guard has checked the code and the reason; a payload it let
                        // through always parses, so an error here can only mean "no code".
                        let reason = Parser::try_parse_close_payload(&self.control)
                            .ok()
                            .flatten();
                        self.end(Received::Close(reason));
                    }
                    9 => {
                        let payload = Bytes::copy_from_slice(&self.control);
                        self.ready.push_back(Received::Ping(payload));
                    }
                    10 => self.ready.push_back(Received::Pong),
                    _ if current.fin => self.message_done(),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Adds `data` to the message in progress, whose current frame has `to_come` bytes left
    /// (`data` included). The buffer grows by doubling at least, but never beyond what the
    /// frame will bring, and each growth is charged to the budget first.
    fn append(&mut self, data: &[u8], to_come: u64) -> Result<(), Violation> {
        let Some((_, buffer)) = self.message.as_mut() else {
            return Ok(());
        };
        let needed = buffer.len() + data.len();
        if needed > buffer.capacity() {
            let frame_end = buffer.len().saturating_add(to_come as usize);
            let wanted = (buffer.capacity() * 2).max(buffer.len() + MIN_GROWTH);
            let capacity = wanted.min(frame_end).max(needed);
            let more = capacity - buffer.capacity();
            if !self.lease.try_grow(more) {
                return Err(Violation::new(
                    CloseCode::Again,
                    format!(
                        "the server holds too many large messages right now ({} bytes in all); \
                         try again later",
                        self.lease.budget_limit()
                    ),
                ));
            }
            buffer.reserve_exact(capacity - buffer.len());
        }
        buffer.extend_from_slice(data);
        Ok(())
    }

    /// Hands the complete message over: its memory leaves the budget (the endpoint holds it now).
    fn message_done(&mut self) {
        let Some((text, buffer)) = self.message.take() else {
            return;
        };
        self.lease.shrink(self.lease.bytes());
        let payload = Bytes::from(buffer);
        let message = if text {
            match ByteString::try_from(payload) {
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
            Message::Binary(payload)
        };
        self.ready
            .push_back(Received::Message(message, std::mem::take(&mut self.frames)));
    }

    /// Forgets the message in progress (the connection is ending) and gives its memory back.
    fn drop_message(&mut self) {
        self.message = None;
        self.lease.shrink(self.lease.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        crate::ws::client_frame(first, payload, [9, 8, 7, 6])
    }

    fn inbound(max_message: usize) -> Inbound {
        Inbound::new(max_message, MemoryBudget::new(1 << 20))
    }

    /// Everything `bytes` means, fed whole and fed one byte at a time (the two must agree).
    fn meaning(bytes: &[u8]) -> Vec<Received> {
        let drain =
            |inbound: &mut Inbound| std::iter::from_fn(|| inbound.next()).collect::<Vec<_>>();
        let mut whole = inbound(1000);
        whole.push(bytes);
        let whole = drain(&mut whole);
        let mut split = inbound(1000);
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
                Received::Message(
                    Message::Text("fragmentée".into()),
                    MessageFrames {
                        count: 2,
                        bytes: 11,
                        first: FrameSummary {
                            opcode: 1,
                            fin: false,
                            len: 4
                        },
                        last: FrameSummary {
                            opcode: 0,
                            fin: true,
                            len: 7
                        },
                        largest: 7,
                    }
                ),
                Received::Message(
                    Message::Binary(Bytes::from_static(&[1, 2])),
                    MessageFrames {
                        count: 1,
                        bytes: 2,
                        first: FrameSummary {
                            opcode: 2,
                            fin: true,
                            len: 2
                        },
                        last: FrameSummary {
                            opcode: 2,
                            fin: true,
                            len: 2
                        },
                        largest: 2,
                    }
                ),
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
        assert!(matches!(&got[0], Received::Message(Message::Text(t), _) if t == "ok"));
        assert!(matches!(&got[1], Received::Violation(r) if r.code == CloseCode::Protocol));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_message_buffer_grows_as_its_data_arrives_and_leaves_with_it() {
        let budget = MemoryBudget::new(64 << 20);
        let mut inbound = Inbound::new(16 << 20, budget.clone());
        let payload = vec![7u8; 5 << 20];
        let whole = frame(0x82, &payload);
        // The header announces 5 MiB: nothing is reserved for it yet.
        inbound.push(&whole[..14]);
        assert_eq!(inbound.held(), 0);
        inbound.push(&whole[14..14 + 100]);
        assert!(inbound.held() <= MIN_GROWTH, "{}", inbound.held());
        let mut at = 14 + 100;
        while at < whole.len() {
            let end = (at + 65_536).min(whole.len());
            inbound.push(&whole[at..end]);
            at = end;
            let received = at - 14;
            assert!(
                inbound.held() <= (2 * received).max(MIN_GROWTH) || at == whole.len(),
                "{} held for {received} received",
                inbound.held()
            );
            assert!(
                inbound.held() <= payload.len(),
                "never past the frame's end"
            );
        }
        assert_eq!(budget.used(), 0, "handed over: the budget is free again");
        match inbound.next() {
            Some(Received::Message(Message::Binary(bytes), frames)) => {
                assert_eq!(bytes, payload);
                assert_eq!((frames.count, frames.bytes), (1, payload.len() as u64));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_spent_budget_closes_with_1013_and_gives_everything_back() {
        let budget = MemoryBudget::new(10_000);
        let mut first = Inbound::new(1 << 20, budget.clone());
        let mut second = Inbound::new(1 << 20, budget.clone());
        let big = frame(0x82, &[1; 8_000]);
        first.push(&big[..14 + 7_000]);
        assert!(budget.used() >= 7_000);
        second.push(&big[..14 + 7_000]);
        match second.next() {
            Some(Received::Violation(reason)) => assert_eq!(reason.code, CloseCode::Again),
            other => panic!("{other:?}"),
        }
        assert_eq!(second.held(), 0);
        first.push(&big[14 + 7_000..]);
        assert!(matches!(first.next(), Some(Received::Message(..))));
        assert_eq!(budget.used(), 0);
        drop(second);
        let mut third = Inbound::new(1 << 20, budget.clone());
        third.push(&big[..14 + 7_000]);
        assert!(
            third.held() > 0,
            "room again once the first was handed over"
        );
        drop(third);
        assert_eq!(budget.used(), 0, "a dropped reader gives its bytes back");
    }
}
