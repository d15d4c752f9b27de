//! The console's login sessions: random ids, each valid for a teaching day, at most
//! [`MAX_SESSIONS`] at once. The cookie carries an id, never the admin token (see `admin::auth`).
//!
//! Shared state, kept in `AppState`; imports nothing of pushlab.

use std::{
    collections::VecDeque,
    sync::Mutex,
    time::{Duration, Instant},
};

/// A console session lasts one teaching day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Most console sessions at once; a new login beyond this ends the oldest one.
pub const MAX_SESSIONS: usize = 64;

/// The open console sessions, oldest first: random ids and when they were opened.
#[derive(Default)]
pub struct Sessions {
    opened: Mutex<VecDeque<(String, Instant)>>,
}

impl Sessions {
    /// Opens a session and returns its id (128 random bits, hex).
    pub fn open(&self) -> String {
        let id: String = rand::random::<[u8; 16]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.retain(|(_, at)| at.elapsed() < SESSION_LIFETIME);
        if opened.len() >= MAX_SESSIONS {
            // The bound: the oldest session ends (its instructor logs in again).
            opened.pop_front();
        }
        opened.push_back((id.clone(), Instant::now()));
        id
    }

    /// Whether `id` is an open, unexpired session. Every id is compared in constant time.
    pub fn valid(&self, id: &str) -> bool {
        let opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.iter().fold(false, |found, (known, at)| {
            let matches = constant_time_eq(known.as_bytes(), id.as_bytes());
            found | (matches && at.elapsed() < SESSION_LIFETIME)
        })
    }

    pub fn close(&self, id: &str) {
        self.opened
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(known, _)| known != id);
    }
}

/// Compares without an early exit on the first different byte, so that the response time says
/// nothing about how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_open_check_and_close() {
        let sessions = Sessions::default();
        let id = sessions.open();
        assert_eq!(id.len(), 32);
        assert!(sessions.valid(&id));
        assert!(!sessions.valid("0123"));
        assert!(!sessions.valid(""));
        sessions.close(&id);
        assert!(!sessions.valid(&id));
    }

    #[test]
    fn the_oldest_session_ends_at_the_bound() {
        let sessions = Sessions::default();
        let first = sessions.open();
        for _ in 1..MAX_SESSIONS {
            sessions.open();
        }
        assert!(sessions.valid(&first));
        sessions.open();
        assert!(!sessions.valid(&first));
    }
}
