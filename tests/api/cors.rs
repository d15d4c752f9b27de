//! Students' own clients (issue 12 item 2): pages served elsewhere — another port, a `file://`
//! page (`Origin: null`), any origin with `*` — use the public endpoints with CORS; the admin
//! endpoints never answer CORS and refuse foreign origins whatever is allowed; a forwarded host
//! is believed only from a trusted proxy.

use crate::helpers::{Response, TestApp, spawn_with};

const STUDENT: &str = "http://127.0.0.1:5500";

async fn get_from(app: &TestApp, path: &str, origin: &str) -> Response {
    app.conn()
        .await
        .request("GET", path, &[("Origin", origin)], b"")
        .await
}

async fn chat_from(app: &TestApp, origin: &str, extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![("Content-Type", "application/json"), ("Origin", origin)];
    headers.extend_from_slice(extra);
    app.conn()
        .await
        .request(
            "POST",
            "/api/chat",
            &headers,
            br#"{"author":"student","text":"hello from elsewhere"}"#,
        )
        .await
}

async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> Response {
    let mut asked = vec![
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
    ];
    if !headers.is_empty() {
        asked.push(("Access-Control-Request-Headers", headers));
    }
    app.conn().await.request("OPTIONS", path, &asked, b"").await
}

fn vary_has_origin(res: &Response) -> bool {
    res.head.lines().any(|line| {
        line.to_ascii_lowercase().starts_with("vary:")
            && line.to_ascii_lowercase().contains("origin")
    })
}

/// The public GET endpoints of the contract (PROTOCOL.md "Cross-origin clients").
const PUBLIC_GETS: [&str; 8] = [
    "/api/poll?since=0",
    "/api/longpoll?since=0&timeout_ms=100",
    "/api/time",
    "/api/stats",
    "/api/stats/window",
    "/metrics",
    "/api/export/stats.json",
    "/classic",
];

#[tokio::test]
async fn an_allowed_origin_gets_cors_on_every_public_endpoint() {
    let app = spawn_with(|c| c.allowed_origins = vec![STUDENT.into()]).await;
    for path in PUBLIC_GETS {
        let res = get_from(&app, path, STUDENT).await;
        assert_eq!(res.status, 200, "{path}: {}", res.head);
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some(STUDENT),
            "{path}: the origin is echoed\n{}",
            res.head
        );
        assert!(vary_has_origin(&res), "{path}: {}", res.head);
        assert!(res.header("access-control-allow-credentials").is_none());
        // Else the page's Resource Timing reads 0 bytes and no queueing (a moved dashboard).
        assert_eq!(
            res.header("timing-allow-origin").as_deref(),
            Some(STUDENT),
            "{path}: the page may read the answer's timing\n{}",
            res.head
        );
    }
    // The streams: SSE and the stats stream answer with the header too.
    for path in ["/api/sse", "/api/stats/stream"] {
        let stream = app.sse(path, &[("Origin", STUDENT)]).await;
        drop(stream);
    }
    let mut conn = app.conn().await;
    let req = format!(
        "GET /api/sse HTTP/1.1\r\nHost: {}\r\nOrigin: {STUDENT}\r\n\r\n",
        app.host()
    );
    conn.send(req.as_bytes()).await;
    let (_, head) = conn.read_head().await;
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("access-control-allow-origin: {STUDENT}")),
        "{head}"
    );

    let posted = chat_from(&app, STUDENT, &[]).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert_eq!(
        posted.header("access-control-allow-origin").as_deref(),
        Some(STUDENT)
    );
    // An error answer carries it too, so the page can read what was wrong.
    let bad = get_from(&app, "/api/poll?since=x", STUDENT).await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.header("access-control-allow-origin").as_deref(),
        Some(STUDENT)
    );
    not_allowed_origins_get_no_cors_headers(&app).await;
}

#[tokio::test]
async fn preflights_get_204_with_methods_and_the_headers_clients_send() {
    let app = spawn_with(|c| c.allowed_origins = vec![STUDENT.into()]).await;
    let res = preflight(&app, "/api/chat", STUDENT, "POST", "content-type").await;
    assert_eq!(res.status, 204, "{}", res.head);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some(STUDENT)
    );
    let methods = res.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
    assert!(res.header("access-control-max-age").is_some());
    assert!(vary_has_origin(&res));

    // What EventSource polyfills and AJAX libraries add.
    let res = preflight(
        &app,
        "/api/sse",
        STUDENT,
        "GET",
        "last-event-id, cache-control, x-requested-with",
    )
    .await;
    assert_eq!(res.status, 204, "{}", res.head);
    let headers = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for asked in ["last-event-id", "cache-control", "x-requested-with"] {
        assert!(headers.contains(asked), "{asked} in {headers}");
    }
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    for path in [
        "/api/poll",
        "/api/longpoll",
        "/api/time",
        "/api/stats/stream",
        "/metrics",
    ] {
        let res = preflight(&app, path, STUDENT, "GET", "x-requested-with").await;
        assert_eq!(res.status, 204, "{path}: {}", res.head);
        assert!(
            res.header("access-control-allow-origin").is_some(),
            "{path}"
        );
    }
}

