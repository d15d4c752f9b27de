//! The edge of a refuse fault: new requests of a transport the instructor made "network down"
//! are answered `503` with `Retry-After` before any handler runs (see `network::faults`).
//!
//! The JSON answer names the fault (`"fault": "refuse"`, the transport, `retry_after_s`), so a
//! page says it in its own language; the classic page, read by people, gets a readable page in
//! the reader's language (PROTOCOL.md: "HTML pages: a readable page").

use actix_web::{HttpResponse, dev::ServiceRequest, http::header, web};

use crate::{lang::Lang, pages::page_lang, state::AppState, transport_kind::Transport};

/// The `503` + `Retry-After` (s, rounded up) of a request whose `transport` (its path's) is
/// being refused;
/// `None` when it is not. Asked inside the counting step (`edge`), so refused requests still
/// count as requests.
pub fn refusal(req: &ServiceRequest, transport: Option<Transport>) -> Option<HttpResponse> {
    let transport = transport?;
    let state = req.app_data::<web::Data<AppState>>()?;
    let left = state.faults.refusing(transport)?;
    let secs = left.as_secs_f64().ceil() as u64;
    let mut answer = HttpResponse::ServiceUnavailable();
    answer
        .insert_header((header::RETRY_AFTER, secs.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if transport == Transport::Classic {
        let lang = page_lang(req.request());
        return Some(
            answer
                .insert_header((header::VARY, "Accept-Language"))
                .content_type("text/html; charset=utf-8")
                .body(classic_page(lang, secs)),
        );
    }
    Some(answer.json(serde_json::json!({
        "error": format!(
            "{} is refusing new connections for {secs} more s (a fault injected by the instructor)",
            transport.as_str()
        ),
        "fault": "refuse",
        "transport": transport.as_str(),
        "retry_after_s": secs,
    })))
}

/// The classic page's refusal, in the reader's language: what happens, and when to reload.
fn classic_page(lang: Lang, secs: u64) -> String {
    let (title, what, when) = match lang {
        Lang::Fr => (
            "Page classique refusée",
            "L'enseignant a simulé une panne du réseau : le serveur refuse les nouvelles \
             requêtes de la page classique.",
            format!("Rechargez la page dans {secs} s."),
        ),
        Lang::En => (
            "Classic page refused",
            "The instructor simulated a network failure: the server refuses new requests of the \
             classic page.",
            format!("Reload the page in {secs} s."),
        ),
    };
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body data-fault=\"refuse\" data-retry-after=\"{secs}\"><h1>{title}</h1><p>{what}</p>\
         <p>{when}</p></body></html>\n",
        lang.code()
    )
}
