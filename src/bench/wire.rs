//! The bench's own client side of HTTP/1.1 and RFC 6455: minimal, fast, and counting every byte.
//!
//! A simulated client must cost little (thousands run on the same two cores as the server) and
//! must count exactly what crosses its socket, headers and frames included, so it is written
//! here on a bare `TcpStream` rather than with a general-purpose client library.

use std::{io, time::Duration};

use bytes::{Buf, BytesMut};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Longest wait for any single read: a server silent for this long is an error.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Wire {
    stream: TcpStream,
    buf: BytesMut,
    pub sent: u64,
    pub received: u64,
    host: String,
}

/// What a server frame was.
pub enum Frame {
    Text(Vec<u8>),
    Binary,
    Ping(Vec<u8>),
    Close(u16),
    Other,
}

fn protocol_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl Wire {
    pub async fn connect(addr: std::net::SocketAddr) -> io::Result<Wire> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Wire {
            stream,
            buf: BytesMut::with_capacity(8192),
            sent: 0,
            received: 0,
            host: addr.to_string(),
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.sent += bytes.len() as u64;
        Ok(())
    }

    async fn fill(&mut self) -> io::Result<()> {
        self.buf.reserve(8192);
        let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "server silent"))??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.received += n as u64;
        Ok(())
    }

    async fn need(&mut self, n: usize) -> io::Result<()> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(())
    }

    /// Sends a GET with the given extra header lines; returns the status and the head.
    pub async fn get(&mut self, path: &str, extra: &str) -> io::Result<()> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n", self.host);
        self.send(request.as_bytes()).await
    }

    /// Sends a POST with a body.
    pub async fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.send(&request).await
    }

    pub async fn read_head(&mut self) -> io::Result<(u16, String)> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.advance(end + 4);
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| protocol_error("no status line"))?;
                return Ok((status, head));
            }
            self.fill().await?;
        }
    }

    /// The body of a response with `Content-Length` (what pushlab's JSON answers carry).
    pub async fn read_sized_body(&mut self, head: &str) -> io::Result<Vec<u8>> {
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .ok_or_else(|| protocol_error("no content-length"))?;
        self.need(length).await?;
        Ok(self.buf.split_to(length).to_vec())
    }

    /// One chunk of a chunked body; `None` at the last one.
    pub async fn read_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let line_end = loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                break end;
            }
            self.fill().await?;
        };
        let size = std::str::from_utf8(&self.buf[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(|| protocol_error("bad chunk size"))?;
        self.buf.advance(line_end + 2);
        self.need(size + 2).await?;
        let data = self.buf.split_to(size).to_vec();
        self.buf.advance(2);
        Ok((size > 0).then_some(data))
    }

    /// Opens a WebSocket on `path`; the key is fixed (the server does not care, RFC 6455 §4.1).
    pub async fn upgrade(&mut self, path: &str, protocol: Option<&str>) -> io::Result<()> {
        let offer = protocol.map_or(String::new(), |p| {
            format!("Sec-WebSocket-Protocol: {p}\r\n")
        });
        let extra = format!(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}"
        );
        self.get(path, &extra).await?;
        let (status, head) = self.read_head().await?;
        if status != 101 {
            return Err(protocol_error(format!(
                "upgrade refused: {}",
                head.lines().next().unwrap_or("")
            )));
        }
        Ok(())
    }

    pub async fn read_frame(&mut self) -> io::Result<Frame> {
        self.need(2).await?;
        let (first, second) = (self.buf[0], self.buf[1]);
        let (len, header) = match second & 0x7f {
            126 => {
                self.need(4).await?;
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                self.need(10).await?;
                (
                    u64::from_be_bytes(self.buf[2..10].try_into().expect("8 bytes")) as usize,
                    10,
                )
            }
            n => (n as usize, 2),
        };
        self.need(header + len).await?;
        self.buf.advance(header);
        let payload = self.buf.split_to(len).to_vec();
        Ok(match first & 0x0f {
            1 => Frame::Text(payload),
            2 => Frame::Binary,
            8 => Frame::Close(
                payload
                    .get(..2)
                    .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]])),
            ),
            9 => Frame::Ping(payload),
            _ => Frame::Other,
        })
    }

    /// Sends a final client frame (all-zero mask: the bench measures the server, not masking).
    pub async fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        self.send(&crate::ws::client_frame(0x80 | opcode, payload, [0; 4]))
            .await
    }
}
