//! A streamed answer that writes its own bytes: the socket of an SSE response, shared with
//! actix-http, so that its worker's fan-out lane can write to it as it writes to a WebSocket.
//!
//! actix-http writes a response's head and every chunk its body hands it, and polls the body
//! from the connection's task: one wake-up per connection per event. A stream that has caught up
//! with the feed instead takes a seat in the lane (`fanout`), which writes each event's chunk,
//! framed as actix frames chunks (RFC 9112 §7.1, `feed::http_chunk`, once per event), with one
//! non-blocking send, straight to the socket's descriptor and batched with the lane's other
//! sends when nothing is queued ([`SharedSocket::straight_fd`]). Two rules keep the bytes in
//! order:
//! - the stream goes direct only once the dispatcher has written every byte handed to it (the
//!   head and earlier chunks): [`SharedSocket::poll_drained`];
//! - from then on it hands actix nothing but its end (the terminating chunk, or an error that
//!   cuts the connection off): every other byte goes through its [`ChunkedWriter`], in order.
//!
//! Bounds: a writer queues what one lane write left over plus what its own task took while the
//! queue was empty (at most one delivery, `sse::MAX_EVENTS_PER_CHUNK` events); nothing more is
//! taken from the feed until the queue is written, so a slow reader lags in the replay buffer.

use std::{
    cell::RefCell,
    collections::VecDeque,
    io,
    os::fd::RawFd,
    rc::{Rc, Weak},
    task::{Context, Poll},
};

use bytes::Bytes;

use super::fanout::FastWrite;
use crate::feed::Event;

