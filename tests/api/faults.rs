//! Fault injection: what clients see when the instructor drops, slows or refuses a transport,
//! and that they resume afterwards with nothing lost silently.

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::{PATIENCE, next_json, seq_of_id, spawn_app};

fn seq(event: &Value) -> u64 {
    event["seq"].as_u64().unwrap()
}

#[tokio::test]
async fn a_dropped_websocket_gets_no_close_frame_and_resumes_with_nothing_missed() {
    let app = spawn_app().await;
    let mut socket = app.feed_socket("/ws?since=0").await;
    app.publish_chats(3).await;
    let mut last = 0;
    while last < 3 {
        last = seq(&next_json(&mut socket).await);
    }
    let answer = app.fault(r#"{"kind":"drop","transport":"ws"}"#).await;
    assert_eq!(answer["dropped"], 1);
    // The connection ends with no close frame: to the client, a network failure (1006).
    let end = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("dropped in time");
    match end {
        None
        | Some(Err(tungstenite::Error::Protocol(_) | tungstenite::Error::ConnectionClosed)) => {}
        Some(Err(tungstenite::Error::Io(_))) => {}
        other => panic!("expected an abrupt end, got {other:?}"),
    }

    app.publish_chats(4).await; // published while the client was away
    let mut again = app.feed_socket(&format!("/ws?since={last}")).await;
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let event = next_json(&mut again).await;
        assert_ne!(
            event["type"], "missed",
            "the buffer covered the gap: {event}"
        );
        seqs.push(seq(&event));
    }
    assert_eq!(seqs, vec![4, 5, 6, 7]);
    let stats = app.stats().await;
    assert_eq!(stats["faults"]["ws"]["drops"], 1);
    assert_eq!(stats["transports"]["ws"]["missed"], 0);
}

