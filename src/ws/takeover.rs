//! The hand-off of a connection after the opening handshake (RFC 6455 §4.2.2): a WebSocket
//! endpoint attaches a [`Takeover`] to its `101 Switching Protocols` answer, and whoever writes
//! that answer (pushlab's server) gives the endpoint the stream and any bytes already read.
//!
//! Generic over the stream, so this protocol library knows nothing of the server's sockets.

use std::future::Future;

use futures_util::future::LocalBoxFuture;

/// What a WebSocket handler attaches to its 101 answer: the endpoint's life on the stream.
pub struct Takeover<IO>(Box<StartEndpoint<IO>>);

/// Starts the endpoint on the stream and the bytes already read; its future is the socket's life.
type StartEndpoint<IO> = dyn FnOnce(IO, &[u8]) -> LocalBoxFuture<'static, ()>;

impl<IO> Takeover<IO> {
    /// `run` gets the stream once the 101 is written, and the bytes already read from it (to
    /// take in before it returns its future: the buffer holding them is freed then).
    pub fn new<F, Fut>(run: F) -> Takeover<IO>
    where
        F: FnOnce(IO, &[u8]) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Takeover(Box::new(move |io, read| Box::pin(run(io, read))))
    }

    /// Starts the endpoint; the returned future is the socket's whole life.
    pub fn start(self, io: IO, already_read: &[u8]) -> LocalBoxFuture<'static, ()> {
        (self.0)(io, already_read)
    }
}
