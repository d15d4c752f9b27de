//! What the server's edge refused before any transport saw the request: connections over
//! `--max-connections-per-address`, and request bodies that stalled past their deadline. Shown
//! in `/api/stats` as `"edge"`, zeroed with the other totals.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

#[derive(Debug, Default)]
pub struct EdgeCounters {
    connections_refused: AtomicU64,
    bodies_timed_out: AtomicU64,
}

/// `"edge"` in `/api/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeStats {
    /// Connections answered 429 and closed at accept: their address held the most it may.
    pub connections_refused: u64,
    /// Requests answered 408: their body stalled (`--body-idle-secs`, `--body-timeout-secs`).
    pub bodies_timed_out: u64,
}

impl EdgeCounters {
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    pub fn body_timed_out(&self) {
        self.bodies_timed_out.fetch_add(1, Relaxed);
    }

    pub fn reset(&self) {
        self.connections_refused.store(0, Relaxed);
        self.bodies_timed_out.store(0, Relaxed);
    }

    pub fn snapshot(&self) -> EdgeStats {
        EdgeStats {
            connections_refused: self.connections_refused.load(Relaxed),
            bodies_timed_out: self.bodies_timed_out.load(Relaxed),
        }
    }
}
