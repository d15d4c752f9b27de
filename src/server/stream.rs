//! A client connection as actix sees it: the tapped TCP stream, plain or inside TLS.
//!
//! One type for both, so that one HTTP service serves http and https; the tap is always the
//! innermost layer, next to the socket, so bytes are counted as they cross the wire. Above TLS,
//! the refusals actix-http writes by itself get their JSON body here (see `refusal`).
//!
//! A plain connection is shared ([`Shared`]): an SSE response that has caught up writes its own
//! bytes through it, past the dispatcher, once the dispatcher's buffer is empty (see
//! `transport::direct`). The dispatcher and that response run on the same thread and borrow the
//! socket only inside a poll, never across one.

use std::{
    cell::{Cell, RefCell},
    io,
    pin::Pin,
    rc::{Rc, Weak},
    task::{Context, Poll, Waker},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{
    refusal,
    tap::{ConnTap, TappedStream},
};
use crate::{
    batch_send::SendStraight,
    transport::direct::{SharedSocket, SocketHandle},
};

type Tapped = TappedStream<tokio::net::TcpStream>;

enum Io {
    Plain(Rc<Shared>),
    Tls(Box<tokio_rustls::server::TlsStream<Tapped>>),
}

/// A plain connection's tapped socket, shared by actix's dispatcher and a response that writes
/// its own bytes ([`SharedSocket`]).
pub struct Shared {
    stream: RefCell<Tapped>,
    /// The dispatcher has written every byte a response handed it: its last call was a flush,
    /// which actix-http makes only once its write buffer is empty.
    drained: Cell<bool>,
    /// The response waiting for that flush.
    drain_waiter: Cell<Option<Waker>>,
}

impl SharedSocket for Shared {
    fn poll_write(&self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream.borrow_mut()).poll_write(cx, bytes)
    }

    fn straight_fd(&self) -> Option<std::os::fd::RawFd> {
        self.stream.borrow().straight_fd()
    }

    fn wrote_straight(&self, bytes: usize) {
        self.stream.borrow_mut().wrote_straight(bytes);
    }

    fn handed_to_dispatcher(&self) {
        self.drained.set(false);
    }

    fn poll_drained(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.drained.get() {
            return Poll::Ready(());
        }
        self.drain_waiter.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

pub struct ClientStream {
    io: Io,
    tap: Rc<ConnTap>,
    /// A refusal of actix-http being written with its JSON body instead of the bytes given.
    rewriting: Option<Rewrite>,
}

struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
    /// Length of the bytes it replaces: what the caller is told was written, at the end.
    replaces: usize,
}

impl ClientStream {
    pub fn plain(stream: Tapped) -> ClientStream {
        let tap = stream.tap();
        ClientStream {
            io: Io::Plain(Rc::new(Shared {
                stream: RefCell::new(stream),
                drained: Cell::new(true),
                drain_waiter: Cell::new(None),
            })),
            tap,
            rewriting: None,
        }
    }

    pub fn tls(stream: tokio_rustls::server::TlsStream<Tapped>) -> ClientStream {
        let tap = stream.get_ref().0.tap();
        ClientStream {
            io: Io::Tls(Box::new(stream)),
            tap,
            rewriting: None,
        }
    }

    pub fn tap(&self) -> Rc<ConnTap> {
        self.tap.clone()
    }

    /// The socket a response may write to past the dispatcher: plain connections only.
    pub fn shared(&self) -> Option<SocketHandle> {
        match &self.io {
            Io::Plain(shared) => {
                let weak: Weak<dyn SharedSocket> = Rc::downgrade(shared) as Weak<dyn SharedSocket>;
                Some(SocketHandle(weak))
            }
            Io::Tls(_) => None,
        }
    }

    fn write_inner(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.io {
            Io::Plain(s) => Pin::new(&mut *s.stream.borrow_mut()).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    /// Writes the rewrite in progress; reports the replaced length once all of it is out.
    fn continue_rewrite(&mut self, cx: &mut Context<'_>, asked: usize) -> Poll<io::Result<usize>> {
        loop {
            let Some(rewrite) = self.rewriting.as_mut() else {
                return Poll::Ready(Ok(0));
            };
            if rewrite.written == rewrite.bytes.len() {
                let replaced = rewrite.replaces.min(asked);
                self.rewriting = None;
                return Poll::Ready(Ok(replaced));
            }
            let rest = rewrite.bytes[rewrite.written..].to_vec();
            match self.write_inner(cx, &rest) {
                Poll::Ready(Ok(0)) => {
                    self.rewriting = None;
                    return Poll::Ready(Ok(0));
                }
                Poll::Ready(Ok(n)) => {
                    if let Some(rewrite) = self.rewriting.as_mut() {
                        rewrite.written += n;
                    }
                }
                Poll::Ready(Err(e)) => {
                    self.rewriting = None;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Forwards a call to whichever stream this is.
macro_rules! either {
    ($self:ident, $s:ident => $call:expr) => {
        match &mut $self.get_mut().io {
            Io::Plain(shared) => {
                let mut stream = shared.stream.borrow_mut();
                let $s = Pin::new(&mut *stream);
                $call
            }
            Io::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $call
            }
        }
    };
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_read(cx, buf))
    }
}

/// A WebSocket's stream, for the fan-out's straight sends: plain TCP only. The refusal rewrite
/// of `poll_write` never applies to what a fan-out sends (WebSocket frames, which never begin
/// with an HTTP status line), unless one is already being written.
impl SendStraight for ClientStream {
    fn straight_fd(&self) -> Option<std::os::fd::RawFd> {
        match &self.io {
            Io::Plain(shared) if self.rewriting.is_none() => shared.straight_fd(),
            _ => None,
        }
    }

    fn wrote_straight(&mut self, bytes: usize) {
        if let Io::Plain(shared) = &self.io {
            shared.wrote_straight(bytes);
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.rewriting.is_none() && this.tap.is_idle() {
            // Between requests nothing of the app is being written: a response head here is
            // one actix-http made itself (a parse error, a too-large head, a head timeout).
            if let Some(bytes) = refusal::with_json_body(buf) {
                this.rewriting = Some(Rewrite {
                    bytes,
                    written: 0,
                    replaces: buf.len(),
                });
            }
        }
        if this.rewriting.is_some() {
            return this.continue_rewrite(cx, buf.len());
        }
        this.write_inner(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.rewriting.is_some() || self.tap.is_idle() {
            // One slice at a time, through the check above (writing less is always allowed).
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        either!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(s) => s.stream.borrow().is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Io::Plain(shared) = &self.io {
            // actix-http flushes only once its write buffer is written: a response waiting to
            // write its own bytes may now.
            shared.drained.set(true);
            if let Some(waiter) = shared.drain_waiter.take() {
                waiter.wake();
            }
        }
        either!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_shutdown(cx))
    }
}
