//! Fault injection, for the instructor to show what each approach does when the network misbehaves:
//!
//! - **drop**: every open connection of a transport ends abruptly, with no close frame and no
//!   final chunk, as when a Wi-Fi link goes away. Clients must reconnect and resume.
//! - **slow**: the server writes to that transport's clients at most N bytes per second, as if
//!   they read slowly. Push transports then fall behind in the replay buffer (and are told
//!   `missed` if they fall out of it); polling answers simply take longer.
//! - **refuse**: new requests of that transport get `503` with `Retry-After` for N seconds
//!   ("network down"); connections already open are left alone.
//!
//! Each fault belongs to one transport and ends by itself (drop at once, the others after their
//! duration) or with `clear`.
//!
//! This module keeps the faults in force; the socket tap applies a slow fault ([`Throttle`]), the
//! server's edge middleware answers a refusal, and each transport watches its drop token.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use actix_web::{HttpResponse, web::Bytes};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::transport_kind::Transport;

/// Longest a slow or refuse fault may last: a forgotten fault must not outlive the lesson.
pub const MAX_FAULT_SECS: u64 = 600;
/// Slowest write rate a slow fault may set; below this a single event takes seconds to leave.
pub const MIN_SLOW_BYTES_PER_SEC: u64 = 64;

/// What the instructor asks for (`POST /api/admin/fault`).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FaultRequest {
    Drop {
        transport: String,
    },
    Slow {
        transport: String,
        bytes_per_sec: u64,
        seconds: u64,
    },
    Refuse {
        transport: String,
        seconds: u64,
    },
    Clear {
        transport: String,
    },
}

impl std::fmt::Display for FaultRequest {
    /// As people say it: `slow sse to 2000 B/s for 60 s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultRequest::Drop { transport } => write!(f, "drop every {transport} connection"),
            FaultRequest::Slow {
                transport,
                bytes_per_sec,
                seconds,
            } => write!(f, "slow {transport} to {bytes_per_sec} B/s for {seconds} s"),
            FaultRequest::Refuse { transport, seconds } => {
                write!(f, "refuse new {transport} requests for {seconds} s")
            }
            FaultRequest::Clear { transport } => write!(f, "clear the faults of {transport}"),
        }
    }
}

impl FaultRequest {
    pub fn transport_name(&self) -> &str {
        match self {
            FaultRequest::Drop { transport }
            | FaultRequest::Slow { transport, .. }
            | FaultRequest::Refuse { transport, .. }
            | FaultRequest::Clear { transport } => transport,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultError {
    #[error("transport must be one of classic, poll, longpoll, sse, ws")]
    Transport,
    #[error(
        "{0} holds no connection between requests, so there is nothing to drop: use refuse or slow"
    )]
    NothingToDrop(&'static str),
    #[error("seconds must be from 1 to {MAX_FAULT_SECS}")]
    Seconds,
    #[error("bytes_per_sec must be at least {MIN_SLOW_BYTES_PER_SEC}")]
    Rate,
}

impl From<FaultError> for crate::error::ApiError {
    fn from(err: FaultError) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

/// The faults of one transport.
struct TransportFaults {
    /// Cancelled by a drop (then replaced): open connections watch the one they started with.
    drop: Mutex<CancellationToken>,
    drops: AtomicU64,
    /// Milliseconds since `Faults::start` until which new requests are refused (0: none).
    refuse_until_ms: AtomicU64,
    slow_until_ms: AtomicU64,
    slow_bytes_per_sec: AtomicU64,
}

impl Default for TransportFaults {
    fn default() -> Self {
        TransportFaults {
            drop: Mutex::new(CancellationToken::new()),
            drops: AtomicU64::new(0),
            refuse_until_ms: AtomicU64::new(0),
            slow_until_ms: AtomicU64::new(0),
            slow_bytes_per_sec: AtomicU64::new(0),
        }
    }
}

/// The faults in force, per transport. Read on hot paths with relaxed atomics only.
pub struct Faults {
    start: Instant,
    transports: [TransportFaults; 5],
}

/// One transport's faults as the stats show them.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct FaultState {
    /// Seconds left of a refuse fault (0: accepting).
    pub refusing_s: u64,
    /// Write rate of a slow fault (0: full speed), and its seconds left.
    pub slow_bytes_per_sec: u64,
    pub slow_s: u64,
    /// Drops injected since the start.
    pub drops: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            start: Instant::now(),
            transports: Default::default(),
        }
    }
}

