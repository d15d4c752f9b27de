//! The test harness: a real pushlab on 127.0.0.1:0, and clients that count their own bytes.
//!
//! `RawConn` is a deliberately small HTTP/1.1 client over a plain `TcpStream`: it writes exactly
//! the bytes it is given and counts every byte it sends and receives, so tests can compare the
//! server's meter with what really crossed the socket.

use std::{sync::Arc, time::Duration};

use pushlab::{Application, Config, Stopper, state::AppState};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Upper bound on any single wait in the tests: a test that hangs fails instead.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A WebSocket client connection (tungstenite).
pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message of `socket` as JSON, skipping pings; fails after [`PATIENCE`].
pub async fn next_json(socket: &mut WebSocket) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .expect("a well-formed frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON text"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub state: Arc<AppState>,
    pub stopper: Stopper,
    pub token: String,
    /// The served certificate (DER), when the server runs TLS.
    pub certificate: Option<Vec<u8>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    pushlab::telemetry::init_for_tests();
    let mut config = Config::for_tests();
    adjust(&mut config);
    let app = Application::build(config).await.expect("server builds");
    let test_app = TestApp {
        addr: app.addr(),
        state: app.state(),
        stopper: app.stopper(),
        token: app.admin_token().to_owned(),
        certificate: app.tls_certificate().map(|(der, _)| der.to_vec()),
    };
    tokio::spawn(app.run_until_stopped());
    test_app
}

impl TestApp {
    /// The SSE id of `seq` in this run: `<epoch>:<seq>`.
    pub fn sse_id(&self, seq: u64) -> String {
        format!("{}:{seq}", self.state.hub.epoch())
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Opens a WebSocket on `path` (`/ws?since=3`, `/ws/echo`) with tungstenite, a client that
    /// knows only RFC 6455; fails the test if the handshake does not succeed.
    pub async fn websocket(&self, path: &str) -> WebSocket {
        self.websocket_with(path, &[]).await.0
    }

    /// Opens the feed socket (`/ws?since=3`) and reads its first message, the hello that names
    /// the run (checked against the hub): the socket is then where events begin.
    pub async fn feed_socket(&self, path: &str) -> WebSocket {
        let mut socket = self.websocket(path).await;
        let hello = next_json(&mut socket).await;
        assert_eq!(hello["type"], "hello", "{hello}");
        assert_eq!(hello["epoch"], &**self.state.hub.epoch(), "{hello}");
        socket
    }

    /// [`TestApp::websocket`] with extra handshake headers (e.g. `Sec-WebSocket-Protocol`);
    /// also returns the 101 answer.
    pub async fn websocket_with(
        &self,
        path: &str,
        headers: &[(&'static str, &str)],
    ) -> (
        WebSocket,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ) {
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
        let mut request = self.ws_url(path).into_client_request().unwrap();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).unwrap());
        }
        tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
            .await
            .expect("the handshake is answered in time")
            .unwrap_or_else(|e| panic!("WebSocket {path} refused: {e}"))
    }

    /// `GET /api/poll` with `query` (e.g. `since=3`, or empty); must answer 200.
    pub async fn poll(&self, query: &str) -> Value {
        self.get_json(&format!("/api/poll?{query}")).await
    }

    /// `GET /api/longpoll` with `query` (e.g. `since=3&timeout_ms=500`); must answer 200.
    pub async fn long_poll(&self, query: &str) -> Value {
        self.get_json(&format!("/api/longpoll?{query}")).await
    }

    /// `POST /api/chat` with this author and text (the raw answer, whatever its status).
    pub async fn post_chat(&self, author: &str, text: &str) -> Response {
        let body = serde_json::json!({ "author": author, "text": text }).to_string();
        self.conn().await.post_json("/api/chat", &body).await
    }

