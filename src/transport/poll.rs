//! Short polling: `GET /api/poll?since=S` answers at once with what is new, possibly nothing.
//!
//! The client decides the pace; every answer costs a full HTTP exchange, and an event waits on
//! average half the poll interval before anyone asks for it. The meter shows both.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    answer::{answer, follow_window, live_since},
    cursor::Resume,
};
use crate::{
    error::ApiError, limits::client_key, network::hold_answer, state::AppState,
    transport_kind::Transport,
};

pub async fn short_poll(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::Poll);
    let started = std::time::Instant::now();
    let resume = Resume::of_request(&req)?;
    let live = live_since(
        &state,
        client_key(&req),
        Transport::Poll,
        resume.since,
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
