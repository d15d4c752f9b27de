//! The broker stopped and started again under load (issue 14): clients of every transport stay
//! connected to two servers, chats are refused with 503 while it is down, and once it is back
//! every event is accounted for: nothing lost, nothing twice, nothing reported missed.
//!
//! A test binary of its own: cargo runs test binaries one after the other, so no other broker
//! test runs while this one stops the broker. It stops only the node `scripts/rabbitmq` runs,
//! and is skipped when `PUSHLAB_TEST_BROKER` names another broker.

#[path = "broker/cluster.rs"]
mod cluster;

use std::{process::Command, time::Duration};

use cluster::{Client, Node, PATIENCE, broker_url, fresh_stream};

/// `scripts/rabbitmq ARG`, which must succeed.
async fn rabbitmq(arg: &'static str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/rabbitmq");
    let output = tokio::task::spawn_blocking(move || Command::new(script).arg(arg).output())
        .await
        .unwrap()
        .expect("scripts/rabbitmq runs");
    assert!(
        output.status.success(),
        "scripts/rabbitmq {arg}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Polls `node`'s /healthz until its status is `status`.
async fn until_health(node: &Node, status: &str, patience: Duration) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let res = node.get("/healthz").await;
        let body = res.json();
        if body["status"] == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never said {status}: {body}\n{}",
            node.name,
            node.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_broker_stopped_and_started_under_load_loses_nothing() {
    let Some(broker) = broker_url() else { return };
    if rabbitmq("env").await != broker {
        eprintln!("SKIPPED: PUSHLAB_TEST_BROKER is not the node scripts/rabbitmq runs");
        return;
    }
    let stream = fresh_stream("outage");
    let _forget = cluster::Forget::new(&broker, &stream);
    let a = Node::start(&broker, &stream, "a", &["--rate", "20"]).await;
    let b = Node::start(&broker, &stream, "b", &["--rate", "20"]).await;
    let epoch = a.poll("").await["epoch"].as_str().unwrap().to_owned();
    a.until_seq(10).await;
    let since = a.last_seq().await;

    // Every transport on a, the push ones on b too, all from the same seq.
    let mut clients = Vec::new();
    for transport in ["ws", "sse", "longpoll", "poll", "classic"] {
        clients.push(("a", Client::start(transport, a.addr, since, &epoch)));
    }
    for transport in ["ws", "sse", "longpoll", "poll"] {
        clients.push(("b", Client::start(transport, b.addr, since, &epoch)));
    }
    // Chats on both servers before the outage.
    let mut confirmed = Vec::new();
    for (i, node) in [&a, &b].into_iter().enumerate() {
        let res = node.post_chat("ana", &format!("before {i}")).await;
        assert_eq!(res.status, 201, "{}", res.text());
        confirmed.push(res.json());
    }
    let before_outage = a.last_seq().await;
    for (_, client) in &clients {
        client.until(before_outage).await;
    }

    rabbitmq("stop").await;
    // Both servers say so, and refuse chats with a JSON 503; their clients stay connected.
    for node in [&a, &b] {
        let health = until_health(node, "broker unreachable", PATIENCE).await;
        assert!(
            health["error"]
                .as_str()
                .unwrap()
                .starts_with("broker unreachable"),
            "{health}"
        );
        let stats = node.stats().await;
        assert_eq!(stats["broker"]["state"], "unreachable", "{stats}");
        let res = node.post_chat("ana", "during").await;
        assert_eq!(res.status, 503, "{}", res.text());
        assert!(res.json()["error"].as_str().unwrap().contains("broker"));
    }
    let stats = a.stats().await;
    assert!(
        stats["transports"]["ws"]["connections_active"]
            .as_i64()
            .unwrap()
            >= 1,
        "{stats}"
    );

    rabbitmq("start").await;
    for node in [&a, &b] {
        until_health(node, "ok", Duration::from_secs(90)).await;
    }
    // Chats again, then let the feed run on.
    for (i, node) in [&a, &b].into_iter().enumerate() {
        let res = node.post_chat("ana", &format!("after {i}")).await;
        assert_eq!(res.status, 201, "{}", res.text());
        confirmed.push(res.json());
    }
    let end = a.last_seq().await.max(b.last_seq().await) + 20;
    a.until_seq(end).await;
    b.until_seq(end).await;

    // Every client saw every event from its start to the end, once, in order, none missed; the
    // push clients never lost their connection.
    for (server, client) in clients {
        client.until(end).await;
        let transport = client.transport;
        let tally = client.finish().await;
        tally.assert_complete(&format!("{transport} on {server}"), since, end);
        if matches!(transport, "ws" | "sse") {
            assert_eq!(tally.reconnects, 0, "{transport} on {server} reconnected");
        }
    }
    // Both servers hold the same events, and each confirmed chat once.
    let (on_a, on_b) = (a.events(since, end).await, b.events(since, end).await);
    assert_eq!(on_a, on_b);
    for chat in &confirmed {
        let copies = on_a.iter().filter(|e| e["data"] == chat["data"]).count();
        assert_eq!(copies, 1, "{chat}");
        assert!(on_a.contains(chat), "{chat}");
    }
    for node in [&a, &b] {
        let broker = &node.stats().await["broker"];
        assert_eq!(broker["state"], "connected");
        // One reconnection each for the follower and the publisher (a broker still starting
        // may drop one more), not one per attempt made during the outage.
        let reconnects = broker["reconnects"].as_u64().unwrap();
        assert!((2..=4).contains(&reconnects), "{broker}");
        assert_eq!(broker["lost"], 0, "{broker}");
    }
}
