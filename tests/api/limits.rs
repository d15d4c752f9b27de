//! Nothing that lets one client hold the class's connections (issue 12 item 8): a request body
//! that stalls is answered 408, and one address holds at most `--max-connections-per-address`.

use std::time::{Duration, Instant};

use crate::helpers::{PATIENCE, spawn_with};

const CHAT_HEAD: &str = "POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

#[tokio::test]
async fn a_body_that_stalls_is_answered_408_and_its_connection_closed() {
    let app = spawn_with(|c| {
        c.body_idle_secs = 1;
        c.body_timeout_secs = 3;
    })
    .await;
    for request in [
        format!("{CHAT_HEAD}Content-Length: 60000\r\n\r\n{{\"author\""),
        format!("{CHAT_HEAD}Transfer-Encoding: chunked\r\n\r\n9\r\n{{\"author\"\r\n"),
        "POST /classic/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nauthor=a".to_owned(),
    ] {
        let mut conn = app.conn().await;
        conn.send(request.as_bytes()).await;
        let res = conn.read_response().await;
        assert_eq!(res.status, 408, "{request:?}: {}", res.head);
        let error = res.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("no byte for 1 s"), "{error}");
        assert!(conn.closed_by_server().await, "{request:?}: connection kept");
    }
    assert_eq!(app.stats().await["edge"]["bodies_timed_out"], 3);
}

#[tokio::test]
async fn a_body_that_trickles_is_answered_408_at_the_overall_deadline() {
    let app = spawn_with(|c| {
        c.body_idle_secs = 1;
        c.body_timeout_secs = 2;
    })
    .await;
    let mut conn = app.conn().await;
    conn.send(format!("{CHAT_HEAD}Content-Length: 60000\r\n\r\n").as_bytes())
        .await;
    let started = Instant::now();
    // One byte every 200 ms: always progress, never complete. The answer comes while sending.
    let answer = tokio::time::timeout(PATIENCE, async {
        let mut ticker = tokio::time::interval(Duration::from_millis(200));
        loop {
            ticker.tick().await;
            use tokio::io::AsyncWriteExt;
            if conn.stream.write_all(b" ").await.is_err() {
                break;
            }
            let mut peek = [0u8; 1];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), conn.stream.peek(&mut peek)).await
                && n > 0
            {
                break;
            }
        }
        conn.read_response().await
    })
    .await
    .expect("an answer before the test's patience ran out");
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("not complete within 2 s")
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test]
async fn one_address_holds_at_most_its_bound_of_connections() {
    let app = spawn_with(|c| c.max_connections_per_address = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = app.conn().await;
        assert_eq!(conn.get("/api/time").await.status, 200);
        held.push(conn);
    }
    let mut refused = app.conn().await;
    refused
        .send(b"GET /api/time HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let res = refused.read_response().await;
    assert_eq!(res.status, 429, "{}", res.head);
    assert!(res.header("retry-after").is_some());
    let error = res.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("127.0.0.1") && error.contains("--max-connections-per-address"),
        "{error}"
    );
    assert!(refused.closed_by_server().await);

    // A place comes back when a connection closes.
    drop(held.pop());
    let deadline = Instant::now() + PATIENCE;
    let stats = loop {
        let mut conn = app.conn().await;
        conn.send(b"GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let res = conn.read_response().await;
        if res.status == 200 {
            break res.json();
        }
        assert!(Instant::now() < deadline, "the place never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(stats["edge"]["connections_refused"].as_u64().unwrap() >= 1);

    // A trusted proxy is not bounded: every client of the class arrives through it.
    let app = spawn_with(|c| {
        c.max_connections_per_address = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut conn = app.conn().await;
        assert_eq!(conn.get("/api/time").await.status, 200);
        held.push(conn);
    }
}
