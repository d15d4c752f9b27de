//! The instructor's controls: the token and the console cookie, and each control's effect on
//! the feed and the stats, observed by ordinary clients.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{PATIENCE, spawn_app};

/// Every admin endpoint, with a body that would be accepted.
const CONTROLS: [(&str, &str, &str); 5] = [
    ("GET", "/api/admin/settings", ""),
    ("PUT", "/api/admin/settings", r#"{"rate_hz":7}"#),
    ("POST", "/api/admin/reset", ""),
    ("POST", "/api/admin/burst", r#"{"count":3}"#),
    (
        "POST",
        "/api/admin/fault",
        r#"{"kind":"refuse","transport":"poll","seconds":5}"#,
    ),
];

#[tokio::test]
async fn every_control_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.stats().await;
    for (method, path, body) in CONTROLS {
        for auth in [None, Some("Bearer wrong-token"), Some("Basic dGVzdA==")] {
            let mut headers = vec![("Content-Type", "application/json")];
            if let Some(value) = auth {
                headers.push(("Authorization", value));
            }
            let res = app
                .conn()
                .await
                .request(method, path, &headers, body.as_bytes())
                .await;
            assert_eq!(res.status, 401, "{method} {path} with {auth:?}");
            assert!(res.json()["error"].is_string());
            assert!(
                res.header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{}",
                res.head
            );
        }
    }
    let after = app.stats().await;
    assert_eq!(
        after["feed"], before["feed"],
        "a refused call changed the feed"
    );
    assert_eq!(after["faults"], before["faults"]);
    for (method, path, body) in CONTROLS {
        let res = app.admin(method, path, body).await;
        assert_eq!(res.status, 200, "{method} {path}: {}", res.text());
    }
}

/// The session cookie from a `Set-Cookie` header: its `name=value` and its attributes.
fn session_cookie(set_cookie: &str) -> (String, Vec<String>) {
    let mut parts = set_cookie.split(';').map(|p| p.trim().to_owned());
    let pair = parts.next().unwrap();
    (pair, parts.collect())
}

#[tokio::test]
async fn the_login_form_sets_an_http_only_strict_cookie_that_opens_the_console() {
    let app = spawn_app().await;
    let page = app.conn().await.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains(r#"name="token""#),
        "login form expected"
    );
    assert!(!page.text().contains("/admin/logout"));

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let wrong = app
        .conn()
        .await
        .request("POST", "/admin/login", &form, b"token=guess&lang=fr")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    assert!(wrong.text().contains("login.wrong_token"));

    let body = format!("token={}&lang=fr", app.token);
    let right = app
        .conn()
        .await
        .request("POST", "/admin/login", &form, body.as_bytes())
        .await;
    assert_eq!(right.status, 303, "{}", right.text());
    assert_eq!(right.header("location").as_deref(), Some("/admin?lang=fr"));
    let (pair, attributes) = session_cookie(&right.header("set-cookie").expect("a cookie"));
    assert!(pair.starts_with("pushlab_admin="), "{pair}");
    assert!(
        !pair.contains(&app.token),
        "the cookie must not carry the token"
    );
    for expected in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.iter().any(|a| a == expected), "{attributes:?}");
    }

    let with_cookie = [("Cookie", pair.as_str())];
    let console = app
        .conn()
        .await
        .request("GET", "/admin", &with_cookie, b"")
        .await;
    assert!(console.text().contains("/admin/logout"), "console expected");
    assert!(
        console
            .header("cache-control")
            .unwrap()
            .contains("no-store")
    );
    let settings = app
        .conn()
        .await
        .request("GET", "/api/admin/settings", &with_cookie, b"")
        .await;
    assert_eq!(settings.status, 200, "{}", settings.text());

    let out = app
        .conn()
        .await
        .request("POST", "/admin/logout", &with_cookie, b"")
        .await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = app
        .conn()
        .await
        .request("GET", "/api/admin/settings", &with_cookie, b"")
        .await;
    assert_eq!(after.status, 401, "a closed session still worked");
}

/// Receives `count` feed events on `socket`; returns them with the time each arrived.
async fn receive<S>(socket: &mut S, count: usize) -> Vec<(Value, Instant)>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut events = Vec::new();
    while events.len() < count {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("events in time")
            .expect("socket open")
            .expect("a message");
        if let Message::Text(text) = message {
            events.push((serde_json::from_str(&text).unwrap(), Instant::now()));
        }
    }
    events
}

/// Seconds from the first to the last arrival, per event.
fn seconds_per_event(events: &[(Value, Instant)]) -> f64 {
    let span = events.last().unwrap().1 - events.first().unwrap().1;
    span.as_secs_f64() / (events.len() - 1) as f64
}

