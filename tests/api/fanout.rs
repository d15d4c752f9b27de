//! The workers' fan-out lanes (`transport::fanout`): caught-up sockets are written by one round
//! per worker per publish, and a socket leaves its lane when it cannot keep up, when an added
//! delay applies, or when it closes, losing nothing. SSE streams sit in lanes too, writing
//! their own chunks once actix has written their head (`transport::direct`).

use std::time::Duration;

use pushlab::{feed::Kind, transport_kind::Transport};

use crate::helpers::{PATIENCE, next_json, spawn_with};

/// The seated WebSocket connections and the lanes' rounds so far.
fn fanout(app: &crate::helpers::TestApp) -> (i64, u64) {
    fanout_of(app, Transport::Ws)
}

/// The seated connections of `transport` and its lanes' rounds so far.
fn fanout_of(app: &crate::helpers::TestApp, transport: Transport) -> (i64, u64) {
    let stats = app.state.meter.snapshot();
    let t = &stats.transports[transport.as_str()];
    (t.fanout_seated, t.fanout_rounds)
}

/// Waits until `count` WebSocket connections sit in a lane.
async fn until_seated(app: &crate::helpers::TestApp, count: i64) {
    until_seated_of(app, Transport::Ws, count).await
}

/// Waits until `count` connections of `transport` sit in a lane. Seating happens on the server
/// just after a connection has written what it owed: nothing a client sees, hence this bounded
/// look.
async fn until_seated_of(app: &crate::helpers::TestApp, transport: Transport, count: i64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while fanout_of(app, transport).0 != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{transport:?}: seated {} of {count}",
            fanout_of(app, transport).0
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Opens `count` WebSockets, waits until every one sits in a lane, publishes `events` events,
/// each read in order by every socket before the next; then the WebSocket stats.
async fn seat_and_publish(
    app: &crate::helpers::TestApp,
    count: usize,
    events: u64,
) -> serde_json::Value {
    let mut sockets = Vec::new();
    for _ in 0..count {
        sockets.push(app.feed_socket("/ws").await);
    }
    until_seated(app, count as i64).await;
    for seq in 1..=events {
        app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
        for socket in &mut sockets {
            assert_eq!(next_json(socket).await["seq"], seq);
        }
    }
    app.stats().await["transports"]["ws"].clone()
}

#[tokio::test]
async fn caught_up_sockets_cost_one_lane_round_per_worker_per_publish() {
    const SOCKETS: usize = 24;
    const EVENTS: u64 = 40;
    let app = spawn_with(|c| c.workers = Some(2)).await;
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(app.feed_socket("/ws").await);
    }
    until_seated(&app, SOCKETS as i64).await;
    let (_, rounds_before) = fanout(&app);

    // One publish at a time, each read by every socket before the next: no round can serve two.
    for seq in 1..=EVENTS {
        app.state
            .hub
            .publish(Kind::Tick, &serde_json::json!({ "n": seq }));
        for socket in &mut sockets {
            assert_eq!(next_json(socket).await["seq"], seq);
        }
    }
    let (seated, rounds_after) = fanout(&app);
    let rounds = rounds_after - rounds_before;
    assert_eq!(seated, SOCKETS as i64, "every socket kept its seat");
    // Two workers: one or two lanes, each one round per publish, whatever the sockets.
    assert!(
        (EVENTS..=2 * EVENTS).contains(&rounds),
        "{rounds} rounds for {EVENTS} publishes to {SOCKETS} sockets"
    );
    let ws = &app.stats().await["transports"]["ws"];
    assert_eq!(ws["delivered"], SOCKETS as u64 * EVENTS);
    assert_eq!(ws["catch_up"], 0);
}

#[tokio::test]
async fn one_worker_writes_hundreds_of_sockets_in_one_round_none_sent_back() {
    // More seats on one worker than tokio's cooperative budget (128 operations per poll).
    const SOCKETS: usize = 300;
    const EVENTS: u64 = 5;
    let app = spawn_with(|c| {
        c.workers = Some(1);
        c.max_connections_per_address = 1000;
    })
    .await;
    let ws = &seat_and_publish(&app, SOCKETS, EVENTS).await;
    assert_eq!(
        ws["fanout_left"], 0,
        "every socket took every event at once: {ws}"
    );
    assert_eq!(
        ws["fanout_rounds"], EVENTS,
        "one worker, one round per publish: {ws}"
    );
    // Every delivery was a straight send, batched: one system call per 64 sends where the
    // kernel has io_uring (5 per publish to 300 sockets), one per send where it has not.
    let sends = SOCKETS as u64 * EVENTS;
    assert_eq!(ws["fanout_sends"], sends, "{ws}");
    let calls = if pushlab::batch_send::io_uring_available() {
        EVENTS * SOCKETS.div_ceil(pushlab::batch_send::SENDS_PER_SUBMISSION) as u64
    } else {
        sends
    };
    assert_eq!(ws["fanout_send_calls"], calls, "{ws}");
}