/// With only [`STUDENT`] allowed, other origins (another port, another site, `null`) get no
/// CORS headers and may not post nor open a socket.
async fn not_allowed_origins_get_no_cors_headers(app: &TestApp) {
    for origin in ["http://127.0.0.1:5501", "http://evil.example", "null"] {
        let res = get_from(app, "/api/poll?since=0", origin).await;
        assert_eq!(res.status, 200, "a GET is simply answered");
        assert!(
            res.header("access-control-allow-origin").is_none(),
            "{origin}: {}",
            res.head
        );
        assert!(res.header("timing-allow-origin").is_none(), "{origin}");
        let res = preflight(app, "/api/chat", origin, "POST", "content-type").await;
        assert!(
            res.header("access-control-allow-origin").is_none(),
            "{origin}"
        );
        assert!(
            res.header("access-control-allow-methods").is_none(),
            "{origin}"
        );
        let res = chat_from(app, origin, &[]).await;
        assert_eq!(res.status, 403, "{origin}");
        assert!(res.header("access-control-allow-origin").is_none());
        let (status, _) = app.conn().await.upgrade("/ws", &[("Origin", origin)]).await;
        assert_eq!(status, 403, "{origin}");
    }
}

#[tokio::test]
async fn null_admits_file_pages_and_star_admits_any_origin() {
    let app = spawn_with(|c| c.allowed_origins = vec!["null".into()]).await;
    let res = get_from(&app, "/api/poll?since=0", "null").await;
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("null")
    );
    assert_eq!(chat_from(&app, "null", &[]).await.status, 201);
    let (status, _) = app.conn().await.upgrade("/ws", &[("Origin", "null")]).await;
    assert_eq!(status, 101);
    let res = get_from(&app, "/api/time", STUDENT).await;
    assert!(
        res.header("access-control-allow-origin").is_none(),
        "null is not any origin"
    );

    let app = spawn_with(|c| c.allowed_origins = vec!["*".into()]).await;
    for origin in [STUDENT, "http://lab.example:8000", "null"] {
        let res = get_from(&app, "/api/time", origin).await;
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some(origin),
            "* echoes the origin (credentials stay off)"
        );
        assert_eq!(chat_from(&app, origin, &[]).await.status, 201, "{origin}");
        let (status, _) = app.conn().await.upgrade("/ws", &[("Origin", origin)]).await;
        assert_eq!(status, 101, "{origin}");
    }
}

#[tokio::test]
async fn admin_endpoints_never_answer_cors_and_refuse_foreign_origins() {
    let app = spawn_with(|c| c.allowed_origins = vec!["*".into(), STUDENT.into()]).await;
    let auth = format!("Bearer {}", app.token);
    for origin in [STUDENT, "null", "http://evil.example"] {
        for (method, path) in [
            ("GET", "/api/admin/settings"),
            ("POST", "/api/admin/reset"),
            ("GET", "/admin"),
            ("POST", "/admin/login"),
        ] {
            let res = app
                .conn()
                .await
                .request(
                    method,
                    path,
                    &[("Origin", origin), ("Authorization", &auth)],
                    b"",
                )
                .await;
            assert_eq!(
                res.status, 403,
                "{method} {path} from {origin}: {}",
                res.head
            );
            assert!(res.json()["error"].is_string());
            assert!(res.header("access-control-allow-origin").is_none());
        }
        let res = preflight(&app, "/api/admin/settings", origin, "PUT", "authorization").await;
        assert_ne!(res.status, 204, "{origin}");
        assert!(res.header("access-control-allow-origin").is_none());
        assert!(res.header("access-control-allow-methods").is_none());
    }
    // pushlab's own pages still work, and get no CORS either.
    let own = format!("http://{}", app.host());
    let res = app
        .conn()
        .await
        .request(
            "GET",
            "/api/admin/settings",
            &[("Origin", &own), ("Authorization", &auth)],
            b"",
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.head);
    assert!(res.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_forwarded_host_is_believed_only_from_a_trusted_proxy() {
    let lab = "http://lab.example";
    let forwarded: [&[(&str, &str)]; 2] = [
        &[("X-Forwarded-Host", "lab.example")],
        &[("Forwarded", "for=10.0.0.7;host=lab.example;proto=http")],
    ];
    let untrusted = spawn_with(|_| {}).await;
    for headers in forwarded {
        let res = chat_from(&untrusted, lab, headers).await;
        assert_eq!(res.status, 403, "{headers:?} from an untrusted peer");
    }
    let proxied = spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    for headers in forwarded {
        let res = chat_from(&proxied, lab, headers).await;
        assert_eq!(
            res.status,
            201,
            "{headers:?} from the trusted proxy: {}",
            res.text()
        );
    }
    // Behind the proxy, the Host it sends is its upstream: the page's origin does not match it.
    assert_eq!(chat_from(&proxied, lab, &[]).await.status, 403);
}
