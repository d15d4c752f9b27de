//! The hub's publish → fan-out path at 1, 1,000 and 10,000 followers, so that a regression shows
//! before a full `pushlab bench` run. Run with `cargo bench --bench hub_fanout`.
//!
//! One iteration publishes one event (numbering, encoding it once in three forms, storing it)
//! and then lets every follower take what is new from its cursor, as each SSE or WebSocket
//! connection does when it wakes. It measures the server-side work per event; the sockets'
//! own cost is what `pushlab bench` measures.

use divan::{Bencher, black_box};
use pushlab::feed::{Hub, Kind};

fn main() {
    divan::main();
}

#[divan::bench(args = [1, 1_000, 10_000])]
fn publish_then_every_follower_reads(bencher: Bencher, followers: usize) {
    let hub = Hub::new(1024);
    let data = serde_json::json!({ "value": 101.25 });
    hub.publish(Kind::Tick, &data);
    let mut cursors = vec![hub.last_seq(); followers];
    bencher.bench_local(|| {
        hub.publish(Kind::Tick, &data);
        for cursor in cursors.iter_mut() {
            let batch = hub.since(*cursor, 48).expect("cursors never run ahead");
            *cursor = batch.next_cursor(*cursor);
            black_box(&batch);
        }
    });
}

#[divan::bench]
fn publish_only(bencher: Bencher) {
    let hub = Hub::new(1024);
    let data = serde_json::json!({ "value": 101.25 });
    bencher.bench_local(|| black_box(hub.publish(Kind::Tick, &data)));
}
