//! Classic request/response: `GET /classic` renders the latest events as a whole HTML page.
//!
//! Nothing is pushed: the page is as old as its last load. `?refresh=S` adds a reload every S
//! seconds; the reload URL carries `seen=<last seq on the page>`, which is how the meter counts
//! as delivered only the events that are new to that viewer (a first load, without `seen`,
//! delivers nothing: it shows history). Chat is a plain form, answered with post/redirect/get.
//! `?projector=1` writes the page in the dashboard's projector type, and keeps it in its reload,
//! links and form.
//!
//! Its parameters are read as every transport reads its own (`cursor`): an empty value counts
//! as absent, any other value must be what the parameter accepts, or the page says so in its
//! language (400), naming the parameter.
//!
//! This file is the transport: what a load counts. What the page looks like is [`view`].

mod form;
mod numbers;
mod view;

use std::time::Instant;

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};

use super::answer::{LiveSince, follow_window, live_since};
use super::chat::{ChatPost, ChatRefusal, admit};
use super::cursor::{self, BadParam, QueryParams};
use crate::{
    lang::Lang,
    limits::{ClientKey, client_key},
    network::hold_answer,
    state::AppState,
    transport_kind::Transport,
};
use view::{Address, PageError, View};

/// Events shown on the page.
const EVENTS_SHOWN: usize = 30;
/// Bounds of `?refresh=S`, in seconds: below, no reload; above an hour, a reload is no "live"
/// page any more. A value outside is refused (400, the page says the bounds).
const REFRESH_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;

/// The page's own parameters, each as the page accepts it (`None`: absent or empty).
#[derive(Debug, Default, PartialEq)]
struct PageParams {
    refresh: Option<u32>,
    seen: Option<u64>,
    epoch: Option<String>,
    projector: bool,
    /// The reader was away (`catch_up=1`: a paused or cut-off panel): see `answer::live_since`.
    catch_up: bool,
}

/// `refresh=S` (seconds, [`REFRESH_RANGE`]).
fn refresh_of(value: &str) -> Result<u32, BadParam> {
    cursor::seconds_in("refresh", value, REFRESH_RANGE)
        .map(|s| u32::try_from(s).expect("REFRESH_RANGE fits a u32"))
}

/// Reads `?refresh=S&seen=N&epoch=E&projector=1&catch_up=1` (`lang` is read by the view: a language we do
/// not speak falls back, as on every page); other parameters (a cache buster, a tracker) are
/// ignored. Every value that is not what its parameter accepts is listed, in this order.
fn page_params(params: &QueryParams) -> (PageParams, Vec<BadParam>) {
    let mut page = PageParams::default();
    let mut bad = Vec::new();
    let mut keep = |result: Result<(), BadParam>| {
        if let Err(e) = result {
            bad.push(e);
        }
    };
    if let Some(v) = params.get(&["refresh"]) {
        keep(refresh_of(v).map(|r| page.refresh = Some(r)));
    }
    if let Some(v) = params.get(&["seen"]) {
        keep(cursor::whole("seen", v).map(|s| page.seen = Some(s)));
    }
    if let Some(v) = params.get(&["epoch"]) {
        keep(cursor::epoch("epoch", v).map(|e| page.epoch = Some(e)));
    }
    if let Some(v) = params.get(&["projector"]) {
        keep(cursor::switch("projector", v).map(|on| page.projector = on));
    }
    if let Some(v) = params.get(&["catch_up"]) {
        keep(cursor::switch("catch_up", v).map(|on| page.catch_up = on));
    }
    (page, bad)
}

/// True when the page's query is one [`classic_page`] answers with the feed (not its 400 page).
pub fn query_is_valid(req: &HttpRequest) -> bool {
    QueryParams::of(req).is_ok_and(|params| page_params(&params).1.is_empty())
}

pub async fn classic_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    let started = Instant::now();
    // The added delay holds the page before it is built (the request "arrives" late); a reader
    // who leaves meanwhile abandoned it.
    let owed = state.meter.owed(Transport::Classic);
    hold_answer(state.added_delay(Transport::Classic), &state.shutdown).await;
    owed.settled();
    let mut catch_up = false;
    let view = match QueryParams::of(&req) {
        Ok(params) => {
            let mut view = View::new(&req, params.get(&["lang"]));
            let (page, bad) = page_params(&params);
            // The mode and the language hold on an error page; a mistake stops the reloads and
            // delivers nothing (the page says what to correct).
            view.projector = page.projector;
            if bad.is_empty() {
                view.refresh = page.refresh;
                view.seen = page.seen;
                view.epoch = page.epoch;
                catch_up = page.catch_up;
            } else {
                view.error = Some(PageError::Params(bad));
            }
            view
        }
        Err(e) => {
            let mut view = View::new(&req, None);
            view.error = Some(PageError::Address(e.message));
            view
        }
    };
    let live = live_since(
        &state,
        client_key(&req),
        Transport::Classic,
        view.seen,
        catch_up,
        started,
        follow_window(Transport::Classic, view.refresh),
    );
    show(&state, client_key(&req), view, live)
}

