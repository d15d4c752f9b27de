//! The instructor's side of the API: who is the instructor ([`auth`]: the Bearer token or the
//! console's session cookie) and the controls behind the token ([`controls`]): settings, reset,
//! burst and fault injection. (The console page itself is `pages::console`.)
//!
//! Reads and changes the shared state; imports nothing of the transports, pages or server.

pub mod auth;
pub mod controls;

pub use auth::{is_admin, require_admin};
