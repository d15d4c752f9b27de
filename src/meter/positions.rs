//! Where each address's polling clients stand: the positions (`last_seq`) recently handed to it
//! per polling transport, and when. A request whose `since` is one of them comes from a client
//! that follows the feed (whatever its interval, on whatever connection: browsers share
//! keep-alive connections between tabs), so the events after it waited for this transport and
//! are live. A `since` this address was never handed is a resume: what was published before the
//! request is catch-up (see `transport::answer`).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::{limits::ClientKey, transport_kind::Transport};

/// Positions remembered per address and transport: one per tab or poller of that address
/// following at once, with room to spare (a class behind one NAT shares one address).
pub const POSITIONS_PER_ADDRESS: usize = 64;

/// Most addresses remembered at once. An entry is about 64 × 24 bytes per transport used, so at
/// most about 6 MiB if every address polled on all three. At the bound the least recently served
/// address is forgotten: its next request is judged as a first one (by its grace).
pub const MAX_POSITION_ADDRESSES: usize = 4096;

/// Longest a position is remembered (s): past it, whatever the transport, a request asking
/// after it is judged as a first one (see `handed_at`'s `max_age` for each transport's own).
pub const POSITION_TTL: Duration = Duration::from_secs(3600);

type Key = (ClientKey, Transport);
/// When the address last polled, and its latest positions with when each was handed, oldest
/// first.
type Recent = (Instant, VecDeque<(u64, Instant)>);

/// The recent positions of every address (shared by all workers; locked for one lookup).
#[derive(Default)]
pub struct Positions {
    table: Mutex<HashMap<Key, Recent>>,
}

impl Positions {
    /// `transport` handed `client` everything up to `last_seq`, now.
    pub fn handed(&self, client: ClientKey, transport: Transport, last_seq: u64, now: Instant) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let full = table.len() >= MAX_POSITION_ADDRESSES;
        if full && !table.contains_key(&(client, transport)) {
            // At the bound (rare: 4096 addresses), one scan finds the least recent to forget.
            let oldest = table
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                table.remove(&oldest);
            }
        }
        let (used, positions) = table
            .entry((client, transport))
            .or_insert_with(|| (now, VecDeque::new()));
        *used = now;
        // A position is listed once (the latest hand-off). Most often it is the last one: the
        // clients of an address (a classroom behind one NAT) are handed the same publish.
        if let Some(last) = positions.back_mut().filter(|(seq, _)| *seq == last_seq) {
            last.1 = now;
            return;
        }
        positions.retain(|&(seq, _)| seq != last_seq);
        if positions.len() == POSITIONS_PER_ADDRESS {
            positions.pop_front();
        }
        positions.push_back((last_seq, now));
    }

    /// When `client` was handed everything up to `since` by `transport`, if it was within
    /// `max_age` (at most [`POSITION_TTL`]) of `now`: the events after it are live since then.
    pub fn handed_at(
        &self,
        client: ClientKey,
        transport: Transport,
        since: u64,
        now: Instant,
        max_age: Duration,
    ) -> Option<Instant> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let (_, positions) = table.get(&(client, transport))?;
        positions
            .iter()
            .rev()
            .find(|&&(seq, _)| seq == since)
            .map(|&(_, at)| at)
            .filter(|at| now.saturating_duration_since(*at) <= max_age.min(POSITION_TTL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: ClientKey = ClientKey::V4([10, 0, 0, 1]);
    const BOB: ClientKey = ClientKey::V4([10, 0, 0, 2]);

    #[test]
    fn a_position_is_known_to_its_address_and_transport_only() {
        let positions = Positions::default();
        let now = Instant::now();
        positions.handed(ANA, Transport::Poll, 42, now);
        let minute = Duration::from_secs(60);
        assert_eq!(
            positions.handed_at(ANA, Transport::Poll, 42, now, minute),
            Some(now)
        );
        assert_eq!(
            positions.handed_at(ANA, Transport::Poll, 41, now, minute),
            None
        );
        assert_eq!(
            positions.handed_at(BOB, Transport::Poll, 42, now, minute),
            None
        );
        assert_eq!(
            positions.handed_at(ANA, Transport::LongPoll, 42, now, minute),
            None
        );
        let later = now + minute + Duration::from_secs(1);
        assert_eq!(
            positions.handed_at(ANA, Transport::Poll, 42, later, minute),
            None
        );
    }

    #[test]
    fn each_address_keeps_its_latest_positions_within_its_bound() {
        let positions = Positions::default();
        let now = Instant::now();
        for seq in 0..(POSITIONS_PER_ADDRESS as u64 + 10) {
            positions.handed(ANA, Transport::Classic, seq, now);
        }
        let hour = POSITION_TTL;
        assert_eq!(
            positions.handed_at(ANA, Transport::Classic, 9, now, hour),
            None
        );
        assert!(
            positions
                .handed_at(ANA, Transport::Classic, 10, now, hour)
                .is_some()
        );
        let table = positions.table.lock().unwrap();
        assert_eq!(
            table[&(ANA, Transport::Classic)].1.len(),
            POSITIONS_PER_ADDRESS
        );
    }
}
