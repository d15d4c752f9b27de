//! What pushlab puts in the broker and reads back: the stream's arguments, one message per event,
//! and the offset RabbitMQ adds to each delivery.
//!
//! A message is the event without its `seq` (the stream numbers it): the body is
//! `{"kind":..,"ts":..,"data":..}` (JSON), `message_id` is `<server instance>-<n>` so that its
//! publisher recognises its own echo, and the header `x-pushlab-server` names the server that
//! published it. The `ts` travels with the event, so every server shows the same `ts` and
//! measures delays from the publish, not from its own reading.

use lapin::{
    BasicProperties,
    message::Delivery,
    types::{AMQPValue, FieldTable, ShortString},
};
use serde::{Deserialize, Serialize};

use crate::feed::{FeedSettings, FeedUpdate, Kind};

/// The header naming the server that published a message.
pub const ORIGIN_HEADER: &str = "x-pushlab-server";
/// The header RabbitMQ adds to every delivery from a stream: the message's offset (0-based).
pub const OFFSET_HEADER: &str = "x-stream-offset";

/// A stream's retention, as RabbitMQ's queue arguments (every declare must repeat them exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    /// `x-max-length-bytes`, in bytes.
    pub max_bytes: u64,
    /// `x-max-age`, e.g. `24h` (units Y M D h m s).
    pub max_age: String,
    /// `x-stream-max-segment-size-bytes`, in bytes: retention drops whole segments.
    pub segment_bytes: u64,
}

/// The arguments of a stream queue; `None`: no retention (the tiny epoch stream).
pub fn stream_arguments(retention: Option<&Retention>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("stream".into()),
    );
    if let Some(r) = retention {
        let bytes = |n: u64| AMQPValue::LongLongInt(i64::try_from(n).unwrap_or(i64::MAX));
        args.insert("x-max-length-bytes".into(), bytes(r.max_bytes));
        args.insert(
            "x-max-age".into(),
            AMQPValue::LongString(r.max_age.as_str().into()),
        );
        args.insert(
            "x-stream-max-segment-size-bytes".into(),
            bytes(r.segment_bytes),
        );
    }
    args
}

/// Where a stream consumer starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offset {
    /// The oldest message the stream still holds.
    First,
    /// The first message of the stream's last chunk (not its last message).
    LastChunk,
    /// This offset (or the oldest held, if retention removed it).
    At(u64),
}

/// The `basic.consume` arguments of a stream consumer starting at `offset`.
pub fn consume_arguments(offset: Offset) -> FieldTable {
    let value = match offset {
        Offset::First => AMQPValue::LongString("first".into()),
        Offset::LastChunk => AMQPValue::LongString("last".into()),
        Offset::At(n) => AMQPValue::LongLongInt(i64::try_from(n).unwrap_or(i64::MAX)),
    };
    let mut args = FieldTable::default();
    args.insert(OFFSET_HEADER.into(), value);
    args
}

/// The stream offset of a delivery; `None` if RabbitMQ did not set it (not a stream).
pub fn offset_of(delivery: &Delivery) -> Option<u64> {
    let value = delivery
        .properties
        .headers()
        .as_ref()?
        .inner()
        .get(OFFSET_HEADER)?;
    let n: i64 = match value {
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::LongInt(n) => (*n).into(),
        AMQPValue::LongUInt(n) => (*n).into(),
        AMQPValue::ShortInt(n) => (*n).into(),
        AMQPValue::ShortUInt(n) => (*n).into(),
        _ => return None,
    };
    u64::try_from(n).ok()
}

#[derive(Serialize)]
struct Outgoing<'a> {
    kind: Kind,
    ts: u64,
    data: &'a serde_json::Value,
}

#[derive(Deserialize)]
struct Incoming {
    kind: String,
    ts: u64,
    data: serde_json::Value,
}

/// One event read back from the stream (its `seq` is its offset + 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: Kind,
    /// Publish time at the publishing server, Unix epoch µs.
    pub ts_us: u64,
    pub data: serde_json::Value,
    /// `message_id`: who published it, and which of its publishes.
    pub id: Option<String>,
}

