//! Every transport reads where to start the same way (`src/transport/cursor.rs`): an absent or
//! empty `since` is "from now"; any other value that is not what the parameter accepts — a sign,
//! an exponent, letters, a blank or padded value — is a 400 `{"error": ...}` that names the
//! parameter, says what it accepts and quotes the value received, on `/api/poll`,
//! `/api/longpoll`, `/api/sse` and the `/ws` handshake alike.

use crate::helpers::{TestApp, spawn_app};

/// Each endpoint, as a prefix its query is appended to (the long poll is told not to hold).
const ENDPOINTS: [&str; 4] = [
    "/api/poll?",
    "/api/longpoll?timeout_ms=1&",
    "/api/sse?",
    "/ws?",
];

/// (query, the parameter the error must name, the value it must quote)
const BAD: [(&str, &str, &str); 11] = [
    ("since=-1", "since", "-1"),
    ("since=abc", "since", "abc"),
    ("since=1e3", "since", "1e3"),
    ("since=%20", "since", " "),
    ("since=+", "since", " "),
    ("since=%09", "since", "\t"),
    ("since=5%20", "since", "5 "),
    ("since=%2B5", "since", "+5"),
    ("since=3&epoch=%20", "epoch", " "),
    ("lastEventId=%20", "lastEventId", " "),
    ("last_event_id=ab12:%205", "last_event_id", "ab12: 5"),
];

/// The answer to `GET path`: a WebSocket handshake for `/ws`, a plain GET otherwise.
async fn answer(app: &TestApp, path: &str) -> crate::helpers::Response {
    let mut conn = app.conn().await;
    if path.starts_with("/ws") {
        let request = conn.upgrade_request(path, &[]);
        conn.send(request.as_bytes()).await;
        conn.read_response().await
    } else {
        conn.get(path).await
    }
}

#[tokio::test]
async fn a_bad_resume_value_is_a_400_naming_the_parameter_on_every_transport() {
    let app = spawn_app().await;
    app.publish_chats(5).await;
    for endpoint in ENDPOINTS {
        for (query, name, got) in BAD {
            let path = format!("{endpoint}{query}");
            let res = answer(&app, &path).await;
            assert_eq!(res.status, 400, "{path}: {}", res.text());
            assert!(
                res.header("content-type")
                    .is_some_and(|t| t.contains("application/json")),
                "{path}"
            );
            let error = res.json()["error"].as_str().unwrap_or_default().to_owned();
            assert!(
                error.starts_with(&format!("{name} must be ")),
                "{path}: {error:?} should name {name}"
            );
            assert!(
                error.ends_with(&format!("got {got:?}")),
                "{path}: {error:?} should quote {got:?}"
            );
        }
    }
    let res = answer(&app, "/api/longpoll?timeout_ms=%20").await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(
        res.json()["error"],
        r#"timeout_ms must be a whole number ≥ 0, got " ""#
    );
    // Nothing was refused for good: the feed still serves.
    assert_eq!(app.poll("since=4").await["events"][0]["seq"], 5);
}

#[tokio::test]
async fn an_absent_or_empty_since_starts_from_now_on_every_transport() {
    let app = spawn_app().await;
    app.publish_chats(3).await;
    for query in ["", "since=", "since=&epoch=", "lastEventId="] {
        let poll = app.poll(query).await;
        assert_eq!(poll["events"], serde_json::json!([]), "poll?{query}");
        assert_eq!(poll["last_seq"], 3, "poll?{query}");
        let long = app.long_poll(&format!("timeout_ms=1&{query}")).await;
        assert_eq!(long["events"], serde_json::json!([]), "longpoll?{query}");
        let mut sse = app.conn().await;
        sse.send(format!("GET /api/sse?{query} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await;
        assert_eq!(sse.read_head().await.0, 200, "sse?{query}");
        let mut ws = app.conn().await;
        assert_eq!(ws.upgrade(&format!("/ws?{query}"), &[]).await.0, 101);
    }
}
