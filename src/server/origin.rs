//! The Origin check: a browser page from another site may not open our WebSockets or change state,
//! and never reaches the instructor's endpoints.
//!
//! Browsers send `Origin` on WebSocket upgrades, on cross-origin fetches and on POSTs; a page of
//! pushlab itself has the same host as the request. Requests without `Origin` come from tools
//! (curl, the bench) and pass: the check protects browsers against cross-site request forgery
//! (slides: "Origin"), it is not authentication.
//!
//! Which host did the browser reach? The `Host` header, unless the TCP peer is a proxy named by
//! `--trusted-proxy`: then the first `Forwarded: host=` (RFC 7239 §5.3), else the first
//! `X-Forwarded-Host`. From any other peer those headers are ignored: a client could otherwise
//! name its own origin as the host and pass.

use std::net::IpAddr;

use actix_web::{
    dev::ServiceRequest,
    http::{Method, header},
    web,
};

use crate::{
    config::{AllowedOrigin, Config, normalize_authority, normalize_origin},
    error::ApiError,
    state::AppState,
};

/// The refusal (403, `None`: the request goes on) of what a foreign page may not do:
/// - on the admin endpoints and the console ([`is_admin_path`]), any request whose `Origin` is
///   not this host, whatever `--allowed-origin` says;
/// - elsewhere, WebSocket upgrades and state-changing requests (not GET, HEAD or OPTIONS) whose
///   `Origin` is neither this host nor admitted by `--allowed-origin`.
pub fn refusal(req: &ServiceRequest) -> Option<ApiError> {
    let admin = is_admin_path(req.path());
    let guarded = admin
        || is_websocket_upgrade(req)
        || !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !guarded {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    let origin = req.headers().get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("<not text>");
    let host = reached_host(req, &state.config.trusted_proxies);
    let same = host.as_deref().is_some_and(|h| same_origin(origin, h));
    let allowed = same || (!admin && admitted(origin, &state.config));
    if allowed {
        return None;
    }
    tracing::info!(origin, host, path = req.path(), "refused a foreign origin");
    Some(if admin {
        ApiError::forbidden(format!(
            "origin {origin} may not use the instructor's endpoints: only pushlab's own pages may"
        ))
    } else {
        ApiError::forbidden(format!(
            "origin {origin} is not allowed here (same host, or --allowed-origin)"
        ))
    })
}

/// The instructor's pages and API: `/admin`, `/admin/...`, `/api/admin/...`. They never answer
/// CORS and accept no foreign origin.
pub fn is_admin_path(path: &str) -> bool {
    ["/admin", "/api/admin"].iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

pub fn is_websocket_upgrade(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether `--allowed-origin` admits a page at `origin` (the `Origin` header as sent).
pub fn admitted(origin: &str, config: &Config) -> bool {
    config
        .allowed_origins
        .iter()
        .filter_map(|value| AllowedOrigin::parse(value).ok())
        .any(|allowed| allowed.admits(origin))
}

/// The host (`host[:port]`) the browser reached: `Host`, or what a trusted proxy forwarded.
/// `None` when the request names none (HTTP/1.0 without `Host`).
pub fn reached_host(req: &ServiceRequest, trusted_proxies: &[IpAddr]) -> Option<String> {
    let from_proxy = req
        .peer_addr()
        .is_some_and(|peer| trusted_proxies.contains(&peer.ip().to_canonical()));
    let text = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if from_proxy {
        let forwarded = text(header::FORWARDED).and_then(forwarded_host);
        let x_forwarded = text(header::X_FORWARDED_HOST)
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        if let Some(host) = forwarded.or(x_forwarded) {
            return Some(host);
        }
    }
    text(header::HOST)
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

/// The `host=` of the first element of a `Forwarded` header (RFC 7239 §4: the element added by
/// the proxy nearest the client), unquoted.
fn forwarded_host(value: &str) -> Option<String> {
    let first = value.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|h| !h.is_empty())
    })
}

/// Whether a page at `origin` is one of ours, reached as `host` (RFC 6454 §5: same scheme-less
/// authority, default ports ignored).
pub fn same_origin(origin: &str, host: &str) -> bool {
    let Some(origin) = normalize_origin(origin) else {
        return false; // "null" (sandboxed frames, file://) or garbage
    };
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", ""));
    authority == normalize_authority(scheme, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_host_is_same_origin_others_are_not() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("http://LAB.example", "lab.example:80"));
        assert!(same_origin("https://lab.example", "lab.example"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
    }

    #[test]
    fn admin_paths_are_the_console_and_its_api() {
        for path in [
            "/admin",
            "/admin/login",
            "/api/admin",
            "/api/admin/settings",
        ] {
            assert!(is_admin_path(path), "{path}");
        }
        for path in ["/", "/administrator", "/api/poll", "/api/adminx", "/lab"] {
            assert!(!is_admin_path(path), "{path}");
        }
    }

    #[test]
    fn forwarded_host_is_the_first_elements() {
        assert_eq!(
            forwarded_host("for=1.2.3.4;host=lab.example;proto=https, host=inner"),
            Some("lab.example".into())
        );
        assert_eq!(
            forwarded_host("Host=\"lab.example:8443\""),
            Some("lab.example:8443".into())
        );
        assert_eq!(forwarded_host("for=1.2.3.4"), None);
    }
}
