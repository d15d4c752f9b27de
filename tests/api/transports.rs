//! Every transport delivers the same events, in order, without gaps; resume and `missed`.

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{PATIENCE, TestApp, next_json, seq_of_id, seqs, spawn_app, spawn_with};

async fn poll_events(app: &TestApp, path: &str) -> Value {
    app.get_json(path).await
}

/// The first `count` SSE records with data from `path`.
async fn sse_collect(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    count: usize,
) -> Vec<(Option<String>, String, String)> {
    app.sse(path, headers).await.records(count).await
}

async fn ws_collect(app: &TestApp, path: &str, count: usize) -> Vec<Value> {
    let mut socket = app.feed_socket(path).await;
    let mut out = Vec::new();
    while out.len() < count {
        out.push(next_json(&mut socket).await);
    }
    out
}

#[tokio::test]
async fn every_transport_delivers_the_same_events_in_order_without_gaps() {
    let app = spawn_app().await;
    let published = app.publish_chats(20).await;
    assert_eq!(published, (1..=20).collect::<Vec<_>>());

    let poll = poll_events(&app, "/api/poll?since=0").await;
    let longpoll = poll_events(&app, "/api/longpoll?since=0&timeout_ms=0").await;
    let sse = sse_collect(&app, "/api/sse?since=0", &[], 20).await;
    let ws = ws_collect(&app, "/ws?since=0", 20).await;

    let reference = poll["events"].clone();
    assert_eq!(seqs(&reference), published);
    assert_eq!(poll["last_seq"], 20);
    assert_eq!(poll["missed"], 0);
    assert_eq!(longpoll["events"], reference);
    let sse_events: Vec<Value> = sse
        .iter()
        .map(|(_, _, data)| serde_json::from_str(data).unwrap())
        .collect();
    assert_eq!(Value::from(sse_events), reference);
    assert!(
        sse.iter().zip(1..).all(
            |((id, event, _), seq)| id.as_deref() == Some(&app.sse_id(seq)) && event == "chat"
        )
    );
    assert_eq!(Value::from(ws), reference);
    for event in reference.as_array().unwrap() {
        assert!(
            event["ts"].as_u64().unwrap() > 1_600_000_000_000_000,
            "ts is Unix µs"
        );
        assert_eq!(event["kind"], "chat");
    }
}

#[tokio::test]
async fn each_transport_resumes_after_the_seq_it_saw() {
    let app = spawn_app().await;
    app.publish_chats(10).await;

    assert_eq!(
        seqs(&poll_events(&app, "/api/poll?since=7").await["events"]),
        vec![8, 9, 10]
    );
    assert_eq!(
        seqs(&poll_events(&app, "/api/longpoll?since=7").await["events"]),
        vec![8, 9, 10]
    );
    let by_header = sse_collect(&app, "/api/sse", &[("Last-Event-ID", &app.sse_id(7))], 3).await;
    assert_eq!(
        by_header
            .iter()
            .map(|r| seq_of_id(r.0.as_deref().unwrap()).to_string())
            .collect::<Vec<_>>(),
        ["8", "9", "10"]
    );
    // Last-Event-ID wins over ?since (an EventSource reconnecting to its original URL).
    let both = sse_collect(&app, "/api/sse?since=2", &[("Last-Event-ID", "9")], 1).await;
    assert_eq!(both[0].0, Some(app.sse_id(10)));
    let ws = ws_collect(&app, "/ws?since=7", 3).await;
    assert_eq!(
        ws.iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![8, 9, 10]
    );

    // Without `since`, a follower starts from now: nothing old, and it learns where "now" is.
    let now = poll_events(&app, "/api/poll").await;
    assert_eq!(now["events"], Value::Array(vec![]));
    assert_eq!(now["last_seq"], 10);
}

