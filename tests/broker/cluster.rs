//! A cluster for the broker tests: real `pushlab` processes (the binary cargo built) against the
//! real RabbitMQ whose URL `scripts/test` exports as `PUSHLAB_TEST_BROKER`, and clients of every
//! transport that count what they receive. Each test uses a stream of its own.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;

#[path = "../api/helpers.rs"] // relative to tests/broker/: this file is loaded by path
pub mod helpers;

#[allow(unused_imports)] // each test binary uses its share
pub use helpers::{PATIENCE, RawConn, Response, next_json, sse_records};

/// The longest a server may take to start (connect, read the epoch, catch up with the stream).
pub const START_PATIENCE: Duration = Duration::from_secs(60);

/// The broker's URL, or `None` (and a line saying why the test is skipped) when the tests run
/// without one: `scripts/test` always sets it.
pub fn broker_url() -> Option<String> {
    match std::env::var("PUSHLAB_TEST_BROKER") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED: PUSHLAB_TEST_BROKER is not set (scripts/test starts RabbitMQ and sets it; \
                 by hand: export PUSHLAB_TEST_BROKER=$(scripts/rabbitmq start))"
            );
            None
        }
    }
}

/// A stream name no other test (nor an earlier run) uses.
pub fn fresh_stream(test: &str) -> String {
    format!(
        "pushlab.test.{test}.{}.{:08x}",
        std::process::id(),
        rand_u32()
    )
}

/// Deletes a test's queues (the stream, `.epoch`, `.settings`) when dropped, however the test
/// ends, so that runs do not pile streams up in `target/rabbitmq/`. Declare it before the
/// nodes: they stop first (locals drop in reverse order).
pub struct Forget {
    broker: String,
    stream: String,
}

impl Forget {
    pub fn new(broker: &str, stream: &str) -> Forget {
        Forget {
            broker: broker.to_owned(),
            stream: stream.to_owned(),
        }
    }
}

impl Drop for Forget {
    fn drop(&mut self) {
        let (broker, stream) = (self.broker.clone(), self.stream.clone());
        // A runtime of its own on a thread of its own: a drop cannot await.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let connection = tokio::time::timeout(
                    Duration::from_secs(5),
                    lapin::Connection::connect(&broker, lapin::ConnectionProperties::default()),
                )
                .await
                .ok()?
                .ok()?;
                for name in [
                    stream.clone(),
                    format!("{stream}.epoch"),
                    format!("{stream}.settings"),
                ] {
                    let channel = connection.create_channel().await.ok()?;
                    let _ = channel
                        .queue_delete(name.as_str().into(), Default::default())
                        .await;
                }
                let _ = connection.close(200, "test done".into()).await;
                Some(())
            })
        });
        let _ = done.join();
    }
}

fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

/// One pushlab process.
pub struct Node {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub name: String,
    args: Vec<String>,
    /// Everything it wrote on stderr (logs), for failure messages.
    pub log: Arc<Mutex<String>>,
}

