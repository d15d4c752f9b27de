//! A client connection as actix sees it: the tapped TCP stream, plain or inside TLS.
//!
//! One type for both, so that one HTTP service serves http and https; the tap is always the
//! innermost layer, next to the socket, so bytes are counted as they cross the wire.

use std::{
    io,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::tap::{ConnTap, TappedStream};

type Tapped = TappedStream<tokio::net::TcpStream>;

pub enum ClientStream {
    Plain(Tapped),
    Tls(Box<tokio_rustls::server::TlsStream<Tapped>>),
}

impl ClientStream {
    pub fn tap(&self) -> Rc<ConnTap> {
        match self {
            ClientStream::Plain(s) => s.tap(),
            ClientStream::Tls(s) => s.get_ref().0.tap(),
        }
    }
}

/// Forwards a call to whichever stream this is.
macro_rules! either {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            ClientStream::Plain($s) => {
                let $s = Pin::new($s);
                $call
            }
            ClientStream::Tls($s) => {
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

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        either!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        either!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ClientStream::Plain(s) => s.is_write_vectored(),
            ClientStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_shutdown(cx))
    }
}
