//! The middleware in front of every route: tells the socket tap whose turn it is, and counts
//! requests of the compared transports.
//!
//! It is the only place that calls `Meter::request`, and `Transport::for_path` is the only map
//! from URL to transport, so a request is counted once, under one name, or not at all.

use std::{
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_web::{
    Error,
    body::{BodySize, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web::{self, Bytes},
};

use super::tap::ConnTap;
use crate::{state::AppState, transport_kind::Transport};

pub async fn tap_and_count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let transport = Transport::for_path(req.path());
    let tap = req.conn_data::<Rc<ConnTap>>().cloned();
    if let Some(tap) = &tap {
        tap.begin(transport);
    }
    if let (Some(t), Some(state)) = (transport, req.app_data::<web::Data<AppState>>()) {
        state.meter.request(t);
    }
    // (The request cannot be cloned here: routing needs it unshared.)
    match next.call(req).await {
        Ok(response) => Ok(response
            .map_into_boxed_body()
            .map_body(|_, body| EndOfTurn { body, tap })),
        Err(err) => {
            // Only a middleware error lands here (handlers' errors are responses already). Its
            // response is written after the turn ends, and late writes go to this request.
            if let Some(tap) = tap {
                tap.end();
            }
            Err(err)
        }
    }
}

/// A response body that tells the tap when it has ended (or was dropped by a departed client).
struct EndOfTurn<B> {
    body: B,
    tap: Option<Rc<ConnTap>>,
}

impl<B> EndOfTurn<B> {
    fn finish(&mut self) {
        if let Some(tap) = self.tap.take() {
            tap.end();
        }
    }
}

impl<B> Drop for EndOfTurn<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: MessageBody + Unpin> MessageBody for EndOfTurn<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let poll = Pin::new(&mut self.body).poll_next(cx);
        if let Poll::Ready(None) = poll {
            self.finish();
        }
        poll
    }
}
