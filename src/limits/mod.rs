//! Per-client limits: who a client is ([`client_key`]), how often it may act ([`RateLimiter`]:
//! token buckets per client in a table of bounded size), the instructor's settings of the
//! limits ([`LimitSettings`]), and how many wrong admin tokens it showed ([`Lockout`]).
//!
//! Just above the foundations (it reads its bounds from `config`). The chat (every transport)
//! and the client reports are limited with it; the meter's report ledger keys on its
//! [`ClientKey`]; the instructor's settings change its rates live.

mod bucket;
mod key;
mod lockout;

use serde::Serialize;

pub use crate::config::{DEFAULT_CHAT_PER_MIN, DEFAULT_REPORTS_PER_MIN, PER_MINUTE_RANGE};

pub use bucket::{MAX_TRACKED_CLIENTS, Rate, RateLimiter, Refused, SWEEP_EVERY};
pub use key::{ClientKey, TrustedProxies, client_key};
pub use lockout::{LOG_INTERVAL, Lockout, MAX_FAILURES, MAX_TRACKED_ADDRESSES, Verdict};

/// The limits as the instructor sees and changes them (`GET/PUT /api/admin/settings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitSettings {
    /// Chat messages per minute per client address (JSON, form and WebSocket together).
    pub chat_per_min: u32,
    /// Chats an address may post in a row before the per-minute pace applies.
    pub chat_burst: u32,
    /// Latency reports per minute per client address.
    pub reports_per_min: u32,
}

impl LimitSettings {
    pub fn of(chat: Rate, reports: Rate) -> LimitSettings {
        LimitSettings {
            chat_per_min: chat.per_minute,
            chat_burst: chat.burst() as u32,
            reports_per_min: reports.per_minute,
        }
    }
}

/// Why a limit setting was refused (nothing changed).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0} must be from {start} to {end} (a minute, per client address)", start = PER_MINUTE_RANGE.start(), end = PER_MINUTE_RANGE.end())]
pub struct LimitSettingsError(pub &'static str);

/// Checks a per-minute setting named `name`.
pub fn checked_per_minute(name: &'static str, value: u32) -> Result<Rate, LimitSettingsError> {
    if PER_MINUTE_RANGE.contains(&value) {
        Ok(Rate { per_minute: value })
    } else {
        Err(LimitSettingsError(name))
    }
}
