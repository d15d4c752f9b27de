//! HTTP as clients expect it (RFC 9110, RFC 9112), for every route, in one middleware:
//!
//! - `HEAD` wherever `GET` works (§9.3.2): the request is served as a GET and the answer keeps its
//!   status and headers (`Content-Length` or `Transfer-Encoding` included) but sends no body;
//!   the four feed transports answer HEAD without following the feed ([`feed_head`]), so a HEAD
//!   counts as a request of its transport and delivers nothing;
//! - `OPTIONS` on a known path (§9.3.7): `204` with `Allow` (CORS adds its part, see `cors`);
//! - a known path with a method it does not answer: `405` with `Allow` (§15.5.6);
//! - HTTP/1.0 has no chunked coding (RFC 9112 §7): a streamed answer to an HTTP/1.0 request is
//!   close-delimited, and a WebSocket handshake over HTTP/1.0 is refused (RFC 6455 §4.1);
//! - a request body that stalls is answered `408` (see [`Deadline`]);
//! - every 4xx and 5xx answer carries the contract's `{"error": ...}` body, including the empty
//!   ones actix-web and actix-http build (405, WebSocket handshake refusals, static files).
//!   (The few that actix-http writes below every service — 400, 408, 431 — are given theirs by
//!   `refusal`.)

use std::{
    cell::RefCell,
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use actix_http::{ConnectionType, Payload, Version, error::PayloadError};
use actix_web::{
    HttpMessage, HttpResponse,
    body::{BodySize, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, StatusCode, header},
    web::{self, Bytes},
};
use futures_core::Stream;
use serde_json::json;
use tokio::time::{Instant, Sleep};

use super::origin::is_websocket_upgrade;
use crate::{
    state::AppState,
    transport::heads::{answer_headers, put_answer_headers, query_refusal},
    transport_kind::Transport,
};

/// Longest body of an error answer read back to be put in the JSON `error`, in bytes; a longer
/// one is replaced by the status's reason.
const MAX_ERROR_TEXT: usize = 4096;

/// What the HTTP step keeps of a request to finish its answer ([`Semantics::finish`]).
pub struct Semantics {
    /// The method as the client sent it (a `HEAD` is served as a `GET`).
    method: Method,
    version: Version,
    /// It came as `HEAD`: the answer's body is dropped.
    head: bool,
    /// Where a stalled body leaves its `408`.
    stalled: Option<Stalled>,
}

impl Semantics {
    /// The step before the guards and the handler: a `HEAD` is served as a `GET` (see
    /// [`Semantics::came_as_head`]), a body gets its deadlines. Errors: the refusal (400) of a WebSocket
    /// handshake over HTTP/1.0 (RFC 6455 §4.1), answered as it is.
    pub fn begin(req: &mut ServiceRequest) -> Result<Semantics, Box<HttpResponse>> {
        let version = req.version();
        let method = req.method().clone();
        let upgrade = is_websocket_upgrade(req);
        if version < Version::HTTP_11 && upgrade {
            return Err(Box::new(error_response(
                StatusCode::BAD_REQUEST,
                format!(
                    "a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.1); this request is {version:?}"
                ),
            )));
        }
        let head = method == Method::HEAD && !upgrade;
        if head {
            req.head_mut().method = Method::GET;
        }
        let stalled = deadline_on_body(req);
        Ok(Semantics {
            method,
            version,
            head,
            stalled,
        })
    }

    /// The request came as `HEAD` (its answer will have no body).
    pub fn came_as_head(&self) -> bool {
        self.head
    }

    /// The step after them: a stalled body's `408`, `Allow` on a `405` (and `204` for an
    /// `OPTIONS`), the contract's JSON on every error, close-delimited streams for HTTP/1.0,
    /// no body for a `HEAD`.
    pub async fn finish(self, mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
        let Semantics {
            method,
            version,
            head,
            stalled,
        } = self;
        if let Some(stall) = stalled.and_then(|s| s.borrow_mut().take()) {
            let mut timeout = error_response(StatusCode::REQUEST_TIMEOUT, stall.why);
            timeout
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            // The unread body stays alive until the answer is written: actix-http then closes
            // the connection, where it would wait for the rest of a dropped chunked body.
            let timeout = timeout.map_body(|_, body| BoxBody::new(Holding(body, stall.payload)));
            res = res.into_response(timeout);
        }
        if res.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allow = allowed_methods(&res);
            res.headers_mut().insert(
                header::ALLOW,
                header::HeaderValue::from_str(&allow).expect("method names are header-safe"),
            );
            if method == Method::OPTIONS {
                let options = HttpResponse::NoContent()
                    .insert_header((header::ALLOW, allow))
                    .finish();
                res = res.into_response(options);
            }
        }
        let mut res = with_json_error(res, &method).await;
        if version < Version::HTTP_11 && res.response().body().size() == BodySize::Stream {
            // HTTP/1.0 has no chunked coding: the end of the connection ends the body.
            let head = res.response_mut().head_mut();
            head.no_chunking(true);
            head.set_connection_type(ConnectionType::Close);
        }
        if head {
            // The GET's head, sizes included; the body is dropped unread (a stream ends at once).
            res = res.map_body(|_, body| BoxBody::new(NoBody(body.size())));
        }
        res
    }
}

