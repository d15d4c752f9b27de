//! The classic page as the reader sees it: the askama template `classic.html`, its rows, and
//! the URLs it reloads and redirects to. Counts nothing (that is the transport's job, in
//! `mod.rs`); every label is in the template, in both languages.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use askama::Template;

use super::numbers::Numbers;
use crate::{
    feed::{Event, Kind, unix_micros},
    lang::Lang,
    transport::{
        chat::{MAX_AUTHOR_CHARS, MAX_TEXT_CHARS},
        cursor::{Accepts, BadParam},
        heads::put_answer_headers,
    },
    transport_kind::Transport,
};

/// What went wrong for the reader, shown above the form (the sentences are in the template, in
/// both languages; the detail is the parser's or the chat rule's own words).
pub enum PageError {
    /// The page's address could not be read at all.
    Address(String),
    /// Values of the page's parameters that are not what they accept (each named, with what it
    /// accepts and the value received).
    Params(Vec<BadParam>),
    /// The chat form could not be read.
    Form(String),
    /// The chat message broke a rule (nothing was published; what was typed comes back).
    Chat(String),
    /// Over the chat limit of the client's address: the seconds to wait (`Retry-After`).
    TooMany(u64),
}

/// What a render needs beyond the feed: the view's settings and what the reader typed.
pub struct View {
    pub refresh: Option<u32>,
    /// The last seq this reader saw (from the reload URL), when valid.
    pub seen: Option<u64>,
    /// The run that `seen` belongs to (from the reload URL).
    pub epoch: Option<String>,
    /// The run the reader's page showed, when the server has restarted since.
    pub restarted: Option<String>,
    /// Projector mode (`?projector=1`, kept in the reload, the links and the form).
    pub projector: bool,
    /// `?lang=` when it names a language we speak (kept in the reload and redirect URLs).
    lang_param: Option<&'static str>,
    lang: Lang,
    /// Shown inside another page (`Sec-Fetch-Dest: iframe`): the page around it has the links.
    framed: bool,
    pub error: Option<PageError>,
    pub author: String,
    pub text: String,
    /// Rendered by a server that is stopping: the dashboard leaves the load out of its counts
    /// (see `server::stopping`).
    pub stopping: bool,
}

impl View {
    /// A view in the request's language (`lang_param`, else `Accept-Language`), with nothing
    /// set yet.
    pub fn new(req: &HttpRequest, lang_param: Option<&str>) -> View {
        View {
            refresh: None,
            seen: None,
            epoch: None,
            restarted: None,
            stopping: false,
            projector: false,
            lang: Lang::of_request(req, lang_param),
            lang_param: Lang::known_code(lang_param),
            framed: is_framed(req),
            error: None,
            author: String::new(),
            text: String::new(),
        }
    }
}

/// Whether the browser loads this page into a frame of another page (Fetch Metadata,
/// `Sec-Fetch-Dest: iframe` or `frame`): the dashboard's and the lab's classic panels, whose
/// pages have their own navigation. Browsers without Fetch Metadata get the links in the frame.
fn is_framed(req: &HttpRequest) -> bool {
    req.headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|dest| {
            dest.eq_ignore_ascii_case("iframe") || dest.eq_ignore_ascii_case("frame")
        })
}

/// One line of the page: the event's seq, times and what it says (a tick's value, or a chat's
/// author and text, kept apart so the page can isolate their directions). Every text is
/// written in the page's language.
pub struct Row {
    pub seq: u64,
    /// Publish time (Unix µs), for the dashboard's latency of this panel.
    pub ts: u64,
    pub time: String,
    pub age: String,
    pub kind: &'static str,
    pub value: Option<String>,
    pub author: Option<String>,
    pub text: Option<String>,
    pub fresh: bool,
}

/// The page's links (omitted in a frame): the dashboard, the page in each language and in the
/// other mode, each keeping the reload's parameters.
struct Links {
    dashboard: String,
    en: String,
    fr: String,
    projector: String,
}

