//! Short polling: `GET /api/poll?since=S` answers at once with what is new, possibly nothing
//! (`&catch_up=1`: the client was away, see `answer::live_since`).
//!
//! The client decides the pace; every answer costs a full HTTP exchange, and an event waits on
//! average half the poll interval before anyone asks for it. The meter shows both.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    answer::{answer, follow_window, live_since},
    cursor::{QueryParams, Resume},
};
use crate::{
    error::ApiError, limits::client_key, network::hold_answer, state::AppState,
    transport_kind::Transport,
};

/// Reads a short poll's `?since=S&epoch=E&catch_up=1`: where to resume, and whether the client
/// was away. Errors: a 400 naming the parameter.
pub fn query(req: &HttpRequest) -> Result<(Resume, bool), ApiError> {
    let params = QueryParams::of(req)?;
    let resume = Resume::of(req, &params)?;
    Ok((resume, params.switch("catch_up")?.unwrap_or(false)))
}

/// `GET /api/poll` (see [`query`]).
pub async fn short_poll(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::Poll);
    let started = std::time::Instant::now();
    let (resume, catch_up) = query(&req)?;
    let live = live_since(
        &state,
        client_key(&req),
        Transport::Poll,
        resume.since,
        catch_up,
        started,
        follow_window(Transport::Poll, None),
    );
    let (start, backlog) = state.resume(resume.since, resume.epoch.as_deref()).await;
    let batch = match backlog {
        Some(backlog) => {
            let rest = state
                .hub
                .since(backlog.next_cursor(start.cursor), usize::MAX)?;
            backlog.then(rest)
        }
        None => state.hub.since(start.cursor, usize::MAX)?,
    };
    hold_answer(state.added_delay(Transport::Poll), &state.shutdown).await;
    Ok(answer(
        &state,
        Transport::Poll,
        client_key(&req),
        &batch,
        start.reset.as_ref(),
        live,
    ))
}
