//! The one middleware every request crosses, its steps in the order they run:
//!
//! 1. the turn (`metered`): the socket tap learns whose bytes follow, the request is counted;
//! 2. CORS (`cors`) notes the request's origin, to answer it once the answer exists;
//! 3. HTTP semantics (`http`): `HEAD` served as `GET`, a body's deadlines;
//! 4. the guards, each of which may answer instead of the handler: the Origin check
//!    (`origin`, 403), a refuse fault (`refuse`, 503), a stream or held poll asked of a stopping
//!    server (`stopping`, 503), a `HEAD` of a feed (`http::feed_head`);
//! 5. the handler;
//!
//! then back out: HTTP semantics finishes the answer (405, JSON errors, no body for a HEAD),
//! CORS puts its fields (on the `204` an `OPTIONS` became, with the path's `Allow`), a stopping
//! server closes the connection after it (`stopping`), and the turn ends with the answer's
//! body.
//!
//! Why one middleware and not six: each actix-web middleware layer costs a boxed future and
//! a call through its service on every request, twice for an answer. Under 1000 long-polling
//! clients, taking five of the six layers out saved a quarter of the server's user time (7 µs
//! per request and its answer, `BENCHMARKS.md`), and at a publish every held poll crosses them
//! before the last one is answered.

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web,
};
use futures_util::future::LocalBoxFuture;

use super::{
    cors,
    http::{self, Semantics},
    metered::{EndOfTurn, Turn},
    origin, refuse, stopping,
};
use crate::{state::AppState, transport_kind::Transport};

/// The middleware described in the module's doc. Errors: only those of the routing below
/// (the handlers' are answers already).
///
/// Boxed: `from_fn` keeps the middleware's future inline in actix-http's dispatcher, so every
/// connection's task had room for all the steps' state for its whole life, idle WebSockets
/// included (about 1 KiB each: heaptrack, 2000 idle sockets). Boxed, it costs one allocation
/// per request, freed with its answer.
pub fn edge<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> LocalBoxFuture<'static, Result<ServiceResponse<EndOfTurn<BoxBody>>, Error>> {
    Box::pin(steps(req, next))
}

async fn steps<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EndOfTurn<BoxBody>>, Error> {
    // Which compared transport the path is, read once for the steps that ask.
    let transport = Transport::for_path(req.path());
    // As asked: a HEAD is served as a GET below.
    let method = req.method().clone();
    let turn = Turn::begin(&req, transport);
    let cors = cors::Ask::of(&req);
    let mut res = match Semantics::begin(&mut req) {
        Err(refusal) => req.into_response(*refusal),
        Ok(semantics) => {
            let res = if let Some(refusal) = origin::refusal(&req) {
                req.error_response(refusal)
            } else if let Some(answer) = refuse::refusal(&req, transport)
                .or_else(|| stopping::refusal(&req, transport))
                .or_else(|| http::feed_head(&req, transport, semantics.came_as_head()))
            {
                req.into_response(answer)
            } else {
                match next.call(req).await {
                    Ok(res) => res.map_into_boxed_body(),
                    Err(err) => {
                        turn.end();
                        return Err(err);
                    }
                }
            };
            semantics.finish(res).await
        }
    };
    // An answer of a compared transport that carried no feed (an error, a HEAD, a preflight, a
    // form's redirect) is counted apart from the empty ones, so that events per answer and the
    // share of empty answers are taken of the answers that could carry events.
    let no_feed = res.status().as_u16() >= 300 || matches!(method, Method::HEAD | Method::OPTIONS);
    if let (Some(t), true) = (transport, no_feed)
        && let Some(state) = res.request().app_data::<web::Data<AppState>>()
    {
        state.meter.no_feed(t);
    }
    if let Some(cors) = cors {
        cors.answer(&mut res);
    }
    stopping::close_if_stopping(&mut res);
    Ok(turn.end_with(res))
}
