//! Who may use the instructor's controls: whoever shows the admin token, either as
//! `Authorization: Bearer <token>` (scripts, the API) or through the console's session cookie,
//! which the login form sets after checking the token once.
//!
//! The token is compared in constant time. The cookie holds a random session id, never the token
//! itself; it is `HttpOnly` (page scripts cannot read it), `SameSite=Strict` (another site's page
//! cannot make the browser send it, which is what protects the console's forms from CSRF) and
//! `Secure` when pushlab serves https.
//!
//! Every token shown (Bearer or the login form) is judged by [`check_token`]: beyond ten wrong
//! ones a minute from one client address, further tries get 429 with `Retry-After`, the right
//! token included, until the minute has passed (see `limits::Lockout`).

use actix_web::{
    HttpRequest,
    cookie::{Cookie, SameSite},
    http::header,
};

pub use crate::sessions::constant_time_eq;
use crate::{
    error::ApiError,
    limits::{Verdict, client_key},
    sessions::SESSION_LIFETIME,
    state::AppState,
};

/// The console's cookie.
pub const COOKIE_NAME: &str = "pushlab_admin";

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

/// The credentials of an `Authorization: Bearer <token>` header (RFC 6750 §2.1); the scheme
/// is matched case-insensitively (RFC 9110 §11.1: `bearer`, `BEARER`), and any run of spaces
/// or tabs may follow it. `None` for another scheme or a value that is not text.
pub fn bearer_token(value: &header::HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_matches([' ', '\t']))
}

/// Judges one shown token from the request's client: `Ok` if it is right and the address is
/// not locked; 401 when wrong (counted); 429 with `Retry-After` when the address showed too
/// many wrong tokens lately, whatever the token.
pub fn check_token(req: &HttpRequest, state: &AppState, token: &str) -> Result<(), ApiError> {
    let right = constant_time_eq(token.as_bytes(), state.admin_token.as_bytes());
    match state.admin_failures.judge(client_key(req), right) {
        Verdict::Allowed => Ok(()),
        Verdict::Refused => Err(ApiError::unauthorized("wrong admin token")),
        Verdict::Locked { retry_after } => {
            // Whole seconds, rounded up, at least 1: a client told "0" would retry at once.
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            Err(ApiError::too_many_requests(
                format!("too many wrong admin tokens from this address: try again in {seconds} s"),
                seconds,
            ))
        }
    }
}

/// Allows the request if it carries the admin token (Bearer) or an open console session.
/// A wrong Bearer token is refused even when a good cookie is also sent: a script must not
/// silently act with someone else's session. An open session is not a try of the token: it
/// is never counted nor locked (see the module doc).
pub fn require_admin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = bearer_token(value)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <admin token>"))?;
        return check_token(req, state, token);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let token =
            |v: &'static str| bearer_token(&header::HeaderValue::from_static(v)).map(str::to_owned);
        assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("BEARER \t abc ").as_deref(), Some("abc"));
        assert_eq!(token("Bearer").as_deref(), Some(""));
        assert_eq!(token("Basic abc"), None);
        assert_eq!(token("Bearerabc"), None);
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
