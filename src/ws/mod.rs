//! WebSocket plumbing shared by the feed socket (`/ws`) and the echo socket (`/ws/echo`):
//! the handshake and its log, the RFC 6455 guard, frames in and out, and the connection itself.
//!
//! pushlab speaks the protocol on the stream itself (see `server::upgrade`): actix-http parses
//! each frame, the guard checks it first, and [`Socket`] writes frames straight to the socket.
//!
//! Endpoints live in `transport::ws` and `transport::echo`; they decide what to send and what a
//! message means. This module decides how frames are checked, sent, pinged and closed.

mod frame;
mod guard;
mod handshake;
mod inbound;
mod socket;

pub use frame::{FIN_BINARY, FIN_TEXT, client_frame, server_frame};
pub use handshake::{
    HandshakeLog, HandshakeRecord, accept_key, choose_subprotocol, record_handshake,
};
pub use inbound::Message;
pub use socket::{Socket, SocketEvent, accept};
