//! The simulated network between pushlab and its clients, everything the instructor sets about
//! it: the added delay per transport and the long-poll hold cap and suggested poll interval
//! ([`settings`], [`delay`]), and the drop / slow / refuse faults with the throttle that applies
//! a slow fault to a socket's writes ([`faults`]).
//!
//! It says what is in force; the transports and the server's edge apply it. Imports only
//! `config`, `error` and `transport_kind`: nothing of the feed, the meter, the transports or the
//! server.

pub mod delay;
pub mod faults;
pub mod settings;

pub use delay::hold_answer;
pub use faults::{
    FaultError, FaultRequest, FaultState, Faults, Throttle, broken_response, dropped_error,
};
pub use settings::{
    AddedDelay, AddedDelayUpdate, DEFAULT_POLL_INTERVAL_MS, NetworkSettings, NetworkSettingsError,
    NetworkUpdate,
};
