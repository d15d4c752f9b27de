//! Token buckets per client, in a table of bounded size: "at most N a minute, with a burst".
//!
//! Each client (a [`ClientKey`]) has a bucket of at most `burst` tokens that refills at
//! `per_minute / 60` tokens a second; an action takes one token, and without one it is refused
//! with the time until the next token. A bucket that has refilled to the brim says nothing a
//! fresh bucket would not, so such buckets are what the table forgets when it is full.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::ClientKey;

/// Most clients whose buckets are kept, per limiter. About 48 bytes an entry (key and bucket,
/// plus the hash table's control byte), so at most about 400 KiB per limiter counting the hash
/// table's spare room. At the bound, buckets that are full again are dropped (at most once per
/// [`SWEEP_EVERY`]); if none is, the clients not in the table share one overflow bucket, so a
/// flood from many addresses together gets the allowance of one address, never more.
pub const MAX_TRACKED_CLIENTS: usize = 4096;

/// Least time between two sweeps of a full table (a sweep reads every entry once).
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The burst is this fraction of a minute's allowance (rounded up, at least 1): at 60 a minute,
/// 20 in a row, then one a second.
const BURST_DIVISOR: f64 = 3.0;

/// How often a client may act: `per_minute` on average, in bursts of [`Rate::burst`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_minute: u32,
}

impl Rate {
    /// Actions allowed in a row after a quiet spell.
    pub fn burst(&self) -> f64 {
        (f64::from(self.per_minute) / BURST_DIVISOR).ceil().max(1.0)
    }

    fn per_second(&self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }
}

/// An action refused: the client may try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refused {
    pub retry_after: Duration,
}

impl Refused {
    /// `Retry-After` in whole seconds (RFC 9110 §10.2.3), rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: rate.burst(),
            at: now,
        }
    }

    fn refilled(&self, rate: Rate, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate.per_second()).min(rate.burst())
    }

    fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Refused> {
        self.tokens = self.refilled(rate, now);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Refused {
                retry_after: Duration::from_secs_f64((1.0 - self.tokens) / rate.per_second()),
            })
        }
    }
}

struct Table {
    rate: Rate,
    buckets: HashMap<ClientKey, Bucket>,
    /// Shared by the clients that found the table full.
    overflow: Bucket,
    last_sweep: Option<Instant>,
}

/// One limit (chat, or client reports) for every client. Shared by all workers; each check holds
/// a std `Mutex` for a hash lookup and a few float operations, never across an `.await`.
pub struct RateLimiter {
    table: Mutex<Table>,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> RateLimiter {
        let now = Instant::now();
        RateLimiter {
            table: Mutex::new(Table {
                rate,
                buckets: HashMap::new(),
                overflow: Bucket::full(rate, now),
                last_sweep: None,
            }),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn rate(&self) -> Rate {
        self.table().rate
    }

    /// A new rate applies at once to every client (buckets above the new burst are cut to it).
    pub fn set_rate(&self, rate: Rate) {
        self.table().rate = rate;
    }

    /// Takes one token of `client`'s bucket now, or says when one will be there.
    pub fn check(&self, client: ClientKey) -> Result<(), Refused> {
        self.check_at(client, Instant::now())
    }

    /// [`RateLimiter::check`] at a given instant (tests drive the clock).
    pub fn check_at(&self, client: ClientKey, now: Instant) -> Result<(), Refused> {
        let mut table = self.table();
        let rate = table.rate;
        if !table.buckets.contains_key(&client) {
            if table.buckets.len() >= MAX_TRACKED_CLIENTS {
                table.sweep(now);
            }
            if table.buckets.len() < MAX_TRACKED_CLIENTS {
                table.buckets.insert(client, Bucket::full(rate, now));
            }
        }
        let Table {
            buckets, overflow, ..
        } = &mut *table;
        buckets.get_mut(&client).unwrap_or(overflow).take(rate, now)
    }

    /// Clients with a bucket of their own now.
    pub fn tracked(&self) -> usize {
        self.table().buckets.len()
    }
}

impl Table {
    /// Forgets the buckets that are full again, unless the last sweep was under
    /// [`SWEEP_EVERY`] ago (a table full of busy clients is not read at every request).
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|last| now.saturating_duration_since(last) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        let rate = self.rate;
        self.buckets
            .retain(|_, bucket| bucket.refilled(rate, now) < rate.burst());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u32) -> ClientKey {
        ClientKey::V4(n.to_be_bytes())
    }

    #[test]
    fn a_burst_then_one_token_per_period_and_full_recovery() {
        let limiter = RateLimiter::new(Rate { per_minute: 60 });
        let start = Instant::now();
        for i in 0..20 {
            assert!(limiter.check_at(client(1), start).is_ok(), "burst {i}");
        }
        let refused = limiter.check_at(client(1), start).unwrap_err();
        assert_eq!(refused.retry_after_secs(), 1);
        // Another client is not affected.
        assert!(limiter.check_at(client(2), start).is_ok());
        // One token a second comes back.
        let later = start + Duration::from_millis(1001);
        assert!(limiter.check_at(client(1), later).is_ok());
        assert!(limiter.check_at(client(1), later).is_err());
        // After a quiet minute the whole burst is there again.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..20 {
            assert!(limiter.check_at(client(1), much_later).is_ok());
        }
        assert!(limiter.check_at(client(1), much_later).is_err());
    }

    #[test]
    fn a_new_rate_applies_at_once() {
        let limiter = RateLimiter::new(Rate { per_minute: 600 });
        let now = Instant::now();
        limiter.set_rate(Rate { per_minute: 3 });
        assert!(limiter.check_at(client(1), now).is_ok());
        let refused = limiter.check_at(client(1), now).unwrap_err();
        assert_eq!(refused.retry_after_secs(), 20);
    }

    #[test]
    fn the_table_stays_bounded_and_overflow_clients_share_one_bucket() {
        let limiter = RateLimiter::new(Rate { per_minute: 60 });
        let now = Instant::now();
        // Every tracked client is busy (its bucket not full): nothing can be forgotten.
        for n in 0..MAX_TRACKED_CLIENTS as u32 {
            limiter.check_at(client(n), now).unwrap();
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED_CLIENTS);
        let newcomers = (0..100).map(|n| client(1_000_000 + n));
        let allowed = newcomers
            .filter(|&c| limiter.check_at(c, now).is_ok())
            .count();
        assert_eq!(limiter.tracked(), MAX_TRACKED_CLIENTS);
        assert_eq!(allowed, 20, "the newcomers share one burst");
        // Once the busy buckets have refilled, a newcomer gets a bucket of its own again.
        let later = now + Duration::from_secs(61);
        assert!(limiter.check_at(client(2_000_000), later).is_ok());
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn an_entry_costs_what_the_bound_says() {
        assert!(std::mem::size_of::<(ClientKey, Bucket)>() <= 48);
    }
}
