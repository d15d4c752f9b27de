//! The edge of a graceful stop: once the server is stopping (`AppState::shutdown` cancelled, up
//! to `SHUTDOWN_TIMEOUT_SECS` before it exits), a kept-alive connection may still bring requests.
//!
//! - A request that would be held (a long poll, a WebSocket on any path) is refused `503` with
//!   `Retry-After` (RFC 9110 §15.6.4): answered, it would end at once, empty, and its client
//!   would take it for a stream that opened and broke (a long-poll client polls again at once,
//!   thousands of times a second), each time counted by the client and by a server that
//!   delivers nothing more.
//! - An SSE stream gets no answer at all: its connection is closed before a byte is written
//!   (`ConnTap::hang_up`). A browser's `EventSource` takes any status but 200 as final and never
//!   opens again (WHATWG HTML §9.2.3, "fail the connection"): a student's plain client would stop
//!   for good at a restart. A connection closed unanswered is a network error, which it retries
//!   after its `retry:`; a kept-alive connection closed so is one whose GET an HTTP client may
//!   send again at once on a new connection (RFC 9112 §9.3.1), to the server that takes over.
//! - So is a short poll: the instructor may start the next server while this one drains (it has
//!   let go of the port), and an answer from this one after the new period began would be
//!   counted by the page in the new server's period, above "all clients". The refusal says
//!   `"stopping": true`, and the pages leave it out of their counts. The classic page is still
//!   served (a reader's meta refresh would stop at an error), marked for the dashboard to leave
//!   it out (`data-stopping`).
//! - Every answer, refused or served, closes its connection (`Connection: close`, RFC 9112
//!   §9.6), so the client's next request opens a new one, to the server that takes over.

use actix_http::ConnectionType;
use actix_web::{
    HttpResponse,
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    web,
};

use std::rc::Rc;

use super::{origin::is_websocket_upgrade, tap::ConnTap};
use crate::{state::AppState, transport_kind::Transport};

/// The `Retry-After` of a request refused while stopping (s): a restart takes about this long.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Whether the server whose state a request carries (`app_data`) is stopping.
fn is_stopping(state: Option<&web::Data<AppState>>) -> bool {
    state.is_some_and(|state| state.shutdown.is_cancelled())
}

/// The `503` of a request that would be held, or of a short poll (see the module's doc), while
/// the server is stopping; `None` otherwise. `transport`: the request path's.
pub fn refusal(req: &ServiceRequest, transport: Option<Transport>) -> Option<HttpResponse> {
    let refused = || would_be_held(req, transport) || transport == Some(Transport::Poll);
    if !is_stopping(req.app_data()) || !refused() {
        return None;
    }
    if is_event_stream(req, transport) {
        // The refusal below is then never written (see the module's doc).
        if let Some(tap) = req.conn_data::<Rc<ConnTap>>() {
            tap.hang_up();
        }
    }
    Some(
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({
                "error": "the server is stopping: it takes no new stream or poll (try again, \
                          the server that takes over answers)",
                "stopping": true,
            })),
    )
}

/// An SSE stream (the feed's or the stats'), a long poll or a WebSocket upgrade (any path).
fn would_be_held(req: &ServiceRequest, transport: Option<Transport>) -> bool {
    is_event_stream(req, transport)
        || transport == Some(Transport::LongPoll)
        || is_websocket_upgrade(req)
}

/// An SSE stream: the feed's or the stats'.
fn is_event_stream(req: &ServiceRequest, transport: Option<Transport>) -> bool {
    transport == Some(Transport::Sse) || req.path() == "/api/stats/stream"
}

/// Makes `res` close its connection once written, if the server is stopping now (a poll held
/// across the start of the stop included). A `101` is left alone: its connection is the
/// WebSocket's, which the stop closes with its own close frame.
pub fn close_if_stopping<B>(res: &mut ServiceResponse<B>) {
    if is_stopping(res.request().app_data()) && res.status() != StatusCode::SWITCHING_PROTOCOLS {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
}
