//! The RFC 6455 guard: checks every frame a client sends before it is decoded.
//!
//! actix-http's decoder is sound on most rules but (a) buffers a whole announced frame before it
//! checks the size limit, so a client announcing 2^62 bytes could make us buffer without end, and
//! (b) reports several different violations with the same error, so the close code could not be
//! chosen right. The guard reads the raw byte stream, frame header by frame header, and stops it
//! at the first violation with the exact close code (RFC 6455 §5, §7.4, §8.1):
//! - 1002: reserved bits or opcodes, an unmasked frame, a fragmented or oversize control frame,
//!   a continuation with nothing to continue, a new message inside a fragmented one, a close
//!   payload of one byte or with a code that may not be sent;
//! - 1007: invalid UTF-8 in a text message (found as soon as it arrives, across fragments) or in
//!   a close reason;
//! - 1009: a message (all its fragments together) larger than the configured limit, detected
//!   from the frame header, before the payload is read.
//!
//! What passes is handed on as [`Piece`]s (a frame's start, its unmasked payload as it
//! arrives, its end), so the reader never parses a frame twice and never needs a frame whole
//! before it can store it. Bytes before the violating frame are passed on; nothing after it is.
//! The reader may refuse a piece itself (its memory budget), which stops the guard the same way.

use actix_http::ws::{CloseCode, CloseReason};

/// What the guard hands on, in order, for every sound frame.
#[derive(Debug, PartialEq)]
pub enum Piece<'a> {
    /// A frame whose header passed every rule: its opcode, FIN bit and payload length.
    Start { opcode: u8, fin: bool, len: u64 },
    /// Unmasked payload bytes of that frame, as they arrive (already checked: UTF-8 so far for
    /// text; a close payload comes whole, once checked).
    Data(&'a [u8]),
    /// The frame's payload is complete.
    End,
}

/// The first violation found on a connection: the close code and reason to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub code: CloseCode,
    pub reason: String,
}

impl Violation {
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Violation {
        Violation {
            code,
            reason: reason.into(),
        }
    }

