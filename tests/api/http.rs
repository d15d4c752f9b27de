//! HTTP as clients expect it (issue 12 item 6): HEAD wherever GET works, 405 with `Allow`,
//! OPTIONS, HTTP/1.0 streams without chunked coding, and a JSON error on every 4xx, including
//! those actix-http writes by itself.

use crate::helpers::{RawConn, Response, spawn_app};

/// Sends `method path` (HTTP/1.1, no body) and reads only the response head.
async fn head_only(conn: &mut RawConn, method: &str, path: &str, host: &str) -> Response {
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    conn.send(req.as_bytes()).await;
    let (status, head) = conn.read_head().await;
    Response {
        status,
        head,
        body: Vec::new(),
    }
}

/// Every GET route, with a query that makes it answer 200.
const GET_ROUTES: [&str; 20] = [
    "/healthz",
    "/",
    "/protocol",
    "/lab",
    "/admin",
    "/api/stats",
    "/api/stats/window",
    "/api/stats/stream",
    "/api/time",
    "/metrics",
    "/api/export/window.csv",
    "/api/export/stats.json",
    "/static/js/shared/i18n.js",
    "/classic",
    "/api/poll?since=0",
    "/api/longpoll?since=0",
    "/api/sse",
    "/api/export/histograms.csv",
    "/api/export/histograms.json",
    "/api/export/window.json",
];

#[tokio::test]
async fn head_answers_every_get_route_with_its_headers_and_no_body() {
    let app = spawn_app().await;
    app.publish_chats(1).await; // so that a long poll from 0 answers at once
    for path in GET_ROUTES {
        let get = head_only(&mut app.conn().await, "GET", path, &app.host()).await;
        assert_eq!(get.status, 200, "GET {path}: {}", get.head);
        // HEAD, then a GET on the same connection: if the HEAD had sent a body, the second
        // answer would not parse.
        let mut conn = app.conn().await;
        let head = head_only(&mut conn, "HEAD", path, &app.host()).await;
        assert_eq!(head.status, 200, "HEAD {path}: {}", head.head);
        assert_same_fields(path, &head, &get);
        let after = conn.get("/api/time").await;
        assert_eq!(after.status, 200, "after HEAD {path}: {}", after.head);
        assert!(after.json()["ts"].is_u64());
    }
}

/// A HEAD's answer carries every field its GET's does but the body's framing and the date
/// (RFC 9110 §9.3.2).
fn assert_same_fields(path: &str, head: &Response, get: &Response) {
    assert_eq!(
        fields_of(&head.head),
        fields_of(&get.head),
        "HEAD {path}: its fields differ from the GET's\n{}\n{}",
        head.head,
        get.head
    );
}

/// The header fields of an answer but its date and its body's framing, sorted.
fn fields_of(head: &str) -> Vec<String> {
    let mut fields: Vec<String> = head
        .lines()
        .skip(1)
        .map(str::to_ascii_lowercase)
        .filter(|line| {
            !["date:", "content-length:", "transfer-encoding:"]
                .iter()
                .any(|framing| line.starts_with(framing))
        })
        .collect();
    fields.sort();
    fields
}

#[tokio::test]
async fn a_head_with_a_query_the_get_refuses_is_refused_the_same() {
    let app = spawn_app().await;
    for path in [
        "/api/poll?since=yesterday",
        "/api/poll?since=1&epoch=not%20an%20epoch",
        "/api/longpoll?timeout_ms=soon",
        "/api/sse?since=abc",
        "/classic?refresh=0",
        "/classic?seen=-1",
    ] {
        let get = head_only(&mut app.conn().await, "GET", path, &app.host()).await;
        let head = head_only(&mut app.conn().await, "HEAD", path, &app.host()).await;
        assert_eq!(get.status, 400, "GET {path}: {}", get.head);
        assert_eq!(head.status, get.status, "HEAD {path}: {}", head.head);
        assert_same_fields(path, &head, &get);
    }
}

#[tokio::test]
async fn a_head_on_a_feed_transport_is_a_request_that_delivers_nothing() {
    let app = spawn_app().await;
    app.publish_chats(3).await;
    let before = app.stats().await["transports"]["poll"].clone();
    let mut conn = app.conn().await;
    for path in ["/api/poll?since=0", "/api/longpoll?since=0"] {
        let head = head_only(&mut conn, "HEAD", path, &app.host()).await;
        assert_eq!(head.status, 200);
    }
    let after = app.stats().await["transports"].clone();
    assert_eq!(
        after["poll"]["requests"].as_u64().unwrap(),
        before["requests"].as_u64().unwrap() + 1,
        "the HEAD counts as a request of poll"
    );
    assert_eq!(after["poll"]["delivered"], before["delivered"]);
    assert_eq!(after["poll"]["empty"], before["empty"]);
    assert_eq!(after["longpoll"]["requests"], 1);
    assert_eq!(after["longpoll"]["delivered"], 0);
}

