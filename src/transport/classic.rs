//! Classic request/response: `GET /classic` renders the latest events as a whole HTML page.
//!
//! Nothing is pushed: the page is as old as its last load. `?refresh=S` adds a reload every S
//! seconds; the reload URL carries `seen=<last seq on the page>`, which is how the meter counts
//! as delivered only the events that are new to that viewer (a first load, without `seen`,
//! delivers nothing: it shows history). Chat is a plain form, answered with post/redirect/get.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use serde::Deserialize;

use super::chat::{ChatPost, MAX_AUTHOR_CHARS, MAX_TEXT_CHARS, publish_chat};
use crate::{feed::Event, meter::Transport, pages::Lang, server::AppState};

/// Events shown on the page.
const EVENTS_SHOWN: usize = 30;
/// Bounds of `?refresh=S`, in seconds.
const REFRESH_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicQuery {
    refresh: Option<u32>,
    seen: Option<u64>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ClassicChatForm {
    author: String,
    text: String,
    refresh: Option<u32>,
    seen: Option<u64>,
    lang: Option<String>,
}

/// What a render needs beyond the feed: the view's settings and what the reader typed.
struct View {
    refresh: Option<u32>,
    seen: Option<u64>,
    /// `?lang=` as given (kept in the reload and redirect URLs), else `Accept-Language` decides.
    lang_param: Option<String>,
    lang: Lang,
    error: Option<String>,
    author: String,
    text: String,
}

/// One line of the page.
pub struct Row {
    pub seq: u64,
    /// Publish time (Unix µs), for the dashboard's latency of this panel.
    pub ts: u64,
    pub time: String,
    pub age: String,
    pub kind: &'static str,
    pub summary: String,
    pub fresh: bool,
}

#[derive(Template)]
#[template(path = "classic.html")]
struct ClassicPage {
    fr: bool,
    lang_param: Option<String>,
    rows: Vec<Row>,
    refresh: Option<u32>,
    reload_url: String,
    last_seq: u64,
    error: Option<String>,
    author: String,
    text: String,
    max_author: usize,
    max_text: usize,
}

pub async fn classic_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<ClassicQuery>, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    // The added delay holds the page before it is built (the request "arrives" late).
    super::network::hold_answer(&state, Transport::Classic).await;
    let view = |refresh, seen, lang_param: Option<String>, error| View {
        refresh,
        seen,
        lang: page_lang(&req, lang_param.as_deref()),
        lang_param,
        error,
        author: String::new(),
        text: String::new(),
    };
    match query {
        Ok(q) => {
            let q = q.into_inner();
            render(&state, view(q.refresh, q.seen, q.lang, None))
        }
        Err(e) => render(
            &state,
            view(None, None, None, Some(format!("invalid address: {e}"))),
        ),
    }
}

pub async fn classic_chat(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Result<web::Form<ClassicChatForm>, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    let form = match form {
        Ok(form) => form.into_inner(),
        Err(e) => {
            let view = View {
                refresh: None,
                seen: None,
                lang: page_lang(&req, None),
                lang_param: None,
                error: Some(format!("the form could not be read: {e}")),
                author: String::new(),
                text: String::new(),
            };
            return render(&state, view);
        }
    };
    let post = ChatPost {
        author: form.author.clone(),
        text: form.text.clone(),
    };
    match post.validate() {
        Ok(message) => {
            publish_chat(&state.hub, &message);
            HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    page_url(form.refresh, form.seen, form.lang.as_deref()),
                ))
                .finish()
        }
        // The page comes back with what was typed, so nothing is lost.
        Err(e) => render(
            &state,
            View {
                refresh: form.refresh,
                seen: None,
                lang: page_lang(&req, form.lang.as_deref()),
                lang_param: form.lang,
                error: Some(e.to_string()),
                author: form.author,
                text: form.text,
            },
        ),
    }
}

