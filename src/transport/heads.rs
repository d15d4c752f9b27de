//! The header fields each feed transport answers with, besides its length: one list per
//! transport, written by the transport itself and by the server's answer to a `HEAD`, which
//! must carry the fields the `GET` would (RFC 9110 §9.3.2).

use actix_web::HttpResponseBuilder;

use crate::transport_kind::Transport;

/// `(name, value)` pairs of `transport`'s answers; `None` for the WebSocket, whose `GET`
/// without an upgrade is a refusal that delivers nothing.
///
/// - `cache-control: no-store` on the pages and polls: every poll must reach the server, a
///   cached answer would hide events; `no-cache` on the stream, as EventSource expects.
/// - `vary` on the classic page: it is written in the reader's language, and a frame gets it
///   without its links (`Sec-Fetch-Dest`).
/// - `x-accel-buffering: no` on the stream: a proxy that buffers (nginx) would hold events.
pub fn answer_headers(transport: Transport) -> Option<&'static [(&'static str, &'static str)]> {
    match transport {
        Transport::Classic => Some(&[
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-store"),
            ("vary", "accept-language, sec-fetch-dest"),
        ]),
        Transport::Poll | Transport::LongPoll => Some(&[
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
        ]),
        Transport::Sse => Some(&[
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("x-accel-buffering", "no"),
        ]),
        Transport::Ws => None,
    }
}

/// Puts `transport`'s header fields on `answer`.
pub fn put_answer_headers(answer: &mut HttpResponseBuilder, transport: Transport) {
    for &(name, value) in answer_headers(transport).unwrap_or_default() {
        answer.insert_header((name, value));
    }
}