#[tokio::test]
async fn without_io_uring_the_lane_makes_one_send_per_socket_with_the_same_deliveries() {
    const SOCKETS: usize = 40;
    const EVENTS: u64 = 3;
    let app = spawn_with(|c| {
        c.workers = Some(1);
        c.no_io_uring = true;
    })
    .await;
    let ws = &seat_and_publish(&app, SOCKETS, EVENTS).await;
    let sends = SOCKETS as u64 * EVENTS;
    assert_eq!(ws["fanout_sends"], sends, "{ws}");
    assert_eq!(ws["fanout_send_calls"], sends, "one send(2) each: {ws}");
    assert_eq!(ws["delivered"], sends, "{ws}");
}

#[tokio::test]
async fn a_socket_that_cannot_take_an_event_leaves_the_lane_and_sits_again_once_caught_up() {
    let app = spawn_with(|c| c.buffer = 1024).await;
    // A raw client that upgrades and then reads nothing: its socket fills up.
    let mut slow = app.conn().await;
    assert_eq!(slow.upgrade("/ws", &[]).await.0, 101);
    let mut fast = app.feed_socket("/ws").await;
    until_seated(&app, 2).await;

    // 18 MB: more than loopback's socket buffers take (a few MB), all kept by the buffer.
    const EVENTS: u64 = 300;
    let pad = "x".repeat(60_000);
    for seq in 1..=EVENTS {
        app.state
            .hub
            .publish(Kind::Tick, &serde_json::json!({ "pad": pad }));
        assert_eq!(next_json(&mut fast).await["seq"], seq);
    }
    assert_eq!(
        fanout(&app).0,
        1,
        "the full socket left its lane, the other stayed"
    );

    // The slow client reads now: everything arrives once, in order (the buffer kept it all).
    let mut last = 0;
    while last < EVENTS {
        let (first, payload) = slow.read_frame().await;
        if first == 0x89 {
            continue; // a heartbeat ping
        }
        let message: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        if message["type"] == "hello" {
            continue;
        }
        assert_eq!(message["seq"], last + 1, "no gap, no duplicate");
        last += 1;
    }
    // Caught up, it sits again, and the next publish reaches it through the lane.
    until_seated(&app, 2).await;
    app.state
        .hub
        .publish(Kind::Tick, &serde_json::json!({ "n": "after" }));
    assert_eq!(next_json(&mut fast).await["seq"], EVENTS + 1);
    let message: serde_json::Value = serde_json::from_str(&slow.read_text_frame().await).unwrap();
    assert_eq!(message["seq"], EVENTS + 1);
    assert_eq!(app.stats().await["transports"]["ws"]["missed"], 0);
}

#[tokio::test]
async fn an_added_delay_empties_the_lanes_and_holds_every_event_back() {
    let app = spawn_with(|_| {}).await;
    let mut socket = app.feed_socket("/ws").await;
    until_seated(&app, 1).await;
    app.set(r#"{"added_delay_ms":{"ws":150}}"#).await;
    let published = tokio::time::Instant::now();
    app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
    assert_eq!(next_json(&mut socket).await["seq"], 1);
    assert!(
        published.elapsed() >= Duration::from_millis(150),
        "the lane wrote an event the added delay should have held"
    );
    assert_eq!(fanout(&app).0, 0, "nobody sits while a delay applies");

    // Without the delay, the socket sits again at its next idle moment (after its next event).
    app.set(r#"{"added_delay_ms":{"ws":0}}"#).await;
    app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
    assert_eq!(next_json(&mut socket).await["seq"], 2);
    until_seated(&app, 1).await;
    drop(socket);
    until_seated(&app, 0).await;
}

#[tokio::test]
async fn caught_up_sse_streams_sit_in_the_lanes_with_valid_chunks_and_exact_byte_counts() {
    const STREAMS: usize = 12;
    const EVENTS: u64 = 30;
    let app = spawn_with(|c| c.workers = Some(2)).await;
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        streams.push(app.sse("/api/sse", &[]).await);
    }
    until_seated_of(&app, Transport::Sse, STREAMS as i64).await;
    let (_, rounds_before) = fanout_of(&app, Transport::Sse);
    for seq in 1..=EVENTS {
        app.state
            .hub
            .publish(Kind::Tick, &serde_json::json!({ "n": seq }));
        for stream in &mut streams {
            // `records` parses the chunked coding: a chunk framed wrong fails here.
            let (id, event, data) = stream.records(1).await.remove(0);
            assert_eq!(id, Some(app.sse_id(seq)));
            assert_eq!(event, "tick");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&data).unwrap()["seq"],
                seq
            );
        }
    }
    let (seated, rounds_after) = fanout_of(&app, Transport::Sse);
    assert_eq!(seated, STREAMS as i64, "every stream kept its seat");
    let rounds = rounds_after - rounds_before;
    assert!(
        (EVENTS..=2 * EVENTS).contains(&rounds),
        "{rounds} rounds for {EVENTS} publishes to {STREAMS} streams"
    );
    // Byte-exact: what the clients read is what the meter counted, head and chunks included.
    let received: usize = streams.iter().map(|s| s.conn.received).sum();
    let sse = &app.stats().await["transports"]["sse"];
    assert_eq!(sse["delivered"], STREAMS as u64 * EVENTS);
    assert_eq!(sse["bytes_out"], received as u64, "{sse}");
    assert_eq!(sse["catch_up"], 0);
}

