//! The WebSocket endpoints against RFC 6455: handshake, subprotocols, echo, close codes.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{PATIENCE, next_json, spawn_app, spawn_with};

#[tokio::test]
async fn the_handshake_answers_the_rfc_example_key() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    let (status, head) = conn.upgrade("/ws", &[]).await;
    assert_eq!(status, 101, "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("sec-websocket-protocol"),
        "no offer, no subprotocol header"
    );
}

#[tokio::test]
async fn the_first_offered_supported_subprotocol_is_chosen() {
    let app = spawn_app().await;
    let cases = [
        ("/ws", "pushlab.bin, pushlab.json", Some("pushlab.bin")),
        ("/ws", "foo, pushlab.json", Some("pushlab.json")),
        ("/ws/echo", "superchat, chat", Some("superchat")),
        ("/ws", "chat, superchat", None),
    ];
    for (path, offer, expected) in cases {
        let mut conn = app.conn().await;
        let (status, head) = conn
            .upgrade(path, &[("Sec-WebSocket-Protocol", offer)])
            .await;
        match expected {
            Some(protocol) => {
                assert_eq!(status, 101, "{path} {offer}: {head}");
                assert!(
                    head.contains(&format!("sec-websocket-protocol: {protocol}\r\n")),
                    "{head}"
                );
            }
            None => {
                assert_eq!(
                    status, 400,
                    "{path} {offer}: an offer we cannot honour is refused"
                );
                let body = conn.read_exact_n(200).await;
                assert!(String::from_utf8_lossy(&body).contains("pushlab.json"));
            }
        }
    }
}

#[tokio::test]
async fn pushlab_bin_sends_the_documented_binary_layout() {
    let app = spawn_app().await;
    app.publish_chats(1).await;
    let (mut socket, response) = app
        .websocket_with("/ws?since=0", &[("sec-websocket-protocol", "pushlab.bin")])
        .await;
    assert_eq!(response.headers()["sec-websocket-protocol"], "pushlab.bin");
    // The hello names the run in JSON text under either subprotocol; events follow in binary.
    assert_eq!(next_json(&mut socket).await["type"], "hello");
    let Message::Binary(frame) = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    else {
        panic!("expected a binary frame")
    };
    assert_eq!(u64::from_be_bytes(frame[0..8].try_into().unwrap()), 1);
    let ts = u64::from_be_bytes(frame[8..16].try_into().unwrap());
    let kind_len = frame[16] as usize;
    assert_eq!(&frame[17..17 + kind_len], b"chat");
    let data: serde_json::Value = serde_json::from_slice(&frame[17 + kind_len..]).unwrap();
    assert_eq!(data["text"], "message 0");
    let poll = app.poll("since=0").await;
    assert_eq!(poll["events"][0]["ts"].as_u64(), Some(ts));
}

#[tokio::test]
async fn echo_returns_text_binary_and_reassembled_fragments() {
    let app = spawn_app().await;
    let mut socket = app.websocket("/ws/echo").await;
    socket.send(Message::text("salut")).await.unwrap();
    socket
        .send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    let first = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first, Message::text("salut"));
    assert_eq!(second, Message::binary(vec![0u8, 1, 2, 255]));

    // A text message in three fragments, with a ping between them, comes back whole.
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws/echo", &[]).await.0, 101);
    conn.send_frame(0x01, "frag".as_bytes()).await;
    conn.send_frame(0x89, b"hi").await;
    conn.send_frame(0x00, "mentée ".as_bytes()).await;
    conn.send_frame(0x80, "!".as_bytes()).await;
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(conn.read_frame().await);
    }
    assert!(
        got.contains(&(0x8A, b"hi".to_vec())),
        "ping answered with pong: {got:?}"
    );
    assert!(
        got.contains(&(0x81, "fragmentée !".as_bytes().to_vec())),
        "{got:?}"
    );
}

/// Opens a raw connection to `path`, sends `bytes`, returns the close code the server sent.
async fn close_code_after(
    app: &crate::helpers::TestApp,
    path: &str,
    bytes: &[u8],
) -> (u16, String) {
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade(path, &[]).await.0, 101);
    conn.send(bytes).await;
    conn.read_close().await
}