impl Faults {
    fn of(&self, transport: Transport) -> &TransportFaults {
        &self.transports[transport.index()]
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Applies a request; returns the transport it concerned.
    pub fn apply(&self, request: &FaultRequest) -> Result<Transport, FaultError> {
        let parse = |name: &str| Transport::parse(name).ok_or(FaultError::Transport);
        let seconds = |s: u64| {
            if (1..=MAX_FAULT_SECS).contains(&s) {
                Ok(s * 1000)
            } else {
                Err(FaultError::Seconds)
            }
        };
        match request {
            FaultRequest::Drop { transport } => {
                let t = parse(transport)?;
                if matches!(t, Transport::Classic | Transport::Poll) {
                    return Err(FaultError::NothingToDrop(t.as_str()));
                }
                let faults = self.of(t);
                let mut token = faults.drop.lock().unwrap_or_else(|e| e.into_inner());
                token.cancel();
                *token = CancellationToken::new();
                faults.drops.fetch_add(1, Relaxed);
                Ok(t)
            }
            FaultRequest::Slow {
                transport,
                bytes_per_sec,
                seconds: s,
            } => {
                let t = parse(transport)?;
                let until = self.now_ms() + seconds(*s)?;
                if *bytes_per_sec < MIN_SLOW_BYTES_PER_SEC {
                    return Err(FaultError::Rate);
                }
                let faults = self.of(t);
                faults.slow_bytes_per_sec.store(*bytes_per_sec, Relaxed);
                faults.slow_until_ms.store(until, Relaxed);
                Ok(t)
            }
            FaultRequest::Refuse {
                transport,
                seconds: s,
            } => {
                let t = parse(transport)?;
                let until = self.now_ms() + seconds(*s)?;
                self.of(t).refuse_until_ms.store(until, Relaxed);
                Ok(t)
            }
            FaultRequest::Clear { transport } => {
                let t = parse(transport)?;
                let faults = self.of(t);
                faults.refuse_until_ms.store(0, Relaxed);
                faults.slow_until_ms.store(0, Relaxed);
                faults.slow_bytes_per_sec.store(0, Relaxed);
                Ok(t)
            }
        }
    }

    /// Cancelled when the instructor drops `transport`'s connections. Take it when the
    /// connection opens: a drop affects the connections open at that moment, not later ones.
    pub fn drop_token(&self, transport: Transport) -> CancellationToken {
        self.of(transport)
            .drop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How long new requests of `transport` are still refused.
    pub fn refusing(&self, transport: Transport) -> Option<Duration> {
        let left = self
            .of(transport)
            .refuse_until_ms
            .load(Relaxed)
            .saturating_sub(self.now_ms());
        (left > 0).then(|| Duration::from_millis(left))
    }

    /// The write rate `transport`'s clients are held to, if a slow fault is in force.
    /// Called at every write to a client: with no slow fault set, it reads no clock, and an
    /// expired one is cleared by the first write that finds it so.
    pub fn slow_rate(&self, transport: Transport) -> Option<u64> {
        let faults = self.of(transport);
        let until = faults.slow_until_ms.load(Relaxed);
        if until == 0 {
            return None;
        }
        if until <= self.now_ms() {
            // Only this expiry: a fault set again meanwhile keeps its new end.
            let _ = faults
                .slow_until_ms
                .compare_exchange(until, 0, Relaxed, Relaxed);
            return None;
        }
        Some(faults.slow_bytes_per_sec.load(Relaxed)).filter(|&rate| rate > 0)
    }

    pub fn state(&self, transport: Transport) -> FaultState {
        let faults = self.of(transport);
        let now = self.now_ms();
        let secs_left = |until: u64| until.saturating_sub(now).div_ceil(1000);
        let slow_s = secs_left(faults.slow_until_ms.load(Relaxed));
        FaultState {
            refusing_s: secs_left(faults.refuse_until_ms.load(Relaxed)),
            slow_bytes_per_sec: if slow_s > 0 {
                faults.slow_bytes_per_sec.load(Relaxed)
            } else {
                0
            },
            slow_s,
            drops: faults.drops.load(Relaxed),
        }
    }
}

/// The error a dropped stream ends with: actix then closes the connection without finishing
/// the response, which is what a client sees when the network goes away.
pub fn dropped_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection dropped by the instructor (fault injection)",
    )
}

