//! The edge of a refuse fault: new requests of a transport the instructor made "network down"
//! are answered `503` with `Retry-After` before any handler runs (see `network::faults`).

use actix_web::{HttpResponse, dev::ServiceRequest, http::header, web};

use crate::{state::AppState, transport_kind::Transport};

/// The `503` + `Retry-After` (s, rounded up) of a request whose `transport` (its path's) is
/// being refused;
/// `None` when it is not. Asked inside the counting step (`edge`), so refused requests still
/// count as requests.
pub fn refusal(req: &ServiceRequest, transport: Option<Transport>) -> Option<HttpResponse> {
    let transport = transport?;
    let state = req.app_data::<web::Data<AppState>>()?;
    let left = state.faults.refusing(transport)?;
    let secs = left.as_secs_f64().ceil() as u64;
    Some(
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, secs.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({
                "error": format!(
                    "{} is refusing new connections for {secs} more s (a fault injected by the instructor)",
                    transport.as_str()
                )
            })),
    )
}
