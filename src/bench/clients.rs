//! One simulated client per transport, each keeping its own tally of what it received.
//!
//! Every client follows the feed from the same starting `since`, so each must see every seq
//! after it exactly once: a hole is a gap, a repeat is a duplicate, and a `missed` notice from
//! the server is counted as such. Latency is measured on this machine's wall clock against the
//! event's `ts` (client and server share the clock on loopback).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::wire::{Frame, Wire};
use crate::feed::unix_micros;

/// The kinds of simulated client: pushlab's transports (PROTOCOL.md), and Socket.IO's two
/// (for the Socket.IO peer in `bench/peers/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Ws,
    Sse,
    LongPoll,
    Poll,
    SocketIoWebsocket,
    SocketIoPolling,
}

impl Client {
    pub const NAMES: [(&'static str, Client); 6] = [
        ("ws", Client::Ws),
        ("sse", Client::Sse),
        ("longpoll", Client::LongPoll),
        ("poll", Client::Poll),
        ("socketio-ws", Client::SocketIoWebsocket),
        ("socketio-polling", Client::SocketIoPolling),
    ];

    pub fn parse(name: &str) -> Option<Client> {
        Client::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        Client::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(n, _)| n)
    }
}

/// What all clients of one run share.
pub struct Shared {
    /// The servers: client `i` follows `addrs[i % len]`.
    pub addrs: Vec<SocketAddr>,
    /// Every client starts after this seq.
    pub since: u64,
    /// Latency is recorded for events after this seq (published once all clients were connected).
    pub measure_from: AtomicU64,
    pub connected: AtomicUsize,
    /// Each client's last seq, so the bench can see when all have caught up with the end.
    pub progress: Vec<AtomicU64>,
    pub poll_interval: Duration,
    /// True during the measurement window.
    pub measuring: AtomicBool,
    /// Requests answered during the measurement window, all clients together.
    pub measured_requests: AtomicU64,
    pub stop: CancellationToken,
}

/// One client's account of the run.
pub struct Tally {
    pub connected: bool,
    /// This client's slot in `Shared::progress`.
    index: usize,
    pub received: u64,
    pub duplicates: u64,
    pub gaps: u64,
    pub missed: u64,
    pub requests: u64,
    pub empty: u64,
    pub errors: u64,
    pub bytes: u64,
    pub last_seq: u64,
    pub latency: Histogram<u64>,
    /// What this client received, as one number: the XOR of a hash of each event's (seq, ts),
    /// the same for every client that received the same events, whichever server sent them.
    pub digest: u64,
    /// The last events received, so that those past the phase's end leave the digest.
    recent: std::collections::VecDeque<(u64, u64)>,
}

/// Events kept in [`Tally::recent`]: more than a feed publishes between the pause and the read
/// of its end.
const RECENT_EVENTS: usize = 256;

/// A 64-bit mix of an event's (seq, ts) (splitmix64's finalizer): equal events, equal hashes.
fn event_hash(seq: u64, ts: u64) -> u64 {
    let mut z = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ts;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Tally {
    fn new(index: usize, since: u64) -> Tally {
        Tally {
            connected: false,
            index,
            received: 0,
            duplicates: 0,
            gaps: 0,
            missed: 0,
            requests: 0,
            empty: 0,
            errors: 0,
            bytes: 0,
            last_seq: since,
            latency: crate::meter::new_latency_histogram(),
            digest: 0,
            recent: std::collections::VecDeque::with_capacity(RECENT_EVENTS),
        }
    }

    fn event(&mut self, seq: u64, ts: u64, measure_from: u64) {
        if seq <= self.last_seq {
            self.duplicates += 1;
            return;
        }
        self.gaps += seq - self.last_seq - 1;
        self.last_seq = seq;
        self.received += 1;
        self.digest ^= event_hash(seq, ts);
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, ts));
        if seq > measure_from {
            let latency = unix_micros().saturating_sub(ts);
            let _ = self
                .latency
                .record(latency.clamp(1, crate::meter::MAX_LATENCY_US));
        }
    }

    /// A `missed` notice: the server says `missed` events are gone and resumes at `resume_seq`.
    fn missed(&mut self, missed: u64, resume_seq: u64) {
        self.missed += missed;
        self.last_seq = self.last_seq.max(resume_seq.saturating_sub(1));
    }

    /// This client's number in its phase (client i follows server i mod servers).
    pub fn index(&self) -> usize {
        self.index
    }

    /// A client that could not run at all.
    pub fn failed(index: usize, since: u64) -> Tally {
        let mut tally = Tally::new(index, since);
        tally.errors = 1;
        tally
    }

    /// Shows the bench how far this client has got.
    fn report_progress(&self, shared: &Shared) {
        shared.progress[self.index].store(self.last_seq, Relaxed);
    }

    /// Closes the account once the feed stopped at `end`: what never came is a gap.
    pub fn finish(&mut self, end: u64) {
        self.gaps += end.saturating_sub(self.last_seq);
        for &(seq, ts) in self.recent.iter().filter(|(seq, _)| *seq > end) {
            self.digest ^= event_hash(seq, ts);
        }
        // A tick published as the feed paused is past the phase's end: not part of the count.
        // (Received in order, so they are the last `last_seq - end` events.)
        self.received -= self.last_seq.saturating_sub(end).min(self.received);
    }
}

#[derive(Deserialize)]
struct Message {
    seq: Option<u64>,
    ts: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    missed: Option<u64>,
    resume_seq: Option<u64>,
}

