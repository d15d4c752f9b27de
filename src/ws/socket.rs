//! One WebSocket connection on a stream pushlab owns: its guarded input, its outbox, pings, and
//! the close handshake.
//!
//! [`Socket::next`] is the heart of every connection loop. In one poll it writes what is queued
//! (control frames before data), hands over what the client said, keeps the heartbeat, and reads
//! more. It is a plain poll function, hence cancel-safe: endpoints `select!` it against the hub
//! and the shutdown token. Bounds: while [`MAX_OUTBOX`] frames, or [`MAX_OUTBOX_BYTES`] of
//! frames the socket built itself (echoes), wait to be written, the client's input is not read
//! (TCP pushes back on a client that sends without reading); the message being received and the
//! socket's own frames are charged to the sockets' shared [`MemoryBudget`]; a client silent for
//! the timeout, with nothing of ours left to read, is closed with 1001 (one behind is the
//! unwritable timeout's: see `behind`); a close waits at most [`CLOSE_GRACE`] for the
//! client.

use std::{
    collections::VecDeque,
    future::poll_fn,
    io::{self, IoSlice},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use actix_http::{
    ConnectionType,
    ws::{CloseCode, CloseReason, HandshakeError, Parser},
};
use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::InternalError,
    http::{
        StatusCode,
        header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL, UPGRADE},
    },
};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use crate::batch_send::SendStraight;

use super::{
    budget::{Lease, MemoryBudget},
    frame::{FIN_BINARY, FIN_TEXT, server_frame},
    inbound::{Inbound, Message, MessageFrames, Received},
    takeover::Takeover,
};

/// Most frames waiting to be written on one connection before its input stops being read.
pub const MAX_OUTBOX: usize = 64;
/// Bytes of frames a socket built itself (an echo, a reply) waiting to be written, at or beyond
/// which its input stops being read (1 MiB): a client that sends files without reading the
/// echoes holds at most this plus one message queued, and one message being received.
pub const MAX_OUTBOX_BYTES: usize = 1024 * 1024;
/// How long a close may take: writing what is queued, waiting for the client's close frame, and
/// the TCP shutdown. A client that does not take part is cut off after this.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Bytes read from the socket at a time, into a buffer on the stack (client input is small).
const READ_CHUNK: usize = 4096;
/// Most frames handed to one vectored write.
const WRITE_SLICES: usize = 16;
/// FIN + ping and FIN + pong.
const FIN_PING: u8 = 0x89;
const FIN_PONG: u8 = 0x8A;

/// The bounds of one connection (the endpoint fills them from the command line).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest message accepted from the client, in bytes; a larger one closes with 1009.
    pub max_message: usize,
    /// The budget shared by every socket for the messages they hold (1013 when spent).
    pub budget: Arc<MemoryBudget>,
    /// Time between two pings.
    pub heartbeat: Duration,
    /// A client that has sent nothing (not even a pong) for this long is closed with 1001.
    pub timeout: Duration,
}

/// Completes the opening handshake: the 101 answer (with `protocol`, if one was chosen), whose
/// stream `run` gets as a [`Socket`] once the answer is written (the server finds the
/// [`Takeover`] on the answer and hands the stream over). A bad handshake is refused (see
/// [`refusal`]).
pub fn accept<IO, F, Fut>(
    req: &HttpRequest,
    protocol: Option<&'static str>,
    limits: Limits,
    run: F,
) -> Result<HttpResponse, actix_web::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + 'static,
    F: FnOnce(Socket<IO>) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let mut answer = actix_http::ws::handshake(req.head()).map_err(refusal)?;
    if let Some(protocol) = protocol {
        answer.insert_header((SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol)));
    }
    let mut response = HttpResponse::from(answer.finish()).map_into_boxed_body();
    response
        .extensions_mut()
        .insert(Takeover::new(move |io, already_read| {
            run(Socket::new(io, already_read, limits))
        }));
    Ok(response)
}