#[tokio::test]
async fn a_dropped_event_stream_is_cut_off_and_resumes_from_last_event_id() {
    let app = spawn_app().await;
    let mut stream = app.sse("/api/sse?since=0", &[]).await;
    app.publish_chats(2).await;
    let seen = stream.records(2).await;
    let last_id = seen[1].0.clone().unwrap();
    app.fault(r#"{"kind":"drop","transport":"sse"}"#).await;
    assert!(
        stream.cut_off().await,
        "the stream ended cleanly instead of breaking off"
    );

    app.publish_chats(3).await;
    let mut resumed = app.sse("/api/sse", &[("Last-Event-ID", &last_id)]).await;
    let records = resumed.records(3).await;
    assert!(records.iter().all(|(_, event, _)| event != "missed"));
    let ids: Vec<_> = records
        .iter()
        .map(|(id, _, _)| id.clone().unwrap())
        .collect();
    assert_eq!(ids, [app.sse_id(3), app.sse_id(4), app.sse_id(5)]);
}

#[tokio::test]
async fn a_dropped_long_poll_breaks_off_and_the_next_poll_gets_what_it_missed() {
    let app = spawn_app().await;
    let mut held = app.conn().await;
    held.send(
        format!(
            "GET /api/longpoll?since=0 HTTP/1.1\r\nHost: {}\r\n\r\n",
            app.host()
        )
        .as_bytes(),
    )
    .await;
    app.until_followers(1).await;
    app.fault(r#"{"kind":"drop","transport":"longpoll"}"#).await;
    let mut received = Vec::new();
    while let Some(bytes) = held.read_more().await {
        received.extend(bytes);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(
        !text.contains("\"events\""),
        "a dropped poll must not look answered: {text}"
    );

    app.publish_chats(2).await;
    let res = app.long_poll("since=0&timeout_ms=5000").await;
    assert_eq!(res["events"].as_array().unwrap().len(), 2);
    assert_eq!(res["missed"], 0);
    // The cut poll was an answer that carried nothing: neither empty nor abandoned.
    let longpoll = &app.stats().await["transports"]["longpoll"];
    assert_eq!(
        (
            &longpoll["requests"],
            &longpoll["no_feed"],
            &longpoll["empty"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(0)
        ),
        "{longpoll}"
    );
}

#[tokio::test]
async fn a_refused_transport_answers_503_with_retry_after_and_the_others_carry_on() {
    let app = spawn_app().await;
    app.fault(r#"{"kind":"refuse","transport":"poll","seconds":30}"#)
        .await;
    app.fault(r#"{"kind":"refuse","transport":"ws","seconds":30}"#)
        .await;
    let poll = app.conn().await.get("/api/poll").await;
    assert_eq!(poll.status, 503);
    let retry: u64 = poll.header("retry-after").unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry), "Retry-After {retry}");
    assert!(
        poll.json()["error"]
            .as_str()
            .unwrap()
            .contains("poll is refusing")
    );
    // Named for pages to say in their language.
    let refused = poll.json();
    assert_eq!(
        (&refused["fault"], &refused["transport"]),
        (&serde_json::json!("refuse"), &serde_json::json!("poll"))
    );
    assert_eq!(refused["retry_after_s"].as_u64(), Some(retry));
    // The classic page, read by people, gets a readable page in the reader's language (it was
    // raw JSON in the dashboard's frame).
    app.fault(r#"{"kind":"refuse","transport":"classic","seconds":30}"#)
        .await;
    for (query, headers, words) in [
        ("?lang=fr", vec![], "Rechargez la page dans"),
        (
            "",
            vec![("Accept-Language", "fr-FR,fr;q=0.9")],
            "panne du réseau",
        ),
        (
            "?lang=en",
            vec![("Accept-Language", "fr")],
            "Reload the page in",
        ),
    ] {
        let page = app
            .conn()
            .await
            .request("GET", &format!("/classic{query}"), &headers, b"")
            .await;
        assert_eq!(page.status, 503);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{query}"
        );
        assert!(page.text().contains(words), "{query}: {}", page.text());
    }
    let (status, _) = app.conn().await.upgrade("/ws", &[]).await;
    assert_eq!(status, 503);
    assert_eq!(
        app.conn().await.get("/api/poll/").await.status,
        404,
        "only the route"
    );
    let longpoll = app.long_poll("timeout_ms=1").await;
    assert_eq!(longpoll["events"], serde_json::json!([]));
    let stats = app.stats().await;
    assert!(stats["faults"]["poll"]["refusing_s"].as_u64().unwrap() >= 29);
    assert_eq!(
        stats["transports"]["poll"]["requests"], 1,
        "a refused request is counted"
    );
    assert_eq!(
        (
            &stats["transports"]["poll"]["no_feed"],
            &stats["transports"]["poll"]["empty"]
        ),
        (&serde_json::json!(1), &serde_json::json!(0)),
        "as an answer that carried no feed, not an empty one"
    );
    // A HEAD and a CORS preflight carry no feed either (2 of them and 1 empty poll read
    // "33 % empty" where the one answer that could carry events was empty).
    app.fault(r#"{"kind":"clear","transport":"poll"}"#).await;
    let mut conn = app.conn().await;
    conn.send(format!("HEAD /api/poll HTTP/1.1\r\nHost: {}\r\n\r\n", app.host()).as_bytes())
        .await;
    assert_eq!(conn.read_head().await.0, 200);
    let preflight = app
        .conn()
        .await
        .request(
            "OPTIONS",
            "/api/poll",
            &[
                ("Origin", "http://localhost:5173"),
                ("Access-Control-Request-Method", "GET"),
            ],
            b"",
        )
        .await;
    assert!(preflight.status < 300, "{}", preflight.status);
    let poll = &app.stats().await["transports"]["poll"];
    assert_eq!(
        (&poll["requests"], &poll["no_feed"], &poll["empty"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(3),
            &serde_json::json!(0)
        ),
        "{poll}"
    );

    app.fault(r#"{"kind":"clear","transport":"poll"}"#).await;
    assert_eq!(app.conn().await.get("/api/poll").await.status, 200);
    assert_eq!(
        app.conn().await.upgrade("/ws", &[]).await.0,
        503,
        "ws is still refused"
    );
}

#[tokio::test]
async fn a_slow_transport_lags_behind_a_fast_one_and_loses_nothing() {
    let app = spawn_app().await;
    app.set(r#"{"payload_bytes":1000}"#).await;
    let mut slow = app.sse("/api/sse", &[]).await;
    slow.records(0).await;
    let mut fast = app.feed_socket("/ws").await;
    app.until_followers(2).await;
    app.fault(r#"{"kind":"slow","transport":"sse","bytes_per_sec":2000,"seconds":600}"#)
        .await;
    let first = app.state.hub.last_seq() + 1;
    app.admin("POST", "/api/admin/burst", r#"{"count":40}"#)
        .await;

    // The fast client gets all 40 (about 42 KB) while the slow one is held to 2 KB/s.
    let mut fast_seqs = Vec::new();
    while fast_seqs.len() < 40 {
        let message = tokio::time::timeout(PATIENCE, fast.next()).await.unwrap();
        if let Some(Ok(Message::Text(text))) = message {
            fast_seqs.push(seq(&serde_json::from_str(&text).unwrap()));
        }
    }
    let lagging = app.stats().await["transports"]["sse"]["bytes_out"]
        .as_u64()
        .unwrap();
    assert!(
        lagging < 40 * 1000,
        "the slow stream kept up: {lagging} bytes out"
    );

    app.fault(r#"{"kind":"clear","transport":"sse"}"#).await;
    let records = slow.records(40).await;
    let slow_seqs: Vec<u64> = records
        .iter()
        .map(|(id, event, _)| {
            assert_ne!(event, "missed");
            seq_of_id(id.as_deref().unwrap())
        })
        .collect();
    assert_eq!(slow_seqs, (first..first + 40).collect::<Vec<_>>());
    assert_eq!(fast_seqs, slow_seqs);
}

#[tokio::test]
async fn a_slow_fault_holds_polling_answers_too() {
    let app = spawn_app().await;
    // About 5 KB of events: at 4000 B/s the answer takes more than a second to leave.
    let text = "x".repeat(400);
    for _ in 0..10 {
        assert_eq!(app.post_chat("slow", &text).await.status, 201);
    }
    app.state.ticks.burst(&app.state.hub, 10, 0);
    let quick = std::time::Instant::now();
    let full = app.poll("since=0").await;
    assert_eq!(full["events"].as_array().unwrap().len(), 20);
    let unslowed = quick.elapsed();
    app.fault(r#"{"kind":"slow","transport":"poll","bytes_per_sec":4000,"seconds":60}"#)
        .await;
    let slowed = std::time::Instant::now();
    let again = app.poll("since=0").await;
    assert_eq!(again["events"], full["events"]);
    let took = slowed.elapsed();
    // The throttle lets a tenth of a second's worth through at once, then 4000 B/s.
    assert!(
        took >= std::time::Duration::from_millis(1000),
        "a slowed poll answer of 5 KB took {took:?} (unslowed {unslowed:?})"
    );
    // The other transports are not slowed.
    let other = std::time::Instant::now();
    app.long_poll("since=0").await;
    assert!(other.elapsed() < took / 2);
}