    /// Publishes `n` chat events through `POST /api/chat`; returns their seqs.
    pub async fn publish_chats(&self, n: usize) -> Vec<u64> {
        let mut conn = self.conn().await;
        let mut seqs = Vec::new();
        for i in 0..n {
            let body = format!(r#"{{"author":"t","text":"message {i}"}}"#);
            let res = conn.post_json("/api/chat", &body).await;
            assert_eq!(res.status, 201, "{}", res.text());
            seqs.push(res.json()["seq"].as_u64().unwrap());
        }
        seqs
    }

    pub async fn conn(&self) -> RawConn {
        RawConn::connect(self.addr).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.conn().await.get(path).await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        res.json()
    }

    pub async fn stats(&self) -> Value {
        self.get_json("/api/stats").await
    }

    /// An instructor's call with the Bearer token (`body` empty: no body).
    pub async fn admin(&self, method: &str, path: &str, body: &str) -> Response {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", auth.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        self.conn()
            .await
            .request(method, path, &headers, body.as_bytes())
            .await
    }

    /// `PUT /api/admin/settings` that must succeed; returns the new settings.
    pub async fn set(&self, update: &str) -> Value {
        let res = self.admin("PUT", "/api/admin/settings", update).await;
        assert_eq!(res.status, 200, "{update}: {}", res.text());
        res.json()
    }

    /// `POST /api/admin/fault` that must succeed.
    pub async fn fault(&self, fault: &str) -> Value {
        let res = self.admin("POST", "/api/admin/fault", fault).await;
        assert_eq!(res.status, 200, "{fault}: {}", res.text());
        res.json()
    }

    /// Opens `GET path` as an SSE stream (headers as given) and checks the 200.
    pub async fn sse(&self, path: &str, headers: &[(&str, &str)]) -> SseStream {
        let mut conn = self.conn().await;
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.host());
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        conn.send(req.as_bytes()).await;
        let (status, head) = conn.read_head().await;
        assert_eq!(status, 200, "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        SseStream {
            conn,
            text: String::new(),
            ready: std::collections::VecDeque::new(),
        }
    }

    /// Waits until `count` followers wait on the hub (held long polls, idle streams), so that
    /// a publish is sure to find them. Bounded by [`PATIENCE`].
    pub async fn until_followers(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.state.hub.follower_count() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "followers never arrived"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// An open SSE response, read record by record.
pub struct SseStream {
    pub conn: RawConn,
    /// What was read after the last complete record.
    text: String,
    /// Complete records read and not yet returned.
    ready: std::collections::VecDeque<(Option<String>, String, String)>,
}

impl SseStream {
    /// The next `count` records with data (id, event, data); panics if the stream ends first.
    /// Each record is parsed once, when its blank line has arrived (a stream of megabytes is
    /// read in linear time: a test's slow reader must not become slow because of the test).
    pub async fn records(&mut self, count: usize) -> Vec<(Option<String>, String, String)> {
        while self.ready.len() < count {
            let chunk = self.conn.read_chunk().await.expect("stream open");
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
            if let Some(end) = self.text.rfind("\n\n") {
                let complete: String = self.text.drain(..end + 2).collect();
                self.ready.extend(sse_records(&complete));
            }
        }
        self.ready.drain(..count).collect()
    }

    /// Reads to the end of the connection; true if the stream was cut off (no last chunk).
    pub async fn cut_off(mut self) -> bool {
        let mut rest = Vec::new();
        while let Some(bytes) = self.conn.read_more().await {
            rest.extend(bytes);
        }
        !rest.ends_with(b"0\r\n\r\n")
    }
}

/// An HTTP response as the raw client read it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub sent: usize,
    pub received: usize,
    host: String,
}

impl RawConn {
    pub async fn connect(addr: std::net::SocketAddr) -> RawConn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawConn {
            stream,
            buf: Vec::new(),
            sent: 0,
            received: 0,
            host: addr.to_string(),
        }
    }

    /// Connects from the loopback address `local` (any 127.x.y.z on Linux), so that the server
    /// sees another client address.
    pub async fn connect_from(addr: std::net::SocketAddr, local: std::net::IpAddr) -> RawConn {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(std::net::SocketAddr::new(local, 0))
            .expect("bind a loopback source address");
        let stream = socket.connect(addr).await.expect("connect");
        RawConn {
            stream,
            buf: Vec::new(),
            sent: 0,
            received: 0,
            host: addr.to_string(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
        self.sent += bytes.len();
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk))
            .await
            .expect("server answered in time")
            .unwrap_or(0);
        self.received += n;
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Reads exactly `n` bytes (or what is left before the server closes).
    pub async fn read_exact_n(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            if !self.fill().await {
                break;
            }
        }
        let n = n.min(self.buf.len());
        self.buf.drain(..n).collect()
    }

    /// What is buffered or arrives next, `None` once the server closed and all was read.
    pub async fn read_more(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() && !self.fill().await {
            return None;
        }
        Some(std::mem::take(&mut self.buf))
    }

    /// True when the server closed the connection (after consuming what was buffered).
    pub async fn closed_by_server(&mut self) -> bool {
        self.buf.clear();
        !self.fill().await
    }

