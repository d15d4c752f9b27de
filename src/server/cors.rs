//! CORS (WHATWG Fetch §3.2) for pages served elsewhere: a student's dev server, a `file://` page.
//!
//! For a request to a public endpoint ([`is_public_path`]) whose `Origin` is admitted by
//! `--allowed-origin` (`config::AllowedOrigin`): the origin is echoed in
//! `Access-Control-Allow-Origin` (never `*`, so `null` works too), and a preflight (`OPTIONS`
//! with `Access-Control-Request-Method`) is answered `204` with the path's methods, the request
//! headers common clients send, and a max age. Every public answer carries `Vary: Origin`, so a
//! cache keeps one copy per origin, and an admitted origin may read the answer's Resource Timing
//! (`Timing-Allow-Origin`), so that its pages measure bytes and waits as same-origin pages do.
//! A request from an origin that is not admitted simply gets no
//! CORS headers: the browser then withholds the answer from the page.
//!
//! Never on the admin endpoints or the console: they are not public, whatever is allowed (and
//! `origin` refuses foreign origins there). Credentials are not allowed: the public endpoints use
//! no cookie, and the console's cookie must never travel with a foreign page's request.
//!
//! Why not actix-cors (0.7): its preflight answer is `200`, not the contract's `204`; its
//! refusals are plain-text 400s where the contract wants JSON (or, for a foreign GET, no
//! refusal at all); it compares the flag's text byte for byte (`http://Lab:80/` would never
//! match); and "never for admin" would rest on how the route table is wrapped, where here it is
//! one path test shared with the Origin check.

use actix_web::{
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    web,
};

use super::origin::{admitted, is_admin_path};
use crate::{state::AppState, transport_kind::Transport};

/// Request headers a cross-origin page may send (`Access-Control-Allow-Headers`), beyond the
/// CORS-safelisted ones: what fetch/XHR libraries (axios, jQuery), the EventSource polyfills
/// (`Last-Event-ID`, `Cache-Control`, `X-Requested-With`) and `fetch` with JSON add. Headers a
/// preflight asks for are allowed too: the public endpoints ignore what they do not use.
const ALLOWED_HEADERS: &str = "Accept, Accept-Language, Content-Language, Content-Type, \
     Last-Event-ID, Cache-Control, Pragma, X-Requested-With, If-None-Match, If-Modified-Since";

/// Response headers a cross-origin page may read beyond the CORS-safelisted ones.
const EXPOSED_HEADERS: &str = "Retry-After, Content-Disposition, Content-Length";

/// `Timing-Allow-Origin` (W3C Resource Timing §4.5): which origins may read an answer's timing
/// and sizes. Not among the `http` crate's names.
const TIMING_ALLOW_ORIGIN: HeaderName = HeaderName::from_static("timing-allow-origin");

/// How long a browser may reuse a preflight's answer, in seconds (Chromium caps it at 7200).
const PREFLIGHT_MAX_AGE_SECS: u32 = 600;

/// The endpoints a page served elsewhere may use (PROTOCOL.md "Cross-origin clients"): the feed
/// transports (the classic page's chat form included), chat, time, the stats with their window
/// and streams (SSE and WebSocket), `/metrics`, the exports. Not the admin endpoints, the pages, `/healthz`, the
/// handshake log or client reports.
pub fn is_public_path(path: &str) -> bool {
    !is_admin_path(path)
        && (Transport::for_path(path).is_some()
            || matches!(
                path,
                "/api/chat"
                    | "/api/time"
                    | "/api/stats"
                    | "/api/stats/window"
                    | "/api/stats/stream"
                    | "/api/stats/ws"
                    | "/metrics"
            )
            || path.starts_with("/api/export/"))
}

/// What the CORS step keeps of a request to a public path ([`is_public_path`]), to answer it
/// once the response exists.
pub struct Ask {
    /// The request's `Origin`, when `--allowed-origin` admits it.
    admitted: Option<HeaderValue>,
    /// An `OPTIONS` with `Access-Control-Request-Method` (Fetch, "CORS-preflight request").
    preflight: bool,
    /// The preflight's `Access-Control-Request-Headers`.
    asked_headers: Option<HeaderValue>,
}

impl Ask {
    /// `None` for a path that never answers CORS (the pages, the instructor's endpoints).
    pub fn of(req: &ServiceRequest) -> Option<Ask> {
        if !is_public_path(req.path()) {
            return None;
        }
        let admitted = match (
            req.headers().get(header::ORIGIN),
            req.app_data::<web::Data<AppState>>(),
        ) {
            (Some(origin), Some(state))
                if origin.to_str().is_ok_and(|o| admitted(o, &state.config)) =>
            {
                Some(origin.clone())
            }
            _ => None,
        };
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let asked_headers = preflight
            .then(|| {
                req.headers()
                    .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                    .cloned()
            })
            .flatten();
        Some(Ask {
            admitted,
            preflight,
            asked_headers,
        })
    }

    /// Puts the CORS fields on `res`: `Vary: Origin` always (the answer depends on it), and
    /// for an admitted origin `Access-Control-Allow-Origin`, `Timing-Allow-Origin` and either
    /// the exposed headers or, on a preflight's `204`, the allowed methods and headers. Put
    /// after the HTTP step, so that it sees the `204` an `OPTIONS` became, with the path's
    /// `Allow`.
    pub fn answer<B>(self, res: &mut ServiceResponse<B>) {
        let status = res.status();
        let headers = res.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = self.admitted else {
            return;
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        // Without it the browser hides the answer's Resource Timing from a foreign page (W3C
        // Resource Timing §4.5, the timing allow check): sizes and phases read 0. A dashboard
        // that moved to another server of its cluster would count 0 bytes for every poll answer
        // and could not tell time queued in the browser from latency.
        headers.insert(TIMING_ALLOW_ORIGIN, origin);
        if self.preflight && status == StatusCode::NO_CONTENT {
            answer_preflight(headers, self.asked_headers);
        } else {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }
}

/// The preflight's part: methods (the path's `Allow`), headers, max age.
fn answer_preflight(headers: &mut HeaderMap, asked: Option<HeaderValue>) {
    if let Some(allow) = headers.get(header::ALLOW).cloned() {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
    }
    let mut allowed = ALLOWED_HEADERS.to_owned();
    let asked = asked.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
    for name in asked.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let known = ALLOWED_HEADERS
            .split(", ")
            .any(|h| h.eq_ignore_ascii_case(name));
        // Only header names go back (RFC 9110 §5.1 tokens); anything else is left out.
        if !known && HeaderName::from_bytes(name.as_bytes()).is_ok() {
            allowed.push_str(", ");
            allowed.push_str(name);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from(PREFLIGHT_MAX_AGE_SECS),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths_are_the_feed_stats_and_exports_not_admin() {
        for path in [
            "/api/poll",
            "/api/longpoll",
            "/api/sse",
            "/ws",
            "/classic",
            "/classic/chat",
            "/api/chat",
            "/api/time",
            "/api/stats",
            "/api/stats/window",
            "/api/stats/stream",
            "/api/stats/ws",
            "/metrics",
            "/api/export/window.csv",
        ] {
            assert!(is_public_path(path), "{path}");
        }
        for path in [
            "/admin",
            "/admin/login",
            "/api/admin/settings",
            "/",
            "/lab",
            "/api/handshake/x",
            "/api/client-metrics",
            "/static/js/x.js",
        ] {
            assert!(!is_public_path(path), "{path}");
        }
    }
}
