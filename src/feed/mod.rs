//! The live feed: events, the hub that numbers and keeps them, and the built-in generator.
//!
//! Everything a transport shows comes from here; no transport numbers or stores events itself.

mod event;
mod generator;
mod hub;
mod settings;

pub use event::{Event, Kind, binary_layout_doc};
pub use generator::{MAX_BURST, TickSource, run_generator};
pub use hub::{AheadOfFeed, Batch, Hub, unix_micros};
pub use settings::{
    AddedDelay, DEFAULT_POLL_INTERVAL_MS, FeedSettings, LONGPOLL_CAP_MS, SettingsError,
    SettingsUpdate,
};

/// Highest generator rate an instructor may set, in events per second.
pub const MAX_RATE_HZ: f64 = 1000.0;
/// Largest replay buffer accepted: a bound on memory, about 64 MiB at the largest payload.
pub const MAX_BUFFER: usize = 65_536;
/// Largest padding added to generated events, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
