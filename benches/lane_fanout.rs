//! pushlab's own publish → bytes-on-sockets path, on the floor's sink: `Hub::publish`, the
//! worker's fan-out lane waking once, and one non-blocking write of the shared frame per seated
//! WebSocket (`transport::fanout`, `Socket::write_now`), with the meter counting each delivery.
//! Run with `cargo bench --bench lane_fanout`, beside `cargo bench --bench fanout_sink`: the
//! ratio of the two at 1, 1,000 and 10,000 sockets (same run, same machine) is the lane's
//! overhead over the floor, and a regression of the fast path shows here before a full run.
//!
//! Each iteration publishes one event (~70 bytes of JSON) and lets the lane run until every
//! seat has been handed it; the sink's reader thread drains the sockets between iterations.
//!
//! `publish_to_counting_seats` runs the same lane over seats that only count the bytes handed
//! to them (no socket, no system call), at 1, 1,000 and 10,000 seats whatever the open-file
//! limit: the lane's and the meter's own work per delivery, apart from the kernel's.

#[path = "support/sink.rs"]
mod sink;

use std::{cell::Cell, io, os::fd::RawFd, rc::Rc, sync::Arc, time::Duration};

use bytes::Bytes;
use divan::Bencher;
use pushlab::{
    config::Config,
    feed::{Event, Kind},
    limits::ClientKey,
    state::AppState,
    transport::{
        fanout::{self, FastWrite, Seat},
        follower::Follower,
        ws::FeedWriter,
    },
    transport_kind::Transport,
    ws::{Limits, MemoryBudget, Socket},
};

fn main() {
    divan::main();
}

/// A feed socket's writer that also counts what the lane handed it (the bench's end condition).
struct Counted {
    writer: FeedWriter<tokio::net::TcpStream>,
    handed: Rc<Cell<u64>>,
}

impl FastWrite for Counted {
    fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
        self.writer.frame(event)
    }

    fn straight_fd(&self) -> Option<RawFd> {
        self.writer.straight_fd()
    }

    fn sent_straight(&self, bytes: &Bytes, sent: io::Result<usize>) -> bool {
        self.handed.set(self.handed.get() + 1);
        self.writer.sent_straight(bytes, sent)
    }

    fn write_now(&self, bytes: &Bytes) -> bool {
        self.handed.set(self.handed.get() + 1);
        self.writer.write_now(bytes)
    }
}

/// Seats `seat` in its worker's WebSocket lane, caught up with the feed.
fn sit_caught_up<W: FastWrite + 'static>(state: &Arc<AppState>, seat: &Rc<Seat<W>>) {
    let follower = Follower::new(
        state,
        Transport::Ws,
        state.hub.last_seq(),
        ClientKey::Unknown,
    );
    let refused = fanout::sit(state, Transport::Ws, seat, follower);
    assert!(refused.is_none(), "every seat sits");
}

/// A seat with no socket: it takes every write whole and counts its bytes.
struct CountingSeat {
    bytes: Rc<Cell<u64>>,
}

impl FastWrite for CountingSeat {
    fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
        event.ws_frame(false)
    }

    fn straight_fd(&self) -> Option<RawFd> {
        None
    }

    fn sent_straight(&self, _: &Bytes, _: io::Result<usize>) -> bool {
        unreachable!("no socket to send to")
    }

    fn write_now(&self, bytes: &Bytes) -> bool {
        self.bytes.set(self.bytes.get() + bytes.len() as u64);
        true
    }
}

