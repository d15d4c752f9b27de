//! What each client address was sent, per transport, against the latencies it reported: a
//! client report may not hold more values than its address received events.
//!
//! Every transport adds what it hands a client to that client's tally (push connections keep a
//! small local count and add it every [`FLUSH_EVENTS`] events and when they close, so that no
//! shared cache line is written per event); `POST /api/client-metrics` is admitted only while
//! the address's reports stay within what it was sent. A class behind one NAT shares one tally,
//! and its reports share it too, so the bound holds for it as for a single client.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use crate::{limits::ClientKey, transport_kind::Transport};

/// Most addresses tallied at once. An entry is about 170 bytes (the key, a pointer, and the
/// tally's 15 counters), so at most about 1.4 MiB with the hash table's spare room. At the bound,
/// the tallies no open connection holds are forgotten; if every one is held, a new address's
/// deliveries are counted on a tally outside the table, and its reports are refused until room
/// comes back (its latencies are then missing from the figures, never wrong in them).
pub const MAX_LEDGER_ADDRESSES: usize = 4096;

/// A push connection (SSE, WebSocket) adds its deliveries to its address's tally every this many
/// events, and when it closes. A report may therefore run ahead of the tally by this many events
/// per open connection of its address, which is allowed.
pub const FLUSH_EVENTS: u64 = 32;

/// Values a report may hold beyond what its address was counted as sent, per address and
/// transport, for clients that count their deliveries a little differently from the server
/// (a classic page reloaded by a form post counts from the seq the form carried).
pub const REPORT_GRACE: u64 = 64;

/// One address's deliveries, reports and open push connections, per transport.
#[derive(Default)]
pub struct Tally {
    delivered: [AtomicU64; 5],
    reported: [AtomicU64; 5],
    open: [AtomicU64; 5],
}

/// A report that would make its address claim more latencies than it was sent events.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "this address was sent {delivered} {transport} events and already reported {reported} latencies: {values} more cannot all be measurements of them"
)]
pub struct Unjustified {
    pub transport: &'static str,
    pub delivered: u64,
    pub reported: u64,
    pub values: u64,
}

/// Every address's tally (shared by all workers; the lock is held for a hash lookup).
#[derive(Default)]
pub struct Ledger {
    table: Mutex<HashMap<ClientKey, Arc<Tally>>>,
}

