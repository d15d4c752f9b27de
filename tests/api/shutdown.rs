//! A graceful stop: WebSockets get 1001, held long polls are answered, SSE streams end.

use crate::helpers::{RawConn, Response, spawn_app};

#[tokio::test]
async fn stopping_closes_every_stream_cleanly() {
    let app = spawn_app().await;
    let mut ws = app.conn().await;
    assert_eq!(ws.upgrade("/ws", &[]).await.0, 101);
    let mut sse = app.conn().await;
    sse.send(format!("GET /api/sse HTTP/1.1\r\nHost: {}\r\n\r\n", app.host()).as_bytes())
        .await;
    assert_eq!(sse.read_head().await.0, 200);
    assert!(sse.read_chunk().await.is_some(), "the retry line");
    let long_poll = {
        let addr = app.addr;
        tokio::spawn(async move {
            RawConn::connect(addr)
                .await
                .get("/api/longpoll?timeout_ms=60000")
                .await
        })
    };
    app.until_followers(3).await; // the socket, the stream and the held poll all wait on the hub

    let stopper = app.stopper.clone();
    let stopping = tokio::spawn(async move { stopper.stop().await });

    let (code, reason) = ws.read_close().await;
    assert_eq!(code, 1001, "{reason}");
    let answered = long_poll.await.unwrap();
    assert_eq!(answered.status, 200);
    assert_eq!(answered.json()["events"], serde_json::json!([]));
    assert_eq!(
        sse.read_chunk().await,
        None,
        "the SSE stream ends with its last chunk"
    );
    stopping.await.unwrap();
}

/// While the server stops, a kept-alive connection still brings requests. One that would be
/// held (a long poll, a WebSocket) is refused `503` with `Retry-After`: answered, it would end
/// at once, and its client would count an opening that delivers nothing, again and again (a
/// long-poll client at once). An SSE stream gets no answer (an `EventSource` stops for good at
/// a 503, and retries a connection closed unanswered). So is a short poll, whose
/// answer a page would count in the period of a server started meanwhile; the classic page is
/// served, marked. Every answer then closes its connection, so the client's next request
/// reaches the server that takes over.
#[tokio::test]
async fn a_stopping_server_refuses_new_streams_and_closes_kept_alive_connections() {
    let app = spawn_app().await;
    let held: [(&str, &[(&str, &str)]); 5] = [
        ("/api/poll", &[]),
        ("/api/longpoll?timeout_ms=60000", &[]),
        ("/ws", UPGRADE),
        ("/ws/echo", UPGRADE),
        ("/api/stats/ws", UPGRADE),
    ];
    let streams = ["/api/sse", "/api/stats/stream"];
    // Kept-alive connections, each with one request answered before the stop.
    let mut conns = Vec::new();
    for _ in 0..held.len() + streams.len() + 2 {
        let mut conn = app.conn().await;
        assert_eq!(conn.get("/api/time").await.status, 200);
        conns.push(conn);
    }
    let stopper = app.stopper.clone();
    let stopping = tokio::spawn(async move { stopper.stop().await });
    app.state.shutdown.cancelled().await;

    for ((path, headers), conn) in held.iter().zip(&mut conns) {
        let answer = conn.request("GET", path, headers, b"").await;
        assert_eq!(answer.status, 503, "{path}: {}", answer.text());
        assert_eq!(answer.header("retry-after").as_deref(), Some("1"), "{path}");
        assert!(
            answer.json()["error"]
                .as_str()
                .unwrap()
                .contains("stopping"),
            "{path}"
        );
        assert_eq!(answer.json()["stopping"], true, "{path}");
        closes_after(conn, &answer, path).await;
    }
    // An SSE stream gets no answer: its connection is closed before a byte, which a browser's
    // EventSource retries (a 503 would stop it for good), counted as a request without bytes out.
    // (Read from the meter: a stopping server takes no new connection.)
    let sse_now =
        || serde_json::to_value(app.state.meter.snapshot()).unwrap()["transports"]["sse"].clone();
    let sse_before = sse_now();
    for path in streams {
        let mut conn = conns.pop().unwrap();
        conn.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await;
        let answer = conn.read_more().await;
        let answer = answer.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        assert_eq!(answer, None, "{path}: answered");
    }
    let sse = sse_now();
    assert_eq!(
        sse["requests"],
        sse_before["requests"].as_u64().unwrap() + 1
    );
    assert_eq!(
        sse["bytes_out"], sse_before["bytes_out"],
        "bytes out for no answer"
    );
    // The others are served, and their connections closed after them; the classic page says
    // it comes from a stopping server.
    let classic = conns.pop().unwrap();
    let time = conns.pop().unwrap();
    for (mut conn, path) in [(time, "/api/time"), (classic, "/classic")] {
        let answer = conn.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        closes_after(&mut conn, &answer, path).await;
        if path == "/classic" {
            assert!(
                answer.text().contains(" data-stopping>"),
                "{}",
                answer.text()
            );
        }
    }
    stopping.await.unwrap();
}

/// `answer` says `Connection: close`, and the server closes `conn` after it (RFC 9112 §9.6).
async fn closes_after(conn: &mut RawConn, answer: &Response, path: &str) {
    let connection = answer.header("connection");
    assert_eq!(connection.as_deref(), Some("close"), "{path}");
    assert!(
        conn.closed_by_server().await,
        "{path}: the connection closes"
    );
}

const UPGRADE: &[(&str, &str)] = &[
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
];
