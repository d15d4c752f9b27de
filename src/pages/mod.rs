//! The HTML pages (askama templates) and the static files they load: the dashboard (`/`), the
//! protocol inspector (`/protocol`), the guided experiments (`/lab`), the instructor's console
//! (`/admin`, [`console`]) and `/static/...`.
//!
//! A page only chooses its language ([`Lang`]) and fills in a few numbers; every label lives in
//! the templates and the string tables of `static/js/`, and the live parts are ES modules.
//! Pages sit at the top of the house, beside the API: they may read the state and ask `admin`
//! who is the instructor; nothing below imports them. (The classic page is a transport: its
//! view lives with it, in `transport::classic`.)

pub mod console;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;

pub use crate::lang::Lang;
use crate::{state::AppState, transport::cursor::QueryParams};

/// The page's language: `?lang=`, else `Accept-Language`, else English. The query is read as
/// every endpoint reads it ([`QueryParams`]): a `lang` given twice (`?lang=fr&lang=en`) is its
/// last non-empty value; a query that cannot be read names no language.
pub fn page_lang(req: &HttpRequest) -> Lang {
    let params = QueryParams::of(req).ok();
    Lang::of_request(req, params.as_ref().and_then(|p| p.get(&["lang"])))
}

/// The dashboard: five panels, the charts, the cost table.
#[derive(Template)]
#[template(path = "index.html")]
struct DashboardPage {
    lang: &'static str,
    last_seq: u64,
    rate_hz: f64,
    /// The cluster's other servers (`--peer-url`), space-separated: the page may move to them.
    peers: String,
}

/// The protocol inspector: the handshake and the frames of the student's own connection.
#[derive(Template)]
#[template(path = "protocol.html")]
struct ProtocolPage {
    lang: &'static str,
}

/// The guided experiments; an instructor (console cookie) also gets one-click "apply" buttons.
#[derive(Template)]
#[template(path = "lab.html")]
struct LabPage {
    lang: &'static str,
    /// As on the dashboard.
    peers: String,
    instructor: bool,
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    let static_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    // One resource per path, so that other methods get 405 with `Allow`.
    cfg.service(web::resource("/").get(dashboard))
        .service(web::resource("/protocol").get(protocol))
        .service(web::resource("/lab").get(lab))
        .service(actix_files::Files::new("/static", static_dir).prefer_utf8(true))
        .default_service(web::to(not_found));
}

async fn dashboard(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let page = DashboardPage {
        lang: page_lang(&req).code(),
        last_seq: state.hub.last_seq(),
        rate_hz: state.feed_settings.borrow().rate_hz,
        peers: state.server.peers.join(" "),
    };
    with_vary(html(page.render()))
}

async fn protocol(req: HttpRequest) -> HttpResponse {
    let page = ProtocolPage {
        lang: page_lang(&req).code(),
    };
    with_vary(html(page.render()))
}

async fn lab(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let page = LabPage {
        lang: page_lang(&req).code(),
        peers: state.server.peers.join(" "),
        instructor: crate::admin::is_admin(&req, &state),
    };
    let mut response = with_vary(html(page.render()));
    // The page differs for the instructor: it must not be cached and shown to a student.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store, private"),
    );
    response
}

/// The same URL answers in two languages: caches must key on `Accept-Language`.
pub fn with_vary(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("accept-language"),
    );
    response
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": "no such page or endpoint" }))
}

pub fn html(rendered: Result<String, askama::Error>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            HttpResponse::InternalServerError().body("the page could not be rendered")
        }
    }
}
