//! The answer of a poll and a long poll: `{"events":[...],"last_seq":N,"missed":K,"epoch":E}`
//! (and `"reset"` when the client's resume belonged to another run), and what the meter learns
//! from it. Shared by both polling transports, so they count alike.

use actix_web::{HttpResponse, http::header};

use crate::{
    feed::{Batch, Reset},
    limits::ClientKey,
    state::AppState,
    transport_kind::Transport,
};

/// Records the hand-off of `batch` to `client` (delivered, missed, or an empty answer) and
/// writes the JSON.
pub fn answer(
    state: &AppState,
    transport: Transport,
    client: ClientKey,
    batch: &Batch,
    reset: Option<&Reset>,
) -> HttpResponse {
    state.meter.delivered(transport, &batch.events);
    state
        .ledger
        .delivered(client, transport, batch.events.len());
    state.meter.missed(transport, batch.missed);
    if batch.events.is_empty() {
        state.meter.empty(transport);
    }
    HttpResponse::Ok()
        .content_type("application/json")
        // Every poll must reach the server: a cached answer would hide events.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(batch_json(batch, state.hub.epoch(), reset))
}

/// The body of a poll or long-poll answer, built from the events' pre-encoded JSON without
/// serializing any event again.
pub fn batch_json(batch: &Batch, epoch: &str, reset: Option<&Reset>) -> String {
    let size: usize = batch.events.iter().map(|e| e.json().len() + 1).sum();
    let mut body = String::with_capacity(size + 64);
    body.push_str("{\"events\":[");
    for (i, event) in batch.events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(event.json());
    }
    body.push_str(&format!(
        "],\"last_seq\":{},\"missed\":{},\"epoch\":{}",
        batch.last_seq,
        batch.missed,
        serde_json::Value::from(epoch)
    ));
    if let Some(reset) = reset {
        body.push_str(",\"reset\":");
        body.push_str(&serde_json::to_string(reset).unwrap_or_default());
    }
    body.push('}');
    body
}