/// `POST /classic/chat`, the page's form (`application/x-www-form-urlencoded`, UTF-8): a 303 to
/// the page once published (post/redirect/get). Refused, the page comes back with the reason and
/// what was typed: 400 for a bad form or field, 415 for another content type, 413 above the
/// body limit, 429 with `Retry-After` over the client's chat limit.
pub async fn classic_chat(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let _open = state.meter.connection(Transport::Classic);
    let refuse = |status: StatusCode, error: PageError| {
        let mut view = View::new(&req, None);
        view.error = Some(error);
        let mut page = show(
            &state,
            client_key(&req),
            view,
            LiveSince::from_start(Instant::now()),
        );
        *page.status_mut() = status;
        page
    };
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PageError::Form("Content-Type must be application/x-www-form-urlencoded".into()),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let status = e.as_response_error().status_code();
            return refuse(status, PageError::Form(e.to_string()));
        }
    };
    let form = match form::parse(&body) {
        Ok(form) => form,
        // A field that is not UTF-8 is the chat's verdict on those bytes, as on every transport.
        Err(form::FormError::Field(e)) => {
            return refuse(StatusCode::BAD_REQUEST, PageError::Chat(e.to_string()));
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, PageError::Form(e.to_string())),
    };
    let (Some(author), Some(text)) = (form.author.clone(), form.text.clone()) else {
        let missing = if form.author.is_none() {
            "author"
        } else {
            "text"
        };
        return refuse(
            StatusCode::BAD_REQUEST,
            PageError::Form(format!("the field {missing} is missing")),
        );
    };
    // Hidden fields of the page itself, read as its address is: a bad one is dropped, not a
    // reason to lose the message.
    let refresh = form.refresh.as_deref().and_then(|r| refresh_of(r).ok());
    let seen = form
        .seen
        .as_deref()
        .and_then(|s| cursor::whole("seen", s).ok());
    let projector = form
        .projector
        .as_deref()
        .and_then(|p| cursor::switch("projector", p).ok())
        .unwrap_or(false);
    match admit(&state, client_key(&req), ChatPost { author, text }).await {
        Ok(_) => {
            // The reader's `seen` belongs to the run its page showed: the next load decides.
            let location = Address {
                refresh,
                seen,
                epoch: form.epoch.as_deref().filter(|e| **e == **state.hub.epoch()),
                lang: Lang::known_code(form.lang.as_deref()),
                projector,
            }
            .url();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish()
        }
        // The page comes back with what was typed, so nothing is lost.
        Err(refusal) => {
            let error = match &refusal {
                ChatRefusal::TooMany(refused) => PageError::TooMany(refused.retry_after_secs()),
                ChatRefusal::Invalid(e) => PageError::Chat(e.to_string()),
                ChatRefusal::Unavailable(e) => PageError::Chat(e.to_string()),
            };
            let mut view = View::new(&req, form.lang.as_deref());
            view.refresh = refresh;
            view.projector = projector;
            view.error = Some(error);
            view.author = form.author.unwrap_or_default();
            view.text = form.text.unwrap_or_default();
            let mut page = show(
                &state,
                client_key(&req),
                view,
                LiveSince::from_start(Instant::now()),
            );
            if let ChatRefusal::Unavailable(_) = refusal {
                // The server works, its broker does not (RFC 9110 §15.6.4).
                *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            }
            if let ChatRefusal::TooMany(refused) = refusal {
                *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                page.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(refused.retry_after_secs()),
                );
            }
            page
        }
    }
}

/// Counts what this load hands the viewer, then renders the page.
/// Events published before `live`'s cut are catch-up for this reader (see `answer::live_since`).
fn show(state: &AppState, client: ClientKey, mut view: View, live: LiveSince) -> HttpResponse {
    let events = state.hub.latest(EVENTS_SHOWN);
    let last_seq = events.last().map_or(state.hub.last_seq(), |e| e.seq);
    // The page's reload asks after `last_seq` (`seen`): from this address, that is a follower.
    state
        .positions
        .handed(client, Transport::Classic, last_seq, Instant::now());
    // A page of another run (the server restarted since it was rendered), or a `seen` ahead of
    // the feed, is a first load of this run, and the page says why; an error page delivers
    // nothing.
    let start = state.hub.resume(view.seen, view.epoch.as_deref());
    view.stopping = state.shutdown.is_cancelled();
    view.restarted = start.reset.is_some().then(|| view.epoch.clone()).flatten();
    view.seen = view
        .seen
        .filter(|_| start.reset.is_none() && view.error.is_none());
    if let Some(seen) = view.seen {
        let new: Vec<_> = events.iter().filter(|e| e.seq > seen).cloned().collect();
        // Events between `seen` and the page's first row were never shown to this reader.
        let missed = new.first().is_some_and(|e| e.seq > seen + 1);
        let cut = live.cut_events(&new, missed);
        state.meter.delivered(Transport::Classic, &new, cut);
        state
            .ledger
            .delivered(client, Transport::Classic, new.len());
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