/// A response that breaks off after its head: the answer of a request caught by a drop.
pub fn broken_response() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(stream::once(async { Err::<Bytes, _>(dropped_error()) }))
}

/// A token bucket holding one connection's writes to a slow fault's rate.
pub struct Throttle {
    /// Bytes that may be written now; refilled at the rate, up to a tenth of a second's worth.
    budget: f64,
    refilled: tokio::time::Instant,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            budget: 0.0,
            refilled: tokio::time::Instant::now(),
            wait: None,
        }
    }
}

impl Throttle {
    /// How many of `wanted` bytes may be written now at `rate` bytes/s; `Pending` (with a wake-up
    /// set) when none may.
    pub fn allow(&mut self, rate: u64, wanted: usize, cx: &mut Context<'_>) -> Poll<usize> {
        let rate = rate as f64;
        let now = tokio::time::Instant::now();
        let burst = (rate / 10.0).max(1.0);
        self.budget =
            (self.budget + now.duration_since(self.refilled).as_secs_f64() * rate).min(burst);
        self.refilled = now;
        if self.budget >= 1.0 {
            self.wait = None;
            return Poll::Ready(wanted.min(self.budget as usize));
        }
        let until = now + Duration::from_secs_f64((1.0 - self.budget) / rate);
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        wait.as_mut().reset(until);
        // The sleep was just reset into the future: polling it registers the wake-up.
        let _ = wait.as_mut().poll(cx);
        Poll::Pending
    }

    /// `written` bytes left: take them from the budget.
    pub fn spent(&mut self, written: usize) {
        self.budget -= written as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_refused_and_change_nothing() {
        let faults = Faults::default();
        let refuse = |t: &str, s| FaultRequest::Refuse {
            transport: t.into(),
            seconds: s,
        };
        assert_eq!(faults.apply(&refuse("ftp", 5)), Err(FaultError::Transport));
        assert_eq!(faults.apply(&refuse("ws", 0)), Err(FaultError::Seconds));
        assert_eq!(
            faults.apply(&refuse("ws", MAX_FAULT_SECS + 1)),
            Err(FaultError::Seconds)
        );
        assert_eq!(
            faults.apply(&FaultRequest::Drop {
                transport: "poll".into()
            }),
            Err(FaultError::NothingToDrop("poll"))
        );
        assert_eq!(faults.refusing(Transport::Ws), None);
        assert_eq!(faults.apply(&refuse("ws", 5)), Ok(Transport::Ws));
        assert!(faults.refusing(Transport::Ws).is_some());
        assert_eq!(faults.refusing(Transport::Sse), None);
        assert_eq!(faults.state(Transport::Ws).refusing_s, 5);
        faults
            .apply(&FaultRequest::Clear {
                transport: "ws".into(),
            })
            .unwrap();
        assert_eq!(faults.refusing(Transport::Ws), None);
    }

    #[test]
    fn a_drop_reaches_the_connections_open_before_it_only() {
        let faults = Faults::default();
        let before = faults.drop_token(Transport::Sse);
        faults
            .apply(&FaultRequest::Drop {
                transport: "sse".into(),
            })
            .unwrap();
        let after = faults.drop_token(Transport::Sse);
        assert!(before.is_cancelled());
        assert!(!after.is_cancelled());
        assert!(!faults.drop_token(Transport::Ws).is_cancelled());
        assert_eq!(faults.state(Transport::Sse).drops, 1);
    }
}