/// The answer to a bad handshake: actix-http's status and reason (400, or 405 with `Allow` for
/// another method than GET, RFC 6455 §4.1), closing the connection. A request that asks for no
/// upgrade at all (a browser visiting the address) gets `426 Upgrade Required` naming the
/// protocol, `Upgrade: websocket` (RFC 9110 §15.5.22), and says how to open one.
fn refusal(error: HandshakeError) -> actix_web::Error {
    if matches!(error, HandshakeError::NoWebsocketUpgrade) {
        let mut response = HttpResponse::build(StatusCode::UPGRADE_REQUIRED)
            .insert_header((UPGRADE, "websocket"))
            .finish();
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        return InternalError::from_response(
            "this address is a WebSocket endpoint: open it with new WebSocket(\"ws://...\"), \
             a GET with Upgrade: websocket (RFC 6455 §4.1)",
            response,
        )
        .into();
    }
    let mut response = error.error_response();
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    InternalError::from_response(error, response).into()
}

pub enum SocketEvent {
    Received(Message),
    /// Everything queued has been handed to the kernel: the endpoint may queue more.
    Flushed,
    /// The connection must end; send this close frame (the RFC 6455 §5.5.1 reply to the client's
    /// close, a violation's code, or the heartbeat's 1001).
    Closing(Option<CloseReason>),
    /// The client is gone without a close frame: nothing more can be sent.
    Gone,
}

pub struct Socket<IO> {
    io: IO,
    inbound: Inbound,
    /// Frames to write, each with the bytes it holds of the budget (0 for the feed's shared
    /// frames, which cost this socket nothing).
    outbox: VecDeque<(Bytes, usize)>,
    /// The budget's bytes held by the frames this socket built itself.
    own_frames: Lease,
    /// The frames of the last message handed over.
    last_frames: MessageFrames,
    /// Bytes of the front frame already written: control frames may only go in before it if 0.
    written: usize,
    /// Only the latest ping is answered (RFC 6455 §5.5.3).
    pong_due: Option<Bytes>,
    ping_due: bool,
    /// Data was queued since the last [`SocketEvent::Flushed`].
    unflushed: bool,
    heartbeat: tokio::time::Interval,
    last_heard: Instant,
    timeout: Duration,
    /// Our close frame is queued: no other frame may follow it.
    close_sent: bool,
    /// A write waits for the socket to take more (it was full, or throttled).
    write_waiting: bool,
    /// When a write last found the socket full (or throttled).
    last_full: Option<Instant>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Socket<IO> {
    /// A socket on `io`, whose client already sent `already_read` (bytes after the handshake).
    pub fn new(io: IO, already_read: &[u8], limits: Limits) -> Socket<IO> {
        let mut inbound = Inbound::new(limits.max_message, limits.budget.clone());
        inbound.push(already_read);
        // On the process's shared grid: a worker pings all its sockets due at once, not each
        // on its own wake-up.
        let heartbeat = crate::timer_grid::interval(limits.heartbeat);
        Socket {
            io,
            inbound,
            outbox: VecDeque::new(),
            own_frames: Lease::new(limits.budget),
            last_frames: MessageFrames::default(),
            written: 0,
            pong_due: None,
            ping_due: false,
            unflushed: false,
            heartbeat,
            last_heard: Instant::now(),
            timeout: limits.timeout,
            close_sent: false,
            write_waiting: false,
            last_full: None,
        }
    }

    /// Queues a frame encoded beforehand (the feed's shared frames).
    pub fn send_frame(&mut self, frame: Bytes) {
        self.outbox.push_back((frame, 0));
        self.unflushed = true;
    }

    /// Writes `frame` (a frame encoded beforehand) at once, without waiting: the fan-out's fast
    /// path. True when the socket took all of it. Otherwise what is left is queued exactly as
    /// [`Socket::send_frame`] would queue it, and the connection's task writes it when the
    /// socket can take more (its next [`Socket::next`]): a socket that is full, partly written,
    /// throttled, closing or gone never makes the caller wait.
    pub fn write_now(&mut self, frame: &Bytes) -> bool {
        if !self.outbox.is_empty() || self.close_sent {
            self.send_frame(frame.clone());
            return false;
        }
        // Nobody is to be woken by this attempt: if the socket is full, the connection's task
        // registers its own waker when it writes the rest.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let written = match Pin::new(&mut self.io).poll_write(&mut cx, frame) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(_)) | Poll::Pending => 0,
        };
        self.keep_rest(frame, written)
    }

