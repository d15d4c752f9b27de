//! Resuming as a class resumes: after a restart of the server (a new run, a new epoch), with the
//! conventions client libraries add, and leaving in the middle of a held request.

use serde_json::Value;

use crate::helpers::{PATIENCE, TestApp, next_json, seq_of_id, seqs, spawn_app};

/// A server that ran `events` events and was replaced by a fresh one (a restart): the old
/// run's epoch, and the new server.
async fn restarted(events: usize, new_events: usize) -> (String, TestApp) {
    let before = spawn_app().await;
    before.publish_chats(events).await;
    let old_epoch = before.state.hub.epoch().to_string();
    before.stopper.stop().await;
    let after = spawn_app().await;
    after.publish_chats(new_events).await;
    assert_ne!(&**after.state.hub.epoch(), old_epoch.as_str());
    (old_epoch, after)
}

#[tokio::test]
async fn after_a_restart_every_transport_announces_the_new_run_and_invents_no_continuation() {
    // The old run reached seq 8; the new one has 3 events. A resume from 2 of the old run
    // must not be served seq 3 of the new one as if it followed.
    let (old, app) = restarted(8, 3).await;
    let new = app.state.hub.epoch().to_string();

    for path in ["/api/poll", "/api/longpoll"] {
        let answer = app
            .get_json(&format!("{path}?since=2&epoch={old}&timeout_ms=20000"))
            .await;
        assert_eq!(answer["epoch"], new.as_str(), "{path}: {answer}");
        assert_eq!(answer["reset"]["epoch"], new.as_str(), "{path}: {answer}");
        assert_eq!(answer["reset"]["previous_epoch"], old.as_str(), "{path}");
        assert_eq!(seqs(&answer["events"]), [1, 2, 3], "{path}: {answer}");
        assert_eq!(answer["missed"], 0);
    }

    // An EventSource keeps only the last id: `<old epoch>:8`, ahead of the new feed too.
    let last_id = format!("{old}:8");
    let mut sse = app.sse("/api/sse", &[("Last-Event-ID", &last_id)]).await;
    let records = sse.records(4).await;
    assert_eq!(records[0].1, "reset");
    let reset: Value = serde_json::from_str(&records[0].2).unwrap();
    assert_eq!(
        (reset["epoch"].as_str(), reset["previous_epoch"].as_str()),
        (Some(new.as_str()), Some(old.as_str()))
    );
    let ids: Vec<u64> = records[1..]
        .iter()
        .map(|r| seq_of_id(r.0.as_deref().unwrap()))
        .collect();
    assert_eq!(ids, [1, 2, 3]);

    let mut socket = app.websocket(&format!("/ws?since=2&epoch={old}")).await;
    let hello = next_json(&mut socket).await;
    assert_eq!(
        (hello["type"].as_str(), hello["epoch"].as_str()),
        (Some("hello"), Some(new.as_str()))
    );
    assert_eq!(hello["last_seq"], 3);
    let reset = next_json(&mut socket).await;
    assert_eq!(reset["type"], "reset");
    assert_eq!(reset["previous_epoch"], old.as_str());
    for seq in 1..=3 {
        assert_eq!(next_json(&mut socket).await["seq"], seq);
    }
}

#[tokio::test]
async fn a_bare_since_ahead_of_the_feed_is_a_reset_and_one_of_this_run_a_continuation() {
    let app = spawn_app().await;
    app.publish_chats(3).await;
    let epoch = app.state.hub.epoch().to_string();
    // Three-line clients send no epoch: a since the feed never reached is a reset, 200.
    let ahead = app.poll("since=108").await;
    assert_eq!(ahead["reset"]["previous_epoch"], Value::Null);
    assert_eq!(seqs(&ahead["events"]), [1, 2, 3]);
    let mut sse = app.sse("/api/sse", &[("Last-Event-ID", "108")]).await;
    assert_eq!(sse.records(1).await[0].1, "reset");
    // Within the run, with or without the epoch, a resume is a plain continuation.
    for query in ["since=1".to_string(), format!("since=1&epoch={epoch}")] {
        let answer = app.poll(&query).await;
        assert!(answer.get("reset").is_none(), "{query}: {answer}");
        assert_eq!(seqs(&answer["events"]), [2, 3]);
        assert_eq!(answer["epoch"], epoch.as_str());
    }
    let mut sse = app
        .sse("/api/sse", &[("Last-Event-ID", &app.sse_id(2))])
        .await;
    let record = &sse.records(1).await[0];
    assert_eq!(
        (record.0.clone(), record.1.as_str()),
        (Some(app.sse_id(3)), "chat")
    );
}

