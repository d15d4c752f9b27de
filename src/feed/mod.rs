//! The live feed: events, the hub that numbers and keeps them, the built-in generator and its
//! settings.
//!
//! Everything a transport shows comes from here; no transport numbers or stores events itself.
//! Imports only `config` (bounds), `error` and `ws` (each event's frame is encoded once, at
//! publish): nothing of the meter, the transports or the server.

mod event;
mod generator;
mod hub;
mod settings;

pub use event::{Event, Kind, binary_layout_doc, http_chunk};
pub use generator::{MAX_BURST, TickSink, TickSource, run_generator};
pub use hub::{
    AheadOfFeed, AppendError, Backlog, Batch, Hub, HubIdentity, MAX_AHEAD_IN_CLUSTER,
    MAX_EPOCH_CHARS, Reset, Start, unix_micros,
};
pub use settings::{FeedSettings, FeedSettingsError, FeedUpdate};