    /// After a write of `frame` that took `written` bytes: true when that was all of it;
    /// otherwise the frame is queued from `written` on, for the connection's task (which meets
    /// the error, or waits for room, itself).
    fn keep_rest(&mut self, frame: &Bytes, written: usize) -> bool {
        if written == frame.len() {
            return true;
        }
        self.send_frame(frame.clone());
        self.written = written;
        self.note_full();
        false
    }

    /// The socket's descriptor when the fan-out may send the next frame to it straight, in a
    /// batch with other sockets' ([`crate::batch_send`]): nothing queued, no close sent, and a
    /// stream that allows it (plain TCP, no throttle). `None`: use [`Socket::write_now`].
    pub fn straight_fd(&self) -> Option<std::os::fd::RawFd>
    where
        IO: SendStraight,
    {
        if !self.outbox.is_empty() || self.close_sent {
            return None;
        }
        self.io.straight_fd()
    }

    /// Completes a straight send of `frame` that answered `sent`: what it wrote is counted by
    /// the stream, and what is left is queued as [`Socket::write_now`] queues it. True when the
    /// frame went whole.
    pub fn sent_straight(&mut self, frame: &Bytes, sent: io::Result<usize>) -> bool
    where
        IO: SendStraight,
    {
        let written = sent.unwrap_or(0);
        self.io.wrote_straight(written);
        self.keep_rest(frame, written)
    }

    /// Queues `message` as one frame built for this socket, charged to the budget until written.
    pub fn send(&mut self, message: &Message) {
        let frame = match message {
            Message::Text(text) => server_frame(FIN_TEXT, text.as_bytes()).0,
            Message::Binary(bytes) => server_frame(FIN_BINARY, bytes).0,
        };
        let charged = frame.len();
        self.own_frames.grow(charged);
        self.outbox.push_back((frame, charged));
        self.unflushed = true;
    }

    /// How the last message handed over came: its frames as the client sent them.
    pub fn last_message_frames(&self) -> MessageFrames {
        self.last_frames
    }

    pub fn outbox_is_empty(&self) -> bool {
        self.outbox.is_empty()
    }