#[tokio::test]
async fn what_client_libraries_add_is_ignored_aliases_are_honoured_empty_is_absent() {
    let app = spawn_app().await;
    app.publish_chats(5).await;
    // jQuery's cache buster and other unknown parameters are ignored.
    assert_eq!(
        seqs(&app.poll("since=3&_=1712345678901&callback=x").await["events"]),
        [4, 5]
    );
    // Empty values count as absent: from now, with the default hold.
    let empty = app.long_poll("since=&epoch=&timeout_ms=1").await;
    assert_eq!(empty["events"], serde_json::json!([]));
    // The event-source polyfill's reconnection: `?lastEventId=` (with the URL's original since).
    let mut polyfill = app.sse("/api/sse?since=1&lastEventId=3", &[]).await;
    assert_eq!(polyfill.records(1).await[0].0, Some(app.sse_id(4)));
    let id = app.sse_id(4);
    let mut by_id = app.sse(&format!("/api/sse?lastEventId={id}"), &[]).await;
    assert_eq!(by_id.records(1).await[0].0, Some(app.sse_id(5)));
    // An empty Last-Event-ID header is no resume.
    let mut empty_header = app.sse("/api/sse?since=4", &[("Last-Event-ID", "")]).await;
    assert_eq!(empty_header.records(1).await[0].0, Some(app.sse_id(5)));
    // A malformed value of a parameter pushlab uses stays a clear 400.
    for path in [
        "/api/poll?since=yesterday",
        "/api/longpoll?timeout_ms=soon",
        "/api/sse?lastEventId=x:y",
        "/api/poll?epoch=%3Cscript%3E",
    ] {
        let res = app.conn().await.get(path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.text());
        assert!(res.json()["error"].is_string(), "{path}");
    }
}

/// Waits until the stats show no open connection of `transport`. Bounded by [`PATIENCE`].
async fn until_no_open(app: &TestApp, transport: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = app.stats().await;
        if stats["transports"][transport]["connections_active"] == 0 {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{transport} still open: {stats}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_held_request_whose_client_left_is_abandoned_not_empty_nor_open() {
    let app = spawn_app().await; // rate 0: nothing will answer the held polls
    // Five `timeout 1 curl .../api/longpoll?timeout_ms=20000` and a reload of an SSE page.
    let mut leaving = Vec::new();
    for _ in 0..5 {
        let mut conn = app.conn().await;
        conn.send(b"GET /api/longpoll?timeout_ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        leaving.push(conn);
    }
    let sse = app.sse("/api/sse", &[]).await;
    app.until_followers(6).await;
    let left_at = std::time::Instant::now();
    drop(leaving);
    drop(sse);
    let stats = until_no_open(&app, "longpoll").await;
    let stats = if stats["transports"]["sse"]["connections_active"] == 0 {
        stats
    } else {
        until_no_open(&app, "sse").await
    };
    // Noticed at the client's FIN, not at the end of the 20 s hold.
    assert!(
        left_at.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        left_at.elapsed()
    );
    let longpoll = &stats["transports"]["longpoll"];
    assert_eq!(longpoll["abandoned"], 5, "{longpoll}");
    assert_eq!(longpoll["empty"], 0, "{longpoll}");
    assert_eq!(stats["transports"]["sse"]["abandoned"], 1);
    // A held poll that is answered is not abandoned.
    let answered = app.long_poll("timeout_ms=1").await;
    assert_eq!(answered["events"], serde_json::json!([]));
    let stats = app.stats().await;
    assert_eq!(stats["transports"]["longpoll"]["abandoned"], 5);
    assert_eq!(stats["transports"]["longpoll"]["empty"], 1);
    let metrics = app.conn().await.get("/metrics").await.text();
    assert!(
        metrics.contains("pushlab_abandoned_total{transport=\"longpoll\"} 5"),
        "{metrics}"
    );
}