#[derive(Deserialize)]
struct PollAnswer {
    events: Vec<Message>,
    missed: u64,
    last_seq: u64,
}

/// Runs one client until `shared.stop`; errors end it and are counted.
pub async fn run_client(transport: Client, index: usize, shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::new(index, shared.since);
    let outcome = tokio::select! {
        result = follow(transport, &shared, &mut tally) => result,
        _ = shared.stop.cancelled() => Ok(()),
    };
    if outcome.is_err() && !shared.stop.is_cancelled() {
        tally.errors += 1;
    }
    tally
}

async fn follow(transport: Client, shared: &Shared, tally: &mut Tally) -> std::io::Result<()> {
    let mut wire = Wire::connect(shared.addrs[tally.index % shared.addrs.len()]).await?;
    let result = match transport {
        Client::Ws => follow_ws(&mut wire, shared, tally).await,
        Client::Sse => follow_sse(&mut wire, shared, tally).await,
        Client::LongPoll | Client::Poll => follow_polls(transport, &mut wire, shared, tally).await,
        Client::SocketIoWebsocket => {
            super::socketio::follow_websocket(&mut wire, shared, tally).await
        }
        Client::SocketIoPolling => super::socketio::follow_polling(&mut wire, shared, tally).await,
    };
    tally.bytes = wire.sent + wire.received;
    result
}

pub(super) fn mark_connected(shared: &Shared, tally: &mut Tally) {
    if !tally.connected {
        tally.connected = true;
        shared.connected.fetch_add(1, Relaxed);
    }
}

pub(super) fn on_message(bytes: &[u8], shared: &Shared, tally: &mut Tally) -> std::io::Result<()> {
    let message: Message = serde_json::from_slice(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    match (message.kind.as_deref(), message.seq, message.ts) {
        (Some("missed"), _, _) => {
            tally.missed(message.missed.unwrap_or(0), message.resume_seq.unwrap_or(0))
        }
        (None, Some(seq), Some(ts)) => tally.event(seq, ts, shared.measure_from.load(Relaxed)),
        _ => {}
    }
    tally.report_progress(shared);
    Ok(())
}

async fn follow_ws(wire: &mut Wire, shared: &Shared, tally: &mut Tally) -> std::io::Result<()> {
    wire.upgrade(&format!("/ws?since={}", shared.since), None)
        .await?;
    tally.requests += 1;
    mark_connected(shared, tally);
    loop {
        let frame = wire.read_frame().await;
        tally.bytes = wire.sent + wire.received;
        match frame? {
            Frame::Text(payload) => on_message(&payload, shared, tally)?,
            Frame::Ping(payload) => wire.send_frame(0xA, &payload).await?,
            Frame::Close(code) => {
                return Err(std::io::Error::other(format!(
                    "server closed the socket with {code}"
                )));
            }
            Frame::Binary | Frame::Other => {}
        }
    }
}

async fn follow_sse(wire: &mut Wire, shared: &Shared, tally: &mut Tally) -> std::io::Result<()> {
    wire.get(&format!("/api/sse?since={}", shared.since), "")
        .await?;
    let (status, _) = wire.read_head().await?;
    if status != 200 {
        return Err(std::io::Error::other(format!("SSE answered {status}")));
    }
    tally.requests += 1;
    mark_connected(shared, tally);
    let mut pending = Vec::new();
    while let Some(chunk) = wire.read_chunk().await? {
        tally.bytes = wire.sent + wire.received;
        pending.extend_from_slice(&chunk);
        // Complete records end with a blank line; a partial one waits for the next chunk.
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let record: Vec<u8> = pending.drain(..end + 2).collect();
            for line in record.split(|b| *b == b'\n') {
                if let Some(data) = line.strip_prefix(b"data: ") {
                    on_message(data, shared, tally)?;
                }
            }
        }
    }
    Err(std::io::Error::other("the SSE stream ended"))
}

/// Short polls every `poll_interval`, long polls back to back; one keep-alive connection.
async fn follow_polls(
    transport: Client,
    wire: &mut Wire,
    shared: &Shared,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let mut cursor = shared.since;
    loop {
        let path = match transport {
            Client::LongPoll => format!("/api/longpoll?since={cursor}&timeout_ms=25000"),
            _ => format!("/api/poll?since={cursor}"),
        };
        wire.get(&path, "").await?;
        let (status, head) = wire.read_head().await?;
        let body = wire.read_sized_body(&head).await?;
        tally.requests += 1;
        if shared.measuring.load(Relaxed) {
            shared.measured_requests.fetch_add(1, Relaxed);
        }
        tally.bytes = wire.sent + wire.received;
        if status != 200 {
            return Err(std::io::Error::other(format!("poll answered {status}")));
        }
        mark_connected(shared, tally);
        let answer: PollAnswer = serde_json::from_slice(&body)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if answer.missed > 0 {
            let resume = answer
                .events
                .first()
                .and_then(|e| e.seq)
                .unwrap_or(answer.last_seq + 1);
            tally.missed(answer.missed, resume);
        }
        if answer.events.is_empty() {
            tally.empty += 1;
        }
        let measure_from = shared.measure_from.load(Relaxed);
        for event in &answer.events {
            if let (Some(seq), Some(ts)) = (event.seq, event.ts) {
                tally.event(seq, ts, measure_from);
            }
        }
        tally.report_progress(shared);
        cursor = answer.last_seq.max(cursor);
        if transport == Client::Poll {
            tokio::time::sleep(shared.poll_interval).await;
        }
    }
}
