//! Short polling: `GET /api/poll?since=S` answers at once with what is new, possibly nothing.
//!
//! The client decides the pace; every answer costs a full HTTP exchange, and an event waits on
//! average half the poll interval before anyone asks for it. The meter shows both.

use actix_web::{HttpResponse, http::header, web};

use super::{
    network::hold_answer,
    since::{SinceQuery, batch_json, cursor_or_now},
};
use crate::{
    feed::Batch,
    meter::Transport,
    server::{AppState, error::ApiError},
};

pub async fn short_poll(
    state: web::Data<AppState>,
    query: web::Query<SinceQuery>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::Poll);
    let cursor = cursor_or_now(query.since, state.hub.last_seq());
    let batch = state.hub.since(cursor, usize::MAX)?;
    hold_answer(&state, Transport::Poll).await;
    Ok(answer(&state, Transport::Poll, &batch))
}

/// Records the hand-off of `batch` and writes the JSON answer (shared with the long poll).
pub(super) fn answer(state: &AppState, transport: Transport, batch: &Batch) -> HttpResponse {
    state.meter.delivered(transport, &batch.events);
    state.meter.missed(transport, batch.missed);
    if batch.events.is_empty() {
        state.meter.empty(transport);
    }
    HttpResponse::Ok()
        .content_type("application/json")
        // Every poll must reach the server: a cached answer would hide events.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(batch_json(batch))
}
