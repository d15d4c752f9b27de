//! `/admin`: the instructor's console page, or its login form for a visitor without a session.
//!
//! `POST /admin/login` checks the token typed in the form and sets the session cookie (see
//! `admin::auth`); a wrong token answers 401 with the form again and says why; after too many
//! wrong tokens from one address, 429 with `Retry-After` and the form says how long to wait
//! (the same count as Bearer tokens, see `admin::auth::check_token`). `POST
//! /admin/logout` ends the session. The console's controls then call `/api/admin/*` with the
//! cookie, exactly as a script would with the Bearer token.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use serde::Deserialize;

use super::{Lang, html, page_lang, with_vary};
use crate::{
    admin::auth::{COOKIE_NAME, check_token, expired_cookie, is_admin, session_cookie},
    state::AppState,
};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    lang: &'static str,
    /// The console when true, else the login form.
    logged_in: bool,
    /// Why the last login failed, shown above the form (a key of the page's strings).
    login_error: Option<&'static str>,
    /// Seconds to wait before the next try, when the address is locked (filled into the text).
    retry_after: Option<u64>,
}

/// `GET /admin`.
pub async fn admin_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let page = AdminPage {
        lang: page_lang(&req).code(),
        logged_in: is_admin(&req, &state),
        login_error: None,
        retry_after: None,
    };
    private(with_vary(html(page.render())))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    lang: Option<String>,
}

/// `POST /admin/login`: the token from the form; on success a session cookie and 303 to `/admin`.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let lang = Lang::choose(form.lang.as_deref(), None).code();
    if let Err(refused) = check_token(&req, &state, form.token.trim()) {
        // Failures are logged by the count (at most once a minute per address), not here.
        let page = AdminPage {
            lang,
            logged_in: false,
            login_error: Some(if refused.retry_after_secs.is_some() {
                "login.locked"
            } else {
                "login.wrong_token"
            }),
            retry_after: refused.retry_after_secs,
        };
        let mut response = private(html(page.render()));
        *response.status_mut() = refused.status;
        if let Some(seconds) = refused.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        return response;
    }
    let session = state.admin_sessions.open();
    tracing::info!(peer = ?req.peer_addr(), "admin logged in");
    private(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin?lang={lang}")))
            .cookie(session_cookie(session, state.config.tls()))
            .finish(),
    )
}

/// `POST /admin/logout`: ends the session and makes the browser forget the cookie; back to
/// the login form in the page's language.
pub async fn logout(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(cookie) = req.cookie(COOKIE_NAME) {
        state.admin_sessions.close(cookie.value());
        tracing::info!("admin logged out");
    }
    let lang = page_lang(&req).code();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin?lang={lang}")))
        .cookie(expired_cookie(state.config.tls()))
        .finish()
}

/// The console is per person: no cache may keep it.
fn private(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store, private"),
    );
    response
}
