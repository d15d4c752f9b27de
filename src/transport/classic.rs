//! Classic request/response: `GET /classic` renders the latest events as a whole HTML page.
//!
//! Nothing is pushed: the page is as old as its last load. `?refresh=S` adds a reload every S
//! seconds; the reload URL carries `seen=<last seq on the page>`, which is how the meter counts
//! as delivered only the events that are new to that viewer (a first load, without `seen`,
//! delivers nothing: it shows history). Chat is a plain form, answered with post/redirect/get.

use actix_web::{HttpResponse, http::header, web};
use askama::Template;
use serde::Deserialize;

use super::chat::{ChatPost, MAX_AUTHOR_CHARS, MAX_TEXT_CHARS, publish_chat};
use crate::{feed::Event, meter::Transport, server::AppState};

/// Events shown on the page.
const EVENTS_SHOWN: usize = 30;
/// Bounds of `?refresh=S`, in seconds.
const REFRESH_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicQuery {
    refresh: Option<u32>,
    seen: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct ClassicChatForm {
    author: String,
    text: String,
    refresh: Option<u32>,
    seen: Option<u64>,
}

/// One line of the page.
pub struct Row {
    pub seq: u64,
    pub time: String,
    pub age: String,
    pub kind: &'static str,
    pub summary: String,
    pub fresh: bool,
}

#[derive(Template)]
#[template(path = "classic.html")]
struct ClassicPage {
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
    state: web::Data<AppState>,
    query: Result<web::Query<ClassicQuery>, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    match query {
        Ok(query) => render(
            &state,
            query.refresh,
            query.seen,
            None,
            String::new(),
            String::new(),
        ),
        Err(e) => render_error(
            &state,
            None,
            format!("invalid address: {e}"),
            String::new(),
            String::new(),
        ),
    }
}

pub async fn classic_chat(
    state: web::Data<AppState>,
    form: Result<web::Form<ClassicChatForm>, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    let form = match form {
        Ok(form) => form.into_inner(),
        Err(e) => {
            return render_error(
                &state,
                None,
                format!("the form could not be read: {e}"),
                String::new(),
                String::new(),
            );
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
                .insert_header((header::LOCATION, page_url(form.refresh, form.seen)))
                .finish()
        }
        // The page comes back with what was typed, so nothing is lost.
        Err(e) => render_error(&state, form.refresh, e.to_string(), form.author, form.text),
    }
}

fn page_url(refresh: Option<u32>, seen: Option<u64>) -> String {
    let mut params = Vec::new();
    if let Some(r) = refresh {
        params.push(format!("refresh={r}"));
    }
    if let Some(s) = seen {
        params.push(format!("seen={s}"));
    }
    if params.is_empty() {
        "/classic".into()
    } else {
        format!("/classic?{}", params.join("&"))
    }
}

fn render(
    state: &AppState,
    refresh: Option<u32>,
    seen: Option<u64>,
    error: Option<String>,
    author: String,
    text: String,
) -> HttpResponse {
    if let Some(r) = refresh.filter(|r| !REFRESH_RANGE.contains(r)) {
        return render_error(
            state,
            None,
            format!("refresh={r}: choose 1 to 3600 seconds"),
            author,
            text,
        );
    }
    let events = state.hub.latest(EVENTS_SHOWN);
    let last_seq = events.last().map_or(state.hub.last_seq(), |e| e.seq);
    // A `seen` ahead of the feed (an old tab after a restart) counts as a first load.
    let seen = seen.filter(|s| *s <= last_seq);
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
        .map(|e| row(e, now, seen.is_some_and(|s| e.seq > s)))
        .collect();
    let page = ClassicPage {
        rows,
        refresh,
        reload_url: page_url(refresh, Some(last_seq)),
        last_seq,
        error: error.clone(),
        author,
        text,
        max_author: MAX_AUTHOR_CHARS,
        max_text: MAX_TEXT_CHARS,
    };
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "classic page failed to render");
            HttpResponse::InternalServerError().body("the page could not be rendered")
        }
    }
}

fn render_error(
    state: &AppState,
    refresh: Option<u32>,
    error: String,
    author: String,
    text: String,
) -> HttpResponse {
    render(
        state,
        refresh.filter(|r| REFRESH_RANGE.contains(r)),
        None,
        Some(error),
        author,
        text,
    )
}

fn row(event: &Event, now_us: u64, fresh: bool) -> Row {
    let summary = match event.kind {
        crate::feed::Kind::Tick => {
            let json: serde_json::Value = serde_json::from_str(event.json()).unwrap_or_default();
            format!("value {}", json["data"]["value"])
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