#[derive(Template)]
#[template(path = "classic.html")]
struct ClassicPage {
    fr: bool,
    /// Writes the page's numbers in its language.
    n: Numbers,
    lang_param: Option<&'static str>,
    rows: Vec<Row>,
    refresh: Option<u32>,
    reload_url: String,
    links: Option<Links>,
    projector: bool,
    last_seq: u64,
    /// The `seen` this load was counted after (its events above it delivered, none: empty);
    /// `None` for a load counted as nothing (a first load, another run, an error). Written on
    /// the table, so that the dashboard counts each load as the server did.
    counted_after: Option<u64>,
    /// Rendered while the server stops (`View::stopping`).
    stopping: bool,
    epoch: String,
    /// The previous run's epoch, when the server restarted since the reader's last load.
    restarted: Option<String>,
    error: Option<PageError>,
    author: String,
    text: String,
    max_author: usize,
    max_text: usize,
}

/// An address of the page: `/classic` with its parameters, in this order. Only checked values
/// go in (it is echoed into `Location` and the page's links): a seq, a known language, the
/// hub's own epoch or one the reader sent that passed `cursor::epoch`.
#[derive(Debug, Clone, Default)]
pub struct Address<'a> {
    pub refresh: Option<u32>,
    pub seen: Option<u64>,
    pub epoch: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub projector: bool,
}

impl Address<'_> {
    pub fn url(&self) -> String {
        let mut params = Vec::new();
        if let Some(r) = self.refresh {
            params.push(format!("refresh={r}"));
        }
        if let Some(s) = self.seen {
            params.push(format!("seen={s}"));
        }
        if let Some(e) = self.epoch {
            params.push(format!("epoch={e}"));
        }
        if let Some(l) = self.lang {
            params.push(format!("lang={l}"));
        }
        if self.projector {
            params.push("projector=1".to_owned());
        }
        if params.is_empty() {
            "/classic".into()
        } else {
            format!("/classic?{}", params.join("&"))
        }
    }
}

/// The whole page, newest event first; 400 when it carries an error for the reader.
pub fn render(view: View, events: &[Arc<Event>], last_seq: u64, epoch: &str) -> HttpResponse {
    let now = unix_micros();
    let n = Numbers::new(view.lang);
    let rows = events
        .iter()
        .rev()
        .map(|e| row(e, now, view.seen.is_some_and(|s| e.seq > s), n))
        .collect();
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let reload = Address {
        refresh: view.refresh,
        seen: Some(last_seq),
        epoch: Some(epoch),
        lang: view.lang_param,
        projector: view.projector,
    };
    let links = (!view.framed).then(|| Links {
        dashboard: format!("/?lang={}", view.lang.code()),
        en: Address {
            lang: Some(Lang::En.code()),
            ..reload.clone()
        }
        .url(),
        fr: Address {
            lang: Some(Lang::Fr.code()),
            ..reload.clone()
        }
        .url(),
        projector: Address {
            projector: !view.projector,
            ..reload.clone()
        }
        .url(),
    });
    let page = ClassicPage {
        fr: view.lang == Lang::Fr,
        n,
        reload_url: reload.url(),
        links,
        projector: view.projector,
        lang_param: view.lang_param,
        epoch: epoch.to_owned(),
        restarted: view.restarted,
        rows,
        refresh: view.refresh,
        last_seq,
        counted_after: view.seen,
        stopping: view.stopping,
        error: view.error,
        author: view.author,
        text: view.text,
        max_author: MAX_AUTHOR_CHARS,
        max_text: MAX_TEXT_CHARS,
    };
    match page.render() {
        Ok(html) => {
            let mut response = HttpResponse::build(status);
            put_answer_headers(&mut response, Transport::Classic);
            response.body(html)
        }
        Err(e) => {
            tracing::error!(error = %e, "classic page failed to render");
            HttpResponse::InternalServerError().body("the page could not be rendered")
        }
    }
}

fn row(event: &Event, now_us: u64, fresh: bool, n: Numbers) -> Row {
    let json: serde_json::Value = serde_json::from_str(event.json()).unwrap_or_default();
    let data = &json["data"];
    let text_of = |field: &str| data[field].as_str().map(str::to_owned);
    let (value, author, text) = match event.kind {
        Kind::Tick => (Some(n.json_number(&data["value"].to_string())), None, None),
        Kind::Chat => (None, text_of("author"), text_of("text")),
        Kind::Broker => (None, None, None),
    };
    Row {
        seq: event.seq,
        ts: event.ts_us,
        time: n.clock(event.ts_us),
        age: format!(
            "{} s",
            n.fixed(now_us.saturating_sub(event.ts_us) as f64 / 1e6, 1)
        ),
        kind: event.kind.as_str(),
        value,
        author,
        text,
        fresh,
    }
}
