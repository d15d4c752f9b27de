//! Upgraded connections: a WebSocket endpoint takes its TCP (or TLS) stream from actix-http.
//!
//! actix-http hands every `Upgrade: websocket` request, with the connection itself, to this
//! service instead of its own dispatcher. The request still goes through the whole actix-web app
//! (middleware included: the tap's turn, request counting, Origin, refuse), so an endpoint
//! decides as any handler does. When its answer is `101 Switching Protocols` carrying a
//! [`Takeover`], the head is written and the endpoint gets the stream, with any bytes the client
//! already sent; the dispatcher's buffers are freed. Any other answer is written as it is, and
//! the connection closes (a refused upgrade does not become a keep-alive connection).
//!
//! Why own the stream: under actix-ws a socket kept the dispatcher's two 8 KiB buffers, a body
//! task and a channel for its whole life; a feed socket that writes its shared frames itself
//! needs none of them (BENCHMARKS.md, "RSS per idle connection").

use std::{future::poll_fn, pin::Pin, rc::Rc};

use actix_codec::{Framed, FramedParts};
use actix_http::{
    ConnectionType, Request, Response, StatusCode,
    body::{BodySize, BoxBody, MessageBody},
    h1,
};
use actix_service::{Service, ServiceFactory, fn_factory, fn_service};
use actix_web::{HttpMessage, dev::ServiceResponse};
use futures_util::future::LocalBoxFuture;

use super::ClientStream;
use crate::{
    transport::direct::CloseDelimited,
    ws::{HeadToRecord, Takeover},
};

type Connection = Framed<ClientStream, h1::Codec>;
type Upgrade = (Request, Connection);
type Outgoing = h1::Message<(Response<()>, BodySize)>;

/// Encodes `item` (a response head or a body chunk) and writes it out.
async fn send(framed: &mut Connection, item: Outgoing) -> std::io::Result<()> {
    Pin::new(&mut *framed).write(item)?;
    poll_fn(|cx| Pin::new(&mut *framed).flush::<Outgoing>(cx)).await
}

/// The upgrade service of one worker, serving requests through its own instance of `app`.
pub fn service<F, B>(
    app: F,
) -> impl ServiceFactory<Upgrade, Config = (), Response = (), Error = actix_web::Error, InitError = ()>
where
    F: ServiceFactory<
            Request,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let app = Rc::new(app);
    fn_factory(move || {
        let app = app.clone();
        async move {
            let app = Rc::new(app.new_service(()).await?);
            Ok(fn_service(move |(req, framed): Upgrade| {
                // actix-http keeps this future inline in the connection's task for the
                // socket's whole life: the handshake (the request, the framed stream, the
                // answer's writes: about 900 bytes) is boxed and freed once the endpoint has
                // the stream; only the endpoint and the answer's body stay.
                let handshake = Box::pin(handshake(app.clone(), req, framed));
                async move {
                    if let Some((endpoint, body)) = handshake.await? {
                        endpoint.await;
                        // The body ends the request's turn in the tap: only now, so that
                        // every frame the socket read and wrote was counted to its transport.
                        drop(body);
                    }
                    Ok(())
                }
            }))
        }
    })
}

/// Serves one upgrade request up to the endpoint's takeover: the endpoint's future, which owns
/// the stream now, and the answer's body (to drop when the endpoint ends). `None`: the answer
/// was written whole, and the connection ends.
async fn handshake<S, B>(
    app: Rc<S>,
    req: Request,
    mut framed: Connection,
) -> Result<Option<(LocalBoxFuture<'static, ()>, BoxBody)>, actix_web::Error>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    // Whatever the endpoint answers, a body here is written close-delimited (below).
    req.extensions_mut().insert(CloseDelimited);
    // Boxed apart: the app's future (middleware, the handler, a resume read back from the
    // broker) is several KiB and lives only until the answer, not while the answer is written
    // (BENCHMARKS.md, "RSS per idle connection").
    let response: Response<_> = match Box::pin(app.call(req)).await {
        Ok(response) => Response::from(response).map_into_boxed_body(),
        Err(err) => Response::from(err),
    };
    let (mut head, body) = response.into_parts();
    let takeover = head.extensions_mut().remove::<Takeover<ClientStream>>();
    let io_error = |e: std::io::Error| actix_web::error::ErrorInternalServerError(e);
    match takeover {
        Some(takeover) if head.status() == StatusCode::SWITCHING_PROTOCOLS => {
            let record = head.extensions_mut().remove::<HeadToRecord>();
            if let Some(record) = record {
                record.written(head.status(), head.headers());
            }
            send(&mut framed, h1::Message::Item((head, BodySize::None)))
                .await
                .map_err(io_error)?;
            let FramedParts {
                io,
                read_buf,
                write_buf,
                ..
            } = framed.into_parts();
            // The read buffer may hold the client's first frames; the write buffer is empty
            // after the send above. Both are the dispatcher's 8 KiB allocations: freed once
            // the endpoint has taken those frames, not kept for the life of the socket.
            let endpoint = takeover.start(io, &read_buf);
            drop((read_buf, write_buf));
            return Ok(Some((endpoint, body)));
        }
        _ => {
            head.head_mut().set_connection_type(ConnectionType::Close);
            // actix-http's codec writes the body of an upgrade request unframed, whatever the
            // head says: a streamed body must then be announced close-delimited, not chunked
            // (RFC 9112 §6.3: the connection's end ends it).
            head.head_mut().no_chunking(true);
            let size = body.size();
            send(&mut framed, h1::Message::Item((head, size)))
                .await
                .map_err(io_error)?;
            let mut body = std::pin::pin!(body);
            while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
                let chunk = chunk.map_err(|e| io_error(std::io::Error::other(e.to_string())))?;
                send(&mut framed, h1::Message::Chunk(Some(chunk)))
                    .await
                    .map_err(io_error)?;
            }
            send(&mut framed, h1::Message::Chunk(None))
                .await
                .map_err(io_error)?;
            poll_fn(|cx| Pin::new(&mut framed).close::<Outgoing>(cx))
                .await
                .map_err(io_error)?;
        }
    }
    Ok(None)
}