#[divan::bench(args = [1, 1_000, 10_000], sample_size = 1, sample_count = 100)]
fn publish_to_counting_seats(bencher: Bencher, seats: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let state = Arc::new(AppState::new(Config::for_tests(), "bench".into()));
    let bytes = Rc::new(Cell::new(0u64));
    let seated: Vec<_> = local.block_on(&runtime, async {
        (0..seats)
            .map(|_| {
                let seat = Seat::new(CountingSeat {
                    bytes: bytes.clone(),
                });
                sit_caught_up(&state, &seat);
                seat
            })
            .collect()
    });
    let data = serde_json::json!({ "value": 100.76 });
    bencher.bench_local(|| {
        local.block_on(&runtime, async {
            let event = state.hub.publish(Kind::Tick, &data);
            let target = bytes.get() + seats as u64 * event.ws_frame(false).len() as u64;
            while bytes.get() < target {
                tokio::task::yield_now().await;
            }
        })
    });
    for seat in &seated {
        drop(seat.stand_up());
    }
}

/// The lane's sends batched through io_uring (`batch_send`), where the kernel has it.
#[divan::bench(args = sink::socket_counts(), sample_size = 1, sample_count = 100)]
fn publish_through_the_lane(bencher: Bencher, sockets: usize) {
    through_the_lane(bencher, sockets, Config::for_tests());
}

/// The same lane making one send(2) per socket (`--no-io-uring`).
#[divan::bench(args = sink::socket_counts(), sample_size = 1, sample_count = 100)]
fn publish_through_the_lane_one_send_each(bencher: Bencher, sockets: usize) {
    let mut config = Config::for_tests();
    config.no_io_uring = true;
    through_the_lane(bencher, sockets, config);
}

fn through_the_lane(bencher: Bencher, sockets: usize, config: Config) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let state = Arc::new(AppState::new(config, "bench".into()));
    let mut sink = sink::Sink::tcp(sockets).expect("socket pairs");
    let handed = Rc::new(Cell::new(0u64));
    let limits = Limits {
        max_message: 4096,
        budget: MemoryBudget::new(64 * 1024 * 1024),
        heartbeat: Duration::from_secs(3600),
        timeout: Duration::from_secs(7200),
    };
    let near = std::mem::take(&mut sink.sockets);
    let seats: Vec<_> = local.block_on(&runtime, async {
        let mut streams = Vec::with_capacity(near.len());
        for socket in near {
            let io = tokio::net::TcpStream::from_std(socket).expect("registered socket");
            // Known writable, as a server's socket is once it has written its handshake: a
            // socket the reactor has not seen yet refuses a non-blocking write (its seat would
            // leave the lane at once).
            io.writable().await.expect("writable socket");
            streams.push(io);
        }
        streams
            .into_iter()
            .map(|io| {
                let writer = FeedWriter::new(Socket::new(io, &[], limits.clone()), false);
                let seat = Seat::new(Counted {
                    writer,
                    handed: handed.clone(),
                });
                sit_caught_up(&state, &seat);
                seat
            })
            .collect()
    });
    let data = serde_json::json!({ "value": 100.76 });
    let frame_bytes = {
        let probe = state.hub.publish(Kind::Tick, &data);
        probe.ws_frame(false).len() as u64
    };
    // The probe above is the lane's first round: let it pass before timing.
    let published = Cell::new(1u64);
    local.block_on(&runtime, async {
        while handed.get() < sockets as u64 {
            tokio::task::yield_now().await;
        }
    });
    bencher
        .with_inputs(|| {
            // Untimed: everything written so far has arrived (divan may make several inputs
            // in a row: each waits for what was published before it).
            let total = published.get() * sockets as u64 * frame_bytes;
            assert!(
                sink.wait_for(total, Duration::from_secs(10)),
                "the sink stalled"
            );
        })
        .bench_local_values(|()| {
            local.block_on(&runtime, async {
                let target = handed.get() + sockets as u64;
                state.hub.publish(Kind::Tick, &data);
                published.set(published.get() + 1);
                while handed.get() < target {
                    tokio::task::yield_now().await;
                }
            })
        });
    // Out of the lane, then the lane's runtime gone, before the sink: its reader thread ends
    // only once every near end is closed.
    for seat in &seats {
        drop(seat.stand_up());
    }
    drop(seats);
    drop(local);
    drop(sink);
}
