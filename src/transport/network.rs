//! The simulated network between pushlab and its clients, as the instructor sets it: an added
//! delay per transport, and connections dropped on purpose (see `server::faults`).
//!
//! Added delay, the rule every transport follows: no event leaves before it was published plus
//! the delay (push transports hold it back until then), and no answer leaves before it was ready
//! plus the delay (polling answers wait that long after being computed). Either way the delay
//! shows in `delay_us`, which measures hand-off minus publish.

use std::time::Duration;

use actix_web::{HttpResponse, web::Bytes};
use futures_util::stream;

use crate::{meter::Transport, server::AppState};

/// The added delay of `transport` now.
pub fn added_delay(state: &AppState, transport: Transport) -> Duration {
    state.settings.borrow().added_delay_ms.of(transport)
}

/// Holds an answer of `transport` for its added delay (cut short by shutdown).
pub async fn hold_answer(state: &AppState, transport: Transport) {
    let delay = added_delay(state, transport);
    if delay.is_zero() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = state.shutdown.cancelled() => {}
    }
}

/// The error a dropped stream ends with: actix then closes the connection without finishing
/// the response, which is what a client sees when the network goes away.
pub fn dropped_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection dropped by the instructor (fault injection)",
    )
}

/// A response that breaks off after its head: the answer of a request caught by a drop.
pub fn broken_response() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(stream::once(async { Err::<Bytes, _>(dropped_error()) }))
}
