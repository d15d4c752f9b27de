//! `/admin`: the instructor's console page, or its login form for a visitor without a session.
//!
//! `POST /admin/login` checks the token typed in the form and sets the session cookie (see
//! `admin::auth`); a wrong token answers 401 with the form again and says why. `POST
//! /admin/logout` ends the session. The console's controls then call `/api/admin/*` with the
//! cookie, exactly as a script would with the Bearer token.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use serde::Deserialize;

use super::{Lang, PageQuery, html, page_lang, with_vary};
use crate::{
    admin::auth::{COOKIE_NAME, constant_time_eq, expired_cookie, is_admin, session_cookie},
    state::AppState,
};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    lang: &'static str,
    /// The console when true, else the login form.
    logged_in: bool,
    /// Why the last login failed, shown above the form.
    login_error: Option<&'static str>,
}

/// `GET /admin`.
pub async fn admin_page(
    req: HttpRequest,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let page = AdminPage {
        lang: page_lang(&req, &query).code(),
        logged_in: is_admin(&req, &state),
        login_error: None,
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
    if !constant_time_eq(form.token.trim().as_bytes(), state.admin_token.as_bytes()) {
        tracing::warn!(peer = ?req.peer_addr(), "admin login refused: wrong token");
        let page = AdminPage {
            lang,
            logged_in: false,
            login_error: Some("login.wrong_token"),
        };
        let mut response = private(html(page.render()));
        *response.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
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
pub async fn logout(
    req: HttpRequest,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Some(cookie) = req.cookie(COOKIE_NAME) {
        state.admin_sessions.close(cookie.value());
        tracing::info!("admin logged out");
    }
    let lang = page_lang(&req, &query).code();
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