#[tokio::test]
async fn a_rate_change_changes_the_rate_clients_observe() {
    let app = spawn_app().await; // rate 0: the test sets every rate
    let mut socket = app.feed_socket("/ws").await;
    app.until_followers(1).await;
    app.set(r#"{"rate_hz":10}"#).await;
    let slow = receive(&mut socket, 6).await;
    app.set(r#"{"rate_hz":100}"#).await;
    receive(&mut socket, 1).await; // an event of the old schedule may be under way
    let fast = receive(&mut socket, 31).await;
    // Expected ratio 10; a loaded machine delays some events, so only ask for a clear change.
    let ratio = seconds_per_event(&slow) / seconds_per_event(&fast);
    assert!(
        ratio > 3.0,
        "rate 10 → 100 changed the spacing only {ratio:.1}×"
    );
    assert_eq!(app.stats().await["feed"]["rate_hz"], 100.0);

    app.set(r#"{"paused":true}"#).await;
    let stats = app.stats().await;
    assert_eq!(stats["feed"]["paused"], true);
}

#[tokio::test]
async fn an_added_delay_shows_in_the_delivery_delay() {
    let app = spawn_app().await;
    let mut socket = app.feed_socket("/ws").await;
    app.until_followers(1).await;
    let settings = app.set(r#"{"added_delay_ms":{"ws":300,"poll":200}}"#).await;
    assert_eq!(settings["added_delay_ms"]["ws"], 300);
    assert_eq!(settings["added_delay_ms"]["sse"], 0);
    let since = app.state.hub.last_seq();
    let published = Instant::now();
    app.publish_chats(3).await;
    let events = receive(&mut socket, 3).await;
    // Each event left no earlier than its publish + 300 ms (the chats were published after
    // `published`, so this bound is safe).
    assert!(events[0].1 - published >= std::time::Duration::from_millis(300));
    let poll = app.get_json(&format!("/api/poll?since={since}")).await;
    assert_eq!(poll["events"].as_array().unwrap().len(), 3);

    let stats = app.stats().await;
    let delay = |t: &str| stats["transports"][t]["delay_us"]["p50"].as_u64().unwrap();
    assert!(delay("ws") >= 300_000, "ws p50 {} µs", delay("ws"));
    assert!(delay("poll") >= 200_000, "poll p50 {} µs", delay("poll"));
    assert_eq!(stats["feed"]["added_delay_ms"]["ws"], 300);
}

#[tokio::test]
async fn a_burst_reaches_a_client_whole_and_in_order() {
    let app = spawn_app().await;
    let mut socket = app.feed_socket("/ws").await;
    app.until_followers(1).await;
    let first = app.state.hub.last_seq() + 1;
    let res = app
        .admin("POST", "/api/admin/burst", r#"{"count":200}"#)
        .await;
    assert_eq!(res.json()["published"], 200);
    let events = receive(&mut socket, 200).await;
    let seqs: Vec<u64> = events
        .iter()
        .map(|(e, _)| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (first..first + 200).collect::<Vec<_>>());
    assert!(events.iter().all(|(e, _)| e["kind"] == "tick"));
}

#[tokio::test]
async fn the_long_poll_cap_and_the_poll_interval_are_live_settings() {
    let app = spawn_app().await;
    app.set(r#"{"longpoll_max_ms":150,"poll_interval_ms":2500}"#)
        .await;
    // Asked to hold 30 s, the poll is answered (empty) at the new cap; PATIENCE bounds the wait.
    let res = app.long_poll("timeout_ms=30000").await;
    assert_eq!(res["events"], serde_json::json!([]));
    let feed = &app.stats().await["feed"];
    assert_eq!(feed["longpoll_max_ms"], 150);
    assert_eq!(feed["poll_interval_ms"], 2500);
}

#[tokio::test]
async fn bad_controls_get_a_clear_400_and_change_nothing() {
    let app = spawn_app().await;
    let before = app.admin("GET", "/api/admin/settings", "").await.json();
    let cases = [
        (
            "PUT",
            "/api/admin/settings",
            r#"{"rate_hz":1001}"#,
            "rate_hz",
        ),
        (
            "PUT",
            "/api/admin/settings",
            r#"{"rate_hz":5,"added_delay_ms":{"ws":10001}}"#,
            "added_delay_ms.ws",
        ),
        (
            "PUT",
            "/api/admin/settings",
            r#"{"added_delay_ms":{"tcp":1}}"#,
            "tcp",
        ),
        (
            "PUT",
            "/api/admin/settings",
            r#"{"longpoll_max_ms":50}"#,
            "longpoll_max_ms",
        ),
        (
            "PUT",
            "/api/admin/settings",
            r#"{"poll_interval_ms":0}"#,
            "poll_interval_ms",
        ),
        ("PUT", "/api/admin/settings", r#"{"rate":5}"#, "rate"),
        ("POST", "/api/admin/burst", r#"{"count":0}"#, "count"),
        ("POST", "/api/admin/burst", r#"{"count":10001}"#, "count"),
        (
            "POST",
            "/api/admin/fault",
            r#"{"kind":"drop","transport":"poll"}"#,
            "refuse",
        ),
        (
            "POST",
            "/api/admin/fault",
            r#"{"kind":"drop","transport":"tcp"}"#,
            "transport",
        ),
        (
            "POST",
            "/api/admin/fault",
            r#"{"kind":"refuse","transport":"ws","seconds":0}"#,
            "seconds",
        ),
        (
            "POST",
            "/api/admin/fault",
            r#"{"kind":"slow","transport":"ws","bytes_per_sec":1,"seconds":5}"#,
            "bytes_per_sec",
        ),
        (
            "POST",
            "/api/admin/fault",
            r#"{"kind":"flood","transport":"ws"}"#,
            "flood",
        ),
    ];
    for (method, path, body, mentions) in cases {
        let res = app.admin(method, path, body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text());
        let error = res.json()["error"].as_str().unwrap().to_owned();
        assert!(
            error.contains(mentions),
            "{body}: {error:?} should name {mentions}"
        );
    }
    let after = app.admin("GET", "/api/admin/settings", "").await.json();
    assert_eq!(after, before);
    let stats = app.stats().await;
    assert_eq!(stats["feed"]["last_seq"], 0, "a refused burst published");
    assert!(
        stats["faults"]
            .as_object()
            .unwrap()
            .values()
            .all(|f| f["refusing_s"] == 0 && f["slow_s"] == 0 && f["drops"] == 0)
    );
}

#[tokio::test]
async fn exports_download_the_window_and_the_histograms() {
    let app = spawn_app().await;
    app.publish_chats(2).await;
    app.poll("since=0").await;
    app.state.meter.tick();

    // HEAD, for download managers: a head and no body (so only the head is read).
    let mut conn = app.conn().await;
    let request = format!(
        "HEAD /api/export/histograms.csv HTTP/1.1\r\nHost: {}\r\n\r\n",
        app.host()
    );
    conn.send(request.as_bytes()).await;
    let (status, head) = conn.read_head().await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("attachment"), "{head}");
    let csv = app.conn().await.get("/api/export/window.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"pushlab-window-"),
        "{disposition}"
    );
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(pushlab::export::WINDOW_COLUMNS));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 5, "one row per transport and second");
    assert!(rows.iter().all(|r| r.len() == 12));

    let histograms = app
        .conn()
        .await
        .get("/api/export/histograms.csv")
        .await
        .text();
    assert!(histograms.starts_with(pushlab::export::HISTOGRAM_COLUMNS));
    let poll_rows: Vec<&str> = histograms
        .lines()
        .filter(|l| l.starts_with("poll,delay_us,"))
        .collect();
    let counted: u64 = poll_rows
        .iter()
        .map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 2, "the poll delivered two events: {histograms}");

    let json = app.get_json("/api/export/histograms.json").await;
    let buckets = json["transports"]["poll"]["delay_us"].as_array().unwrap();
    assert_eq!(buckets.last().unwrap()["cumulative_count"], 2);
    let window = app.get_json("/api/export/window.json").await;
    assert!(!window["samples"].as_array().unwrap().is_empty());
    let stats = app.get_json("/api/export/stats.json").await;
    assert_eq!(stats["transports"]["poll"]["delivered"], 2);
}

#[tokio::test]
async fn the_generator_keeps_the_highest_rate_the_console_allows_and_the_stats_measure_it() {
    let app = spawn_app().await;
    let max = pushlab::config::MAX_RATE_HZ;
    app.set(&format!(r#"{{"rate_hz":{max}}}"#)).await;
    let start = app.state.hub.last_seq();
    let began = std::time::Instant::now();
    // Two seconds' worth of ticks at the maximum rate, awaited as they are published.
    let mut wake = app.state.hub.subscribe();
    while app.state.hub.last_seq() < start + 2 * max as u64 {
        tokio::time::timeout(PATIENCE, wake.changed())
            .await
            .expect("ticks keep coming")
            .unwrap();
    }
    let rate = (2.0 * max) / began.elapsed().as_secs_f64();
    // Timer wake-ups are rounded to a millisecond: one tick per wake-up gave ~486/s for 1000.
    assert!(rate > 0.8 * max, "asked {max}/s, published {rate:.0}/s");
    let feed = &app.stats().await["feed"];
    assert_eq!(feed["rate_hz"], max);
    let measured = feed["measured_rate_hz"].as_f64().unwrap();
    assert!(measured > 0.8 * max, "measured_rate_hz {measured}: {feed}");
}