impl Ledger {
    /// The tally of `client`, made if need be (see [`MAX_LEDGER_ADDRESSES`] for the bound).
    fn tally(&self, client: ClientKey) -> Arc<Tally> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tally) = table.get(&client) {
            return tally.clone();
        }
        if table.len() >= MAX_LEDGER_ADDRESSES {
            table.retain(|_, tally| Arc::strong_count(tally) > 1);
        }
        let tally = Arc::new(Tally::default());
        if table.len() < MAX_LEDGER_ADDRESSES {
            table.insert(client, tally.clone());
        }
        tally
    }

    /// `events` handed to `client` in one answer (polls, long polls, the classic page).
    pub fn delivered(&self, client: ClientKey, transport: Transport, events: usize) {
        if events > 0 {
            self.tally(client).delivered[transport.index()].fetch_add(events as u64, Relaxed);
        }
    }

    /// A push connection of `client` opens: count its deliveries on the returned handle.
    pub fn open(&self, client: ClientKey, transport: Transport) -> OpenTally {
        let tally = self.tally(client);
        tally.open[transport.index()].fetch_add(1, Relaxed);
        OpenTally {
            tally,
            index: transport.index(),
            unflushed: 0,
        }
    }

    /// Admits a report of `values` latencies of `transport` from `client`, or says why not.
    pub fn admit_report(
        &self,
        client: ClientKey,
        transport: Transport,
        values: usize,
    ) -> Result<(), Unjustified> {
        let tally = self.tally(client);
        let i = transport.index();
        let values = values as u64;
        let allowed = tally.delivered[i].load(Relaxed)
            + tally.open[i].load(Relaxed) * FLUSH_EVENTS
            + REPORT_GRACE;
        tally.reported[i]
            .fetch_update(Relaxed, Relaxed, |reported| {
                (reported + values <= allowed).then_some(reported + values)
            })
            .map(|_| ())
            .map_err(|reported| Unjustified {
                transport: transport.as_str(),
                delivered: tally.delivered[i].load(Relaxed),
                reported,
                values,
            })
    }

    /// Addresses tallied now.
    pub fn len(&self) -> usize {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The deliveries of one open push connection, added to its address's tally in steps of
/// [`FLUSH_EVENTS`] and when dropped.
pub struct OpenTally {
    tally: Arc<Tally>,
    index: usize,
    unflushed: u64,
}

impl OpenTally {
    pub fn delivered(&mut self, events: usize) {
        self.unflushed += events as u64;
        if self.unflushed >= FLUSH_EVENTS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.tally.delivered[self.index].fetch_add(self.unflushed, Relaxed);
        self.unflushed = 0;
    }
}

impl Drop for OpenTally {
    fn drop(&mut self) {
        self.flush();
        self.tally.open[self.index].fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: ClientKey = ClientKey::V4([10, 0, 0, 1]);
    const BOB: ClientKey = ClientKey::V4([10, 0, 0, 2]);

    #[test]
    fn reports_stay_within_what_the_address_was_sent() {
        let ledger = Ledger::default();
        ledger.delivered(ANA, Transport::Poll, 100);
        assert!(ledger.admit_report(ANA, Transport::Poll, 100).is_ok());
        assert!(
            ledger
                .admit_report(ANA, Transport::Poll, REPORT_GRACE as usize)
                .is_ok()
        );
        let refused = ledger.admit_report(ANA, Transport::Poll, 1).unwrap_err();
        assert_eq!(refused.delivered, 100);
        assert_eq!(refused.reported, 100 + REPORT_GRACE);
        // Other transports and other addresses have their own tallies.
        assert!(ledger.admit_report(ANA, Transport::Sse, 2).is_ok());
        assert!(ledger.admit_report(BOB, Transport::Poll, 1000).is_err());
    }

    #[test]
    fn an_open_connection_may_be_reported_ahead_of_its_flushes() {
        let ledger = Ledger::default();
        let mut ws = ledger.open(ANA, Transport::Ws);
        ws.delivered(10); // not flushed yet
        let ahead = (FLUSH_EVENTS + REPORT_GRACE) as usize;
        assert!(ledger.admit_report(ANA, Transport::Ws, ahead).is_ok());
        assert!(ledger.admit_report(ANA, Transport::Ws, 1).is_err());
        drop(ws); // flushes 10, no longer open
        assert!(ledger.admit_report(ANA, Transport::Ws, 10).is_err());
        let mut ws = ledger.open(ANA, Transport::Ws);
        ws.delivered(500);
        drop(ws);
        // 510 sent in all, 96 already reported: the rest up to the grace, and not one more.
        let room = (510 + REPORT_GRACE - ahead as u64) as usize;
        assert!(ledger.admit_report(ANA, Transport::Ws, room).is_ok());
        assert!(ledger.admit_report(ANA, Transport::Ws, 1).is_err());
    }

    #[test]
    fn the_table_is_bounded_and_forgets_only_unheld_tallies() {
        let ledger = Ledger::default();
        let held: Vec<_> = (0..MAX_LEDGER_ADDRESSES as u32 / 2)
            .map(|n| ledger.open(ClientKey::V4(n.to_be_bytes()), Transport::Sse))
            .collect();
        for n in 0..MAX_LEDGER_ADDRESSES as u32 * 2 {
            ledger.delivered(
                ClientKey::V4((1_000_000 + n).to_be_bytes()),
                Transport::Poll,
                1,
            );
            assert!(ledger.len() <= MAX_LEDGER_ADDRESSES);
        }
        // The held tallies are all still there.
        assert!(ledger.len() >= held.len());
        let first = ClientKey::V4(0u32.to_be_bytes());
        assert!(ledger.table.lock().unwrap().contains_key(&first));
    }
}
