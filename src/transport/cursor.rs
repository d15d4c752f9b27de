//! Where a follower starts: the `since` cursor shared by every transport.
//!
//! `since=S` means "events with seq > S". Without it a follower starts from now (the current
//! last seq): it receives what comes next, and learns `last_seq` to resume from later.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinceQuery {
    pub since: Option<u64>,
}

/// The cursor for a query: `since`, or the feed's current end.
pub fn cursor_or_now(since: Option<u64>, last_seq: u64) -> u64 {
    since.unwrap_or(last_seq)
}
