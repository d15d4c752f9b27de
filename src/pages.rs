//! The HTML pages (askama templates) and the static files they load.

use actix_web::{HttpResponse, http::header, web};
use askama::Template;

use crate::server::AppState;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    last_seq: u64,
    rate_hz: f64,
}

pub fn pages(cfg: &mut web::ServiceConfig) {
    let static_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
    cfg.route("/", web::get().to(index))
        .service(actix_files::Files::new("/static", static_dir).prefer_utf8(true))
        .default_service(web::to(not_found));
}

async fn index(state: web::Data<AppState>) -> HttpResponse {
    let page = IndexPage {
        last_seq: state.hub.last_seq(),
        rate_hz: state.settings.borrow().rate_hz,
    };
    html(page.render())
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
