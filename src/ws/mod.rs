//! RFC 6455, as a library: frames out ([`frame`]), the guard that checks frames in, inbound
//! reassembly within a memory budget shared by every socket ([`MemoryBudget`]), the opening
//! handshake's computation and its log, the hand-off of the stream after the 101
//! ([`Takeover`]), and [`Socket`], one connection over any `AsyncRead + AsyncWrite`.
//!
//! It decides how frames are checked, sent, pinged and closed; the endpoints (`transport::ws`,
//! `transport::echo`) decide what to send and what a message means. It imports only `error`
//! (a refused handshake is an `ApiError`) and `redact` (what a handshake record may keep):
//! nothing of the feed, the transports, the server or the pages, so that the feed can encode
//! each event's frame once, at publish.

mod budget;
mod frame;
mod guard;
mod handshake;
mod inbound;
mod socket;
mod takeover;

pub use actix_http::ws::{CloseCode, CloseReason};
pub use budget::{Lease, MemoryBudget};
pub use frame::{FIN_BINARY, FIN_TEXT, client_frame, server_frame};
pub use handshake::{
    HandshakeLog, HandshakeRecord, HeadToRecord, TAG_RULE, accept_key, choose_subprotocol, is_tag,
    record_handshake,
};
pub use inbound::{FrameSummary, Message, MessageFrames};
pub use socket::{Limits, Socket, SocketEvent, accept};
pub use takeover::Takeover;
