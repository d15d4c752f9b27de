//! The Origin check: a browser page from another site may not open our WebSockets or change state.
//!
//! Browsers send `Origin` on WebSocket upgrades and on cross-site POSTs; a page of pushlab itself
//! has the same host as the request. Requests without `Origin` come from tools (curl, the bench)
//! and pass: the check protects browsers against cross-site request forgery (slides: "Origin"),
//! it is not authentication.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, header},
    middleware::Next,
    web,
};

use crate::{error::ApiError, state::AppState};

/// Refuses (403) upgrades and state-changing requests whose `Origin` is neither this host nor
/// one of `--allowed-origin`.
pub async fn origin_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let guarded = is_websocket_upgrade(&req)
        || !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Some(state), Some(origin)) = (
        guarded,
        req.app_data::<web::Data<AppState>>(),
        req.headers().get(header::ORIGIN),
    ) {
        let host = req.connection_info().host().to_owned();
        let origin = origin.to_str().unwrap_or("<not text>");
        if !origin_allowed(origin, &host, &state.config.allowed_origins) {
            tracing::info!(origin, host, path = req.path(), "refused a foreign origin");
            let refusal = ApiError::forbidden(format!(
                "origin {origin} is not allowed here (same host, or --allowed-origin)"
            ));
            return Ok(req.error_response(refusal).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn is_websocket_upgrade(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether a browser page at `origin` may act on the server reached as `host` (the Host header).
pub fn origin_allowed(origin: &str, host: &str, allowed: &[String]) -> bool {
    let Some(origin) = normalize_origin(origin) else {
        return false; // "null" (sandboxed frames, file://) or garbage
    };
    if allowed
        .iter()
        .filter_map(|a| normalize_origin(a))
        .any(|a| a == origin)
    {
        return true;
    }
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", ""));
    authority == normalize_authority(scheme, host)
}

/// `scheme://host[:port]`, lowercase, without a default port; `None` if it is not an origin.
fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if !(scheme == "http" || scheme == "https") || authority.is_empty() || authority.contains('/') {
        return None;
    }
    Some(format!(
        "{scheme}://{}",
        normalize_authority(scheme, authority)
    ))
}

fn normalize_authority(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .unwrap_or(&authority)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_and_listed_origins_pass_others_do_not() {
        let none: Vec<String> = Vec::new();
        assert!(origin_allowed(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            &none
        ));
        assert!(origin_allowed(
            "http://LAB.example",
            "lab.example:80",
            &none
        ));
        assert!(!origin_allowed(
            "http://evil.example",
            "127.0.0.1:8080",
            &none
        ));
        assert!(!origin_allowed(
            "http://127.0.0.1:9999",
            "127.0.0.1:8080",
            &none
        ));
        assert!(!origin_allowed("null", "127.0.0.1:8080", &none));
        let listed = vec!["http://teacher.example:3000".to_owned()];
        assert!(origin_allowed(
            "http://teacher.example:3000",
            "127.0.0.1:8080",
            &listed
        ));
    }
}
