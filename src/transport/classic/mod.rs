//! Classic request/response: `GET /classic` renders the latest events as a whole HTML page.
//!
//! Nothing is pushed: the page is as old as its last load. `?refresh=S` adds a reload every S
//! seconds; the reload URL carries `seen=<last seq on the page>`, which is how the meter counts
//! as delivered only the events that are new to that viewer (a first load, without `seen`,
//! delivers nothing: it shows history). Chat is a plain form, answered with post/redirect/get.
//!
//! This file is the transport: what a load counts. What the page looks like is [`view`].

mod view;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;

use super::chat::{ChatPost, publish_chat};
use crate::{lang::Lang, network::hold_answer, state::AppState, transport_kind::Transport};
use view::{PageError, View, page_url};

/// Events shown on the page.
const EVENTS_SHOWN: usize = 30;
/// Bounds of `?refresh=S`, in seconds.
const REFRESH_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;

/// `?refresh=S&seen=N&epoch=E&lang=L`; other parameters (a cache buster, a tracker) are ignored.
#[derive(Debug, Deserialize)]
pub struct ClassicQuery {
    refresh: Option<u32>,
    seen: Option<u64>,
    epoch: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ClassicChatForm {
    author: String,
    text: String,
    refresh: Option<u32>,
    seen: Option<u64>,
    epoch: Option<String>,
    lang: Option<String>,
}

pub async fn classic_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<ClassicQuery>, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    // The added delay holds the page before it is built (the request "arrives" late); a reader
    // who leaves meanwhile abandoned it.
    let owed = state.meter.owed(Transport::Classic);
    hold_answer(state.added_delay(Transport::Classic), &state.shutdown).await;
    owed.settled();
    let view = match query {
        Ok(q) => {
            let q = q.into_inner();
            let mut view = View::new(&req, q.refresh, q.seen, q.lang, None);
            view.epoch = q.epoch;
            view
        }
        Err(e) => View::new(
            &req,
            None,
            None,
            None,
            Some(PageError::Address(e.to_string())),
        ),
    };
    show(&state, view)
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
            let error = PageError::Form(e.to_string());
            return show(&state, View::new(&req, None, None, None, Some(error)));
        }
    };
    let post = ChatPost {
        author: form.author.clone(),
        text: form.text.clone(),
    };
    match post.validate() {
        Ok(message) => {
            publish_chat(&state.hub, &message);
            // The reader's `seen` belongs to the run its page showed: the next load decides.
            let location = page_url(
                form.refresh,
                form.seen,
                form.epoch.as_deref().filter(|e| **e == **state.hub.epoch()),
                Lang::known_code(form.lang.as_deref()),
            );
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish()
        }
        // The page comes back with what was typed, so nothing is lost.
        Err(e) => {
            let mut view = View::new(
                &req,
                form.refresh,
                None,
                form.lang,
                Some(PageError::Chat(e.to_string())),
            );
            view.author = form.author;
            view.text = form.text;
            show(&state, view)
        }
    }
}

/// Counts what this load hands the viewer, then renders the page.
fn show(state: &AppState, mut view: View) -> HttpResponse {
    if let Some(r) = view.refresh.filter(|r| !REFRESH_RANGE.contains(r)) {
        view.refresh = None;
        view.seen = None;
        view.error = Some(PageError::Refresh(
            r,
            *REFRESH_RANGE.start(),
            *REFRESH_RANGE.end(),
        ));
    }
    let events = state.hub.latest(EVENTS_SHOWN);
    let last_seq = events.last().map_or(state.hub.last_seq(), |e| e.seq);
    // A page of another run (the server restarted since it was rendered), or a `seen` ahead of
    // the feed, is a first load of this run, and the page says why; an error page delivers
    // nothing.
    let start = state.hub.resume(view.seen, view.epoch.as_deref());
    view.restarted = start.reset.is_some().then(|| view.epoch.clone()).flatten();
    view.seen = view
        .seen
        .filter(|_| start.reset.is_none() && view.error.is_none());
    if let Some(seen) = view.seen {
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
    view::render(view, &events, last_seq, state.hub.epoch())
}
