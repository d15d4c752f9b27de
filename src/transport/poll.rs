//! Short polling: `GET /api/poll?since=S` answers at once with what is new, possibly nothing.
//!
//! The client decides the pace; every answer costs a full HTTP exchange, and an event waits on
//! average half the poll interval before anyone asks for it. The meter shows both.

use actix_web::{HttpResponse, web};

use super::{
    answer::answer,
    cursor::{SinceQuery, cursor_or_now},
};
use crate::{error::ApiError, network::hold_answer, state::AppState, transport_kind::Transport};

pub async fn short_poll(
    state: web::Data<AppState>,
    query: web::Query<SinceQuery>,
) -> Result<HttpResponse, ApiError> {
    let _open = state.meter.connection(Transport::Poll);
    let cursor = cursor_or_now(query.since, state.hub.last_seq());
    let batch = state.hub.since(cursor, usize::MAX)?;
    hold_answer(state.added_delay(Transport::Poll), &state.shutdown).await;
    Ok(answer(&state, Transport::Poll, &batch))
}
