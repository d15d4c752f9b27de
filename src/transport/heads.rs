//! What a `HEAD` on a feed transport needs to answer as its `GET` would (RFC 9110 §9.3.2)
//! without following the feed: the header fields of each transport's answers (one list per
//! transport, which the transport itself writes too), and the refusal of a malformed query.

use actix_web::{
    HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError,
    http::{
        StatusCode,
        header::{HeaderName, HeaderValue},
    },
};

use super::{classic, cursor::Resume, longpoll, poll};
use crate::transport_kind::Transport;

/// `(name, value)` pairs of `transport`'s answers; `None` for the WebSocket, whose `GET`
/// without an upgrade is a refusal that delivers nothing.
///
/// - `cache-control: no-store` on the pages and polls: every poll must reach the server, a
///   cached answer would hide events; `no-cache` on the stream, as EventSource expects.
/// - `vary` on the classic page: it is written in the reader's language, and a frame gets it
///   without its links (`Sec-Fetch-Dest`).
/// - `x-accel-buffering: no` on the stream: a proxy that buffers (nginx) would hold events.
pub fn answer_headers(transport: Transport) -> Option<&'static [(HeaderName, HeaderValue)]> {
    // Typed constants: a held poll's answer puts them without parsing a name (a long-poll
    // publish answers every held poll in one go, and each µs there is a µs of its p99).
    const fn field(name: &'static str, value: &'static str) -> (HeaderName, HeaderValue) {
        (
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    }
    static CLASSIC: [(HeaderName, HeaderValue); 3] = [
        field("content-type", "text/html; charset=utf-8"),
        field("cache-control", "no-store"),
        field("vary", "accept-language, sec-fetch-dest"),
    ];
    static POLL: [(HeaderName, HeaderValue); 2] = [
        field("content-type", "application/json"),
        field("cache-control", "no-store"),
    ];
    static SSE: [(HeaderName, HeaderValue); 3] = [
        field("content-type", "text/event-stream"),
        field("cache-control", "no-cache"),
        field("x-accel-buffering", "no"),
    ];
    match transport {
        Transport::Classic => Some(&CLASSIC),
        Transport::Poll | Transport::LongPoll => Some(&POLL),
        Transport::Sse => Some(&SSE),
        Transport::Ws => None,
    }
}

/// Puts `transport`'s header fields on `answer`.
pub fn put_answer_headers(answer: &mut HttpResponseBuilder, transport: Transport) {
    for (name, value) in answer_headers(transport).unwrap_or_default() {
        answer.insert_header((name.clone(), value.clone()));
    }
}

/// The refusal a `GET` of `transport` would answer for this request's query (a parameter that
/// is not what it accepts), for a `HEAD` to answer the same: the JSON 400 of the polls and the
/// stream, the classic page's 400 with its fields. `None` when the query is fine. Each
/// transport's own parsing decides ([`poll::query`], [`Resume::of_request`], [`longpoll::query`],
/// [`classic::query_is_valid`]), so the two can never disagree on what is malformed.
pub fn query_refusal(transport: Transport, req: &HttpRequest) -> Option<HttpResponse> {
    let refused = match transport {
        Transport::Poll => poll::query(req).err(),
        Transport::Sse => Resume::of_request(req).err(),
        Transport::LongPoll => longpoll::query(req).err(),
        Transport::Classic => {
            if classic::query_is_valid(req) {
                return None;
            }
            let mut page = HttpResponse::build(StatusCode::BAD_REQUEST);
            put_answer_headers(&mut page, Transport::Classic);
            return Some(page.finish());
        }
        Transport::Ws => None,
    };
    refused.map(|error| error.error_response())
}
