//! The five ways to follow the feed, one module each, plus chat and the echo socket.
//!
//! Each transport is a thin adapter: it reads a cursor, asks the hub, reports to the meter and
//! writes its own wire format. No transport knows another.

pub mod chat;
pub mod classic;
pub mod echo;
pub mod longpoll;
pub mod network;
pub mod poll;
pub mod since;
pub mod sse;
pub mod ws;

pub use crate::ws::HandshakeLog;
