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
        rate: Some(20.0),
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

/// A server whose polls answer `seqs`, each stamped `ts` (last seq 5), in the run "e".
async fn scripted(seqs: &'static [u64], ts: u64) -> std::net::SocketAddr {
    scripted_runs(seqs, ts, |read| ("e", if read < 2 { 0 } else { 5 })).await
}

/// A server whose polls answer `seqs` stamped `ts`, and whose `/healthz` answers its `n`th read
/// (from 0) with the run and last seq `position(n)`. The bench reads it twice before its
/// clients start (the run's check, then the phase's start) and twice after (the window's
/// start, the phase's end).
async fn scripted_runs(
    seqs: &'static [u64],
    ts: u64,
    position: fn(usize) -> (&'static str, u64),
) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let reads = reads.clone();
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
                    } else if path == "/healthz" {
                        let (epoch, last) =
                            position(reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
                        format!(r#"{{"status":"ok","epoch":"{epoch}","last_seq":{last}}}"#)
                    } else if path == "/api/stats" {
                        r#"{"server":{"name":"scripted"},"feed":{"paused":false,"rate_hz":10.0}}"#
                            .to_owned()
                    } else {
                        r#"{"error":"not found"}"#.to_owned()
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

/// A server restarted during a phase numbers its feed from 1 again: the phase is reported as
/// interrupted, and no count wraps round (it read 18446744073709549826 expected events, exit 0).
#[tokio::test]
async fn a_server_restarted_during_a_phase_interrupts_it_and_no_count_wraps() {
    let addr = scripted_runs(&[1, 2, 3], 1, |read| {
        if read < 3 { ("old", 208) } else { ("new", 3) }
    })
    .await;
    let mut args = args("poll", 2);
    args.url = vec![format!("http://{addr}")];
    args.rate = None;
    let rows = run(args).await.expect("the run goes on");
    let row = &rows[0];
    let why = row.interrupted.as_deref().expect("interrupted");
    assert!(why.contains("new run") && why.contains("\"new\""), "{why}");
    assert!(row.expected < 1000, "no wrap: {}", row.expected);
    let failures = pushlab::bench::failures(&rows);
    assert_eq!(failures.len(), 1, "the run exits 1: {failures:?}");
    assert!(
        pushlab::bench::verdict(&rows)
            .iter()
            .any(|l| l.contains("Left out") && l.contains("poll (interrupted)")),
        "{:?}",
        pushlab::bench::verdict(&rows)
    );
}

/// A restart while the clients catch up (after the phase's end was read) interrupts the phase
/// too: it passed with exit 0, its gaps taken for the transport's.
#[tokio::test]
async fn a_server_restarted_while_its_clients_catch_up_interrupts_the_phase() {
    let addr = scripted_runs(&[1, 2, 3, 4, 5], 1, |read| {
        if read < 4 {
            ("old", if read < 2 { 0 } else { 5 })
        } else {
            ("new", 1)
        }
    })
    .await;
    let mut args = args("poll", 2);
    args.url = vec![format!("http://{addr}")];
    args.rate = None;
    let rows = run(args).await.expect("the run goes on");
    let why = rows[0].interrupted.as_deref().expect("interrupted");
    assert!(why.contains("while the clients caught up"), "{why}");
    assert_eq!(pushlab::bench::failures(&rows).len(), 1);
}

/// Servers that do not share one feed are refused before any phase: their clients' counts
/// against each other's seqs would mean nothing (the check once passed them).
#[tokio::test]
async fn servers_of_different_runs_are_refused_before_the_run() {
    let a = scripted_runs(&[1], 1, |_| ("one", 2251)).await;
    let b = scripted_runs(&[1], 1, |_| ("two", 14749)).await;
    let mut args = args("poll", 2);
    args.url = vec![format!("http://{a}"), format!("http://{b}")];
    args.rate = None;
    let error = run(args).await.expect_err("refused").to_string();
    assert!(error.contains("do not share one feed"), "{error}");
}

/// The bench's own reads of the feed's position are not client traffic: the server's poll
/// figures are the bench clients' exactly (its reads of `/api/poll` were counted as polls).
/// And a server the bench set for its run gets its own settings back after it.
#[tokio::test]
async fn the_bench_leaves_a_servers_figures_and_settings_as_its_clients_made_them() {
    let app = crate::helpers::spawn_with(|c| c.rate = 2.0).await;
    let mut with_token = args("poll", 3);
    with_token.url = vec![format!("http://{}", app.addr)];
    with_token.admin_token = Some(app.token.clone());
    let rows = run(with_token).await.expect("bench runs");
    assert_eq!(rows[0].received, rows[0].expected);
    let stats = app.stats().await;
    assert_eq!(
        stats["transports"]["poll"]["requests"].as_u64(),
        Some(rows[0].requests),
        "the server counted the bench's clients' polls, nothing else"
    );
    assert_eq!(stats["feed"]["paused"], false, "not left paused");
    assert_eq!(
        stats["feed"]["rate_hz"], 2.0,
        "its own rate again, not the bench's 20"
    );

    // Without the token the bench can neither set the rate nor resume a paused feed: it says so
    // instead of measuring nothing.
    let mut rate_without_token = args("poll", 1);
    rate_without_token.url = vec![format!("http://{}", app.addr)];
    let error = run(rate_without_token.clone()).await.expect_err("refused");
    assert!(error.to_string().contains("--admin-token"), "{error}");
    app.set(r#"{"paused":true}"#).await;
    rate_without_token.rate = None;
    let error = run(rate_without_token).await.expect_err("refused");
    assert!(error.to_string().contains("paused"), "{error}");
}

#[tokio::test]
async fn an_injected_gap_and_duplicate_are_reported() {
    let addr = scripted_server().await;
    let mut args = args("poll", 1);
    args.url = vec![format!("http://{addr}")];
    args.rate = None;
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
    agree.rate = None;
    let row = &run(agree).await.expect("bench runs")[0];
    assert_eq!((row.servers, row.received, row.gaps), (2, 20, 0));
    assert_eq!(row.divergent, 0);
    // Two that number the same seqs but stamp other events on them: half the clients disagree.
    let (a, b) = (scripted(ALL, 7).await, scripted(ALL, 8).await);
    let mut disagree = args("poll", 4);
    disagree.url = vec![format!("http://{a}"), format!("http://{b}")];
    disagree.rate = None;
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
        complete: 10,
        divergent: 0,
        rate_hz: 0.0,
        feed_rate_hz: 0.0,
        interrupted: None,
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
