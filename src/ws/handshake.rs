//! The opening handshake as the slides show it: the key, the accept value, the subprotocol.
//!
//! actix-http performs the handshake; this module chooses the subprotocol (refusing an offer we
//! cannot honour with a clear 400 rather than an unexplained failure) and keeps a small log of
//! recent handshakes, so the protocol inspector can show a student their own connection.
//! Credentials (cookies, `Authorization`, token parameters, token-carrying subprotocol offers)
//! are redacted when the record is made ([`crate::redact`]): the log never holds them.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use actix_web::{
    HttpRequest,
    http::{StatusCode, header, header::HeaderMap},
};
use base64::Engine;
use serde::Serialize;
use sha1::{Digest, Sha1};

use super::inbound::MessageFrames;
use crate::{error::ApiError, redact};

/// The GUID of RFC 6455 §1.3, appended to the client's key.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let digest = Sha1::digest(format!("{key}{WEBSOCKET_GUID}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The first offered subprotocol that `supported` contains; `None` when nothing was offered
/// (the endpoint's default then applies). An offer with nothing we support is refused.
pub fn choose_subprotocol(
    req: &HttpRequest,
    supported: &[&'static str],
) -> Result<Option<&'static str>, ApiError> {
    let offered: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if offered.is_empty() {
        return Ok(None);
    }
    offered
        .iter()
        .find_map(|p| supported.iter().find(|s| *s == p).copied())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "none of the offered subprotocols ({}) is spoken here; offer one of: {}",
                offered.join(", "),
                supported.join(", ")
            ))
        })
}

/// One upgrade, as the server saw it and answered it, credentials redacted.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeRecord {
    pub connection: u64,
    pub tag: Option<String>,
    /// `GET /ws?inspect=… HTTP/1.1`, token parameters redacted.
    pub request_line: String,
    /// Every header as received (names lowercase), credentials redacted.
    pub request_headers: Vec<(String, String)>,
    /// Bytes of the request head as received (`name: value\r\n` per header, before redaction),
    /// so the inspector's byte counts stay true although values are hidden.
    pub request_head_bytes: usize,
    pub key: String,
    pub accept: String,
    pub offered_subprotocols: Vec<String>,
    pub chosen_subprotocol: Option<String>,
    pub origin: Option<String>,
    /// The 101 answer's status line and headers as written, middleware's headers included
    /// ([`HeadToRecord`]); actix adds `date` when it writes the head.
    pub response_head: String,
    /// The frames of the last message the client sent on this connection (the echo notes it),
    /// so the inspector can show how the browser framed a file.
    pub last_message: Option<MessageFrames>,
}

/// What a handshake's tag (a page's `?inspect=`, the `{tag}` of `/api/handshake/{tag}`) must be:
/// plain enough to put in a URL.
pub const TAG_RULE: &str = "1 to 64 letters, digits or dashes";

/// Whether `tag` follows [`TAG_RULE`].
pub fn is_tag(tag: &str) -> bool {
    (1..=64).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The most recent handshakes, bounded: the oldest leaves when a new one comes.
#[derive(Default)]
pub struct HandshakeLog {
    records: Mutex<VecDeque<HandshakeRecord>>,
}

/// How many handshakes the inspector can look back on.
const HANDSHAKES_KEPT: usize = 256;

impl HandshakeLog {
    pub fn push(&self, record: HandshakeRecord) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == HANDSHAKES_KEPT {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Notes the frames of the last message received on the newest connection tagged `tag`.
    pub fn note_message(&self, tag: &str, frames: MessageFrames) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = records
            .iter_mut()
            .rev()
            .find(|r| r.tag.as_deref() == Some(tag))
        {
            record.last_message = Some(frames);
        }
    }

    /// Replaces the 101 head of connection `connection`'s record with the head as written.
    fn note_written_head(&self, connection: u64, head: String) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = records
            .iter_mut()
            .rev()
            .find(|r| r.connection == connection)
        {
            record.response_head = head;
        }
    }

    /// The newest handshake carrying `tag` (chosen by the page that opened it).
    pub fn find(&self, tag: &str) -> Option<HandshakeRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records
            .iter()
            .rev()
            .find(|r| r.tag.as_deref() == Some(tag))
            .cloned()
    }
}

/// Builds the record of an accepted upgrade; `tag` is the page's `?inspect=` value, if any;
/// `spoken` the endpoint's subprotocols (any other offered value is redacted, see
/// [`crate::redact`]).
pub fn record_handshake(
    req: &HttpRequest,
    response: &actix_web::HttpResponse,
    connection: u64,
    tag: Option<String>,
    chosen: Option<&str>,
    spoken: &[&str],
) -> HandshakeRecord {
    let text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = text(header::SEC_WEBSOCKET_KEY).unwrap_or_default();
    let uri = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let request_line = format!("{} {} {:?}", req.method(), uri, req.version());
    let request_head_bytes = request_line.len()
        + 2
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + 2 + v.as_bytes().len() + 2)
            .sum::<usize>()
        + 2;
    HandshakeRecord {
        connection,
        tag,
        request_line: format!("{} {} {:?}", req.method(), redact::url(uri), req.version()),
        request_headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = v.to_str().unwrap_or("<binary>");
                let shown = redact::header_value(k.as_str(), value, spoken);
                (k.to_string(), shown.into_owned())
            })
            .collect(),
        request_head_bytes,
        accept: accept_key(&key),
        key,
        offered_subprotocols: text(header::SEC_WEBSOCKET_PROTOCOL)
            .map(|v| {
                v.split(',')
                    .map(|p| redact::subprotocol(p.trim(), spoken))
                    .collect()
            })
            .unwrap_or_default(),
        chosen_subprotocol: chosen.map(str::to_owned),
        origin: text(header::ORIGIN),
        response_head: response_head(response),
        last_message: None,
    }
}

/// The head an upgrade's record holds: the handler's answer, until the server wrote it
/// ([`HeadToRecord::written`]).
fn response_head(response: &actix_web::HttpResponse) -> String {
    head_text(response.status(), response.headers())
}

/// A 101 head as actix-http's encoder writes it, status line and `name: value` lines (the
/// blank line and `date` left out): `connection: upgrade` comes from the answer's connection
/// type, right after the status line, and a `connection` header of the map is never written.
fn head_text(status: StatusCode, headers: &HeaderMap) -> String {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nconnection: upgrade\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in headers.iter().filter(|(n, _)| *n != header::CONNECTION) {
        head.push_str(&format!(
            "{name}: {}\r\n",
            value.to_str().unwrap_or("<binary>")
        ));
    }
    head
}

/// Put on a recorded upgrade's answer: the middleware adds headers after the handler made the
/// record (`vary: Origin`, CORS), so the server, which writes the head, gives it back here and
/// the inspector shows the 101 as it went out, with its true size.
pub struct HeadToRecord {
    log: Arc<HandshakeLog>,
    connection: u64,
}

impl HeadToRecord {
    pub fn new(log: Arc<HandshakeLog>, connection: u64) -> HeadToRecord {
        HeadToRecord { log, connection }
    }

    /// The head as the server is about to write it.
    pub fn written(self, status: StatusCode, headers: &HeaderMap) {
        self.log
            .note_written_head(self.connection, head_text(status, headers));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_of_the_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