#[tokio::test]
async fn a_client_behind_the_buffer_is_told_how_many_it_missed() {
    let app = spawn_with(|c| c.buffer = 4).await;
    app.publish_chats(10).await; // the buffer keeps 7..=10

    let poll = poll_events(&app, "/api/poll?since=1").await;
    assert_eq!(poll["missed"], 5); // 2..=6
    assert_eq!(seqs(&poll["events"]), vec![7, 8, 9, 10]);
    let longpoll = poll_events(&app, "/api/longpoll?since=0").await;
    assert_eq!(longpoll["missed"], 6);

    let sse = sse_collect(&app, "/api/sse?since=0", &[], 5).await;
    assert_eq!(sse[0].1, "missed");
    let notice: Value = serde_json::from_str(&sse[0].2).unwrap();
    assert_eq!(
        (notice["missed"].as_u64(), notice["resume_seq"].as_u64()),
        (Some(6), Some(7))
    );
    assert_eq!(sse[1].0, Some(app.sse_id(7)));

    let ws = ws_collect(&app, "/ws?since=3", 5).await;
    assert_eq!(ws[0]["type"], "missed");
    assert_eq!(ws[0]["missed"], 3);
    assert_eq!(ws[1]["seq"], 7);

    let stats = app.stats().await;
    for transport in ["poll", "longpoll", "sse", "ws"] {
        assert!(
            stats["transports"][transport]["missed"].as_u64().unwrap() > 0,
            "{transport}"
        );
    }
}

#[tokio::test]
async fn a_long_poll_is_answered_at_the_publish_not_at_its_timeout() {
    let app = spawn_app().await;
    let held = {
        let addr = app.addr;
        tokio::spawn(async move {
            let mut conn = crate::helpers::RawConn::connect(addr).await;
            let started = std::time::Instant::now();
            let res = conn.get("/api/longpoll?since=0&timeout_ms=30000").await;
            (res, started.elapsed())
        })
    };
    app.until_followers(1).await;
    let published_at = std::time::Instant::now();
    app.publish_chats(1).await;
    let (res, _) = held.await.unwrap();
    let waited_after_publish = published_at.elapsed();
    assert_eq!(res.status, 200);
    assert_eq!(seqs(&res.json()["events"]), vec![1]);
    // Compared with the 30 s it would otherwise have been held: well under a tenth of it.
    assert!(
        waited_after_publish.as_secs_f64() < 30.0 / 10.0,
        "answered {waited_after_publish:?} after publish"
    );
}

#[tokio::test]
async fn a_long_poll_times_out_empty_and_the_hold_is_capped() {
    let app = spawn_with(|c| c.longpoll_max_ms = 200).await;
    let started = std::time::Instant::now();
    // Asks for an hour; the server's cap (200 ms here) answers first.
    let res = app.long_poll("timeout_ms=3600000").await;
    assert_eq!(res["events"], Value::Array(vec![]));
    assert!(
        started.elapsed().as_secs() < 60,
        "the cap, not the hour, ended the wait"
    );
    assert_eq!(app.stats().await["transports"]["longpoll"]["empty"], 1);
}

