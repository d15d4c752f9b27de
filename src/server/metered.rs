//! The first and last step of every request (`edge`): tells the socket tap whose turn it is,
//! and counts requests of the compared transports.
//!
//! It is the only place that calls `Meter::request`, and `Transport::for_path` is the only map
//! from URL to transport, so a request is counted once, under one name, or not at all.

use std::{
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_web::{
    body::{BodySize, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    web::{self, Bytes},
};

use super::tap::ConnTap;
use crate::{state::AppState, transport_kind::Transport};

/// A request's turn on its connection: from when its head is read (the tap counts what
/// follows as this request's, `tap::ConnTap`) until its answer's body ends or is dropped.
pub struct Turn {
    tap: Option<Rc<ConnTap>>,
}

impl Turn {
    /// Begins the turn of `req` and counts it as a request of `transport`, its path's
    /// (`Transport::for_path`), if it is one of the compared transports.
    pub fn begin(req: &ServiceRequest, transport: Option<Transport>) -> Turn {
        let tap = req.conn_data::<Rc<ConnTap>>().cloned();
        if let Some(tap) = &tap {
            tap.begin(transport);
        }
        if let (Some(t), Some(state)) = (transport, req.app_data::<web::Data<AppState>>()) {
            state.meter.request(t);
        }
        Turn { tap }
    }

    /// The answer, whose body ends the turn when it ends (or is dropped by a departed client).
    pub fn end_with<B: MessageBody>(
        self,
        res: ServiceResponse<B>,
    ) -> ServiceResponse<EndOfTurn<B>> {
        let tap = self.tap;
        res.map_body(|_, body| EndOfTurn { body, tap })
    }

    /// Ends the turn without an answer: only a middleware error does (handlers' errors are
    /// responses already). Its response is written after the turn ends, and late writes go to
    /// this request.
    pub fn end(self) {
        if let Some(tap) = self.tap {
            tap.end();
        }
    }
}

/// A response body that tells the tap when it has ended (or was dropped by a departed client).
pub struct EndOfTurn<B> {
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
