//! The edge of a refuse fault: new requests of a transport the instructor made "network down"
//! are answered `503` with `Retry-After` before any handler runs (see `network::faults`).

use actix_web::{
    Error, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web,
};

use crate::{state::AppState, transport_kind::Transport};

/// Middleware: answers `503` + `Retry-After` to the requests of a transport being refused.
/// It runs inside the counting middleware, so refused requests still count as requests.
pub async fn refuse_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let refusing = Transport::for_path(req.path()).and_then(|t| {
        let state = req.app_data::<web::Data<AppState>>()?;
        Some((t, state.faults.refusing(t)?))
    });
    let Some((transport, left)) = refusing else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let secs = left.as_secs_f64().ceil() as u64;
    let response = HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, secs.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "error": format!(
                "{} is refusing new connections for {secs} more s (a fault injected by the instructor)",
                transport.as_str()
            )
        }));
    Ok(req.into_response(response).map_into_right_body())
}