/// The message sharing the feed's settings with the cluster (`STREAM.settings`).
pub fn encode_settings(settings: &FeedSettings, origin: &str) -> (Vec<u8>, BasicProperties) {
    let body = serde_json::to_vec(settings).expect("settings always serialize");
    let mut headers = FieldTable::default();
    headers.insert(ORIGIN_HEADER.into(), AMQPValue::LongString(origin.into()));
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    (body, properties)
}

/// Reads shared settings back; `None` when they are not settings or out of bounds (ignored).
pub fn decode_settings(body: &[u8]) -> Option<FeedSettings> {
    #[derive(Deserialize)]
    struct Shared {
        rate_hz: f64,
        payload_bytes: usize,
        paused: bool,
    }
    let shared: Shared = serde_json::from_slice(body).ok()?;
    FeedSettings::initial(0.0)
        .updated(&FeedUpdate {
            rate_hz: Some(shared.rate_hz),
            payload_bytes: Some(shared.payload_bytes),
            paused: Some(shared.paused),
        })
        .ok()
}

/// The `data` of the event shown at an `offset` RabbitMQ used for its own bookkeeping (an
/// offset holding no message: a stream's tracking chunk at the start of each segment).
pub fn bookkeeping(offset: u64) -> serde_json::Value {
    serde_json::json!({ "offset": offset })
}

/// The body and properties of the message for one event.
pub fn encode(
    kind: Kind,
    ts_us: u64,
    data: &serde_json::Value,
    id: &str,
    origin: &str,
) -> (Vec<u8>, BasicProperties) {
    let body = serde_json::to_vec(&Outgoing {
        kind,
        ts: ts_us,
        data,
    })
    .expect("an event always serializes");
    let mut headers = FieldTable::default();
    headers.insert(ORIGIN_HEADER.into(), AMQPValue::LongString(origin.into()));
    let properties = BasicProperties::default()
        .with_message_id(ShortString::from(id))
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    (body, properties)
}

/// Reads a message back; `None` for one pushlab did not write (someone else published to the
/// stream): its place in the stream is then a lost event.
pub fn decode(body: &[u8], properties: &BasicProperties) -> Option<Message> {
    let incoming: Incoming = serde_json::from_slice(body).ok()?;
    let kind = match incoming.kind.as_str() {
        "tick" => Kind::Tick,
        "chat" => Kind::Chat,
        _ => return None,
    };
    Some(Message {
        kind,
        ts_us: incoming.ts,
        data: incoming.data,
        id: properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_comes_back_as_it_went() {
        let data = serde_json::json!({"author": "ana", "text": "salut"});
        let (body, properties) = encode(Kind::Chat, 42, &data, "ab12-7", "a");
        let message = decode(&body, &properties).unwrap();
        assert_eq!(
            message,
            Message {
                kind: Kind::Chat,
                ts_us: 42,
                data,
                id: Some("ab12-7".into())
            }
        );
        assert!(decode(b"not json", &properties).is_none());
        assert!(decode(br#"{"kind":"other","ts":1,"data":{}}"#, &properties).is_none());
    }

    #[test]
    fn settings_travel_and_bad_ones_are_ignored() {
        let mut settings = FeedSettings::initial(5.0);
        settings.paused = true;
        let (body, _) = encode_settings(&settings, "a");
        assert_eq!(decode_settings(&body), Some(settings));
        assert_eq!(
            decode_settings(br#"{"rate_hz":1e9,"payload_bytes":0,"paused":false}"#),
            None
        );
        assert_eq!(decode_settings(b"{}"), None);
    }

    #[test]
    fn retention_arguments_name_rabbitmq_s_keys() {
        let args = stream_arguments(Some(&Retention {
            max_bytes: 100,
            max_age: "1h".into(),
            segment_bytes: 10,
        }));
        let keys: Vec<&str> = args.inner().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "x-max-age",
                "x-max-length-bytes",
                "x-queue-type",
                "x-stream-max-segment-size-bytes"
            ]
        );
        assert_eq!(stream_arguments(None).inner().len(), 1);
    }
}