/// A connection's socket as a response may write to it past actix-http (plain TCP only: a TLS
/// record cannot be written around the TLS layer). The server implements it (`server::stream`).
pub trait SharedSocket {
    /// Writes from the start of `bytes` through the socket tap (counted to the request being
    /// served, throttled by a slow fault, closed after the unwritable timeout). `Pending` when
    /// the socket takes nothing now.
    fn poll_write(&self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>>;
    /// The socket's descriptor when a straight send may write to it now, as
    /// [`SendStraight::straight_fd`](crate::batch_send::SendStraight::straight_fd).
    fn straight_fd(&self) -> Option<RawFd>;
    /// Counts what a straight send wrote, as
    /// [`SendStraight::wrote_straight`](crate::batch_send::SendStraight::wrote_straight).
    fn wrote_straight(&self, bytes: usize);
    /// Notes that the response handed actix bytes it has not written yet.
    fn handed_to_dispatcher(&self);
    /// Ready once the dispatcher has written every byte handed to it (it flushed its buffer).
    fn poll_drained(&self, cx: &mut Context<'_>) -> Poll<()>;
}

/// How the server offers a connection's [`SharedSocket`] to its requests (as connection data).
/// Weak: the connection's dispatcher owns the socket; a response holds it only while it lives.
#[derive(Clone)]
pub struct SocketHandle(pub Weak<dyn SharedSocket>);

/// Marks a request whose streamed answer actix writes close-delimited, not chunked: one the
/// server's upgrade path serves (any request with `Upgrade: websocket`, or `CONNECT`, even on a
/// route that answers without switching protocols). Its stream never writes chunks of its own.
pub struct CloseDelimited;

/// The chunk of one SSE keep-alive comment, `: keep-alive` and its blank line (14 bytes).
pub const KEEP_ALIVE_CHUNK: &[u8] = b"e\r\n: keep-alive\n\n\r\n";

/// An SSE response's bytes, once it writes them itself: the lane's writes and its own task's,
/// in one queue.
pub struct ChunkedWriter {
    socket: Rc<dyn SharedSocket>,
    /// Chunks not yet written whole, oldest first; the first is written from `written` on.
    queue: RefCell<(VecDeque<Bytes>, usize)>,
}

impl ChunkedWriter {
    pub fn new(socket: Rc<dyn SharedSocket>) -> ChunkedWriter {
        ChunkedWriter {
            socket,
            queue: RefCell::new((VecDeque::new(), 0)),
        }
    }

    /// The socket, to go direct once it has drained ([`SharedSocket::poll_drained`]).
    pub fn socket(&self) -> &dyn SharedSocket {
        &*self.socket
    }

    /// True when every byte queued was written.
    pub fn is_empty(&self) -> bool {
        self.queue.borrow().0.is_empty()
    }

    /// Queues `bytes` (whole chunks) after what is queued; [`ChunkedWriter::poll_write_queued`]
    /// writes them.
    pub fn send(&self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.queue.borrow_mut().0.push_back(bytes);
        }
    }

    /// Writes what is queued; ready once all of it is written (or the socket failed).
    pub fn poll_write_queued(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut queue = self.queue.borrow_mut();
        let (chunks, written) = &mut *queue;
        while let Some(front) = chunks.front() {
            match self.socket.poll_write(cx, &front[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    *written += n;
                    if *written == front.len() {
                        chunks.pop_front();
                        *written = 0;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl FastWrite for ChunkedWriter {
    fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
        event.sse_chunk()
    }

    fn straight_fd(&self) -> Option<RawFd> {
        if self.is_empty() {
            self.socket.straight_fd()
        } else {
            None
        }
    }

    fn sent_straight(&self, bytes: &Bytes, sent: io::Result<usize>) -> bool {
        let written = sent.unwrap_or(0);
        self.socket.wrote_straight(written);
        self.keep_rest(bytes, written)
    }

    fn write_now(&self, bytes: &Bytes) -> bool {
        if !self.is_empty() {
            self.send(bytes.clone());
            return false;
        }
        // Nobody is to be woken by this attempt: if the socket is full, the stream's own task
        // registers its waker when it writes the rest.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let written = match self.socket.poll_write(&mut cx, bytes) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(_)) | Poll::Pending => 0,
        };
        self.keep_rest(bytes, written)
    }
}

impl ChunkedWriter {
    /// After a write of `bytes` (nothing queued before it) that took `written` of them: true
    /// when that was all; otherwise they are queued from `written` on, for the stream's task
    /// (which meets the error, or waits for room, itself).
    fn keep_rest(&self, bytes: &Bytes, written: usize) -> bool {
        if written == bytes.len() {
            return true;
        }
        let mut queue = self.queue.borrow_mut();
        queue.0.push_back(bytes.clone());
        queue.1 = written;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A socket that takes at most `room` bytes, then nothing.
    struct Narrow {
        room: Cell<usize>,
        out: RefCell<Vec<u8>>,
    }

    impl SharedSocket for Narrow {
        fn poll_write(&self, _: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
            let n = bytes.len().min(self.room.get());
            if n == 0 {
                return Poll::Pending;
            }
            self.room.set(self.room.get() - n);
            self.out.borrow_mut().extend_from_slice(&bytes[..n]);
            Poll::Ready(Ok(n))
        }
        fn straight_fd(&self) -> Option<RawFd> {
            None
        }
        fn wrote_straight(&self, _: usize) {}
        fn handed_to_dispatcher(&self) {}
        fn poll_drained(&self, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }

    #[test]
    fn a_partly_written_chunk_is_finished_before_the_next_in_order() {
        let socket = Rc::new(Narrow {
            room: Cell::new(5),
            out: RefCell::default(),
        });
        let writer = ChunkedWriter::new(socket.clone());
        assert!(!writer.write_now(&crate::feed::http_chunk(b"hello world")));
        // Queued behind the partial write, never written around it.
        assert!(!writer.write_now(&crate::feed::http_chunk(b"next")));
        writer.send(Bytes::from_static(KEEP_ALIVE_CHUNK));
        socket.room.set(usize::MAX);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(writer.poll_write_queued(&mut cx).is_ready());
        assert!(writer.is_empty());
        assert_eq!(
            &*socket.out.borrow(),
            b"b\r\nhello world\r\n4\r\nnext\r\ne\r\n: keep-alive\n\n\r\n"
        );
    }
}
