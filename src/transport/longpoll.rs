//! Long polling: `GET /api/longpoll?since=S&timeout_ms=T` is held until an event after S exists,
//! then answered at once; after T ms it is answered empty.
//!
//! The wait is one `Hub::wait_since`: a publish wakes every held poll, no loop re-checks a timer.
//! On shutdown held polls are answered (empty) so that clients are not left hanging; on an
//! instructor's drop they are cut off mid-answer, as by a failing network.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{answer::answer, cursor::cursor_or_now};
use crate::{
    error::ApiError,
    network::{broken_response, hold_answer},
    state::AppState,
    transport_kind::Transport,
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
    // The bound: a longer hold than the instructor's cap is shortened to it, not refused.
    let cap = state.network.borrow().longpoll_max_ms;
    let hold = Duration::from_millis(query.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).min(cap));
    let until = tokio::time::Instant::now() + hold;
    let dropped = state.faults.drop_token(Transport::LongPoll);
    let stop = async {
        tokio::select! {
            _ = state.shutdown.cancelled() => {}
            _ = dropped.cancelled() => {}
        }
    };
    let batch = state
        .hub
        .wait_since(cursor, usize::MAX, until, stop)
        .await?;
    if dropped.is_cancelled() {
        return Ok(broken_response());
    }
    hold_answer(state.added_delay(Transport::LongPoll), &state.shutdown).await;
    Ok(answer(&state, Transport::LongPoll, &batch))
}
