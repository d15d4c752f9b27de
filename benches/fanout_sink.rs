//! The floor of a fan-out, in process: one pre-encoded WebSocket frame handed to 1, 1,000 and
//! 10,000 real TCP sockets with one non-blocking write each (what `bench/peers/floor` does per
//! event). Run with `cargo bench --bench fanout_sink`.
//!
//! It is the reference for pushlab's own publish → bytes-on-sockets path (issue 15, item 4),
//! which can be measured with the same sink: what that path spends above this is its overhead.
//! Only the writes are timed; between two iterations the sink's reader thread drains every
//! socket, so each iteration starts with empty socket buffers.

#[path = "support/sink.rs"]
mod sink;

use std::{cell::Cell, io::Write, time::Duration};

use divan::Bencher;

fn main() {
    divan::main();
}

/// A text frame of a typical event (~70 bytes of JSON), built once.
fn frame() -> Vec<u8> {
    let json = br#"{"seq":123456,"ts":1796558396224241,"kind":"tick","data":{"value":100.76}}"#;
    let mut frame = vec![0x81, json.len() as u8];
    frame.extend_from_slice(json);
    frame
}

#[divan::bench(args = sink::socket_counts(), sample_size = 1, sample_count = 100)]
fn one_frame_one_write_per_socket(bencher: Bencher, sockets: usize) {
    let sink = sink::Sink::tcp(sockets).expect("socket pairs");
    let frame = frame();
    let sent = Cell::new(0u64);
    bencher
        .with_inputs(|| {
            // Untimed: everything written so far has arrived.
            assert!(
                sink.wait_for(sent.get(), Duration::from_secs(10)),
                "the sink stalled"
            );
        })
        .bench_local_values(|()| {
            for mut socket in &sink.sockets {
                // Each socket's buffer is empty here: the whole frame is taken at once.
                let n = socket
                    .write(&frame)
                    .expect("an empty socket buffer takes a frame");
                assert_eq!(n, frame.len());
            }
            sent.set(sent.get() + (frame.len() * sockets) as u64);
        });
}
