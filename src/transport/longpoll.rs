//! Long polling: `GET /api/longpoll?since=S&timeout_ms=T` is held until an event after S exists,
//! then answered at once; after T ms it is answered empty.
//!
//! The wait is one `Hub::wait_since`: a publish wakes every held poll, no loop re-checks a timer.
//! On shutdown held polls are answered (empty) so that clients are not left hanging.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{poll::answer, since::cursor_or_now};
use crate::{
    meter::Transport,
    server::{AppState, error::ApiError},
};

/// Hold time when the client does not say (PROTOCOL.md), under typical proxies' 30 s idle cut.
pub const DEFAULT_TIMEOUT_MS: u64 = 25_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongPollQuery {
    since: Option<u64>,
    timeout_ms: Option<u64>,
}

pub async fn long_poll(
    state: web::Data<AppState>,
    query: web::Query<LongPollQuery>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::LongPoll);
    let cursor = cursor_or_now(query.since, state.hub.last_seq());
    // The bound: a longer hold than the server allows is shortened to it, not refused.
    let hold = Duration::from_millis(query.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS))
        .min(state.config.longpoll_max());
    let until = tokio::time::Instant::now() + hold;
    let batch = state
        .hub
        .wait_since(cursor, usize::MAX, until, state.shutdown.cancelled())
        .await?;
    Ok(answer(&state, Transport::LongPoll, &batch))
}