#[tokio::test]
async fn a_slow_sse_reader_leaves_the_lane_loses_nothing_and_sits_again() {
    let app = spawn_with(|c| {
        c.buffer = 1024;
        // The slow reader reads nothing while 18 MB are published: on a loaded machine that
        // can outlast the default 30 s, after which the server would rightly close it.
        c.unwritable_timeout_secs = 600;
    })
    .await;
    // A raw client that asks for the stream and then reads nothing: its socket fills up.
    let mut slow = app.sse("/api/sse", &[]).await;
    let mut fast = app.sse("/api/sse", &[]).await;
    until_seated_of(&app, Transport::Sse, 2).await;

    // 18 MB: more than loopback's socket buffers take (a few MB), all kept by the buffer.
    const EVENTS: u64 = 300;
    let pad = "x".repeat(60_000);
    for seq in 1..=EVENTS {
        app.state
            .hub
            .publish(Kind::Tick, &serde_json::json!({ "pad": pad }));
        let (id, _, _) = fast.records(1).await.remove(0);
        assert_eq!(id, Some(app.sse_id(seq)));
    }
    assert_eq!(
        fanout_of(&app, Transport::Sse).0,
        1,
        "the full stream left its lane, the other stayed"
    );

    // The slow client reads now: every record arrives once, in order, in valid chunks.
    for seq in 1..=EVENTS {
        let (id, _, _) = slow.records(1).await.remove(0);
        assert_eq!(id, Some(app.sse_id(seq)), "no gap, no duplicate");
    }
    // Caught up, it sits again, and the next publish reaches it through the lane.
    until_seated_of(&app, Transport::Sse, 2).await;
    app.state
        .hub
        .publish(Kind::Tick, &serde_json::json!({ "n": "after" }));
    for stream in [&mut fast, &mut slow] {
        let (id, _, _) = stream.records(1).await.remove(0);
        assert_eq!(id, Some(app.sse_id(EVENTS + 1)));
    }
    let sse = &app.stats().await["transports"]["sse"];
    assert_eq!(sse["missed"], 0);
    assert!(sse["fanout_left"].as_u64().unwrap() >= 1, "{sse}");
    // Gone clients leave the lane.
    drop((slow, fast));
    until_seated_of(&app, Transport::Sse, 0).await;
}

#[tokio::test]
async fn an_sse_stream_over_http_1_0_is_written_by_actix_and_never_sits() {
    let app = spawn_with(|_| {}).await;
    let mut conn = app.conn().await;
    conn.send(format!("GET /api/sse HTTP/1.0\r\nHost: {}\r\n\r\n", app.host()).as_bytes())
        .await;
    let (status, head) = conn.read_head().await;
    assert_eq!(status, 200, "{head}");
    app.until_followers(1).await;
    app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
    // Close-delimited: records with no chunk sizes.
    let mut text = String::new();
    while !text.contains(&format!("id: {}", app.sse_id(1))) {
        text.push_str(std::str::from_utf8(&conn.read_more().await.unwrap()).unwrap());
    }
    assert!(text.starts_with("retry: "), "{text:?}");
    assert_eq!(fanout_of(&app, Transport::Sse).0, 0);
}

#[tokio::test]
async fn an_sse_request_with_an_upgrade_header_gets_a_close_delimited_stream_never_mixed() {
    // `Upgrade: websocket` sends the request down the server's upgrade path even on a route
    // that does not switch protocols; actix writes that body unframed. A hostile tester found
    // the head saying chunked, the greeting unframed and the events chunked.
    let app = spawn_with(|_| {}).await;
    let mut conn = app.conn().await;
    let request = format!(
        "GET /api/sse HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\r\n",
        app.host()
    );
    conn.send(request.as_bytes()).await;
    let (status, head) = conn.read_head().await;
    assert_eq!(status, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    app.until_followers(1).await;
    app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
    app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
    let mut text = String::new();
    while !text.contains(&format!("id: {}\n", app.sse_id(2))) {
        text.push_str(std::str::from_utf8(&conn.read_more().await.unwrap()).unwrap());
    }
    // Close-delimited: the records alone, no chunk size anywhere.
    assert!(text.starts_with("retry: 2000\n\nid: "), "{text:?}");
    assert!(!text.contains('\r'), "{text:?}");
    assert_eq!(fanout_of(&app, Transport::Sse).0, 0);
}