/// The `Allow` value of a 405: what actix-web registered for the path (a static-file path
/// registers nothing: GET), with HEAD beside GET and OPTIONS always.
fn allowed_methods(res: &ServiceResponse<BoxBody>) -> String {
    let mut methods: Vec<String> = res
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("GET")
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
        methods.push("HEAD".into());
    }
    if !methods.iter().any(|m| m == "OPTIONS") {
        methods.push("OPTIONS".into());
    }
    methods.join(", ")
}

/// A 4xx or 5xx answer without a JSON (or HTML page) body gets the contract's JSON error; its
/// status and other headers stay.
async fn with_json_error(
    res: ServiceResponse<BoxBody>,
    method: &Method,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") || content_type.starts_with("text/html") {
        return res;
    }
    let cause = res.response().error().map(|e| e.to_string());
    let allow = res
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, response) = res.into_parts();
    let path = req.path();
    let (mut response, body) = response.into_parts();
    let text = actix_web::body::to_bytes_limited(body, MAX_ERROR_TEXT)
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let message = match (status, allow) {
        (StatusCode::METHOD_NOT_ALLOWED, Some(allow)) => {
            format!("{method} is not allowed on {path}; it answers {allow}")
        }
        (StatusCode::NOT_FOUND, _) => format!("no such page or endpoint: {path}"),
        _ => {
            let detail = cause
                .or(text)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
            if is_handshake_refusal(&req) {
                format!("WebSocket handshake refused: {detail}")
            } else {
                detail
            }
        }
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = BoxBody::new(json!({ "error": message }).to_string());
    ServiceResponse::new(req, response.set_body(body))
}

fn is_handshake_refusal(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// A JSON error answer (`{"error": message}`).
pub fn error_response(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message.into() }))
}

/// The body of a HEAD answer: the size of the GET's body, and no byte (RFC 9110 §9.3.2).
struct NoBody(BodySize);

impl MessageBody for NoBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// Answers `HEAD` on the feed transports that answer with the feed (classic page, short poll,
/// long poll, SSE) without calling them: a HEAD must not hold (long poll), stream (SSE) or count
/// events as delivered. The headers are the GET's (`tests/api/http.rs` compares them), so a
/// client learns the type it would get; `None` when the handler answers. Asked last, after the
/// Origin and refuse guards, with the path's `transport` and `head`: the request came as `HEAD`
/// ([`Semantics::begin`]).
pub fn feed_head(
    req: &ServiceRequest,
    transport: Option<Transport>,
    head: bool,
) -> Option<HttpResponse> {
    if !head {
        return None;
    }
    // The feed's own path (the classic chat's posts belong to Classic too).
    let head_of = transport.filter(|t| t.path() == req.path())?;
    answer_headers(head_of)?;
    // A query the GET would refuse: the same refusal, its body dropped by the HEAD's marker;
    // the classic page's 400 is not rendered here, so its length is not given (RFC 9110 §8.6).
    if let Some(refusal) = query_refusal(head_of, req.request()) {
        return Some(match head_of {
            Transport::Classic => refusal
                .set_body(NoBody(BodySize::None))
                .map_into_boxed_body(),
            _ => refusal,
        });
    }
    let mut answer = HttpResponse::Ok();
    put_answer_headers(&mut answer, head_of);
    // SSE streams (chunked); the others' length depends on the feed: not given (RFC 9110 §8.6).
    let size = if head_of == Transport::Sse {
        BodySize::Stream
    } else {
        BodySize::None
    };
    Some(answer.body(NoBody(size)))
}