fn page_lang(req: &HttpRequest, param: Option<&str>) -> Lang {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::choose(param, accept)
}

fn page_url(refresh: Option<u32>, seen: Option<u64>, lang: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(r) = refresh {
        params.push(format!("refresh={r}"));
    }
    if let Some(s) = seen {
        params.push(format!("seen={s}"));
    }
    // Only a known language goes back into a URL (the value is echoed into a Location header).
    if let Some(l) = lang.filter(|l| matches!(*l, "en" | "fr")) {
        params.push(format!("lang={l}"));
    }
    if params.is_empty() {
        "/classic".into()
    } else {
        format!("/classic?{}", params.join("&"))
    }
}

fn render(state: &AppState, mut view: View) -> HttpResponse {
    if let Some(r) = view.refresh.filter(|r| !REFRESH_RANGE.contains(r)) {
        view.refresh = None;
        view.seen = None;
        view.error = Some(format!("refresh={r}: choose 1 to 3600 seconds"));
    }
    let events = state.hub.latest(EVENTS_SHOWN);
    let last_seq = events.last().map_or(state.hub.last_seq(), |e| e.seq);
    // A `seen` ahead of the feed (an old tab after a restart) counts as a first load; an error
    // page delivers nothing.
    let seen = view.seen.filter(|s| *s <= last_seq && view.error.is_none());
    if let Some(seen) = seen {
        let new: Vec<_> = events.iter().filter(|e| e.seq > seen).cloned().collect();
        state.meter.delivered(Transport::Classic, &new);
        if new.is_empty() {
            state.meter.empty(Transport::Classic);
        }
        // Events newer than `seen` that scrolled off the page were never shown.
        let oldest_shown = events.first().map_or(last_seq + 1, |e| e.seq);
        state
            .meter
            .missed(Transport::Classic, oldest_shown.saturating_sub(seen + 1));
    }
    let now = crate::feed::unix_micros();
    let rows = events
        .iter()
        .rev()
        .map(|e| row(e, now, seen.is_some_and(|s| e.seq > s), view.lang))
        .collect();
    let lang_param = view
        .lang_param
        .filter(|l| matches!(l.as_str(), "en" | "fr"));
    let page = ClassicPage {
        fr: view.lang == Lang::Fr,
        reload_url: page_url(view.refresh, Some(last_seq), lang_param.as_deref()),
        lang_param,
        rows,
        refresh: view.refresh,
        last_seq,
        error: view.error.clone(),
        author: view.author,
        text: view.text,
        max_author: MAX_AUTHOR_CHARS,
        max_text: MAX_TEXT_CHARS,
    };
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::VARY, "accept-language"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "classic page failed to render");
            HttpResponse::InternalServerError().body("the page could not be rendered")
        }
    }
}

fn row(event: &Event, now_us: u64, fresh: bool, lang: Lang) -> Row {
    let summary = match event.kind {
        crate::feed::Kind::Tick => {
            let json: serde_json::Value = serde_json::from_str(event.json()).unwrap_or_default();
            let word = if lang == Lang::Fr { "valeur" } else { "value" };
            format!("{word} {}", json["data"]["value"])
        }
        crate::feed::Kind::Chat => {
            let json: serde_json::Value = serde_json::from_str(event.json()).unwrap_or_default();
            format!(
                "{}: {}",
                json["data"]["author"].as_str().unwrap_or("?"),
                json["data"]["text"].as_str().unwrap_or("")
            )
        }
    };
    let secs = event.ts_us / 1_000_000;
    Row {
        seq: event.seq,
        ts: event.ts_us,
        time: format!(
            "{:02}:{:02}:{:02}.{:03}",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            (event.ts_us / 1000) % 1000
        ),
        age: format!("{:.1} s", now_us.saturating_sub(event.ts_us) as f64 / 1e6),
        kind: event.kind.as_str(),
        summary,
        fresh,
    }
}
