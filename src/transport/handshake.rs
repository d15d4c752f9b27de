//! What both WebSocket endpoints (`/ws` and `/ws/echo`) do around the opening handshake: read
//! their query, keep the handshake for the protocol inspector when the page tagged it, and give
//! each socket its limits from the command line.

use actix_web::HttpRequest;

use super::cursor::QueryParams;
use crate::{
    error::ApiError,
    state::AppState,
    ws::{HeadToRecord, Limits, TAG_RULE, is_tag, record_handshake},
};

/// The `?inspect=` tag a page of the protocol inspector chose, to find this handshake again:
/// 1 to 64 letters, digits or dashes, plain enough to put in a URL.
pub fn inspect_tag(params: &QueryParams) -> Result<Option<String>, ApiError> {
    match params.get(&["inspect"]) {
        None => Ok(None),
        Some(t) if is_tag(t) => Ok(Some(t.to_owned())),
        Some(_) => Err(ApiError::bad_request(format!("inspect must be {TAG_RULE}"))),
    }
}

/// The bounds of a socket: its largest message (`--max-message-bytes` for the feed socket,
/// `--echo-max-message-bytes` for the echo), the shared memory budget (`--ws-memory-bytes`),
/// the heartbeat and the silence timeout.
pub fn socket_limits(state: &AppState, max_message: usize) -> Limits {
    Limits {
        max_message,
        budget: state.ws_memory.clone(),
        heartbeat: state.config.heartbeat_interval(),
        timeout: state.config.client_timeout(),
    }
}

/// Numbers the accepted connection and, when the page tagged it, keeps its handshake for the
/// inspector, credentials redacted (`spoken`: the endpoint's subprotocols, the only offered
/// values shown), to be completed with the head as the server writes it ([`HeadToRecord`], put
/// on `response`). Returns the connection's number (for its logs).
pub fn note_handshake(
    state: &AppState,
    req: &HttpRequest,
    response: &mut actix_web::HttpResponse,
    tag: Option<String>,
    protocol: Option<&str>,
    spoken: &[&str],
) -> u64 {
    let connection = state.connection_id();
    if tag.is_some() {
        state.handshakes.push(record_handshake(
            req, response, connection, tag, protocol, spoken,
        ));
        response
            .extensions_mut()
            .insert(HeadToRecord::new(state.handshakes.clone(), connection));
    }
    connection
}
