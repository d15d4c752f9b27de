//! What a `HEAD` on a feed transport needs to answer as its `GET` would (RFC 9110 §9.3.2)
//! without following the feed: the header fields of each transport's answers (one list per
//! transport, which the transport itself writes too), and the refusal of a malformed query.

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, http::StatusCode};

use super::{classic, cursor::Resume, longpoll};
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

/// The refusal a `GET` of `transport` would answer for this request's query (a parameter that
/// is not what it accepts), for a `HEAD` to answer the same: the JSON 400 of the polls and the
/// stream, the classic page's 400 with its fields. `None` when the query is fine. Each
/// transport's own parsing decides ([`Resume::of_request`], [`longpoll::query`],
/// [`classic::query_is_valid`]), so the two can never disagree on what is malformed.
pub fn query_refusal(transport: Transport, req: &HttpRequest) -> Option<HttpResponse> {
    let refused = match transport {
        Transport::Poll | Transport::Sse => Resume::of_request(req).err(),
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
