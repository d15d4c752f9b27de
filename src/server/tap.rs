//! The socket tap: counts every byte that crosses a client's TCP connection, and gives each byte
//! to the transport of the request it belongs to.
//!
//! Counting at the socket is how `bytes_in`/`bytes_out` include everything on the wire: request
//! line and headers as the client wrote them, response status line and headers as actix wrote
//! them, chunked-encoding sizes, and WebSocket frame headers and masks. Nothing is estimated.
//!
//! Attribution follows HTTP/1.1 on one connection, where requests take turns:
//! - bytes read while a request is being served belong to it (its body, or WebSocket frames);
//! - bytes read between two requests are the head of the next one: held in `pending_in` and
//!   given to that request when it starts;
//! - bytes written after a response body ended (the final chunk, a flush) belong to that response;
//! - bytes written before the first request (under TLS, the server's half of the handshake:
//!   its hello and certificate, about 1.5 KB) are held in `pending_out` and given to the first
//!   request, as the client's half is through `pending_in`.
//!
//! The tap is also where a "slow" fault (see `network::faults`) holds writes to a transport's clients
//! to a byte rate: below actix, so every transport is slowed the same way a slow reader would.
//!
//! A client that pipelines (sends request N+1 before response N ended) would have the head of
//! N+1 counted to N; browsers and the bench never pipeline.

use std::{
    cell::RefCell,
    future::Future,
    io,
    pin::Pin,
    rc::Rc,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::limit::AddressSlot;
use crate::batch_send::SendStraight;
use crate::network::{Faults, Throttle};
use crate::{
    meter::{ConnectionHistory, Meter},
    transport_kind::Transport,
};

/// Who owns the bytes of a connection right now.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Turn {
    /// Between two requests.
    Idle,
    /// Serving a request of this transport (`None`: a request nobody compares, e.g. a page).
    Serving(Option<Transport>),
}

struct TapState {
    turn: Turn,
    /// The request whose response just ended: it owns late writes until the next request.
    previous: Option<Transport>,
    /// Bytes read while idle: the head of the request that comes next.
    pending_in: u64,
    /// Bytes written before the connection's first request, given to it; `None` once it began.
    pending_out: Option<u64>,
    /// The connection is to end without another byte written (see [`ConnTap::hang_up`]).
    hung_up: bool,
}

/// The per-connection counter shared by the socket wrapper and the request middleware. A
/// connection lives on one worker thread, so `Rc<RefCell<..>>` is enough and costs no atomics.
pub struct ConnTap {
    meter: Arc<Meter>,
    /// What the transports remember of this connection (shared with them as connection data).
    pub history: Rc<ConnectionHistory>,
    faults: Arc<Faults>,
    state: RefCell<TapState>,
}

impl ConnTap {
    fn new(meter: Arc<Meter>, faults: Arc<Faults>) -> ConnTap {
        ConnTap {
            meter,
            history: Rc::default(),
            faults,
            state: RefCell::new(TapState {
                turn: Turn::Idle,
                previous: None,
                pending_in: 0,
                pending_out: Some(0),
                hung_up: false,
            }),
        }
    }

    /// A request of `transport` starts: it receives its own head, read while idle.
    pub fn begin(&self, transport: Option<Transport>) {
        let mut state = self.state.borrow_mut();
        let head = std::mem::take(&mut state.pending_in);
        let before_first = state.pending_out.take().unwrap_or(0);
        if let Some(t) = transport {
            self.meter.bytes_in(t, head);
            self.meter.bytes_out(t, before_first);
        }
        state.turn = Turn::Serving(transport);
    }

    /// The response body of the current request has ended (or was dropped). Idempotent.
    pub fn end(&self) {
        let mut state = self.state.borrow_mut();
        if let Turn::Serving(transport) = state.turn {
            state.previous = transport;
            state.turn = Turn::Idle;
        }
    }

    /// Ends the connection without writing another byte: the answer being made is never
    /// written, and the next write fails (`ConnectionAborted`), which makes actix drop the
    /// connection. What a client sees is a kept-alive connection its server closed before
    /// answering, a request an HTTP client may send again on a new connection (RFC 9112 §9.3.1)
    /// and an `EventSource` takes as a network error, which it retries (WHATWG HTML §9.2).
    pub fn hang_up(&self) {
        self.state.borrow_mut().hung_up = true;
    }

    fn is_hung_up(&self) -> bool {
        self.state.borrow().hung_up
    }

    /// Between two requests: no response of the app is being served.
    pub fn is_idle(&self) -> bool {
        self.state.borrow().turn == Turn::Idle
    }

    fn read(&self, bytes: usize) {
        let mut state = self.state.borrow_mut();
        match state.turn {
            Turn::Serving(Some(t)) => self.meter.bytes_in(t, bytes as u64),
            Turn::Serving(None) => {}
            Turn::Idle => state.pending_in += bytes as u64,
        }
    }

    /// The transport that owns what is written now: the request being served, or the one whose
    /// response just ended (actix writes a whole short answer after its body has ended).
    fn writer(&self) -> Option<Transport> {
        let state = self.state.borrow();
        match state.turn {
            Turn::Serving(transport) => transport,
            Turn::Idle => state.previous,
        }
    }