    pub async fn read_head(&mut self) -> (u16, String) {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                let head = String::from_utf8(head).expect("ASCII head");
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("status");
                return (status, head);
            }
            assert!(
                self.fill().await,
                "connection closed before a response head"
            );
        }
    }

    /// One chunk of a chunked body; `None` at the last chunk.
    pub async fn read_chunk(&mut self) -> Option<Vec<u8>> {
        let line = self.read_line().await;
        let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
        if size == 0 {
            self.read_line().await;
            return None;
        }
        let data = self.read_exact_n(size).await;
        self.read_exact_n(2).await;
        Some(data)
    }

    async fn read_line(&mut self) -> String {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return String::from_utf8(line).expect("ASCII line");
            }
            assert!(self.fill().await, "connection closed mid-body");
        }
    }

    pub async fn read_response(&mut self) -> Response {
        let (status, head) = self.read_head().await;
        let mut res = Response {
            status,
            head,
            body: Vec::new(),
        };
        if let Some(len) = res.header("content-length") {
            res.body = self.read_exact_n(len.parse().unwrap()).await;
        } else if res
            .header("transfer-encoding")
            .is_some_and(|t| t.contains("chunked"))
        {
            while let Some(chunk) = self.read_chunk().await {
                res.body.extend(chunk);
            }
        }
        res
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes).await;
        self.read_response().await
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, &[], b"").await
    }

    pub async fn post_json(&mut self, path: &str, body: &str) -> Response {
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// Posts the classic page's chat form (urlencoded), as the browser's form does.
    pub async fn post_classic_chat(&mut self, form: &[u8]) -> Response {
        self.request(
            "POST",
            "/classic/chat",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form,
        )
        .await
    }

    /// Sends a WebSocket upgrade for `path` with extra headers; returns the response head.
    pub async fn upgrade(&mut self, path: &str, extra: &[(&str, &str)]) -> (u16, String) {
        let req = self.upgrade_request(path, extra);
        self.send(req.as_bytes()).await;
        self.read_head().await
    }

    /// The upgrade request for `path`, with the RFC 6455 example key and `extra` headers.
    pub fn upgrade_request(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut headers = vec![
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        headers.extend_from_slice(extra);
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req
    }

    /// Sends one masked client frame.
    pub async fn send_frame(&mut self, first: u8, payload: &[u8]) {
        self.send(&client_frame(first, payload)).await;
    }

    /// Reads one unmasked server frame: (first byte, payload).
    pub async fn read_frame(&mut self) -> (u8, Vec<u8>) {
        let head = self.read_exact_n(2).await;
        assert_eq!(head.len(), 2, "connection closed before a frame");
        assert_eq!(head[1] & 0x80, 0, "server frames are never masked");
        let len = match head[1] & 0x7f {
            126 => u16::from_be_bytes(self.read_exact_n(2).await.try_into().unwrap()) as usize,
            127 => u64::from_be_bytes(self.read_exact_n(8).await.try_into().unwrap()) as usize,
            n => n as usize,
        };
        (head[0], self.read_exact_n(len).await)
    }

    /// Reads frames until a text frame (skipping pings and other control frames); its payload.
    pub async fn read_text_frame(&mut self) -> String {
        loop {
            let (first, payload) = self.read_frame().await;
            match first & 0x0f {
                0x1 => return String::from_utf8(payload).expect("UTF-8 text frame"),
                0x8 => panic!("closed: {:?}", String::from_utf8_lossy(&payload)),
                _ => continue,
            }
        }
    }

    /// Reads frames until a close frame; returns its code and reason.
    pub async fn read_close(&mut self) -> (u16, String) {
        loop {
            let (first, payload) = self.read_frame().await;
            if first & 0x0f == 0x8 {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                return (code, String::from_utf8_lossy(&payload[2..]).into_owned());
            }
        }
    }
}

/// A masked client frame with mask 0x37fa213d (the RFC 6455 example mask).
pub fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    pushlab::ws::client_frame(first, payload, [0x37, 0xfa, 0x21, 0x3d])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The seqs of a poll answer's `events`, in order.
pub fn seqs(events: &Value) -> Vec<u64> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

/// The seq of an SSE id `<epoch>:<seq>`.
pub fn seq_of_id(id: &str) -> u64 {
    let (_, seq) = id.rsplit_once(':').expect("an id <epoch>:<seq>");
    seq.parse().expect("a whole seq")
}

/// Parses SSE records from text: (id, event, data) for each record with data.
pub fn sse_records(text: &str) -> Vec<(Option<String>, String, String)> {
    text.split("\n\n")
        .filter_map(|record| {
            let mut id = None;
            let mut event = "message".to_owned();
            let mut data = None;
            for line in record.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(v.to_owned());
                }
            }
            data.map(|d| (id, event, d))
        })
        .collect()
}
