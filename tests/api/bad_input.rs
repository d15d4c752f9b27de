//! Bad input gets a clear 4xx with `{"error": ...}`, never a 500, and changes nothing.

use crate::helpers::spawn_app;

type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    &'a str,
);

#[tokio::test]
async fn every_bad_request_gets_a_clear_4xx_and_publishes_nothing() {
    let app = spawn_app().await;
    app.publish_chats(1).await;
    let long_text = format!(r#"{{"author":"a","text":"{}"}}"#, "x".repeat(70_000));
    // (method, path, headers, body, expected status, a word the error must contain)
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/api/poll?since=abc",
            vec![],
            vec![],
            400,
            "since must be a seq",
        ),
        (
            "GET",
            "/api/poll?since=-1",
            vec![],
            vec![],
            400,
            "since must be a seq",
        ),
        (
            "GET",
            "/api/longpoll?timeout_ms=soon",
            vec![],
            vec![],
            400,
            "timeout_ms must be a whole number",
        ),
        (
            "GET",
            "/api/sse?since=x",
            vec![],
            vec![],
            400,
            "since must be a seq",
        ),
        (
            "GET",
            "/api/sse",
            vec![("Last-Event-ID", "yesterday")],
            vec![],
            400,
            "Last-Event-ID",
        ),
        (
            "GET",
            "/ws?inspect=%3Cx%3E",
            vec![
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
            vec![],
            400,
            "inspect",
        ),
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "application/json")],
            b"{not json".to_vec(),
            400,
            "invalid JSON",
        ),
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "application/json")],
            br#"{"author":"a"}"#.to_vec(),
            400,
            "text",
        ),
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "application/json")],
            br#"{"author":"a","text":"<b>\u0007</b>"}"#.to_vec(),
            400,
            "control characters",
        ),
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "text/plain")],
            br#"{"author":"a","text":"b"}"#.to_vec(),
            415,
            "application/json",
        ),
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "application/json")],
            long_text.into_bytes(),
            413,
            "larger than",
        ),
        (
            "POST",
            "/api/client-metrics",
            vec![("Content-Type", "application/json")],
            br#"{"transport":"carrier-pigeon","latencies_us":[1]}"#.to_vec(),
            400,
            "unknown transport",
        ),
        (
            "POST",
            "/api/client-metrics",
            vec![("Content-Type", "application/json")],
            br#"{"transport":"ws","latencies_us":[]}"#.to_vec(),
            400,
            "1 to 1000",
        ),
        (
            "POST",
            "/api/client-metrics",
            vec![("Content-Type", "application/json")],
            br#"{"transport":"ws","latencies_us":[-5]}"#.to_vec(),
            400,
            "out of range",
        ),
        (
            "PUT",
            "/api/admin/settings",
            vec![("Content-Type", "application/json")],
            br#"{"rate_hz":1}"#.to_vec(),
            401,
            "Bearer",
        ),
        ("GET", "/no/such/thing", vec![], vec![], 404, "no such"),
        // A value of the wrong kind names its field, in words (it said "invalid value:
        // integer `-5`, expected usize at line 1 column 19").
        (
            "POST",
            "/api/chat",
            vec![("Content-Type", "application/json")],
            br#"{"author":"a","text":5}"#.to_vec(),
            400,
            "text: invalid type: integer `5`, expected a string",
        ),
    ];
    for (method, path, headers, body, status, needle) in cases {
        let res = app
            .conn()
            .await
            .request(method, path, &headers, &body)
            .await;
        assert_eq!(res.status, status, "{method} {path}: {}", res.text());
        assert!(
            res.header("content-type")
                .unwrap_or_default()
                .contains("application/json"),
            "{method} {path}"
        );
        let error = res.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            error.contains(needle),
            "{method} {path}: {error:?} should mention {needle:?}"
        );
    }
    // The instructor's bad values too, the field named (a burst of -3, a delay of -1 ms).
    for (path, body, needle) in [
        (
            "/api/admin/burst",
            r#"{"count":-3}"#,
            "count: invalid value: integer `-3`, expected a whole number ≥ 0",
        ),
        (
            "/api/admin/settings",
            r#"{"added_delay_ms":{"ws":-1}}"#,
            "added_delay_ms.ws: invalid value: integer `-1`, expected a whole number ≥ 0",
        ),
        (
            "/api/admin/settings",
            r#"{"paused":1}"#,
            "paused: invalid type: integer `1`, expected true or false",
        ),
        // A fault's fields are read through its tagged kind, which loses their names: the
        // words at least ("expected u64" before).
        (
            "/api/admin/fault",
            r#"{"kind":"refuse","transport":"poll","seconds":-5}"#,
            "invalid value: integer `-5`, expected a whole number ≥ 0",
        ),
    ] {
        let method = if !path.ends_with("settings") {
            "POST"
        } else {
            "PUT"
        };
        let res = app.admin(method, path, body).await;
        assert_eq!(res.status, 400, "{path} {body}: {}", res.text());
        let error = res.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains(needle), "{path} {body}: {error:?}");
    }
    // Nothing bad was published; the server still serves.
    assert_eq!(app.poll("since=0").await["last_seq"], 1);
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
}

#[tokio::test]
async fn the_classic_page_answers_bad_input_with_a_readable_page_keeping_the_text() {
    let app = spawn_app().await;
    let res = app.conn().await.get("/classic?refresh=0").await;
    assert_eq!(res.status, 400);
    assert!(
        res.text().contains("<code>refresh</code> must be"),
        "{}",
        res.text()
    );
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=&text=gard%C3%A9+ce+texte")
        .await;
    assert_eq!(res.status, 400);
    let page = res.text();
    assert!(page.contains("author must not be empty"));
    assert!(
        page.contains("value=\"gardé ce texte\""),
        "what was typed comes back"
    );
    assert_eq!(app.poll("since=0").await["last_seq"], 0);
}