/// The command line of a node of `stream` on `broker`, named `name`, plus `extra`.
pub fn node_args(broker: &str, stream: &str, name: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--broker",
        broker,
        "--broker-stream",
        stream,
        "--server-name",
        name,
        "--admin-token",
        "test-token",
        "--workers",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs pushlab with `args` until it says it serves (`Ok(node)`) or exits (`Err((code, stderr))`).
pub async fn spawn(args: Vec<String>, bind: &str, name: &str) -> Result<Node, (i32, String)> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pushlab"));
    command
        .args(&args)
        .args(["--bind", bind])
        .env("RUST_LOG", "pushlab=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("target pushlab runs");
    let log = Arc::new(Mutex::new(String::new()));
    {
        let stderr = child.stderr.take().unwrap();
        let log = log.clone();
        let name = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var("PUSHLAB_TEST_VERBOSE").is_ok() {
                    eprintln!("[{name}] {line}");
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let stdout = child.stdout.take().unwrap();
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("pushlab is running at http://") {
                let _ = found.send(url.trim().to_owned());
            }
        }
    });
    let deadline = std::time::Instant::now() + START_PATIENCE;
    loop {
        if let Ok(addr) = address.try_recv() {
            return Ok(Node {
                child: Some(child),
                addr: addr.parse().expect("an address"),
                name: name.to_owned(),
                args,
                log,
            });
        }
        if let Some(status) = child.try_wait().unwrap() {
            // Let the stderr thread read the rest.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Err((status.code().unwrap_or(-1), log.lock().unwrap().clone()));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not start within {START_PATIENCE:?}:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Node {
    /// Starts a node on a free port; fails the test if it does not start.
    pub async fn start(broker: &str, stream: &str, name: &str, extra: &[&str]) -> Node {
        spawn(node_args(broker, stream, name, extra), "127.0.0.1:0", name)
            .await
            .unwrap_or_else(|(code, log)| panic!("{name} exited ({code}):\n{log}"))
    }

    /// Stops it as Ctrl-C would (SIGTERM), and waits for it to exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + PATIENCE;
            while child.try_wait().unwrap().is_none() {
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Starts it again on the same port, with the same flags.
    pub async fn restart(&mut self) {
        self.stop().await;
        let bind = self.addr.to_string();
        let node = spawn(self.args.clone(), &bind, &self.name)
            .await
            .unwrap_or_else(|(code, log)| panic!("{} exited ({code}):\n{log}", self.name));
        *self = node;
    }

    pub async fn conn(&self) -> RawConn {
        RawConn::connect(self.addr).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.conn().await.get(path).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status, 200, "{} GET {path}: {}", self.name, res.text());
        res.json()
    }

    pub async fn stats(&self) -> Value {
        self.get_json("/api/stats").await
    }

    pub async fn poll(&self, query: &str) -> Value {
        self.get_json(&format!("/api/poll?{query}")).await
    }

    pub async fn post_chat(&self, author: &str, text: &str) -> Response {
        let body = serde_json::json!({ "author": author, "text": text }).to_string();
        self.conn().await.post_json("/api/chat", &body).await
    }

    /// An instructor's call with the test token.
    pub async fn admin(&self, method: &str, path: &str, body: &str) -> Response {
        let headers = [
            ("Authorization", "Bearer test-token"),
            ("Content-Type", "application/json"),
        ];
        self.conn()
            .await
            .request(method, path, &headers, body.as_bytes())
            .await
    }

    /// The feed's last seq on this node.
    pub async fn last_seq(&self) -> u64 {
        self.poll("").await["last_seq"].as_u64().unwrap()
    }

    /// Waits until this node's feed reaches `seq`.
    pub async fn until_seq(&self, seq: u64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let last = self.last_seq().await;
            if last >= seq {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} stuck at seq {last}, waiting for {seq}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The events with seq in (since, until], read with polls (each answer holds them all).
    pub async fn events(&self, since: u64, until: u64) -> Vec<Value> {
        self.until_seq(until).await;
        let answer = self.poll(&format!("since={since}")).await;
        assert_eq!(answer["missed"], 0, "{answer}");
        answer["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["seq"].as_u64().unwrap() <= until)
            .cloned()
            .collect()
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The seqs of a list of events.
pub fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// What a counting client saw: every event's seq (in order), the `missed` it was told, resets.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub seqs: Vec<u64>,
    pub missed: u64,
    pub resets: u64,
    pub reconnects: u64,
}

impl Tally {
    /// Checks that it saw every seq in (since, until] exactly once, in order, and nothing missed.
    pub fn assert_complete(&self, who: &str, since: u64, until: u64) {
        let seen: Vec<u64> = self.seqs.iter().copied().filter(|s| *s <= until).collect();
        let expected: Vec<u64> = (since + 1..=until).collect();
        if seen != expected {
            let mut sorted = seen.clone();
            sorted.sort();
            let dups = sorted.windows(2).filter(|w| w[0] == w[1]).count();
            let missing: Vec<u64> = expected
                .iter()
                .filter(|s| !seen.contains(s))
                .copied()
                .take(20)
                .collect();
            panic!(
                "{who}: {} events in ({since}, {until}] expected, {} seen, {dups} duplicated, missing (first 20) {missing:?}",
                expected.len(),
                seen.len()
            );
        }
        assert_eq!((self.missed, self.resets), (0, 0), "{who}: {self:?}");
    }
}

/// A counting client of one transport, running until stopped.
pub struct Client {
    pub transport: &'static str,
    /// The last seq it received.
    pub progress: Arc<std::sync::atomic::AtomicU64>,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<Tally>,
}

impl Client {
    /// Follows the feed of `addr` over `transport` (`ws`, `sse`, `longpoll`, `poll`, `classic`)
    /// from `since` in the run `epoch`, reconnecting (resuming) after any failure.
    pub fn start(transport: &'static str, addr: SocketAddr, since: u64, epoch: &str) -> Client {
        let progress = Arc::new(std::sync::atomic::AtomicU64::new(since));
        let stop = tokio_util::sync::CancellationToken::new();
        let run = Run {
            addr,
            epoch: epoch.to_owned(),
            tally: Tally::default(),
            last: since,
            progress: progress.clone(),
        };
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut run = run;
            let follow = async {
                loop {
                    match transport {
                        "ws" => run.ws().await,
                        "sse" => run.sse().await,
                        "longpoll" => run.polls("longpoll", "&timeout_ms=1000", 0).await,
                        "poll" => run.polls("poll", "", 100).await,
                        "classic" => run.classic().await,
                        other => panic!("no client for {other}"),
                    }
                    run.tally.reconnects += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::select! {
                _ = follow => unreachable!(),
                _ = token.cancelled() => {}
            }
            run.tally
        });
        Client {
            transport,
            progress,
            stop,
            task,
        }
    }

    /// Waits until it has received `seq`.
    pub async fn until(&self, seq: u64) {
        let deadline = tokio::time::Instant::now() + PATIENCE * 2;
        while self.progress.load(std::sync::atomic::Ordering::Relaxed) < seq {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the {} client is stuck at {} (waiting for {seq})",
                self.transport,
                self.progress.load(std::sync::atomic::Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn finish(self) -> Tally {
        self.stop.cancel();
        self.task.await.expect("the client ran")
    }
}

struct Run {
    addr: SocketAddr,
    epoch: String,
    tally: Tally,
    last: u64,
    progress: Arc<std::sync::atomic::AtomicU64>,
}

impl Run {
    fn event(&mut self, event: &Value) {
        let seq = event["seq"].as_u64().expect("an event has a seq");
        self.tally.seqs.push(seq);
        self.last = self.last.max(seq);
        self.progress
            .store(self.last, std::sync::atomic::Ordering::Relaxed);
    }

    fn notice(&mut self, notice: &Value) {
        match notice["type"].as_str() {
            Some("missed") => self.tally.missed += notice["missed"].as_u64().unwrap(),
            Some("reset") => self.tally.resets += 1,
            _ => {}
        }
    }

    async fn ws(&mut self) {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let url = format!(
            "ws://{}/ws?since={}&epoch={}",
            self.addr, self.last, self.epoch
        );
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
            return;
        };
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            if value.get("seq").is_some() {
                self.event(&value);
            } else {
                self.notice(&value);
            }
        }
    }

    async fn sse(&mut self) {
        let Ok(stream) = tokio::net::TcpStream::connect(self.addr).await else {
            return;
        };
        drop(stream);
        let mut conn = RawConn::connect(self.addr).await;
        let request = format!(
            "GET /api/sse HTTP/1.1\r\nHost: {}\r\nLast-Event-ID: {}:{}\r\n\r\n",
            self.addr, self.epoch, self.last
        );
        conn.send(request.as_bytes()).await;
        let (status, _) = conn.read_head().await;
        if status != 200 {
            return;
        }
        let mut text = String::new();
        let mut taken = 0;
        while let Some(chunk) = conn.read_chunk().await {
            text.push_str(std::str::from_utf8(&chunk).unwrap());
            // Only whole records: the last one may still be arriving.
            let complete = text.rfind("\n\n").map_or("", |end| &text[..end + 2]);
            let records = sse_records(complete);
            for (_, kind, data) in &records[taken..] {
                let value: Value = serde_json::from_str(data).unwrap();
                match kind.as_str() {
                    "missed" => self.tally.missed += value["missed"].as_u64().unwrap(),
                    "reset" => self.tally.resets += 1,
                    _ => self.event(&value),
                }
            }
            taken = records.len();
        }
    }

    async fn polls(&mut self, path: &str, extra: &str, pause_ms: u64) {
        loop {
            let Ok(stream) = tokio::net::TcpStream::connect(self.addr).await else {
                return;
            };
            drop(stream);
            let mut conn = RawConn::connect(self.addr).await;
            let query = format!("since={}&epoch={}{extra}", self.last, self.epoch);
            let res = conn.get(&format!("/api/{path}?{query}")).await;
            if res.status != 200 {
                return;
            }
            let answer = res.json();
            if answer.get("reset").is_some() {
                self.tally.resets += 1;
            }
            self.tally.missed += answer["missed"].as_u64().unwrap();
            for event in answer["events"].as_array().unwrap() {
                self.event(event);
            }
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    }

    async fn classic(&mut self) {
        loop {
            let Ok(stream) = tokio::net::TcpStream::connect(self.addr).await else {
                return;
            };
            drop(stream);
            let mut conn = RawConn::connect(self.addr).await;
            let res = conn
                .get(&format!("/classic?seen={}&epoch={}", self.last, self.epoch))
                .await;
            if res.status != 200 {
                return;
            }
            let page = res.text();
            let mut shown: Vec<u64> = page
                .split("data-seq=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next()?.parse().ok())
                .collect();
            shown.sort();
            let last = self.last;
            for seq in shown.into_iter().filter(|s| *s > last) {
                self.event(&serde_json::json!({ "seq": seq }));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}
