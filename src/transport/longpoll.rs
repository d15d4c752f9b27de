//! Long polling: `GET /api/longpoll?since=S&timeout_ms=T` is held until an event after S exists,
//! then answered at once; after T ms it is answered empty. A client that closes its connection
//! while held is noticed at once (the server does not keep half-closed connections) and counted
//! as abandoned.
//!
//! The wait is one `relay::wait_since`: a publish wakes every held poll of a worker from that
//! worker's own thread, no loop re-checks a timer.
//! On shutdown held polls are answered (empty) so that clients are not left hanging; on an
//! instructor's drop they are cut off mid-answer, as by a failing network.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    answer::{answer, follow_window, live_since},
    cursor::{QueryParams, Resume},
    relay,
};
use crate::{
    error::ApiError,
    limits::client_key,
    network::{broken_response, hold_answer},
    state::AppState,
    transport_kind::Transport,
};

/// Hold time when the client does not say (PROTOCOL.md), under typical proxies' 30 s idle cut.
pub const DEFAULT_TIMEOUT_MS: u64 = 25_000;

/// What a long poll asks: `?since=S&epoch=E&timeout_ms=T&catch_up=1` (see `cursor` for the
/// aliases clients use).
pub struct Query {
    /// Where to resume.
    pub resume: Resume,
    /// The hold asked for, ms ([`DEFAULT_TIMEOUT_MS`] when not said).
    pub timeout_ms: u64,
    /// The client was away: what it missed is catch-up (see `answer::live_since`).
    pub catch_up: bool,
}

/// Reads a long poll's [`Query`]. Errors: a 400 naming the parameter.
pub fn query(req: &HttpRequest) -> Result<Query, ApiError> {
    let params = QueryParams::of(req)?;
    Ok(Query {
        resume: Resume::of(req, &params)?,
        timeout_ms: params.number("timeout_ms")?.unwrap_or(DEFAULT_TIMEOUT_MS),
        catch_up: params.switch("catch_up")?.unwrap_or(false),
    })
}

/// `GET /api/longpoll` (see [`query`]).
pub async fn long_poll(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::LongPoll);
    let started = std::time::Instant::now();
    let Query {
        resume,
        timeout_ms: asked,
        catch_up,
    } = query(&req)?;
    let client = client_key(&req);
    let live = live_since(
        &state,
        client,
        Transport::LongPoll,
        resume.since,
        catch_up,
        started,
        follow_window(Transport::LongPoll, None),
    );
    // Dropped unanswered (the client closed while held: actix drops this future), it counts
    // as abandoned, not as an empty answer.
    let owed = state.meter.owed(Transport::LongPoll);
    let (start, backlog) = state.resume(resume.since, resume.epoch.as_deref()).await;
    // The bound: a longer hold than the instructor's cap is shortened to it, not refused.
    let cap = state.network.borrow().longpoll_max_ms;
    // A reset is news in itself: answered at once, even if the new run has no event yet; so
    // are events read back from the broker.
    let hold = if start.reset.is_some() || backlog.is_some() {
        Duration::ZERO
    } else {
        Duration::from_millis(asked.min(cap))
    };
    let until = tokio::time::Instant::now() + hold;
    let dropped = state.faults.drop_token(Transport::LongPoll);
    let stop = async {
        tokio::select! {
            _ = state.shutdown.cancelled() => {}
            _ = dropped.cancelled() => {}
        }
    };
    let cursor = backlog
        .as_ref()
        .map_or(start.cursor, |b| b.next_cursor(start.cursor));
    let batch = relay::wait_since(&state.hub, cursor, usize::MAX, until, stop).await?;
    let batch = match backlog {
        Some(backlog) => backlog.then(batch),
        None => batch,
    };
    if dropped.is_cancelled() {
        owed.settled();
        state.meter.no_feed(Transport::LongPoll);
        return Ok(broken_response());
    }
    hold_answer(state.added_delay(Transport::LongPoll), &state.shutdown).await;
    owed.settled();
    Ok(answer(
        &state,
        Transport::LongPoll,
        client,
        &batch,
        start.reset.as_ref(),
        live,
    ))
}
