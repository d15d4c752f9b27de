//! The five ways to follow the feed, one module each (`classic`, `poll`, `longpoll`, `sse`,
//! `ws`), plus chat and the echo socket.
//!
//! Each transport is a thin adapter: it reads a cursor, asks the hub, reports to the meter and
//! writes its own wire format. No transport imports another: what two of them share is a module
//! of its own here ([`cursor`], [`follower`] for the push transports, [`answer`] for the polling
//! ones, [`handshake`] for the two sockets, [`chat`] for every way to post, [`heads`] for the header
//! fields of each answer). Transports read the
//! shared state, the feed, the meter and the network; they import nothing of the server's edge,
//! the pages or the API. WebSocket endpoints are generic over the stream the server hands them.

pub mod answer;
pub mod chat;
pub mod classic;
pub mod cursor;
pub mod direct;
pub mod echo;
pub mod fanout;
pub mod follower;
pub mod handshake;
pub mod heads;
pub mod longpoll;
pub mod poll;
pub mod relay;
pub mod sse;
pub mod ws;
