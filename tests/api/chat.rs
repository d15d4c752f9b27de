//! Chat as people type it and as scripts abuse it: one verdict for the same characters through
//! JSON, the classic form and a WebSocket frame; only JSON objects; only UTF-8 forms; a limit
//! per client address on every transport; and client reports that cannot rewrite the figures.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};

use crate::helpers::{RawConn, TestApp, spawn_app, spawn_with};

/// What a transport did with a post: published, or refused with this message.
#[derive(Debug, PartialEq)]
enum Verdict {
    Published,
    Refused(String),
}

/// Every byte percent-encoded, as a strict form encoder may send it.
fn form_encode(value: &str) -> String {
    value.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The reason in the classic page's error paragraph, without the page's own words around it.
fn page_error(page: &str) -> String {
    let start = page.find("role=\"alert\">").expect("an error paragraph") + "role=\"alert\">".len();
    let end = start + page[start..].find("</p>").unwrap();
    let sentence = page[start..end].trim();
    sentence
        .strip_prefix("Not published: ")
        .unwrap_or(sentence)
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
}

async fn via_json(app: &TestApp, author: &str, text: &str) -> Verdict {
    let body = json!({ "author": author, "text": text }).to_string();
    let res = app.conn().await.post_json("/api/chat", &body).await;
    match res.status {
        201 => Verdict::Published,
        400 => Verdict::Refused(res.json()["error"].as_str().unwrap().to_owned()),
        other => panic!("JSON chat answered {other}: {}", res.text()),
    }
}

async fn via_form(app: &TestApp, author: &str, text: &str) -> Verdict {
    let form = format!("author={}&text={}", form_encode(author), form_encode(text));
    let res = app.conn().await.post_classic_chat(form.as_bytes()).await;
    match res.status {
        303 => Verdict::Published,
        400 => Verdict::Refused(page_error(&res.text())),
        other => panic!("form chat answered {other}: {}", res.text()),
    }
}

/// A `/ws` socket opened from `local`, read frame by frame.
async fn feed_socket(app: &TestApp, local: IpAddr) -> RawConn {
    let mut conn = RawConn::connect_from(app.addr, local).await;
    let (status, head) = conn.upgrade("/ws", &[]).await;
    assert_eq!(status, 101, "{head}");
    let hello: Value = serde_json::from_str(&conn.read_text_frame().await).unwrap();
    assert_eq!(
        hello["type"], "hello",
        "the socket's first message: {hello}"
    );
    conn
}

/// Sends one text frame on the feed socket and says what became of it: the socket follows the
/// feed, so a published chat comes back as an event newer than any before the frame (older
/// events, published by other transports, are skipped), and a refusal as an error frame.
async fn via_socket(app: &TestApp, socket: &mut RawConn, frame: &str) -> Value {
    let before = app.state.hub.last_seq();
    socket.send_frame(0x81, frame.as_bytes()).await;
    loop {
        let answer: Value = serde_json::from_str(&socket.read_text_frame().await).unwrap();
        if answer["seq"].as_u64().is_none_or(|seq| seq > before) {
            return answer;
        }
    }
}

async fn via_ws(app: &TestApp, socket: &mut RawConn, author: &str, text: &str) -> Verdict {
    let frame = json!({ "type": "chat", "author": author, "text": text }).to_string();
    let answer = via_socket(app, socket, &frame).await;
    if answer["kind"] == "chat" {
        assert_eq!(answer["data"]["text"], text.trim());
        Verdict::Published
    } else {
        assert_eq!(answer["type"], "error", "{answer}");
        Verdict::Refused(answer["error"].as_str().unwrap().to_owned())
    }
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[tokio::test]
async fn the_same_characters_get_the_same_verdict_through_json_form_and_websocket() {
    let app = spawn_app().await;
    let mut socket = feed_socket(&app, LOCALHOST).await;
    let bidi = ['\u{061C}', '\u{200E}', '\u{200F}']
        .into_iter()
        .chain('\u{202A}'..='\u{202E}')
        .chain('\u{2066}'..='\u{2069}');
    let mut cases: Vec<(String, String, bool)> = vec![
        ("ana".into(), "salut".into(), true),
        ("مريم".into(), "שלום עולם".into(), true),
        ("  ana  ".into(), "salut\u{200B}!".into(), true),
        ("\u{200B}a".into(), "x".into(), true),
        ("ana".into(), "a\u{2028}bob: b".into(), false),
        ("ana".into(), "bell\u{7}".into(), false),
        ("a".repeat(33), "x".into(), false),
    ];
    for c in bidi {
        cases.push((format!("ana{c}"), "x".into(), false));
        cases.push(("ana".into(), format!("evil{c}txt.exe"), false));
    }
    for invisible in [
        "\u{200B}",
        "\u{2060}",
        "\u{FEFF}",
        "\u{00AD}",
        "\u{3164}",
        "\u{115F}\u{1160}",
        "\u{FFA0}",
        "\u{FE0F}",
        "\u{E0041}",
        "\u{2800}",
        " \u{3000} ",
    ] {
        cases.push((invisible.into(), "x".into(), false));
        cases.push(("ana".into(), invisible.into(), false));
    }
    let mut published = 0;
    for (author, text, accepted) in &cases {
        let json = via_json(&app, author, text).await;
        let form = via_form(&app, author, text).await;
        let ws = via_ws(&app, &mut socket, author, text).await;
        let shown = format!("{:?} / {:?}", author.escape_unicode().to_string(), text);
        assert_eq!(json, form, "JSON and form differ on {shown}");
        assert_eq!(json, ws, "JSON and WebSocket differ on {shown}");
        assert_eq!(json == Verdict::Published, *accepted, "{shown}: {json:?}");
        if *accepted {
            published += 3;
        }
    }
    assert_eq!(app.state.hub.last_seq(), published);
    // Every refusal says which field and, for a character, which one.
    assert_eq!(
        via_json(&app, "ana\u{202E}", "x").await,
        Verdict::Refused(
            "author must not contain bidirectional control characters (found U+202E): they change how the rest of the line reads".into()
        )
    );
    assert!(
        matches!(via_json(&app, "\u{3164}", "x").await, Verdict::Refused(m) if m.contains("visible"))
    );
}

#[tokio::test]
async fn only_a_json_object_is_a_chat_on_http_and_on_the_socket() {
    let app = spawn_app().await;
    for body in [
        r#"["ana","salut"]"#,
        r#"[{"author":"ana","text":"salut"}]"#,
        r#""ana: salut""#,
        "42",
        "null",
        "true",
    ] {
        let res = app.conn().await.post_json("/api/chat", body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text());
        let error = res.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("expected a JSON object"), "{body}: {error}");
    }
    // The same kind of body on the other JSON endpoints.
    let res = app
        .conn()
        .await
        .post_json("/api/client-metrics", r#"["ws",[350]]"#)
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .admin("PUT", "/api/admin/settings", r#"[2.0, 0, true]"#)
        .await;
    assert_eq!(res.status, 400, "{}", res.text());

    let mut socket = feed_socket(&app, LOCALHOST).await;
    for frame in [r#"["chat","ana","salut"]"#, r#""chat""#, "7", "null"] {
        let answer = via_socket(&app, &mut socket, frame).await;
        assert_eq!(answer["type"], "error", "{frame}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains("expected a JSON object"), "{frame}: {error}");
    }
    // The socket stays open and still takes a real chat.
    assert_eq!(
        via_ws(&app, &mut socket, "ana", "salut").await,
        Verdict::Published
    );
    assert_eq!(app.state.hub.last_seq(), 1);
}

#[tokio::test]
async fn a_form_whose_bytes_are_not_utf8_is_refused_not_repaired() {
    let app = spawn_app().await;
    for body in [
        &b"author=%FF&text=salut"[..],
        b"author=ana&text=caf%C3",
        b"author=ana&text=%ED%A0%80",
        b"author=ana&text=%C0%AF",
        b"author=ana&text=caf\xe9",
    ] {
        let res = app.conn().await.post_classic_chat(body).await;
        let shown = String::from_utf8_lossy(body);
        assert_eq!(res.status, 400, "{shown}: {}", res.text());
        assert!(
            page_error(&res.text()).contains("not valid UTF-8"),
            "{shown}: {}",
            res.text()
        );
    }
    assert_eq!(app.state.hub.last_seq(), 0, "nothing was published");
    // The same text, well encoded, is published as typed.
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=ana&text=caf%C3%A9")
        .await;
    assert_eq!(res.status, 303);
    let poll = app.get_json("/api/poll?since=0").await;
    assert_eq!(poll["events"][0]["data"]["text"], "café");
}

#[tokio::test]
async fn chats_are_limited_per_address_on_every_transport_and_come_back_after_the_wait() {
    // 60 a minute: a burst of 20, then one a second.
    let app = spawn_with(|c| c.chat_per_min = 60).await;
    let settings = app.admin("GET", "/api/admin/settings", "").await.json();
    assert_eq!(settings["chat_per_min"], 60);
    assert_eq!(settings["chat_burst"], 20);

    let mut socket = feed_socket(&app, LOCALHOST).await;
    for i in 0..20 {
        let verdict = match i % 3 {
            0 => via_json(&app, "ana", &format!("m{i}")).await,
            1 => via_form(&app, "ana", &format!("m{i}")).await,
            _ => via_ws(&app, &mut socket, "ana", &format!("m{i}")).await,
        };
        assert_eq!(verdict, Verdict::Published, "chat {i}");
    }
    // The 21st, whatever the transport.
    let res = app
        .conn()
        .await
        .post_json("/api/chat", r#"{"author":"ana","text":"flood"}"#)
        .await;
    assert_eq!(res.status, 429, "{}", res.text());
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert!(res.json()["error"].as_str().unwrap().contains("too many"));
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=ana&text=flood")
        .await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    assert!(
        res.text().contains("value=\"flood\""),
        "what was typed comes back"
    );
    let answer = via_socket(
        &app,
        &mut socket,
        r#"{"type":"chat","author":"ana","text":"flood"}"#,
    )
    .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert!(answer["retry_after"].as_u64().unwrap() >= 1);
    assert_eq!(app.state.hub.last_seq(), 20, "no flood reached the feed");

    // Another address has its own allowance.
    let mut other = RawConn::connect_from(app.addr, "127.0.0.2".parse().unwrap()).await;
    let res = other
        .post_json("/api/chat", r#"{"author":"bob","text":"moi aussi"}"#)
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // After the announced wait, the first address may post again, on the same socket.
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    assert_eq!(
        via_ws(&app, &mut socket, "ana", "de retour").await,
        Verdict::Published
    );
}

#[tokio::test]
async fn the_instructor_sees_and_changes_the_limits() {
    let app = spawn_app().await;
    let after = app.set(r#"{"chat_per_min":3,"reports_per_min":2}"#).await;
    assert_eq!(after["chat_per_min"], 3);
    assert_eq!(after["chat_burst"], 1);
    assert_eq!(after["reports_per_min"], 2);
    for bad in [
        r#"{"chat_per_min":0}"#,
        r#"{"reports_per_min":60001}"#,
        r#"{"chat_per_min":5,"rate_hz":-1}"#,
    ] {
        let res = app.admin("PUT", "/api/admin/settings", bad).await;
        assert_eq!(res.status, 400, "{bad}: {}", res.text());
    }
    assert_eq!(
        app.stats().await["feed"]["chat_per_min"],
        3,
        "nothing changed"
    );
    assert_eq!(via_json(&app, "ana", "un").await, Verdict::Published);
    let res = app
        .conn()
        .await
        .post_json("/api/chat", r#"{"author":"ana","text":"deux"}"#)
        .await;
    assert_eq!(res.status, 429);
    assert_eq!(res.header("retry-after").as_deref(), Some("20"));
}

async fn report(conn: &mut RawConn, transport: &str, values: &[i64]) -> (u16, String) {
    let body = json!({ "transport": transport, "latencies_us": values }).to_string();
    let res = conn.post_json("/api/client-metrics", &body).await;
    let text = if res.status == 202 {
        String::new()
    } else {
        res.json()["error"].as_str().unwrap().to_owned()
    };
    (res.status, text)
}

#[tokio::test]
async fn reports_are_limited_per_address() {
    let app = spawn_with(|c| c.reports_per_min = 3).await;
    let mut conn = app.conn().await;
    assert_eq!(report(&mut conn, "poll", &[350]).await.0, 202);
    let res = conn
        .post_json(
            "/api/client-metrics",
            r#"{"transport":"poll","latencies_us":[350]}"#,
        )
        .await;
    assert_eq!(res.status, 429, "{}", res.text());
    assert_eq!(res.header("retry-after").as_deref(), Some("20"));
    assert!(res.json()["error"].as_str().unwrap().contains("too many"));
}

#[tokio::test]
async fn a_report_cannot_claim_more_or_longer_latencies_than_the_feed_could_give() {
    let app = spawn_app().await;
    app.publish_chats(10).await;
    let mut conn = app.conn().await;
    // This address was sent nothing yet: a big batch is not a measurement.
    let (status, error) = report(&mut conn, "poll", &[400; 1000]).await;
    assert_eq!(status, 400);
    assert!(error.contains("was sent 0 poll events"), "{error}");
    // Implausible values: negative, older than the server, absurd.
    for values in [&[350, -1][..], &[60_000_000], &[i64::MAX]] {
        let (status, error) = report(&mut conn, "poll", values).await;
        assert_eq!(status, 400, "{values:?}");
        assert!(
            error.contains("out of range") || error.contains("running"),
            "{error}"
        );
    }
    // A poll hands this address 10 events: their latencies are welcome, in several reports.
    let poll = conn.get("/api/poll?since=0").await;
    assert_eq!(poll.json()["events"].as_array().unwrap().len(), 10);
    assert_eq!(report(&mut conn, "poll", &[400; 6]).await.0, 202);
    assert_eq!(report(&mut conn, "poll", &[500; 4]).await.0, 202);
    // Beyond the events sent (and a small grace for clients that count a little differently),
    // the reports of this address are refused whole.
    let grace = pushlab::meter::REPORT_GRACE as usize;
    assert_eq!(report(&mut conn, "poll", &vec![600; grace]).await.0, 202);
    let (status, error) = report(&mut conn, "poll", &[9_000_000]).await;
    assert_eq!(status, 400, "{error}");
    // What was refused left the class's figures as they were.
    let figures = &app.stats().await["transports"]["poll"]["client_latency_us"];
    assert_eq!(figures["count"], 10 + grace as u64);
    assert!(figures["max"].as_u64().unwrap() < 1000, "{figures}");
}

#[tokio::test]
async fn bytes_that_are_no_text_are_refused_on_every_transport() {
    let app = spawn_app().await;
    // An escaped lone surrogate is no character: JSON, the socket and the form all refuse it.
    let res = app
        .conn()
        .await
        .post_json("/api/chat", r#"{"author":"ana","text":"\ud800"}"#)
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    // Said as such, not only as serde_json's "unexpected end of hex escape".
    let says_surrogate = |text: &str| text.contains("lone surrogate");
    assert!(
        says_surrogate(res.json()["error"].as_str().unwrap()),
        "{}",
        res.text()
    );
    let mut socket = feed_socket(&app, LOCALHOST).await;
    let answer = via_socket(
        &app,
        &mut socket,
        r#"{"type":"chat","author":"ana","text":"\ud800"}"#,
    )
    .await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert!(says_surrogate(&answer.to_string()), "{answer}");
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=ana&text=%ED%A0%80")
        .await;
    assert_eq!(res.status, 400);
    // Raw bytes that are not UTF-8: a 400 on HTTP, close 1007 on the socket (RFC 6455 §8.1).
    let res = app
        .conn()
        .await
        .request(
            "POST",
            "/api/chat",
            &[("Content-Type", "application/json")],
            b"{\"author\":\"ana\",\"text\":\"caf\xe9\"}",
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .conn()
        .await
        .post_classic_chat(b"author=ana&text=caf%E9")
        .await;
    assert_eq!(res.status, 400);
    socket
        .send_frame(
            0x81,
            b"{\"type\":\"chat\",\"author\":\"ana\",\"text\":\"caf\xe9\"}",
        )
        .await;
    assert_eq!(socket.read_close().await.0, 1007);
    assert_eq!(app.state.hub.last_seq(), 0, "nothing was published");
}
