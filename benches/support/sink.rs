//! A counting sink for fan-out micro-benchmarks (issue 15, item 4): N connected TCP pairs on
//! 127.0.0.1. The near ends are what the code under test writes to (non-blocking, as a server's
//! sockets are); the far ends are read on their own thread, which counts every byte, so a
//! benchmark can hand one event to N real sockets, then wait (outside the timed part) until all
//! of it has arrived and the sockets' buffers are empty again.

use std::{
    io,
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tokio::io::AsyncReadExt;

pub struct Sink {
    /// The near ends, non-blocking, with TCP_NODELAY (as a server's sockets).
    pub sockets: Vec<TcpStream>,
    received: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    drainer: Option<JoinHandle<()>>,
}

impl Sink {
    /// Whether `n` pairs fit in the open-file limit, once raised: 2n file descriptors and some.
    /// The hard limit is raised too where the process may (with CAP_SYS_RESOURCE).
    pub fn can_hold(n: usize) -> bool {
        let need = 2 * n as u64 + 64;
        if rlimit::getrlimit(rlimit::Resource::NOFILE).is_ok_and(|(_, hard)| hard < need) {
            let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, need, need);
        }
        pushlab::bench::raise_open_files() >= need
    }

    /// `n` connected pairs.
    pub fn tcp(n: usize) -> io::Result<Sink> {
        let need = 2 * n as u64 + 64;
        if !Sink::can_hold(n) {
            let limit = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft);
            return Err(io::Error::other(format!(
                "{n} socket pairs need {need} open files; the limit is {limit}"
            )));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mut sockets = Vec::with_capacity(n);
        let mut far = Vec::with_capacity(n);
        for _ in 0..n {
            // One at a time: the listen backlog never fills.
            far.push(TcpStream::connect(addr)?);
            let (near, _) = listener.accept()?;
            near.set_nodelay(true)?;
            near.set_nonblocking(true)?;
            sockets.push(near);
        }
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let drainer = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::Builder::new()
                .name("sink-drainer".into())
                .spawn(move || drain(far, received, stop))?
        };
        Ok(Sink {
            sockets,
            received,
            stop,
            drainer: Some(drainer),
        })
    }

    /// Bytes read from the far ends so far.
    pub fn received(&self) -> u64 {
        self.received.load(Relaxed)
    }

    /// Waits until `total` bytes have arrived; false after `timeout`.
    pub fn wait_for(&self, total: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.received() < total {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        // Closing the near ends ends every read on the far side.
        self.sockets.clear();
        if let Some(drainer) = self.drainer.take() {
            let _ = drainer.join();
        }
    }
}

/// Reads every far end until it closes, counting bytes: one task per socket on a runtime of its
/// own thread, so the draining never runs on the benchmark's thread.
fn drain(far: Vec<TcpStream>, received: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime for the sink");
    runtime.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for socket in far {
            socket.set_nonblocking(true).expect("non-blocking far end");
            let mut socket = tokio::net::TcpStream::from_std(socket).expect("registered far end");
            let (received, stop) = (received.clone(), stop.clone());
            tasks.spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while !stop.load(Relaxed) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            received.fetch_add(n as u64, Relaxed);
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
}

/// 1, 1,000 and 10,000 sockets, as far as the open-file limit allows (10,000 pairs need 20,064
/// files: where the hard limit is lower and cannot be raised, that size is left out, with a note).
pub fn socket_counts() -> Vec<usize> {
    [1, 1_000, 10_000]
        .into_iter()
        .filter(|&n| {
            let fits = Sink::can_hold(n);
            if !fits {
                eprintln!("note: {n} socket pairs are left out: the open-file limit is too low");
            }
            fits
        })
        .collect()
}