#[tokio::test]
async fn each_violation_closes_with_its_rfc_6455_code() {
    let app = spawn_with(|c| {
        c.max_message_bytes = 1000;
        c.echo_max_message_bytes = 1000;
    })
    .await;
    use crate::helpers::client_frame as f;
    let big_header = {
        let mut h = vec![0x82, 0x80 | 127];
        h.extend_from_slice(&(1u64 << 40).to_be_bytes());
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    };
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("/ws", f(0x82, b"\x01\x02"), 1003), // binary on the feed socket
        ("/ws", f(0x81, &[0xce, 0xba, 0xff]), 1007), // invalid UTF-8
        ("/ws/echo", f(0x81, &[0xce, 0xba, 0xff]), 1007),
        ("/ws/echo", [f(0x01, &[0xce]), f(0x80, b"a")].concat(), 1007), // broken across fragments
        ("/ws/echo", f(0x88, &[0x03, 0xe8, 0xff]), 1007),               // close reason not UTF-8
        ("/ws", f(0x81, &[b' '; 1001]), 1009),                          // above --max-message-bytes
        ("/ws/echo", f(0x82, &[0; 1001]), 1009), // above --echo-max-message-bytes
        (
            "/ws/echo",
            [f(0x02, &[0; 600]), f(0x80, &[0; 600])].concat(),
            1009,
        ),
        ("/ws/echo", big_header, 1009),    // refused from the header
        ("/ws/echo", f(0xC1, b"x"), 1002), // RSV1 without extension
        ("/ws/echo", f(0x83, b"x"), 1002), // reserved opcode
        ("/ws/echo", f(0x09, b""), 1002),  // fragmented ping
        ("/ws/echo", f(0x89, &[0; 126]), 1002), // oversize ping
        ("/ws/echo", f(0x80, b"x"), 1002), // continuation of nothing
        ("/ws/echo", [f(0x01, b"a"), f(0x81, b"b")].concat(), 1002),
        ("/ws/echo", f(0x88, &[0x03]), 1002), // one-byte close payload
        ("/ws/echo", f(0x88, &[0x03, 0xed]), 1002), // close code 1005 may not be sent
        ("/ws/echo", vec![0x81, 0x02, b'h', b'i'], 1002), // unmasked
    ];
    for (i, (path, bytes, code)) in cases.into_iter().enumerate() {
        let (got, reason) = close_code_after(&app, path, &bytes).await;
        assert_eq!(got, code, "case {i} on {path}: reason {reason:?}");
        assert!(!reason.is_empty(), "case {i}: a close carries a reason");
    }
}

#[tokio::test]
async fn frames_sent_with_the_handshake_are_not_lost() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    // One write: the upgrade and a first message, as a client that does not wait for the 101.
    let mut bytes = conn.upgrade_request("/ws/echo", &[]).into_bytes();
    bytes.extend(crate::helpers::client_frame(0x81, "déjà là".as_bytes()));
    conn.send(&bytes).await;
    assert_eq!(conn.read_head().await.0, 101);
    assert_eq!(
        conn.read_frame().await,
        (0x81, "déjà là".as_bytes().to_vec())
    );
}

#[tokio::test]
async fn a_refused_upgrade_gets_its_answer_and_the_connection_closes() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    let (status, head) = conn.upgrade("/ws?since=soon", &[]).await;
    assert_eq!(status, 400, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let body = String::from_utf8(conn.read_more().await.unwrap_or_default()).unwrap();
    assert!(
        body.contains("since"),
        "the answer says what is wrong: {body}"
    );
    assert!(
        conn.closed_by_server().await,
        "no keep-alive after a refused upgrade"
    );
}

#[tokio::test]
async fn a_client_close_is_echoed_and_the_connection_ends() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws", &[]).await.0, 101);
    conn.send_frame(0x88, &[0x0f, 0xa0, b'b', b'y', b'e']).await; // 4000 "bye"
    assert_eq!(conn.read_close().await.0, 4000);
    assert!(conn.closed_by_server().await);
}

