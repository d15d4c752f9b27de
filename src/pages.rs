//! The HTML pages (askama templates) and the static files they load: the dashboard (`/`), the
//! protocol inspector (`/protocol`), the guided experiments (`/lab`), and `/static/...`. (The
//! instructor's `/admin` is in `admin::console`.)
//!
//! A page only chooses its language (from `?lang=`, else `Accept-Language`) and fills in a few
//! numbers; every label lives in `static/js/i18n.js`, and the live parts are ES modules.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use serde::Deserialize;

use crate::server::AppState;

/// The languages the pages speak. Students are French; tools and visitors get English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    fn parse(code: &str) -> Option<Lang> {
        // "fr", "fr-FR", "fr-CA": only the primary subtag matters.
        let primary = code.split('-').next().unwrap_or("").trim();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The page's language: a valid `?lang=` wins (the switch in the page sets it), then the
    /// best `Accept-Language` entry we speak, then English. An unknown `?lang=` falls back
    /// instead of failing: a page in a language the reader asked for beats an error page.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(best_of_accept_language))
            .unwrap_or(Lang::En)
    }
}

/// The spoken language with the highest `q` in an `Accept-Language` header (RFC 9110 §12.5.4);
/// the first listed wins a tie, `q=0` means "not this one", `*` is ignored.
fn best_of_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

pub fn page_lang(req: &HttpRequest, query: &PageQuery) -> Lang {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::choose(query.lang.as_deref(), accept)
}

/// The dashboard: five panels, the charts, the cost table.
#[derive(Template)]
#[template(path = "index.html")]
struct DashboardPage {
    lang: &'static str,
    last_seq: u64,
    rate_hz: f64,
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
    instructor: bool,
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    let static_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    cfg.route("/", web::get().to(dashboard))
        .route("/protocol", web::get().to(protocol))
        .route("/lab", web::get().to(lab))
        .service(actix_files::Files::new("/static", static_dir).prefer_utf8(true))
        .default_service(web::to(not_found));
}

async fn dashboard(
    req: HttpRequest,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let page = DashboardPage {
        lang: page_lang(&req, &query).code(),
        last_seq: state.hub.last_seq(),
        rate_hz: state.settings.borrow().rate_hz,
    };
    with_vary(html(page.render()))
}

async fn protocol(req: HttpRequest, query: web::Query<PageQuery>) -> HttpResponse {
    let page = ProtocolPage {
        lang: page_lang(&req, &query).code(),
    };
    with_vary(html(page.render()))
}

async fn lab(
    req: HttpRequest,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let page = LabPage {
        lang: page_lang(&req, &query).code(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_over_the_header() {
        assert_eq!(Lang::choose(Some("fr"), Some("en-US,en")), Lang::Fr);
        assert_eq!(Lang::choose(Some("en"), Some("fr-FR")), Lang::En);
    }

    #[test]
    fn an_unknown_query_falls_back_to_the_header() {
        assert_eq!(Lang::choose(Some("de"), Some("fr-FR,fr;q=0.9")), Lang::Fr);
        assert_eq!(Lang::choose(Some(""), None), Lang::En);
    }

    #[test]
    fn the_highest_quality_we_speak_wins() {
        assert_eq!(
            Lang::choose(None, Some("de-DE,de;q=0.9,fr;q=0.8,en;q=0.7")),
            Lang::Fr
        );
        assert_eq!(Lang::choose(None, Some("en;q=0.5, fr;q=0.6")), Lang::Fr);
        assert_eq!(Lang::choose(None, Some("fr-CA, en")), Lang::Fr);
        assert_eq!(Lang::choose(None, Some("fr;q=0, en;q=0.1")), Lang::En);
    }

    #[test]
    fn nothing_we_speak_gives_english() {
        assert_eq!(Lang::choose(None, Some("de, es;q=0.8, *;q=0.1")), Lang::En);
        assert_eq!(Lang::choose(None, Some("garbage;;;q=")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }
}
