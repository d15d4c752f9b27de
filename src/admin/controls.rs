//! `/api/admin/*`: the instructor's controls, each behind [`require_admin`] (Bearer token or
//! console cookie), each change logged with `tracing` and visible in `/api/stats` (`feed.*`,
//! `faults.*`) so that every dashboard in the room shows it.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::require_admin;
use crate::{
    error::{ApiError, JsonObject},
    feed::MAX_BURST,
    network::FaultRequest,
    state::{AppState, SettingsUpdate},
    transport_kind::Transport,
};

/// `GET /api/admin/settings`.
pub async fn get_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    Ok(HttpResponse::Ok().json(state.settings()))
}

/// `PUT /api/admin/settings`: a partial update, applied to every client at once.
pub async fn put_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    update: web::Json<JsonObject<SettingsUpdate>>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    let before = state.settings();
    let after = state.update_settings(&update.0.0)?;
    for change in after.changes_since(&before) {
        tracing::info!("instructor: {change}");
    }
    Ok(HttpResponse::Ok().json(after))
}

/// `POST /api/admin/reset`: zero the stats.
pub async fn reset(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    state.meter.reset();
    if let Some(broker) = &state.broker {
        broker.reset_hop();
    }
    tracing::info!("instructor: stats reset to zero");
    Ok(HttpResponse::Ok().json(json!({ "reset": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    count: usize,
}

/// `POST /api/admin/burst` `{"count": N}`: publishes N ticks at once (1..=`MAX_BURST`), to show
/// how each transport copes with a sudden batch.
pub async fn burst(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<Burst>>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    let body = body.into_inner().0;
    if !(1..=MAX_BURST).contains(&body.count) {
        return Err(ApiError::bad_request(format!(
            "count must be from 1 to {MAX_BURST}"
        )));
    }
    let padding = state.feed_settings.borrow().payload_bytes;
    // With a broker, ticks go through its queue (broker::TICK_QUEUE): what it could not take
    // (the broker unreachable, an earlier burst still queued) is not published, and said so.
    let published = state.ticks.burst(state.tick_sink(), body.count, padding);
    tracing::info!(
        "instructor: burst of {published} events published ({} asked)",
        body.count
    );
    Ok(HttpResponse::Ok().json(json!({
        "published": published,
        "dropped": body.count - published,
        "last_seq": state.hub.last_seq(),
    })))
}

/// `POST /api/admin/fault`: drop, slow, refuse or clear one transport (see `network::faults`).
pub async fn fault(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<FaultRequest>>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    let body = body.into_inner().0;
    // The connections a drop reaches are those open now (read before they start closing).
    let open_before =
        Transport::parse(body.transport_name()).map_or(0, |t| state.meter.open_connections(t));
    let transport = state.faults.apply(&body)?;
    tracing::warn!("instructor: {body}");
    let mut answer = json!({
        "transport": transport.as_str(),
        "faults": state.faults.state(transport),
    });
    if matches!(body, FaultRequest::Drop { .. }) {
        answer["dropped"] = json!(open_before);
    }
    Ok(HttpResponse::Ok().json(answer))
}
