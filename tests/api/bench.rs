//! The bench counts right: every published event against a real server, and an injected gap
//! and duplicate against a scripted one.

use pushlab::bench::{BenchArgs, run};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn args(transports: &str, clients: usize) -> BenchArgs {
    BenchArgs {
        url: Vec::new(),
        transports: transports.split(',').map(str::to_owned).collect(),
        clients,
        rate: 20.0,
        duration: 1,
        ramp: 0,
        poll_interval: 100,
        admin_token: None,
        server_pid: None,
        no_meter: false,
        meter_cost: false,
        rounds: 1,
        json: true,
        csv: false,
        plot: None,
    }
}

#[tokio::test]
async fn against_a_real_server_every_client_gets_every_event_once() {
    let rows = run(args("ws,sse,longpoll,poll", 3))
        .await
        .expect("bench runs");
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(row.connected, 3, "{}", row.transport);
        assert!(row.expected > 0, "{}: the feed ran", row.transport);
        assert_eq!(row.received, row.expected, "{}", row.transport);
        assert_eq!(
            (row.gaps, row.duplicates, row.errors),
            (0, 0, 0),
            "{}",
            row.transport
        );
        assert!(row.bytes_per_event > 0.0);
    }
}

#[tokio::test]
async fn the_embedded_server_takes_more_clients_than_one_address_may_hold_in_a_class() {
    // All bench clients come from 127.0.0.1: more than --max-connections-per-address (256).
    let rows = run(args("ws", 300)).await.expect("bench runs");
    assert_eq!(rows[0].connected, 300);
    assert_eq!(rows[0].received, rows[0].expected);
    assert_eq!(rows[0].errors, 0);
}

/// A server that answers `/api/poll` with seqs 1, 2, 4, 4, 5: 3 is skipped, 4 comes twice.
async fn scripted_server() -> std::net::SocketAddr {
    scripted(&[1, 2, 4, 4, 5], 1).await
}

/// A server whose polls answer `seqs`, each stamped `ts` (last seq 5).
async fn scripted(seqs: &'static [u64], ts: u64) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut bare_polls = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            bare_polls += 1;
            // The bench's control reads (bare /api/poll, one per connection) see last_seq 0
            // the first time and 5 afterwards; the client's keep-alive polls get the script.
            let last = if bare_polls == 1 { 0 } else { 5 };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = request.split(' ').nth(1).unwrap_or("/");
                    let body = if let Some(since) = path.strip_prefix("/api/poll?since=") {
                        let since: u64 = since.parse().unwrap_or(0);
                        let events: Vec<String> = seqs
                            .iter()
                            .filter(|&&s| s > since)
                            .map(|s| {
                                format!(r#"{{"seq":{s},"ts":{ts},"kind":"tick","data":{{}}}}"#)
                            })
                            .collect();
                        format!(
                            r#"{{"events":[{}],"last_seq":5,"missed":0}}"#,
                            events.join(",")
                        )
                    } else {
                        format!(r#"{{"events":[],"last_seq":{last},"missed":0}}"#)
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_injected_gap_and_duplicate_are_reported() {
    let addr = scripted_server().await;
    let mut args = args("poll", 1);
    args.url = vec![format!("http://{addr}")];
    let rows = run(args).await.expect("bench runs");
    let row = &rows[0];
    assert_eq!(row.expected, 5);
    assert_eq!(row.received, 4, "1, 2, 4 and 5");
    assert_eq!(row.gaps, 1, "seq 3 never came");
    assert_eq!(row.duplicates, 1, "seq 4 came twice");
}

#[tokio::test]
async fn clients_spread_over_several_urls_must_see_the_same_events() {
    const ALL: &[u64] = &[1, 2, 3, 4, 5];
    // Two servers that agree: every client complete, none divergent.
    let (a, b) = (scripted(ALL, 7).await, scripted(ALL, 7).await);
    let mut agree = args("poll", 4);
    agree.url = vec![format!("http://{a}"), format!("http://{b}")];
    let row = &run(agree).await.expect("bench runs")[0];
    assert_eq!((row.servers, row.received, row.gaps), (2, 20, 0));
    assert_eq!(row.divergent, 0);
    // Two that number the same seqs but stamp other events on them: half the clients disagree.
    let (a, b) = (scripted(ALL, 7).await, scripted(ALL, 8).await);
    let mut disagree = args("poll", 4);
    disagree.url = vec![format!("http://{a}"), format!("http://{b}")];
    let row = &run(disagree).await.expect("bench runs")[0];
    assert_eq!((row.received, row.gaps), (20, 0), "complete, yet...");
    assert_eq!(row.divergent, 2, "...two clients saw other events");
}

#[test]
fn the_verdict_names_the_best_transport_per_figure_and_warns_about_coarse_cpu() {
    use pushlab::bench::{Row, verdict};
    let row = |transport: &'static str, requests, empty, p50, bytes, cpu| Row {
        transport,
        clients: 10,
        connected: 10,
        expected: 1000,
        received: 1000,
        gaps: 0,
        duplicates: 0,
        missed: 0,
        requests,
        empty,
        errors: 0,
        bytes_per_event: bytes,
        latency_us: pushlab::meter::Summary {
            count: 1000,
            p50,
            ..Default::default()
        },
        server_cpu_ms_per_1000_events: Some(cpu),
        server_user_ms_per_1000_events: None,
        server_kernel_ms_per_1000_events: None,
        server_rss_kib_per_connection: None,
        seconds: 10.0,
        requests_per_second: 0.0,
        loopback_rtt_us: 20,
        p50_over_rtt: p50 as f64 / 20.0,
        servers: 1,
        divergent: 0,
        latency: pushlab::meter::new_latency_histogram(),
    };
    let rows = [
        row("ws", 10, 0, 1_500, 75.0, 12.0),
        row("longpoll", 1000, 0, 4_000, 330.0, 300.0),
        row("poll", 120, 20, 500_000, 100.0, 60.0),
    ];
    let text = verdict(&rows).join("\n");
    assert!(
        text.contains("Latency: ws is fastest, median 1.5 ms"),
        "{text}"
    );
    assert!(text.contains("Bytes: ws spends least, 75 B"), "{text}");
    assert!(
        text.contains("Short polls carry 10.0 events per non-empty answer"),
        "{text}"
    );
    assert!(text.contains("long polling carries 1.0"), "{text}");
    assert!(text.contains("Server CPU: ws costs least"), "{text}");
    // 12 ms per 1000 events over 1000 events is one 10 ms tick: far too coarse to compare.
    assert!(
        text.contains("Warning: ws's CPU figure rests on 1 clock tick of 10 ms"),
        "{text}"
    );
    assert!(
        text.contains("poll 500.0 ms: the wait for the next request"),
        "{text}"
    );
    assert!(
        !text.contains("25000"),
        "no raw ratio of round trips: {text}"
    );
}
