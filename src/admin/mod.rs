//! The instructor's side: who is the instructor ([`auth`]), the console page and the login form that sets its
//! cookie ([`console`]), and the controls behind the token ([`controls`]): settings, reset, burst
//! and fault injection.

pub mod auth;
pub mod console;
pub mod controls;

pub use auth::{Sessions, is_admin, require_admin};