#[tokio::test]
async fn after_its_own_close_the_server_waits_for_the_client_close_then_ends() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws", &[]).await.0, 101);
    conn.send_frame(0x82, b"\x01").await; // binary on the feed: the server closes with 1003
    assert_eq!(conn.read_close().await.0, 1003);
    // RFC 6455 §7.1.1: the TCP connection stays open for the client's close frame. (A bounded
    // look for an early end: the server's own wait is 2 s, and the client is not told to hurry.)
    let early = tokio::time::timeout(std::time::Duration::from_millis(300), conn.read_more()).await;
    assert!(
        early.is_err(),
        "the server ended the connection before the client's close: {early:?}"
    );
    conn.send_frame(0x88, &[0x03, 0xeb]).await; // 1003 back
    assert!(conn.closed_by_server().await);
}

#[tokio::test]
async fn a_bad_chat_on_the_socket_gets_an_error_message_and_the_socket_stays() {
    let app = spawn_app().await;
    let mut socket = app.feed_socket("/ws").await;
    socket
        .send(Message::text(r#"{"type":"chat","author":"","text":"x"}"#))
        .await
        .unwrap();
    socket.send(Message::text("not json")).await.unwrap();
    for expected in ["author must not be empty", "expected {\"type\":\"chat\""] {
        let Message::Text(reply) = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        else {
            panic!("a text reply")
        };
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["type"], "error");
        assert!(
            reply["error"].as_str().unwrap().contains(expected),
            "{reply}"
        );
    }
    socket
        .send(Message::text(
            r#"{"type":"chat","author":"ok","text":"fine"}"#,
        ))
        .await
        .unwrap();
    let Message::Text(event) = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    else {
        panic!("the event")
    };
    assert!(event.contains("\"kind\":\"chat\""), "{event}");
}

#[tokio::test]
async fn a_silent_client_is_closed_with_1001() {
    let app = spawn_with(|c| c.heartbeat_secs = 1).await;
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws", &[]).await.0, 101);
    // We never answer the pings: after three heartbeats the server gives up.
    let (code, reason) = conn.read_close().await;
    assert_eq!(code, 1001, "{reason}");
    assert!(reason.contains("ping"), "{reason}");
}

/// A client that reads slowly, whose pings wait behind seconds of feed in the socket buffers, is
/// not taken for a silent one: it lags (and would be told what it missed), it is not dropped.
#[tokio::test]
async fn a_slow_reader_is_not_closed_as_silent() {
    let app = spawn_with(|c| {
        c.heartbeat_secs = 1;
        c.buffer = 256;
    })
    .await;
    let mut slow = app.conn().await;
    assert_eq!(slow.upgrade("/ws", &[]).await.0, 101);
    app.until_followers(1).await;
    // It never sends a byte (no pong: its pings wait behind megabytes of feed) and reads 64 KiB
    // every 100 ms, for 8 heartbeats; the feed sends 512 KiB in the same time.
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(8);
    while tokio::time::Instant::now() < until {
        app.state.ticks.burst(&app.state.hub, 8, 65_536);
        let read = slow.read_exact_n(64 * 1024).await;
        assert_eq!(read.len(), 64 * 1024, "closed while reading");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stats = app.stats().await;
    assert_eq!(
        stats["transports"]["ws"]["connections_active"], 1,
        "{stats}"
    );
}

/// A client that reads nothing while the server has bytes for it is closed by the unwritable
/// timeout and counted there, even when the heartbeat's silence timeout is shorter.
#[tokio::test]
async fn a_client_that_reads_nothing_is_counted_as_unwritable_not_as_silent() {
    let app = spawn_with(|c| {
        c.heartbeat_secs = 1;
        c.unwritable_timeout_secs = 5;
        c.buffer = 256;
    })
    .await;
    let mut stalled = app.conn().await;
    stalled
        .send(stalled.upgrade_request("/ws", &[]).as_bytes())
        .await;
    app.until_followers(1).await;
    let deadline = tokio::time::Instant::now() + crate::helpers::PATIENCE;
    loop {
        app.state.ticks.burst(&app.state.hub, 8, 65_536);
        let stats = app.stats().await;
        let ws = &stats["transports"]["ws"];
        if ws["connections_active"] == 0 {
            assert_eq!(ws["closed_unwritable"], 1, "{stats}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stats}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Sockets opened at any time ping on a few shared instants per period (the timer grid), so that
/// a worker wakes once for all the sockets due, not once per socket.
#[tokio::test]
async fn sockets_opened_apart_ping_together_on_the_grid() {
    let app = spawn_with(|c| c.heartbeat_secs = 1).await;
    let mut first_pings = Vec::new();
    // 16 sockets opened 70 ms apart: on their own phases, 16 ping instants 70 ms apart.
    for _ in 0..16 {
        let mut conn = app.conn().await;
        assert_eq!(conn.upgrade("/ws", &[]).await.0, 101);
        first_pings.push(tokio::spawn(async move {
            loop {
                let (first, _) = conn.read_frame().await;
                if first == 0x89 {
                    return tokio::time::Instant::now();
                }
            }
        }));
        tokio::time::sleep(std::time::Duration::from_millis(70)).await;
    }
    let mut at = Vec::new();
    for ping in first_pings {
        at.push(ping.await.expect("a ping"));
    }
    at.sort();
    // Pings of one instant arrive within a few ms; instants of the grid are 125 ms apart (1 s /
    // SLOTS_PER_PERIOD). 1.05 s of openings touch at most 10 of them.
    let instants = 1 + at
        .windows(2)
        .filter(|w| w[1] - w[0] > std::time::Duration::from_millis(35))
        .count();
    assert!(
        instants <= 10,
        "{instants} ping instants: {:?}",
        at.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    );
}

/// `len` bytes that are not all alike (a file, not a run of zeros): a xorshift stream.
fn file_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

const MIB: usize = 1024 * 1024;

/// The next data frame from the server, past its heartbeat pings (a 16 MiB echo on a loaded
/// machine may take longer than a heartbeat).
async fn read_data_frame(conn: &mut crate::helpers::RawConn) -> (u8, Vec<u8>) {
    loop {
        let (first, payload) = conn.read_frame().await;
        if first != 0x89 {
            return (first, payload);
        }
    }
}

#[tokio::test]
async fn a_five_mib_file_comes_back_identical_through_the_echo() {
    let app = spawn_app().await;
    let file = file_bytes(5 * MIB);
    // As a browser's ws.send(file): one binary message in one frame.
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url("/ws/echo"))
        .await
        .unwrap();
    socket.send(Message::binary(file.clone())).await.unwrap();
    let echo = loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("the echo in time")
            .expect("a message")
            .expect("not an error");
        if !matches!(message, Message::Ping(_)) {
            break message;
        }
    };
    assert!(
        echo == Message::binary(file.clone()),
        "the echo differs from the file"
    );

    // As a client that fragments (Chromium sends a large ws.send(file) in 131,000-byte frames):
    // five 1 MiB frames come back as one message, and the inspector's record says how it came.
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws/echo?inspect=file-1", &[]).await.0, 101);
    for (i, part) in file.chunks(MIB).enumerate() {
        let first = match i {
            0 => 0x02,
            4 => 0x80,
            _ => 0x00,
        };
        conn.send_frame(first, part).await;
    }
    let (first, payload) = read_data_frame(&mut conn).await;
    assert_eq!(first, 0x82);
    assert!(
        payload == file,
        "the reassembled echo differs from the file"
    );
    assert_eq!(app.state.ws_memory.used(), 0, "nothing held once echoed");
    let record = app.get_json("/api/handshake/file-1").await;
    let frames = &record["last_message"];
    assert_eq!(frames["count"], 5, "{record}");
    assert_eq!(frames["bytes"], 5 * MIB);
    assert_eq!(
        frames["first"],
        serde_json::json!({"opcode": 2, "fin": false, "len": MIB})
    );
    assert_eq!(
        frames["last"],
        serde_json::json!({"opcode": 0, "fin": true, "len": MIB})
    );
}

#[tokio::test]
async fn the_echo_takes_sixteen_mib_and_refuses_more_from_the_header() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws/echo", &[]).await.0, 101);
    let file = file_bytes(16 * MIB);
    conn.send_frame(0x82, &file).await;
    let (first, payload) = read_data_frame(&mut conn).await;
    assert_eq!((first, payload.len()), (0x82, file.len()));
    assert!(payload == file);

    // 17 MiB announced: refused from the header, no payload sent at all.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(17 * MIB as u64).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    conn.send(&header).await;
    let (code, reason) = conn.read_close().await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains(&(16 * MIB).to_string()), "{reason}");
}

#[tokio::test]
async fn the_feed_socket_keeps_a_chat_sized_limit() {
    let app = spawn_app().await;
    // The largest valid chat, written by an encoder that escapes every character (Python's
    // json.dumps): 532 astral characters as surrogate pairs, about 6.4 KiB, is accepted...
    let escaped = |n: usize| "\\ud83d\\ude00".repeat(n);
    let chat = format!(
        r#"{{"type": "chat", "author": "{}", "text": "{}"}}"#,
        escaped(32),
        escaped(500)
    );
    assert!(chat.len() > 6000, "{}", chat.len());
    let before = app.state.hub.last_seq();
    let mut conn = app.conn().await;
    assert_eq!(conn.upgrade("/ws", &[]).await.0, 101);
    conn.send_frame(0x81, chat.as_bytes()).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.state.hub.last_seq() == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the chat was not published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // ... and a file is not: 1009 from the header.
    let mut header = vec![0x82, 0x80 | 126];
    header.extend_from_slice(&(9 * 1024u16).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    let (code, reason) = close_code_after(&app, "/ws", &header).await;
    assert_eq!(code, 1009, "{reason}");
}

#[tokio::test]
async fn the_sockets_share_a_memory_budget_and_a_message_beyond_it_gets_1013() {
    let app = spawn_with(|c| {
        c.echo_max_message_bytes = 2 * MIB;
        c.ws_memory_bytes = 2 * MIB;
    })
    .await;
    let file = file_bytes(2 * MIB);
    let frame = crate::helpers::client_frame(0x82, &file);
    let mut first = app.conn().await;
    assert_eq!(first.upgrade("/ws/echo", &[]).await.0, 101);
    let part = 14 + 3 * MIB / 2;
    first.send(&frame[..part]).await;
    // Wait until the server holds those 1.5 MiB (an event the server exposes, not a sleep).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.state.ws_memory.used() < 3 * MIB / 2 {
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(
        app.state.ws_memory.used() <= 2 * MIB,
        "grown only as data arrived"
    );

    let second_file = file_bytes(MIB);
    let (code, reason) = close_code_after(
        &app,
        "/ws/echo",
        &crate::helpers::client_frame(0x82, &second_file),
    )
    .await;
    assert_eq!(code, 1013, "{reason}");

    first.send(&frame[part..]).await;
    let (_, payload) = read_data_frame(&mut first).await;
    assert!(payload == file);
    let mut third = app.conn().await;
    assert_eq!(third.upgrade("/ws/echo", &[]).await.0, 101);
    third.send_frame(0x82, &second_file).await;
    let (_, payload) = read_data_frame(&mut third).await;
    assert!(
        payload == second_file,
        "room again once the first was echoed"
    );
}

/// A tag the inspector could never have given (`?inspect=` takes 1 to 64 letters, digits or
/// dashes) is a bad request, not an unknown handshake.
#[tokio::test]
async fn a_handshake_asked_by_a_tag_that_breaks_the_rule_is_a_400() {
    let app = spawn_app().await;
    let long = "a".repeat(65);
    for tag in [long.as_str(), "a%20b", "%C3%A9t%C3%A9"] {
        let answer = app.conn().await.get(&format!("/api/handshake/{tag}")).await;
        assert_eq!(answer.status, 400, "{tag}: {}", answer.text());
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("1 to 64 letters, digits or dashes")),
            "{tag}: {}",
            answer.text()
        );
    }
    let unknown = app
        .conn()
        .await
        .get(&format!("/api/handshake/{}", "a".repeat(64)))
        .await;
    assert_eq!(unknown.status, 404, "a good tag nobody used");
}
