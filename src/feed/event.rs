//! One published event and its encodings, made once at publish time.
//!
//! A transport never serializes an event: it sends one of the pre-encoded forms below, so that
//! fan-out to ten thousand clients costs a reference count per client, not a `serde_json` call.

use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use serde::Serialize;

/// What produced an event. The wire name is the `kind` field of PROTOCOL.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// From the built-in generator.
    Tick,
    /// Posted by a person, through any transport.
    Chat,
    /// A position of the broker's stream that RabbitMQ used for itself (with `--broker`: at each
    /// new segment of the stream, one offset holds RabbitMQ's own bookkeeping, not a message).
    /// Every server shows the same one at the same seq, so that seqs stay the stream's offsets
    /// + 1 without a gap. `data`: `{"offset": N}`.
    Broker,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tick => "tick",
            Kind::Chat => "chat",
            Kind::Broker => "broker",
        }
    }
}

/// An event as the hub published it. Immutable and shared (`Arc<Event>`) by every client.
#[derive(Debug)]
pub struct Event {
    pub seq: u64,
    /// Publish time, Unix epoch microseconds (wall clock, for people and for client latency).
    pub ts_us: u64,
    pub kind: Kind,
    /// Publish time on the monotonic clock: delivery delays are measured from here.
    pub published_at: Instant,
    /// The event JSON inside its WebSocket text frame: `json` is a view into `text_frame`.
    text_frame: Bytes,
    json: ByteString,
    /// The SSE record inside its HTTP/1.1 chunk: `sse` is a view into `sse_chunk`.
    sse_chunk: Bytes,
    sse: Bytes,
    /// The `pushlab.bin` payload inside its binary frame: `binary` is a view into it.
    binary_frame: Bytes,
    binary: Bytes,
}

#[derive(Serialize)]
struct WireEvent<'a> {
    seq: u64,
    ts: u64,
    kind: Kind,
    data: &'a serde_json::Value,
}

impl Event {
    pub(super) fn new(
        epoch: &str,
        seq: u64,
        ts_us: u64,
        kind: Kind,
        data: &serde_json::Value,
        published_at: Instant,
    ) -> Event {
        let wire = WireEvent {
            seq,
            ts: ts_us,
            kind,
            data,
        };
        // Serializing a struct of plain fields and a `Value` cannot fail.
        let json = serde_json::to_string(&wire).expect("an event always serializes");
        let record = format!(
            "id: {epoch}:{seq}\nevent: {}\ndata: {json}\n\n",
            kind.as_str()
        );
        // Framed once as its own chunk too (RFC 9112 §7.1: size in hex, CRLF, data, CRLF): a
        // fan-out lane writes an SSE stream's bytes itself, past actix's chunked encoder.
        let sse_chunk = http_chunk(record.as_bytes());
        let head = sse_chunk.len() - record.len() - 2;
        let sse = sse_chunk.slice(head..head + record.len());
        // Frames are encoded once here, not once per client: a fan-out to 10,000 sockets
        // then only clones a reference-counted buffer.
        let (text_frame, head) = crate::ws::server_frame(crate::ws::FIN_TEXT, json.as_bytes());
        let json = ByteString::try_from(text_frame.slice(head..)).expect("the JSON is UTF-8");
        let (binary_frame, head) = crate::ws::server_frame(
            crate::ws::FIN_BINARY,
            &encode_binary(seq, ts_us, kind, data),
        );
        Event {
            seq,
            ts_us,
            kind,
            published_at,
            json,
            sse_chunk,
            sse,
            binary: binary_frame.slice(head..),
            text_frame,
            binary_frame,
        }
    }

    /// The whole WebSocket frame carrying this event (text: JSON; binary: `pushlab.bin`).
    pub fn ws_frame(&self, binary: bool) -> &Bytes {
        if binary {
            &self.binary_frame
        } else {
            &self.text_frame
        }
    }

    /// The event JSON of PROTOCOL.md, as one WebSocket text frame or one element of a poll answer.
    pub fn json(&self) -> &ByteString {
        &self.json
    }

    /// The complete Server-Sent Events record: `id: <epoch>:<seq>` (an `EventSource` sends the
    /// id back as `Last-Event-ID`, and keeps nothing else), `event`, `data` and the blank line.
    pub fn sse_record(&self) -> &Bytes {
        &self.sse
    }

    /// [`Event::sse_record`] as one chunk of a chunked HTTP/1.1 body (RFC 9112 §7.1), as actix
    /// would frame it: `<size in hex>\r\n<record>\r\n`.
    pub fn sse_chunk(&self) -> &Bytes {
        &self.sse_chunk
    }

    /// The payload of one `pushlab.bin` binary frame (layout: [`binary_layout_doc`]).
    pub fn binary(&self) -> &Bytes {
        &self.binary
    }
}

/// `bytes` as one chunk of a chunked HTTP/1.1 body (RFC 9112 §7.1):
/// `<size in hex>\r\n<bytes>\r\n`.
pub fn http_chunk(bytes: &[u8]) -> Bytes {
    let size = format!("{:x}\r\n", bytes.len());
    let mut out = BytesMut::with_capacity(size.len() + bytes.len() + 2);
    out.extend_from_slice(size.as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out.freeze()
}

/// The `pushlab.bin` frame layout, shown in the README and on the protocol page.
pub fn binary_layout_doc() -> &'static str {
    "bytes 0-7: seq (u64, big-endian) | bytes 8-15: ts (u64 µs, big-endian) | \
     byte 16: length K of kind | K bytes: kind (UTF-8) | rest: data (JSON, UTF-8)"
}

fn encode_binary(seq: u64, ts_us: u64, kind: Kind, data: &serde_json::Value) -> Bytes {
    let kind = kind.as_str().as_bytes();
    let data = serde_json::to_vec(data).expect("a JSON value always serializes");
    let mut out = BytesMut::with_capacity(17 + kind.len() + data.len());
    out.put_u64(seq);
    out.put_u64(ts_us);
    // Kind names are short ASCII words; the u8 length is a bound of the layout.
    out.put_u8(kind.len() as u8);
    out.put_slice(kind);
    out.put_slice(&data);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_agree_on_the_event() {
        let data = serde_json::json!({"author": "ana", "text": "salut"});
        let event = Event::new(
            "5eed",
            43,
            1_763_683_200_125_001,
            Kind::Chat,
            &data,
            Instant::now(),
        );
        assert_eq!(
            &**event.json(),
            r#"{"seq":43,"ts":1763683200125001,"kind":"chat","data":{"author":"ana","text":"salut"}}"#
        );
        assert_eq!(
            event.sse_record().as_ref(),
            format!("id: 5eed:43\nevent: chat\ndata: {}\n\n", &**event.json()).as_bytes()
        );
        let record = event.sse_record();
        assert_eq!(
            event.sse_chunk().as_ref(),
            [
                format!("{:x}\r\n", record.len()).as_bytes(),
                record,
                b"\r\n"
            ]
            .concat()
        );
        let bin = event.binary();
        assert_eq!(u64::from_be_bytes(bin[0..8].try_into().unwrap()), 43);
        assert_eq!(
            u64::from_be_bytes(bin[8..16].try_into().unwrap()),
            1_763_683_200_125_001
        );
        assert_eq!(bin[16], 4);
        assert_eq!(&bin[17..21], b"chat");
        assert_eq!(&bin[21..], br#"{"author":"ana","text":"salut"}"#);
    }
}
