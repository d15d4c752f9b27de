//! Who may use the instructor's controls: whoever shows the admin token, either as
//! `Authorization: Bearer <token>` (scripts, the API) or through the console's session cookie,
//! which the login form sets after checking the token once.
//!
//! The token is compared in constant time. The cookie holds a random session id, never the token
//! itself; it is `HttpOnly` (page scripts cannot read it), `SameSite=Strict` (another site's page
//! cannot make the browser send it, which is what protects the console's forms from CSRF) and
//! `Secure` when pushlab serves https.

use actix_web::{
    HttpRequest,
    cookie::{Cookie, SameSite},
    http::header,
};

pub use crate::sessions::constant_time_eq;
use crate::{error::ApiError, sessions::SESSION_LIFETIME, state::AppState};

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

#[cfg(test)]
mod tests {
    use super::*;

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
