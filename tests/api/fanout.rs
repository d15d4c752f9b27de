//! The workers' fan-out lanes (`transport::fanout`): caught-up sockets are written by one round
//! per worker per publish, and a socket leaves its lane when it cannot keep up, when an added
//! delay applies, or when it closes, losing nothing.

use std::time::Duration;

use pushlab::{feed::Kind, transport_kind::Transport};

use crate::helpers::{PATIENCE, next_json, spawn_with};

/// The seated WebSocket connections and the lanes' rounds so far.
fn fanout(app: &crate::helpers::TestApp) -> (i64, u64) {
    let stats = app.state.meter.snapshot();
    let ws = &stats.transports[Transport::Ws.as_str()];
    (ws.fanout_seated, ws.fanout_rounds)
}

/// Waits until `count` WebSocket connections sit in a lane. Seating happens on the server just
/// after a socket has written what it owed: nothing a client sees, hence this bounded look.
async fn until_seated(app: &crate::helpers::TestApp, count: i64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while fanout(app).0 != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "seated {} of {count}",
            fanout(app).0
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
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
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(app.feed_socket("/ws").await);
    }
    until_seated(&app, SOCKETS as i64).await;
    for seq in 1..=EVENTS {
        app.state.hub.publish(Kind::Tick, &serde_json::json!({}));
        for socket in &mut sockets {
            assert_eq!(next_json(socket).await["seq"], seq);
        }
    }
    let ws = &app.stats().await["transports"]["ws"];
    assert_eq!(
        ws["fanout_left"], 0,
        "every socket took every event at once: {ws}"
    );
    assert_eq!(
        ws["fanout_rounds"], EVENTS,
        "one worker, one round per publish: {ws}"
    );
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
