//! Where a follower starts: the `since` cursor shared by every transport, and the poll answer.
//!
//! `since=S` means "events with seq > S". Without it a follower starts from now (the current
//! last seq): it receives what comes next, and learns `last_seq` to resume from later.

use std::sync::Arc;

use serde::Deserialize;

use crate::feed::{Batch, Event};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinceQuery {
    pub since: Option<u64>,
}

/// The cursor for a query: `since`, or the feed's current end.
pub fn cursor_or_now(since: Option<u64>, last_seq: u64) -> u64 {
    since.unwrap_or(last_seq)
}

/// The body of a poll or long-poll answer: `{"events":[...],"last_seq":N,"missed":K}`.
/// Built from the events' pre-encoded JSON, without serializing any event again.
pub fn batch_json(batch: &Batch) -> String {
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
        "],\"last_seq\":{},\"missed\":{}}}",
        batch.last_seq, batch.missed
    ));
    body
}

/// A notice sent on a stream when events the client needed have left the buffer.
pub fn missed_notice(missed: u64, resumed_at: Option<&Arc<Event>>, last_seq: u64) -> String {
    let resume = resumed_at.map_or(last_seq + 1, |e| e.seq);
    format!(
        "{{\"type\":\"missed\",\"missed\":{missed},\"resume_seq\":{resume},\"last_seq\":{last_seq}}}"
    )
}
