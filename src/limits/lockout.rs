//! Wrong admin tokens, counted per client address: beyond [`MAX_FAILURES`] in one window, every
//! further try from that address — the right token included — is answered 429 with
//! `Retry-After` until the window has passed (RFC 6585 §4, RFC 9110 §10.2.3).
//!
//! Without it a word token falls to a dictionary in seconds (5,000 wrong Bearer tokens were
//! answered in 0.12 s); with it, 200 tries from one address take about 20 minutes. Both ways of
//! showing the token count: `Authorization: Bearer` and the console's login form. A valid
//! console session cookie is not a try (its id is 128 random bits, not a guessable word), so a
//! student behind the same NAT as the instructor cannot lock the instructor's open console out.
//!
//! Windows are fixed, starting at an address's first failure: an address may fail
//! [`MAX_FAILURES`] times, then waits for the window's end. (At a window's edge that is at most
//! twice [`MAX_FAILURES`] in a short time, then a whole window of 429.)
//!
//! Bounds: at most [`MAX_TRACKED_ADDRESSES`] addresses are remembered (about 100 bytes each,
//! so well under 1 MiB). Entries whose window has passed are swept once a window; when the table
//! is still full, the address whose window started first is forgotten (it may try again
//! sooner: a client spraying thousands of addresses defeats any per-address limit anyway).
//! Clients are keyed as every per-client limit is ([`ClientKey`]: an IPv6 client per /64, so
//! one laptop cannot take fresh addresses from its own prefix). Logs: at most one line per
//! address per [`LOG_INTERVAL`], carrying the count of refused tries since the previous line.
//!
//! The clock is a parameter of [`Lockout::judge_at`], and [`Lockout::pass_time`] moves a
//! server's clock forward, so tests see a window pass without waiting a minute.
//!
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::ClientKey;

/// Wrong tokens one address may show per window; the next try gets 429.
pub const MAX_FAILURES: u32 = 10;
/// Addresses remembered at once; beyond, the oldest window is forgotten (see the module doc).
pub const MAX_TRACKED_ADDRESSES: usize = 4096;
/// At most one log line per address per this interval (with the count since the last line).
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Entry {
    window_start: Instant,
    failures: u32,
    /// Refused tries (wrong, or any while locked) not yet in a log line.
    unlogged: u32,
    last_logged: Option<Instant>,
}

/// What a token check concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The token is right and the address is not locked.
    Allowed,
    /// A wrong token (now counted).
    Refused,
    /// Too many wrong tokens from this address: no token is even looked at before this wait.
    Locked { retry_after: Duration },
}

/// The table of failures, one per server (kept in `AppState`).
pub struct Lockout {
    window: Duration,
    table: Mutex<Table>,
    /// Added to the real clock by [`Lockout::judge`]: zero, except in tests.
    clock_offset: Mutex<Duration>,
}

struct Table {
    entries: HashMap<ClientKey, Entry>,
    last_sweep: Option<Instant>,
}

impl Lockout {
    /// A table whose windows last `window` (a minute: `config::ADMIN_FAILURE_WINDOW`).
    pub fn new(window: Duration) -> Lockout {
        Lockout {
            window: window.max(Duration::from_millis(1)),
            table: Mutex::new(Table {
                entries: HashMap::new(),
                last_sweep: None,
            }),
            clock_offset: Mutex::new(Duration::ZERO),
        }
    }

    /// For tests: moves this table's clock forward by `time`, as if it had passed.
    pub fn pass_time(&self, time: Duration) {
        *self.clock_offset.lock().unwrap_or_else(|e| e.into_inner()) += time;
    }

    /// Judges one try from the client `key`; `right` says whether the token shown was the right
    /// one (compared beforehand, in constant time). Counting and judging are one step under one
    /// lock, so concurrent tries cannot slip past the limit.
    pub fn judge(&self, key: ClientKey, right: bool) -> Verdict {
        let offset = *self.clock_offset.lock().unwrap_or_else(|e| e.into_inner());
        self.judge_at(key, right, Instant::now() + offset)
    }

    /// [`Lockout::judge`] at the time `now`.
    pub fn judge_at(&self, key: ClientKey, right: bool, now: Instant) -> Verdict {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table
            .last_sweep
            .is_none_or(|at| now.saturating_duration_since(at) >= self.window)
        {
            self.sweep(&mut table, now);
        }
        if let Some(entry) = table.entries.get_mut(&key) {
            let window_end = entry.window_start + self.window;
            if now >= window_end {
                entry.window_start = now;
                entry.failures = 0;
            } else if entry.failures >= MAX_FAILURES {
                entry.unlogged += 1;
                log(key, entry, now);
                return Verdict::Locked {
                    retry_after: window_end - now,
                };
            }
        }
        if right {
            // A right token clears nothing: behind one NAT, the instructor's login must not
            // hand a guessing student ten more tries.
            return Verdict::Allowed;
        }
        if !table.entries.contains_key(&key) && table.entries.len() >= MAX_TRACKED_ADDRESSES {
            self.sweep(&mut table, now);
            if table.entries.len() >= MAX_TRACKED_ADDRESSES {
                forget_oldest(&mut table.entries);
            }
        }
        let entry = table.entries.entry(key).or_insert(Entry {
            window_start: now,
            failures: 0,
            unlogged: 0,
            last_logged: None,
        });
        entry.failures += 1;
        entry.unlogged += 1;
        log(key, entry, now);
        Verdict::Refused
    }