#[tokio::test]
async fn a_chat_posted_through_any_transport_appears_on_all() {
    let app = spawn_app().await;
    // WebSocket
    let mut socket = app.feed_socket("/ws?since=0").await;
    futures_util::SinkExt::send(
        &mut socket,
        Message::text(r#"{"type":"chat","author":"ws","text":"par websocket"}"#),
    )
    .await
    .unwrap();
    // Classic form
    let mut conn = app.conn().await;
    let res = conn
        .post_classic_chat(b"author=classic&text=par+formulaire")
        .await;
    assert_eq!(res.status, 303);
    // JSON API (what the polling and SSE panels use)
    let res = app.post_chat("api", "par fetch").await;
    assert_eq!(res.status, 201);

    let texts = |events: &Value| -> Vec<String> {
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["text"].as_str().unwrap().to_owned())
            .collect()
    };
    // The WebSocket chat travels on its own: a long poll waits until all three exist.
    let third = poll_events(&app, "/api/longpoll?since=2&timeout_ms=20000").await;
    assert_eq!(seqs(&third["events"]), vec![3]);
    let poll = poll_events(&app, "/api/poll?since=0").await;
    let mut all = texts(&poll["events"]);
    all.sort();
    assert_eq!(all, ["par fetch", "par formulaire", "par websocket"]);
    let sse = sse_collect(&app, "/api/sse?since=0", &[], 3).await;
    assert_eq!(sse.len(), 3);
    let mut on_ws = Vec::new();
    while on_ws.len() < 3 {
        if let Message::Text(t) = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            on_ws.push(
                serde_json::from_str::<Value>(&t).unwrap()["data"]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let page = app.conn().await.get("/classic").await.text();
    for text in ["par websocket", "par formulaire", "par fetch"] {
        assert!(page.contains(text), "classic page shows {text}");
    }
}

#[tokio::test]
async fn the_classic_page_reloads_itself_and_redirects_after_a_post() {
    let app = spawn_app().await;
    app.publish_chats(2).await;
    let res = app.conn().await.get("/classic?refresh=3").await;
    assert_eq!(res.status, 200);
    let page = res.text();
    // askama escapes the `&` of the URL as `&#38;`, which the browser reads back as `&`.
    let epoch = app.state.hub.epoch().to_string();
    let reload = format!(
        r#"<meta http-equiv="refresh" content="3; url=/classic?refresh=3&#38;seen=2&#38;epoch={epoch}">"#
    );
    assert!(page.contains(&reload), "{page}");
    assert!(page.contains("message 1"));
    let plain = app.conn().await.get("/classic").await.text();
    assert!(!plain.contains("http-equiv=\"refresh\""));
    let mut conn = app.conn().await;
    let res = conn
        .post_classic_chat(b"author=a&text=b&refresh=3&seen=2")
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/classic?refresh=3&seen=2")
    );
    let form = format!("author=a&text=b&refresh=3&seen=2&epoch={epoch}");
    let res = conn.post_classic_chat(form.as_bytes()).await;
    assert_eq!(
        res.header("location"),
        Some(format!("/classic?refresh=3&seen=2&epoch={epoch}"))
    );
    // A mistake is explained in the page's language.
    let res = app.conn().await.get("/classic?refresh=0&lang=fr").await;
    assert_eq!(res.status, 400);
    assert!(
        res.text()
            .contains("de secondes, de 1 à 3\u{202F}600, reçu «\u{a0}0\u{a0}»"),
        "{}",
        res.text()
    );
    // A page of a run that has ended (the server restarted since): said so, delivers nothing.
    let before = app.stats().await["transports"]["classic"]["delivered"].clone();
    let old = app
        .conn()
        .await
        .get("/classic?seen=1&epoch=0ld")
        .await
        .text();
    assert!(old.contains("The server restarted"), "{old}");
    assert!(old.contains("<code>0ld</code>"), "{old}");
    assert_eq!(
        app.stats().await["transports"]["classic"]["delivered"],
        before
    );
}

#[tokio::test]
async fn a_slow_websocket_client_lags_without_slowing_others_and_is_told_what_it_missed() {
    let app = spawn_with(|c| c.buffer = 16).await;
    // The slow client upgrades, then reads nothing while the feed runs ahead.
    let mut slow = app.conn().await;
    assert_eq!(slow.upgrade("/ws", &[]).await.0, 101);
    let mut fast = app.feed_socket("/ws").await;
    app.until_followers(2).await;

    const EVENTS: u64 = 400;
    let pad = "x".repeat(60_000); // big events fill the slow client's socket and queues quickly
    // Each event reaches the fast client before the next is published, while the slow client
    // reads nothing: the slow one must not hold the fast one back.
    for seq in 1..=EVENTS {
        app.state.hub.publish(
            pushlab::feed::Kind::Tick,
            &serde_json::json!({ "pad": pad }),
        );
        assert_eq!(next_json(&mut fast).await["seq"], seq);
    }

    // Now the slow client reads: each seq arrives once, in order, or is reported missed.
    let (mut received, mut missed, mut last) = (0u64, 0u64, 0u64);
    while last < EVENTS {
        let (first, payload) = slow.read_frame().await;
        // The heartbeat's ping may come in between when the test runs past --heartbeat-secs (a
        // loaded machine): it is no feed message.
        if first == 0x89 {
            continue;
        }
        assert_eq!(first, 0x81);
        let message: Value = serde_json::from_slice(&payload).unwrap();
        if message["type"] == "hello" {
            continue;
        }
        if message["type"] == "missed" {
            missed += message["missed"].as_u64().unwrap();
            last = message["resume_seq"].as_u64().unwrap() - 1;
            continue;
        }
        let seq = message["seq"].as_u64().unwrap();
        assert_eq!(
            seq,
            last + 1,
            "no gap and no duplicate outside a missed notice"
        );
        last = seq;
        received += 1;
    }
    assert!(
        missed > 0,
        "with a 16-event buffer the slow client must have fallen out of it"
    );
    assert_eq!(received + missed, EVENTS);
    assert_eq!(app.stats().await["transports"]["ws"]["missed"], missed);
}

#[tokio::test]
async fn the_classic_page_speaks_french_when_asked_and_keeps_it_across_the_redirect() {
    let app = spawn_app().await;
    let fr = app
        .conn()
        .await
        .request(
            "GET",
            "/classic",
            &[("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5")],
            b"",
        )
        .await;
    assert!(
        fr.text().contains("Requête/réponse classique"),
        "Accept-Language: fr"
    );
    assert_eq!(
        fr.header("vary").as_deref(),
        Some("accept-language, sec-fetch-dest")
    );
    let en = app
        .conn()
        .await
        .request("GET", "/classic?lang=en", &[("Accept-Language", "fr")], b"")
        .await;
    assert!(
        en.text().contains("Classic request/response"),
        "?lang= wins"
    );
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=a&text=b&refresh=3&seen=0&lang=fr")
        .await;
    assert_eq!(
        res.header("location").as_deref(),
        Some("/classic?refresh=3&seen=0&lang=fr")
    );
}

/// A parameter given twice is read the same on every page and endpoint: its last non-empty
/// value wins (`?lang=fr&lang=en` was a JSON 400 on the pages, and English on the classic page).
#[tokio::test]
async fn every_page_reads_a_repeated_lang_as_its_last_value() {
    let app = spawn_app().await;
    for path in ["/", "/protocol", "/lab", "/admin", "/classic"] {
        for (query, lang) in [("lang=fr&lang=en", "en"), ("lang=en&lang=fr&lang=", "fr")] {
            let page = app.conn().await.get(&format!("{path}?{query}")).await;
            assert_eq!(page.status, 200, "{path}?{query}: {}", page.text());
            assert!(
                page.text().contains(&format!("<html lang=\"{lang}\"")),
                "{path}?{query}: not in {lang}"
            );
        }
    }
}

#[tokio::test]
async fn a_stream_client_that_reads_nothing_is_closed_after_the_unwritable_timeout_and_counted() {
    let app = spawn_with(|c| {
        c.unwritable_timeout_secs = 1;
        c.buffer = 4096;
    })
    .await;
    // An SSE client and a WebSocket client that never read, and one that reads.
    let mut sse = app.conn().await;
    sse.send(b"GET /api/sse HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut ws = app.conn().await;
    ws.send(ws.upgrade_request("/ws", &[]).as_bytes()).await;
    let mut reader = app.feed_socket("/ws").await;
    app.until_followers(3).await;
    // 64 KiB events, as the console allows: enough to fill every socket buffer on the way.
    app.set(r#"{"payload_bytes":65536}"#).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut published = 0u64;
    loop {
        app.state.ticks.burst(&app.state.hub, 8, 65_536);
        published += 8;
        // The reader keeps up, whatever the stalled ones do.
        while next_json(&mut reader).await["seq"].as_u64() != Some(published) {}
        let stats = app.stats().await;
        let closed = |t: &str| {
            stats["transports"][t]["closed_unwritable"]
                .as_u64()
                .unwrap()
        };
        if closed("sse") == 1 && closed("ws") == 1 {
            assert_eq!(stats["transports"]["sse"]["connections_active"], 0);
            // Closed by the server, not left by its client.
            assert_eq!(stats["transports"]["sse"]["abandoned"], 0, "{stats}");
            assert_eq!(
                stats["transports"]["ws"]["connections_active"], 1,
                "the reader stays"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stats}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Closed for good: what was left in the socket buffers arrives, then the end.
    while ws.read_more().await.is_some() {}
}
