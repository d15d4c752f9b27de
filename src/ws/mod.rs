//! WebSocket plumbing shared by the feed socket (`/ws`) and the echo socket (`/ws/echo`):
//! the RFC 6455 guard, subprotocol choice, the handshake log, and the connection loop pieces.
//!
//! Endpoints live in `transport::ws` and `transport::echo`; they decide what to send and what a
//! message means. This module decides how frames are checked, sent, pinged and closed.

mod frame;
mod guard;
mod handshake;
mod socket;

pub use frame::{FIN_BINARY, FIN_TEXT, client_frame, server_frame};
pub use guard::{FrameGuard, Violation};
pub use handshake::{
    HandshakeLog, HandshakeRecord, accept_key, choose_subprotocol, record_handshake,
};
pub use socket::{Incoming, Outgoing, Socket, SocketEvent, open_socket};