    /// Writes the pending count of every address whose last line is [`LOG_INTERVAL`] old: called
    /// once a second by the server, so that a burst of wrong tokens is logged within a minute
    /// even if its address never comes back.
    pub fn flush_logs(&self) {
        let offset = *self.clock_offset.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now() + offset;
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        for (key, entry) in table.entries.iter_mut() {
            log(*key, entry, now);
        }
    }

    /// Addresses remembered now (for tests and the bound).
    pub fn tracked(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    /// Forgets the addresses whose window has passed and whose last log line is old enough for
    /// a new one (which carries the tries not logged yet, if any).
    fn sweep(&self, table: &mut Table, now: Instant) {
        table.last_sweep = Some(now);
        table.entries.retain(|key, entry| {
            let window_over = now >= entry.window_start + self.window;
            let may_log = entry
                .last_logged
                .is_none_or(|at| now.saturating_duration_since(at) >= LOG_INTERVAL);
            if window_over && may_log {
                log(*key, entry, now);
                false
            } else {
                true
            }
        });
    }
}

/// At the bound: the address whose window started first is forgotten (its pending count is
/// logged with it).
fn forget_oldest(entries: &mut HashMap<ClientKey, Entry>) {
    let oldest = entries
        .iter()
        .min_by_key(|(_, e)| e.window_start)
        .map(|(k, _)| *k);
    if let Some(key) = oldest
        && let Some(entry) = entries.remove(&key)
        && entry.unlogged > 0
    {
        tracing::warn!(
            address = %key,
            refused = entry.unlogged,
            "wrong admin tokens (address forgotten: too many addresses tracked)"
        );
    }
}

/// One line per address per [`LOG_INTERVAL`] at most, with the count since the last line.
fn log(key: ClientKey, entry: &mut Entry, now: Instant) {
    if entry.unlogged == 0 {
        return;
    }
    if entry
        .last_logged
        .is_some_and(|at| now.saturating_duration_since(at) < LOG_INTERVAL)
    {
        return;
    }
    tracing::warn!(
        address = %key,
        refused = entry.unlogged,
        locked = entry.failures >= MAX_FAILURES,
        "wrong admin tokens"
    );
    entry.unlogged = 0;
    entry.last_logged = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn ip(text: &str) -> ClientKey {
        ClientKey::of(text.parse().unwrap())
    }

    #[test]
    fn ten_failures_lock_the_address_until_the_window_passes() {
        let lockout = Lockout::new(MINUTE);
        let t0 = Instant::now();
        let student = ip("10.0.0.7");
        for i in 0..MAX_FAILURES {
            let at = t0 + Duration::from_secs(u64::from(i));
            assert_eq!(lockout.judge_at(student, false, at), Verdict::Refused);
        }
        let at = t0 + Duration::from_secs(20);
        assert_eq!(
            lockout.judge_at(student, true, at),
            Verdict::Locked {
                retry_after: Duration::from_secs(40)
            },
            "even the right token waits"
        );
        assert_eq!(
            lockout.judge_at(ip("10.0.0.8"), true, at),
            Verdict::Allowed,
            "another address is not locked"
        );
        assert_eq!(
            lockout.judge_at(student, true, t0 + MINUTE),
            Verdict::Allowed
        );
        assert_eq!(
            lockout.judge_at(student, false, t0 + MINUTE),
            Verdict::Refused,
            "a new window counts from zero"
        );
    }

    #[test]
    fn an_ipv6_prefix_is_one_client() {
        let lockout = Lockout::new(MINUTE);
        let now = Instant::now();
        for i in 0..MAX_FAILURES {
            let address = ip(&format!("2001:db8:1:2::{:x}", i + 1));
            assert_eq!(lockout.judge_at(address, false, now), Verdict::Refused);
        }
        assert!(matches!(
            lockout.judge_at(ip("2001:db8:1:2::ffff"), false, now),
            Verdict::Locked { .. }
        ));
        assert_eq!(
            lockout.judge_at(ip("::ffff:10.0.0.9"), false, now),
            Verdict::Refused
        );
        assert!(matches!(
            lockout.judge_at(ip("2001:db8:1:3::1"), false, now),
            Verdict::Refused
        ));
    }

    #[test]
    fn a_burst_is_logged_within_a_minute_even_if_its_address_never_comes_back() {
        let lockout = Lockout::new(Duration::from_secs(60));
        let key = ip("192.0.2.77");
        for _ in 0..30 {
            lockout.judge(key, false);
        }
        let pending = |l: &Lockout| l.table.lock().unwrap().entries[&key].unlogged;
        assert_eq!(pending(&lockout), 29, "the first try is logged at once");
        lockout.flush_logs();
        assert_eq!(pending(&lockout), 29, "at most one line a minute");
        lockout.pass_time(LOG_INTERVAL);
        lockout.flush_logs();
        assert_eq!(
            pending(&lockout),
            0,
            "logged by the server's tick, not by a next try"
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let lockout = Lockout::new(MINUTE);
        let now = Instant::now();
        for i in 0..(MAX_TRACKED_ADDRESSES as u32 + 100) {
            let address = ClientKey::of(std::net::Ipv4Addr::from_bits(0x0a00_0000 + i).into());
            lockout.judge_at(address, false, now);
        }
        assert_eq!(lockout.tracked(), MAX_TRACKED_ADDRESSES);
        // Once their window has passed (and their log line is due), addresses are forgotten.
        lockout.judge_at(ip("10.200.0.1"), true, now + 2 * MINUTE);
        assert_eq!(lockout.tracked(), 0);
    }
}