    /// Waits for the next thing the endpoint must know about.
    pub async fn next(&mut self) -> SocketEvent {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// [`Socket::next`] as a poll function, for a socket shared with a fan-out lane (borrowed
    /// only while it is polled, never across an `.await`).
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<SocketEvent> {
        loop {
            match self.poll_write(cx) {
                Poll::Ready(Err(_)) => return Poll::Ready(SocketEvent::Gone),
                Poll::Ready(Ok(())) if self.unflushed => {
                    self.unflushed = false;
                    return Poll::Ready(SocketEvent::Flushed);
                }
                _ => {}
            }
            match self.inbound.next() {
                Some(Received::Message(message, frames)) => {
                    self.last_frames = frames;
                    return Poll::Ready(SocketEvent::Received(message));
                }
                Some(Received::Ping(payload)) => {
                    self.pong_due = Some(payload);
                    continue;
                }
                Some(Received::Pong) => continue,
                Some(Received::Close(reason)) => {
                    // Echo the client's code, as RFC 6455 §5.5.1 suggests; no code, no code.
                    let reply = reason.map(|r| CloseReason {
                        code: r.code,
                        description: None,
                    });
                    return Poll::Ready(SocketEvent::Closing(reply));
                }
                Some(Received::Violation(reason)) => {
                    return Poll::Ready(SocketEvent::Closing(Some(reason)));
                }
                None => {}
            }
            if self.heartbeat.poll_tick(cx).is_ready() {
                if self.last_heard.elapsed() > self.timeout && !self.behind() {
                    return Poll::Ready(SocketEvent::Closing(Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some(format!(
                            "no answer to pings for {} s",
                            self.timeout.as_secs()
                        )),
                    })));
                }
                self.ping_due = true;
                continue;
            }
            if self.inbound.ended()
                || self.outbox.len() >= MAX_OUTBOX
                || self.own_frames.bytes() >= MAX_OUTBOX_BYTES
            {
                return Poll::Pending;
            }
            match ready!(self.poll_read(cx)) {
                Ok(0) | Err(_) => return Poll::Ready(SocketEvent::Gone),
                Ok(_) => self.last_heard = Instant::now(),
            }
        }
    }

    /// A write found the socket full (or throttled): it waits until the socket takes more.
    fn note_full(&mut self) {
        self.write_waiting = true;
        self.last_full = Some(Instant::now());
    }

    /// The client has data of ours still to read: a write waits, or one did within the
    /// timeout. Its pong then waits behind that data, and its silence proves nothing: a slow
    /// reader lags (and is told what it missed), and one that reads nothing at all is closed by
    /// the unwritable timeout of the tap, which counts it (`closed_unwritable`).
    fn behind(&self) -> bool {
        self.write_waiting
            || self
                .last_full
                .is_some_and(|at| at.elapsed() <= self.timeout)
    }

    /// Reads what the client sent into `inbound`; `Ok(0)` at the end of the stream. The chunk
    /// lives on the stack of this call only, never in a connection's future.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        // Uninitialised: zeroing 4 KiB on every wake-up showed in perf (memset, 1.2%).
        let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut chunk);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        self.inbound.push(buf.filled());
        Poll::Ready(Ok(buf.filled().len()))
    }

    /// Writes the outbox until it is empty or the socket is full. Control frames go in at the
    /// next frame boundary, before the data.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.written == 0 && !self.close_sent {
                if let Some(payload) = self.pong_due.take() {
                    self.outbox
                        .push_front((server_frame(FIN_PONG, &payload).0, 0));
                }
                if std::mem::take(&mut self.ping_due) {
                    self.outbox.push_front((server_frame(FIN_PING, b"").0, 0));
                }
            }
            if self.outbox.is_empty() {
                // An idle socket keeps no queue (its hello's grew one): 176 bytes per idle
                // connection. A socket its fan-out lane writes to never queues at all.
                if self.outbox.capacity() > 0 {
                    self.outbox = VecDeque::new();
                }
                return Poll::Ready(Ok(()));
            }
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let mut count = 0;
            for (i, (frame, _)) in self.outbox.iter().take(WRITE_SLICES).enumerate() {
                let skip = if i == 0 { self.written } else { 0 };
                slices[i] = IoSlice::new(&frame[skip..]);
                count += 1;
            }
            let mut n = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                Poll::Pending => {
                    self.note_full();
                    return Poll::Pending;
                }
                Poll::Ready(written) => written?,
            };
            self.write_waiting = false;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while n > 0 {
                let front = self.outbox.front().map_or(0, |(f, _)| f.len()) - self.written;
                if n < front {
                    self.written += n;
                    break;
                }
                n -= front;
                self.written = 0;
                if let Some((_, charged)) = self.outbox.pop_front() {
                    self.own_frames.shrink(charged);
                }
            }
        }
    }

    /// Sends `reason` as the close frame (if any) and ends the connection: at once after the
    /// client's close or a violation (RFC 6455 §7.1.7: nothing more is read from a client that
    /// broke the protocol), after the client's close reply otherwise (§7.1.1: the server closes
    /// the TCP connection once both close frames crossed). Bounded by [`CLOSE_GRACE`].
    ///
    /// After its TCP shutdown the server still drains, unread, what the client sends until the
    /// client closes too (a "lingering close"): closing a socket with unread input makes the
    /// kernel answer with a reset, and a client still sending, such as a browser in the middle
    /// of a file refused with 1009, would lose the close frame and report 1006 instead.
    pub async fn close(mut self, reason: Option<CloseReason>) {
        let mut frame = BytesMut::new();
        Parser::write_close(&mut frame, reason, false);
        self.send_frame(frame.freeze());
        self.close_sent = true;
        let ending = async {
            poll_fn(|cx| self.poll_write(cx)).await?;
            while !self.inbound.ended() {
                // Data that crosses our close is dropped; the client's close frame ends the wait.
                if poll_fn(|cx| self.poll_read(cx)).await? == 0 {
                    break;
                }
                while self.inbound.next().is_some() {}
            }
            poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await?;
            // On the heap, and only now: an array held across this `.await` would sit in every
            // connection's future for its whole life.
            let mut discard = vec![0u8; READ_CHUNK];
            while self.io.read(&mut discard).await? > 0 {}
            Ok::<(), io::Error>(())
        };
        // Err or timeout: the client is gone or does not take part; dropping the stream ends it.
        let _ = tokio::time::timeout(CLOSE_GRACE, ending).await;
    }
}