    pub fn close_reason(&self) -> CloseReason {
        CloseReason {
            code: self.code,
            description: Some(self.reason.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Message {
    Text,
    Binary,
}

#[derive(Debug)]
enum State {
    /// Collecting a frame header (2 to 14 bytes).
    Header { bytes: [u8; 14], have: usize },
    /// Inside a frame's payload.
    Payload(Frame),
}

#[derive(Debug)]
struct Frame {
    opcode: u8,
    fin: bool,
    remaining: u64,
    mask: [u8; 4],
    mask_offset: usize,
    /// Close frame payload, kept to check its code and reason (at most 125 bytes).
    close_payload: Vec<u8>,
}

/// The frame-by-frame checker. Pure: it knows bytes, not sockets.
#[derive(Debug)]
pub struct FrameGuard {
    max_message: u64,
    state: State,
    /// The data message in progress (between a non-final frame and its final continuation).
    message: Option<Message>,
    message_len: u64,
    /// Bytes of an incomplete UTF-8 sequence at the end of the previous text fragment.
    utf8_carry: Vec<u8>,
}

impl FrameGuard {
    pub fn new(max_message: usize) -> FrameGuard {
        FrameGuard {
            max_message: max_message as u64,
            state: State::Header {
                bytes: [0; 14],
                have: 0,
            },
            message: None,
            message_len: 0,
            utf8_carry: Vec::new(),
        }
    }

    /// Checks `chunk`, handing each sound piece to `on`; on a violation (the guard's, or one
    /// `on` returned) returns how many leading bytes were sound and why it stops.
    pub fn check(
        &mut self,
        chunk: &[u8],
        on: &mut impl FnMut(Piece<'_>) -> Result<(), Violation>,
    ) -> Result<(), (usize, Violation)> {
        let mut at = 0;
        let mut frame_start = 0;
        while at < chunk.len() {
            match &mut self.state {
                State::Header { bytes, have } => {
                    if *have == 0 {
                        frame_start = at;
                    }
                    bytes[*have] = chunk[at];
                    *have += 1;
                    at += 1;
                    let header = *bytes;
                    let have = *have;
                    if let Some(frame) = self
                        .header_complete(&header[..have])
                        .map_err(|v| (frame_start, v))?
                    {
                        self.enter(frame, on).map_err(|v| (frame_start, v))?;
                    }
                }
                State::Payload(frame) => {
                    let take = (chunk.len() - at).min(frame.remaining as usize);
                    let mut data = chunk[at..at + take].to_vec();
                    let mut mask = frame.mask;
                    mask.rotate_left(frame.mask_offset % 4);
                    for (i, byte) in data.iter_mut().enumerate() {
                        *byte ^= mask[i & 3];
                    }
                    frame.mask_offset += take;
                    frame.remaining -= take as u64;
                    at += take;
                    let done = frame.remaining == 0;
                    self.payload(&data, done, on)
                        .map_err(|v| (frame_start, v))?;
                }
            }
        }
        Ok(())
    }

    /// Parses the header once it is complete; `Ok(None)` while more bytes are needed.
    fn header_complete(&self, h: &[u8]) -> Result<Option<Frame>, Violation> {
        use CloseCode::Protocol;
        if h.len() == 1 {
            let rsv = h[0] & 0x70;
            if rsv != 0 {
                return Err(Violation::new(
                    Protocol,
                    "reserved bits set, but no extension was negotiated",
                ));
            }
            let opcode = h[0] & 0x0f;
            if matches!(opcode, 3..=7 | 11..=15) {
                return Err(Violation::new(
                    Protocol,
                    format!("reserved opcode {opcode}"),
                ));
            }
            return Ok(None);
        }
        if h.len() == 2 && h[1] & 0x80 == 0 {
            return Err(Violation::new(Protocol, "client frames must be masked"));
        }
        let short_len = h[1] & 0x7f;
        let ext = match short_len {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        if h.len() < 2 + ext + 4 {
            return Ok(None);
        }
        let len = match ext {
            0 => u64::from(short_len),
            2 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            _ => u64::from_be_bytes(h[2..10].try_into().expect("8 bytes")),
        };
        if len >> 63 != 0 {
            return Err(Violation::new(
                Protocol,
                "payload length with the most significant bit set",
            ));
        }
        let mask: [u8; 4] = h[2 + ext..6 + ext].try_into().expect("4 bytes");
        Ok(Some(Frame {
            opcode: h[0] & 0x0f,
            fin: h[0] & 0x80 != 0,
            remaining: len,
            mask,
            mask_offset: 0,
            close_payload: Vec::new(),
        }))
    }

    /// Applies the rules that need the whole header and the message state.
    fn enter(
        &mut self,
        frame: Frame,
        on: &mut impl FnMut(Piece<'_>) -> Result<(), Violation>,
    ) -> Result<(), Violation> {
        use CloseCode::{Protocol, Size};
        let control = frame.opcode >= 8;
        if control {
            if !frame.fin {
                return Err(Violation::new(
                    Protocol,
                    "control frames must not be fragmented",
                ));
            }
            if frame.remaining > 125 {
                return Err(Violation::new(
                    Protocol,
                    "control frame payload longer than 125 bytes",
                ));
            }
        } else {
            match (frame.opcode, self.message) {
                (0, None) => {
                    return Err(Violation::new(
                        Protocol,
                        "continuation frame without a message to continue",
                    ));
                }
                (1 | 2, Some(_)) => {
                    return Err(Violation::new(
                        Protocol,
                        "new message started before the previous one ended",
                    ));
                }
                (1, None) => self.start(Message::Text),
                (2, None) => self.start(Message::Binary),
                _ => {}
            }
            self.message_len += frame.remaining;
            if self.message_len > self.max_message {
                return Err(Violation::new(
                    Size,
                    format!("message larger than {} bytes", self.max_message),
                ));
            }
        }
        on(Piece::Start {
            opcode: frame.opcode,
            fin: frame.fin,
            len: frame.remaining,
        })?;
        let empty = frame.remaining == 0;
        self.state = State::Payload(frame);
        if empty {
            self.payload(&[], true, on)?;
        }
        Ok(())
    }

    fn start(&mut self, message: Message) {
        self.message = Some(message);
        self.message_len = 0;
        self.utf8_carry.clear();
    }

    /// Checks unmasked payload bytes of the current frame and hands them on; `done` when the
    /// frame is complete.
    fn payload(
        &mut self,
        data: &[u8],
        done: bool,
        on: &mut impl FnMut(Piece<'_>) -> Result<(), Violation>,
    ) -> Result<(), Violation> {
        let State::Payload(frame) = &mut self.state else {
            return Ok(());
        };
        let (opcode, fin) = (frame.opcode, frame.fin);
        if opcode == 8 {
            frame.close_payload.extend_from_slice(data);
        } else if opcode < 8 && self.message == Some(Message::Text) {
            self.utf8_carry.extend_from_slice(data);
            match std::str::from_utf8(&self.utf8_carry) {
                Ok(_) => self.utf8_carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    // An incomplete sequence at the end: keep it for the next bytes.
                    let tail = self.utf8_carry.split_off(e.valid_up_to());
                    self.utf8_carry = tail;
                }
                Err(_) => {
                    return Err(Violation::new(
                        CloseCode::Invalid,
                        "invalid UTF-8 in a text message",
                    ));
                }
            }
        }
        if opcode != 8 && !data.is_empty() {
            on(Piece::Data(data))?;
        }
        if !done {
            return Ok(());
        }
        if opcode == 8 {
            let State::Payload(frame) = &self.state else {
                unreachable!()
            };
            check_close_payload(&frame.close_payload)?;
            if !frame.close_payload.is_empty() {
                on(Piece::Data(&frame.close_payload))?;
            }
        }
        if opcode < 8 && fin && self.message == Some(Message::Text) && !self.utf8_carry.is_empty() {
            return Err(Violation::new(
                CloseCode::Invalid,
                "text message ends inside a UTF-8 sequence",
            ));
        }
        on(Piece::End)?;
        if opcode < 8 && fin {
            self.message = None;
        }
        self.state = State::Header {
            bytes: [0; 14],
            have: 0,
        };
        Ok(())
    }
}

/// RFC 6455 §5.5.1 and §7.4: empty, or a code that may be sent plus a UTF-8 reason.
fn check_close_payload(payload: &[u8]) -> Result<(), Violation> {
    match payload.len() {
        0 => Ok(()),
        1 => Err(Violation::new(
            CloseCode::Protocol,
            "close payload of one byte (a code takes two)",
        )),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            // 1004-1006 and 1015 are reserved: they describe a close, they are never sent.
            if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                return Err(Violation::new(
                    CloseCode::Protocol,
                    format!("close code {code} may not be sent"),
                ));
            }
            std::str::from_utf8(&payload[2..])
                .map(|_| ())
                .map_err(|_| Violation::new(CloseCode::Invalid, "close reason is not valid UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        crate::ws::client_frame(first, payload, [1, 2, 3, 4])
    }

    fn verdict(bytes: &[u8]) -> Option<(CloseCode, usize)> {
        let mut guard = FrameGuard::new(1000);
        let mut ignore = |_: Piece<'_>| Ok(());
        // Byte by byte: the guard must give the same answer however the bytes are split.
        let whole = FrameGuard::new(1000)
            .check(bytes, &mut ignore)
            .err()
            .map(|(at, v)| (v.code, at));
        let mut split = None;
        for (i, b) in bytes.iter().enumerate() {
            if let Err((_, v)) = guard.check(std::slice::from_ref(b), &mut ignore) {
                split = Some((v.code, i));
                break;
            }
        }
        assert_eq!(
            whole.map(|w| w.0),
            split.map(|s| s.0),
            "same code whole and split"
        );
        whole
    }

    #[test]
    fn sound_frames_pass() {
        let mut bytes = frame(0x81, "héllo".as_bytes());
        bytes.extend(frame(0x02, b"ab")); // binary, not final
        bytes.extend(frame(0x89, b"ping")); // a ping between fragments is allowed
        bytes.extend(frame(0x80, b"cd")); // final continuation
        bytes.extend(frame(0x88, &[0x03, 0xe8, b'o', b'k']));
        assert_eq!(verdict(&bytes), None);
    }

    #[test]
    fn each_violation_gets_its_code() {
        use CloseCode::*;
        let cases: Vec<(Vec<u8>, CloseCode)> = vec![
            (frame(0xC1, b"x"), Protocol),      // RSV1
            (frame(0x83, b"x"), Protocol),      // reserved opcode 3
            (frame(0x09, b""), Protocol),       // fragmented ping
            (frame(0x89, &[0; 126]), Protocol), // ping too long
            (frame(0x80, b"x"), Protocol),      // continuation of nothing
            ([frame(0x01, b"a"), frame(0x81, b"b")].concat(), Protocol),
            (frame(0x88, &[3]), Protocol), // one-byte close payload
            (frame(0x88, &[0x03, 0xed]), Protocol), // close code 1005
            (frame(0x88, &[0x03, 0xe8, 0xff]), Invalid), // close reason not UTF-8
            (frame(0x81, &[0xce, 0xba, 0xff]), Invalid), // invalid UTF-8
            ([frame(0x01, &[0xce]), frame(0x80, b"a")].concat(), Invalid), // split sequence broken
            (frame(0x81, &[0xce]), Invalid), // ends inside a sequence
            (frame(0x82, &[0; 1001]), Size), // over the limit
            (
                [frame(0x02, &[0; 600]), frame(0x80, &[0; 600])].concat(),
                Size,
            ),
            (vec![0x81, 0x05, b'h', b'e', b'l', b'l', b'o'], Protocol), // unmasked
        ];
        for (i, (bytes, code)) in cases.into_iter().enumerate() {
            assert_eq!(verdict(&bytes).map(|v| v.0), Some(code), "case {i}");
        }
    }

    #[test]
    fn a_huge_announced_frame_is_refused_from_its_header() {
        let mut header = vec![0x82, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 40).to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(verdict(&header), Some((CloseCode::Size, 0)));
    }

    #[test]
    fn bytes_before_the_violation_are_sound() {
        let good = frame(0x81, b"fine");
        let bytes = [good.clone(), frame(0xC1, b"x")].concat();
        assert_eq!(verdict(&bytes), Some((CloseCode::Protocol, good.len())));
    }
}