    /// The byte rate writes are held to now: a slow fault on the transport being written, so
    /// that it holds polling answers (written after their turn) as well as streams.
    fn slow_rate(&self) -> Option<u64> {
        self.writer().and_then(|t| self.faults.slow_rate(t))
    }

    fn wrote(&self, bytes: usize) {
        if let Some(t) = self.writer() {
            self.meter.bytes_out(t, bytes as u64);
            return;
        }
        if let Some(pending) = &mut self.state.borrow_mut().pending_out {
            *pending += bytes as u64;
        }
    }
}

/// The error of a write to a connection the server hung up on ([`ConnTap::hang_up`]).
fn hung_up_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection closed without an answer (the server is stopping)",
    )
}

/// A client connection whose reads and writes go through a [`ConnTap`].
pub struct TappedStream<S> {
    inner: S,
    tap: Rc<ConnTap>,
    throttle: Throttle,
    /// How long the socket may refuse every byte (its client reads nothing) before the
    /// connection is closed: the bound on how long a stalled client holds its buffers.
    unwritable_timeout: Duration,
    /// Armed when a write found the socket full; reset by any byte written.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    /// This connection's place under `--max-connections-per-address`, given back on drop.
    _slot: Option<AddressSlot>,
}

impl<S> TappedStream<S> {
    pub fn new(
        inner: S,
        meter: Arc<Meter>,
        faults: Arc<Faults>,
        unwritable_timeout: Duration,
    ) -> Self {
        TappedStream {
            inner,
            tap: Rc::new(ConnTap::new(meter, faults)),
            throttle: Throttle::default(),
            unwritable_timeout,
            stalled: None,
            _slot: None,
        }
    }

    /// Holds `slot` for as long as the connection lives.
    pub fn hold(&mut self, slot: AddressSlot) {
        self._slot = Some(slot);
    }

    pub fn tap(&self) -> Rc<ConnTap> {
        self.tap.clone()
    }

    /// What the socket answered a write: bytes written disarm the stall timer; a full socket
    /// arms it, and once it has been full for the whole timeout the write fails (`TimedOut`),
    /// which ends the connection (actix drops it; a WebSocket sees its stream gone).
    fn watch_stall(
        &mut self,
        poll: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match poll {
            Poll::Pending => {
                let timeout = self.unwritable_timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if stalled.as_mut().poll(cx).is_ready() {
                    self.stalled = None;
                    if let Some(t) = self.tap.writer() {
                        self.tap.meter.closed_unwritable(t);
                    }
                    self.tap.history.mark_closed_unwritable();
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the client read nothing for {} s: connection closed",
                            timeout.as_secs()
                        ),
                    )));
                }
                Poll::Pending
            }
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    self.stalled = None;
                }
                Poll::Ready(Ok(written))
            }
            other => other,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TappedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            self.tap.read(buf.filled().len() - before);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TappedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.tap.is_hung_up() {
            return Poll::Ready(Err(hung_up_error()));
        }
        let mut buf = buf;
        let slow = self.tap.slow_rate();
        if let Some(rate) = slow {
            match self.throttle.allow(rate, buf.len(), cx) {
                Poll::Ready(allowed) => buf = &buf[..allowed],
                Poll::Pending => return Poll::Pending,
            }
        }
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = poll {
            self.tap.wrote(written);
            if slow.is_some() {
                self.throttle.spent(written);
            }
        }
        self.watch_stall(poll, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.tap.is_hung_up() {
            return Poll::Ready(Err(hung_up_error()));
        }
        if self.tap.slow_rate().is_some() {
            // Throttled: one slice at a time through the bucket (writing less is always allowed).
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(written)) = poll {
            self.tap.wrote(written);
        }
        self.watch_stall(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The fan-out's straight sends skip this layer's `poll_write`, so they do here what it does:
/// no straight send while a slow fault throttles the socket, and what one wrote is counted and
/// disarms the stall timer.
impl SendStraight for TappedStream<tokio::net::TcpStream> {
    fn straight_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.tap
            .slow_rate()
            .is_none()
            .then(|| self.inner.as_raw_fd())
    }

    fn wrote_straight(&mut self, bytes: usize) {
        self.tap.wrote(bytes);
        if bytes > 0 {
            self.stalled = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_follow_the_request_they_belong_to() {
        let meter = Arc::new(Meter::new());
        let tap = ConnTap::new(meter.clone(), Default::default());
        tap.read(100); // head of a poll, read before the request starts
        tap.begin(Some(Transport::Poll));
        tap.wrote(40);
        tap.end();
        tap.wrote(5); // final chunk of the poll's response
        tap.read(70); // head of a page request
        tap.begin(None);
        tap.wrote(1000);
        tap.end();
        tap.read(90); // head of a WebSocket upgrade
        tap.begin(Some(Transport::Ws));
        tap.read(12); // a frame from the client
        tap.wrote(30);
        let stats = meter.snapshot();
        let poll = &stats.transports["poll"];
        let ws = &stats.transports["ws"];
        assert_eq!((poll.bytes_in, poll.bytes_out), (100, 45));
        assert_eq!((ws.bytes_in, ws.bytes_out), (102, 30));
    }
}
