//! `--max-connections-per-address`: how many connections one client address may hold at once,
//! so that one laptop (or one script) cannot take every connection slot of the class.
//!
//! An address is a [`ClientKey`], as for the chat limits: an IPv4 address, or an IPv6 /64 (one
//! machine's privacy addresses share it, RFC 8981). The peers named by `--trusted-proxy` are not limited: behind a proxy every client
//! arrives from it, and the proxy limits per client (README, nginx's `limit_conn`).
//!
//! At the bound the new connection is answered `429 Too Many Requests` with a JSON error and
//! `Retry-After`, and closed; each refusal is counted (`edge.connections_refused` in
//! `/api/stats`) and logged at most once a minute per address, with the count since the last
//! line.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::limits::ClientKey;

/// How often, at most, refusals of one address are logged.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Most addresses whose last log line is remembered; beyond it, lines older than [`LOG_EVERY`]
/// are forgotten, and if all are recent new addresses are not logged (still counted).
const MAX_LOGGED_ADDRESSES: usize = 4096;
/// `Retry-After` of the refusal, in seconds.
pub const RETRY_AFTER_SECS: u64 = 10;

/// The open connections of every address, shared by the workers.
pub struct AddressLimit {
    max: usize,
    exempt: Vec<IpAddr>,
    state: Mutex<LimitState>,
}

#[derive(Default)]
struct LimitState {
    /// Open connections per address; an address leaves when its last connection closes.
    open: HashMap<ClientKey, usize>,
    /// Per refused address: when it was last logged, and refusals since.
    logged: HashMap<ClientKey, (Instant, u64)>,
}

/// One connection's place: given back when dropped.
pub struct AddressSlot {
    limit: Arc<AddressLimit>,
    key: ClientKey,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut state = self.limit.lock();
        if let Some(open) = state.open.get_mut(&self.key) {
            *open -= 1;
            if *open == 0 {
                state.open.remove(&self.key);
            }
        }
    }
}

/// A refused connection: the address and the bound, for the answer.
#[derive(Debug)]
pub struct Refused {
    pub address: ClientKey,
    pub max: usize,
}

impl AddressLimit {
    pub fn new(max: usize, exempt: Vec<IpAddr>) -> Arc<AddressLimit> {
        Arc::new(AddressLimit {
            max,
            exempt: exempt.into_iter().map(|ip| ip.to_canonical()).collect(),
            state: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection from `peer`: `Ok(None)` for an exempt proxy, `Err` at the
    /// bound (then logged, at most once a minute per address).
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Option<AddressSlot>, Refused> {
        if self.exempt.contains(&peer.to_canonical()) {
            return Ok(None);
        }
        let key = ClientKey::of(peer);
        let mut state = self.lock();
        let open = state.open.entry(key).or_insert(0);
        if *open < self.max {
            *open += 1;
            return Ok(Some(AddressSlot {
                limit: self.clone(),
                key,
            }));
        }
        let holding = *open;
        state.note_refusal(key, holding);
        Err(Refused {
            address: key,
            max: self.max,
        })
    }
}

impl LimitState {
    fn note_refusal(&mut self, key: ClientKey, holding: usize) {
        let now = Instant::now();
        if !self.logged.contains_key(&key) && self.logged.len() >= MAX_LOGGED_ADDRESSES {
            self.logged
                .retain(|_, (at, _)| now.duration_since(*at) < LOG_EVERY);
            if self.logged.len() >= MAX_LOGGED_ADDRESSES {
                return;
            }
        }
        match self.logged.get_mut(&key) {
            Some((at, since)) if now.duration_since(*at) < LOG_EVERY => *since += 1,
            entry => {
                let earlier = entry.map_or(0, |(_, since)| *since);
                tracing::warn!(
                    address = %key,
                    holding,
                    refused_since_last_line = earlier + 1,
                    "refused a connection: this address holds --max-connections-per-address"
                );
                self.logged.insert(key, (now, 0));
            }
        }
    }
}

/// The answer written to a refused connection before it is closed.
pub fn refusal_response(refused: &Refused) -> Vec<u8> {
    let body = serde_json::json!({
        "error": format!(
            "{} already holds {} connections to pushlab, the most one address may hold \
             (--max-connections-per-address); close some tabs or clients, or ask the \
             instructor to raise the bound",
            refused.address, refused.max
        )
    })
    .to_string();
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_max_and_gets_its_places_back() {
        let limit = AddressLimit::new(2, vec!["10.0.0.9".parse().unwrap()]);
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let a = limit.admit(peer).unwrap();
        let _b = limit.admit(peer).unwrap();
        assert!(limit.admit(peer).is_err());
        assert!(limit.admit("10.0.0.2".parse().unwrap()).is_ok());
        drop(a);
        assert!(limit.admit(peer).is_ok());
        for _ in 0..5 {
            assert!(matches!(limit.admit("10.0.0.9".parse().unwrap()), Ok(None)));
        }
    }

    #[test]
    fn an_ipv6_machine_is_bounded_per_64() {
        let limit = AddressLimit::new(1, Vec::new());
        let _one = limit.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(
            limit
                .admit("2001:db8:1:2:ffff::7".parse().unwrap())
                .is_err()
        );
        assert!(limit.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }
}