/// A body that stalled: why, and the rest of it, unread.
struct Stall {
    why: String,
    payload: Payload,
}

/// Where [`Deadline`] leaves a stall for the middleware.
type Stalled = Rc<RefCell<Option<Stall>>>;

/// A response body that keeps something alive (the stalled request body) until it is dropped.
struct Holding<T>(BoxBody, T);

impl<T: Unpin> MessageBody for Holding<T> {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.0.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

/// Puts the `--body-idle-secs` / `--body-timeout-secs` deadlines on the request's body, if it
/// has one; returns where the stall will be told.
fn deadline_on_body(req: &mut ServiceRequest) -> Option<Stalled> {
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body || is_websocket_upgrade(req) {
        return None;
    }
    let config = &req.app_data::<web::Data<AppState>>()?.config;
    let (idle, total) = (config.body_idle_timeout(), config.body_timeout());
    let expected = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let stalled = Stalled::default();
    let inner = req.take_payload();
    let deadline = Deadline {
        inner: Some(inner),
        idle_after: idle,
        total_after: total,
        idle: Box::pin(tokio::time::sleep(idle)),
        total: Box::pin(tokio::time::sleep(total)),
        received: 0,
        expected,
        stalled: stalled.clone(),
        ended: false,
        meter: req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.meter.clone()),
    };
    let stream: actix_http::BoxedPayloadStream = Box::pin(deadline);
    req.set_payload(Payload::from(stream));
    Some(stalled)
}

/// A request body with two deadlines: `idle_after` without a new byte, `total_after` in all
/// (from the head's arrival). At either, the body ends with a timed-out error, the reason is
/// left in `stalled`, and the middleware answers 408 whatever the handler made of the error;
/// the connection then closes (the rest of the body is never read). A stalled body would
/// otherwise hold its connection slot for as long as its client likes (slowloris).
struct Deadline {
    /// `None` once stalled: then in [`Stalled`].
    inner: Option<Payload>,
    idle_after: Duration,
    total_after: Duration,
    idle: Pin<Box<Sleep>>,
    total: Pin<Box<Sleep>>,
    received: u64,
    expected: Option<u64>,
    stalled: Stalled,
    ended: bool,
    meter: Option<std::sync::Arc<crate::meter::Meter>>,
}

impl Deadline {
    fn stall(&mut self, why: String) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.ended = true;
        let of = self
            .expected
            .map_or_else(String::new, |n| format!(" of {n}"));
        let message = format!(
            "the request body did not arrive in time: {why} ({}{of} bytes received)",
            self.received
        );
        tracing::info!(%message, "answered 408 to a stalled body");
        if let Some(meter) = &self.meter {
            meter.body_timed_out();
        }
        if let Some(payload) = self.inner.take() {
            *self.stalled.borrow_mut() = Some(Stall {
                why: message.clone(),
                payload,
            });
        }
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            message,
        )))))
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let ended = self.ended;
        let Some(inner) = self.inner.as_mut().filter(|_| !ended) else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                self.received += bytes.len() as u64;
                let next = Instant::now() + self.idle_after;
                self.idle.as_mut().reset(next);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(other) => {
                self.ended = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => {
                if self.total.as_mut().poll(cx).is_ready() {
                    let why = format!("not complete within {} s", self.total_after.as_secs());
                    return self.stall(why);
                }
                if self.idle.as_mut().poll(cx).is_ready() {
                    let why = format!("no byte for {} s", self.idle_after.as_secs());
                    return self.stall(why);
                }
                Poll::Pending
            }
        }
    }
}