#[tokio::test]
async fn a_known_path_with_a_wrong_method_gets_405_with_allow_and_a_json_error() {
    let app = spawn_app().await;
    for (method, path, allowed) in [
        ("POST", "/api/poll", "GET"),
        ("POST", "/api/sse", "GET"),
        ("DELETE", "/api/longpoll", "GET"),
        ("GET", "/api/chat", "POST"),
        ("PUT", "/api/chat", "POST"),
        ("POST", "/healthz", "GET"),
        ("POST", "/", "GET"),
        ("POST", "/api/export/stats.json", "GET"),
        ("DELETE", "/api/admin/settings", "PUT"),
        ("GET", "/admin/login", "POST"),
        ("PATCH", "/ws", "GET"),
    ] {
        let res = app.conn().await.request(method, path, &[], b"").await;
        assert_eq!(res.status, 405, "{method} {path}: {}", res.head);
        let allow = res.header("allow").unwrap_or_default();
        assert!(allow.contains(allowed), "{method} {path}: Allow {allow:?}");
        if allowed == "GET" {
            assert!(allow.contains("HEAD"), "{method} {path}: Allow {allow:?}");
        }
        let error = res.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(method) && error.contains(path), "{error}");
    }
    let res = app.conn().await.request("POST", "/no/such", &[], b"").await;
    assert_eq!(res.status, 404);
    assert!(res.json()["error"].is_string());
}

#[tokio::test]
async fn options_on_a_known_path_gets_204_with_allow() {
    let app = spawn_app().await;
    let res = app
        .conn()
        .await
        .request("OPTIONS", "/api/chat", &[], b"")
        .await;
    assert_eq!(res.status, 204, "{}", res.head);
    let allow = res.header("allow").unwrap();
    assert!(
        allow.contains("POST") && allow.contains("OPTIONS"),
        "{allow}"
    );
    let res = app
        .conn()
        .await
        .request("OPTIONS", "/api/poll", &[], b"")
        .await;
    assert_eq!(res.status, 204);
    assert!(res.header("allow").unwrap().contains("GET"));
}

#[tokio::test]
async fn http10_streams_are_close_delimited() {
    let app = spawn_app().await;
    app.publish_chats(2).await;
    for path in ["/api/sse?since=0", "/api/stats/stream"] {
        let mut conn = app.conn().await;
        conn.send(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
            .await;
        let (status, head) = conn.read_head().await;
        assert_eq!(status, 200, "{head}");
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("transfer-encoding"),
            "HTTP/1.0 has no chunked coding: {head}"
        );
        let first = conn.read_more().await.expect("the stream's first bytes");
        let text = String::from_utf8_lossy(&first);
        assert!(
            text.starts_with("retry:") || text.starts_with("id:") || text.starts_with("event:"),
            "raw event-stream text, no chunk sizes: {text:?}"
        );
    }
    // A HEAD over HTTP/1.0 ends at once too.
    let mut conn = app.conn().await;
    conn.send(b"HEAD /api/sse HTTP/1.0\r\n\r\n").await;
    let (status, head) = conn.read_head().await;
    assert_eq!(status, 200);
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding"));
    assert!(conn.closed_by_server().await);
}

#[tokio::test]
async fn a_websocket_handshake_over_http10_is_refused_with_json() {
    let app = spawn_app().await;
    for path in ["/ws", "/ws/echo"] {
        let mut conn = app.conn().await;
        let req = conn
            .upgrade_request(path, &[])
            .replacen("HTTP/1.1", "HTTP/1.0", 1);
        conn.send(req.as_bytes()).await;
        let res = conn.read_response().await;
        assert_eq!(res.status, 400, "{path}: {}", res.head);
        assert!(
            res.json()["error"].as_str().unwrap().contains("HTTP/1.1"),
            "{}",
            res.text()
        );
        assert!(conn.closed_by_server().await);
    }
}

#[tokio::test]
async fn refusals_made_by_the_http_stack_carry_a_json_error() {
    let app = spawn_app().await;
    let host = app.host();
    let many_headers: String = (0..120).map(|i| format!("X-Field-{i}: v\r\n")).collect();
    let cases: Vec<(String, u16)> = vec![
        (
            format!("GET /api/time HTTP/1.1\r\nHost: {host}\r\n{many_headers}\r\n"),
            431,
        ),
        ("NOT HTTP AT ALL\r\n\r\n".to_owned(), 400),
        (
            format!(
                "POST /api/chat HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            400,
        ),
        // WebSocket handshakes that actix-http's handshake refuses.
        (
            format!(
                "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            ),
            400,
        ),
        (
            format!(
                "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
            426,
        ),
        // No upgrade asked (a browser visiting the address): 426 naming the protocol.
        (format!("GET /ws HTTP/1.1\r\nHost: {host}\r\n\r\n"), 426),
        (
            format!("GET /ws/echo HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\n\r\n"),
            426,
        ),
    ];
    for (request, status) in cases {
        let mut conn = app.conn().await;
        conn.send(request.as_bytes()).await;
        let res = conn.read_response().await;
        let shown = &request[..request.len().min(160)];
        assert_eq!(res.status, status, "{shown:?}: {}", res.head);
        assert!(
            res.header("content-type")
                .is_some_and(|t| t.contains("application/json")),
            "{shown:?}: {}",
            res.head
        );
        assert!(
            res.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{shown:?}"
        );
        if request.starts_with("GET /ws") {
            // A refused upgrade closes its connection (README), never says "upgrade" alone.
            let connection = res.header("connection").unwrap_or_default();
            assert!(connection.contains("close"), "{shown:?}: {}", res.head);
        }
        if status == 426 && !request.contains("Sec-WebSocket-Version") {
            // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
            assert_eq!(
                res.header("upgrade").as_deref(),
                Some("websocket"),
                "{}",
                res.head
            );
        }
    }
}

#[tokio::test]
async fn a_request_head_that_never_completes_gets_408_with_json() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    conn.send(b"GET /api/time HTTP/1.1\r\nHost: x\r\n").await; // no blank line: never complete
    let res = conn.read_response().await;
    assert_eq!(res.status, 408, "{}", res.head);
    assert!(
        res.json()["error"]
            .as_str()
            .unwrap()
            .contains("request head")
    );
}
