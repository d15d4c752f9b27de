//! Who may use the instructor's controls: whoever shows the admin token, either as
//! `Authorization: Bearer <token>` (scripts, the API) or through the console's session cookie,
//! which the login form sets after checking the token once.
//!
//! The token is compared in constant time. The cookie holds a random session id, never the token
//! itself; it is `HttpOnly` (page scripts cannot read it), `SameSite=Strict` (another site's page
//! cannot make the browser send it, which is what protects the console's forms from CSRF) and
//! `Secure` when pushlab serves https.

use std::{
    collections::VecDeque,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{
    HttpRequest,
    cookie::{Cookie, SameSite},
    http::header,
};

use crate::server::{AppState, error::ApiError};

/// The console's cookie.
pub const COOKIE_NAME: &str = "pushlab_admin";
/// A console session lasts one teaching day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Most console sessions at once; a new login beyond this ends the oldest one.
pub const MAX_SESSIONS: usize = 64;

/// The open console sessions, oldest first: random ids and when they were opened.
#[derive(Default)]
pub struct Sessions {
    opened: Mutex<VecDeque<(String, Instant)>>,
}

impl Sessions {
    /// Opens a session and returns its id (128 random bits, hex).
    pub fn open(&self) -> String {
        let id: String = rand::random::<[u8; 16]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.retain(|(_, at)| at.elapsed() < SESSION_LIFETIME);
        if opened.len() >= MAX_SESSIONS {
            // The bound: the oldest session ends (its instructor logs in again).
            opened.pop_front();
        }
        opened.push_back((id.clone(), Instant::now()));
        id
    }

    /// Whether `id` is an open, unexpired session. Every id is compared in constant time.
    pub fn valid(&self, id: &str) -> bool {
        let opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.iter().fold(false, |found, (known, at)| {
            let matches = constant_time_eq(known.as_bytes(), id.as_bytes());
            found | (matches && at.elapsed() < SESSION_LIFETIME)
        })
    }

    pub fn close(&self, id: &str) {
        self.opened
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(known, _)| known != id);
    }
}

/// The cookie that carries session `id`.
pub fn session_cookie(id: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(
            SESSION_LIFETIME.as_secs() as i64,
        ))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn expired_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}

/// Allows the request if it carries the admin token (Bearer) or an open console session.
/// A wrong Bearer token is refused even when a good cookie is also sent: a script must not
/// silently act with someone else's session.
pub fn require_admin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <admin token>"))?;
        return if constant_time_eq(token.trim().as_bytes(), state.admin_token.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("wrong admin token"))
        };
    }
    match req.cookie(COOKIE_NAME) {
        Some(cookie) if state.admin_sessions.valid(cookie.value()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "the console session has expired: log in again at /admin",
        )),
        None => Err(ApiError::unauthorized(
            "send Authorization: Bearer <admin token>, or log in at /admin",
        )),
    }
}

pub fn is_admin(req: &HttpRequest, state: &AppState) -> bool {
    require_admin(req, state).is_ok()
}

/// Compares without an early exit on the first different byte, so that the response time says
/// nothing about how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_open_check_and_close() {
        let sessions = Sessions::default();
        let id = sessions.open();
        assert_eq!(id.len(), 32);
        assert!(sessions.valid(&id));
        assert!(!sessions.valid("0123"));
        assert!(!sessions.valid(""));
        sessions.close(&id);
        assert!(!sessions.valid(&id));
    }

    #[test]
    fn the_oldest_session_ends_at_the_bound() {
        let sessions = Sessions::default();
        let first = sessions.open();
        for _ in 1..MAX_SESSIONS {
            sessions.open();
        }
        assert!(sessions.valid(&first));
        sessions.open();
        assert!(!sessions.valid(&first));
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let text = session_cookie("abc".into(), false).to_string();
        assert!(text.contains("HttpOnly"), "{text}");
        assert!(text.contains("SameSite=Strict"), "{text}");
        assert!(!text.contains("Secure"), "{text}");
        assert!(
            session_cookie("abc".into(), true)
                .to_string()
                .contains("Secure")
        );
    }
}
