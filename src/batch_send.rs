//! Sends straight to many sockets at once: the fan-out's system calls, batched.
//!
//! On a publish, a worker's fan-out lane (`transport::fanout`) writes the same few bytes to
//! each of its sockets. One `send(2)` each costs, beside the send itself, a system call's entry
//! and return, a large share of a small loopback send: the floor of `bench/peers` at 1000
//! WebSocket clients spent 8.9 and 9.4 ms of CPU per 1000 events with one `send` per socket, and
//! 7.6 and 6.8 ms with the same sends batched (2026-12-07, BENCHMARKS.md). Here a round's sends
//! go to the kernel through io_uring (`IORING_OP_SEND`, Linux 5.6), [`SENDS_PER_SUBMISSION`] to
//! one `io_uring_enter`. Each is non-blocking (`MSG_DONTWAIT`): a socket that cannot take all
//! its bytes answers with what it took, or `EAGAIN`, exactly as `send(2)` would, at once, and
//! its connection's own task writes the rest.
//!
//! Where io_uring is not there (a kernel without it, a sandbox that forbids it, or
//! `--no-io-uring`) the same sends are made one `send(2)` each, with the same results.
//!
//! Bounds: one ring per worker thread, made at its first batch, of [`SENDS_PER_SUBMISSION`]
//! entries (a 64-entry submission queue and a 128-entry completion queue: about 6 KiB). A
//! submission's sends are all made before it returns, so the time a caller reads after it is
//! late for its first send by at most one submission (64 loopback sends, about 0.7 ms).

use std::{cell::RefCell, io, os::fd::RawFd};

use io_uring::{IoUring, Probe, opcode, types::Fd};

/// Most sends given to the kernel in one submission: the bound on how late a send's hand-off
/// time is read (see the module's doc), and on the ring's size.
pub const SENDS_PER_SUBMISSION: usize = 64;

/// Most times one submission is tried again when the kernel answers that it is busy or was
/// interrupted (`EBUSY`, `EAGAIN`, `EINTR`): then, if none of its sends went, the batch gives up
/// on the ring (one `send(2)` each from then on); if some went, the process stops (see
/// `submit`).
const MAX_RETRIES: usize = 1000;

/// The flags of every straight send: never wait, never raise `SIGPIPE` on a closed peer.
const FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;

/// A socket a fan-out may send to straight, past the layers a write goes through (plain TCP
/// only: a TLS record cannot be written around the TLS layer).
pub trait SendStraight {
    /// The socket's descriptor when a non-blocking `send(2)` to it now does what a write through
    /// its layers would do (nothing queued ahead, no throttle in force); `None` otherwise.
    fn straight_fd(&self) -> Option<RawFd>;
    /// Counts `bytes` a straight send wrote, as the layers count a write (the byte tap, the
    /// stall timer that any byte written disarms).
    fn wrote_straight(&mut self, bytes: usize);
}

/// A bare tokio socket (the fan-out benchmarks' and tests'): nothing to count.
impl SendStraight for tokio::net::TcpStream {
    fn straight_fd(&self) -> Option<RawFd> {
        use std::os::fd::AsRawFd;
        Some(self.as_raw_fd())
    }

    fn wrote_straight(&mut self, _: usize) {}
}

/// One send of a batch: `bytes` to the socket `fd`.
pub struct Straight<'a> {
    pub fd: RawFd,
    pub bytes: &'a [u8],
}

/// This worker's ring: made at the first batch, or found missing once and for all.
enum Ring {
    Untried,
    Ready(Box<IoUring>),
    Missing,
}

thread_local! {
    static RING: RefCell<Ring> = const { RefCell::new(Ring::Untried) };
}

/// Sends each of `sends` once, in order, without waiting, and puts in `results` (cleared first)
/// what each send(2) would have answered: the bytes written (possibly fewer than given), or the
/// error (`WouldBlock` when the socket takes nothing now). Through io_uring when `uring` and the
/// kernel allow it, one `send(2)` each otherwise. Returns the system calls it took.
pub fn send_all(sends: &[Straight<'_>], uring: bool, results: &mut Vec<io::Result<usize>>) -> u64 {
    results.clear();
    let mut done = 0;
    let mut calls = 0;
    if uring {
        RING.with_borrow_mut(|ring| {
            if let Ring::Untried = ring {
                *ring = make_ring();
            }
            if let Ring::Ready(r) = ring {
                while done < sends.len() {
                    let end = (done + SENDS_PER_SUBMISSION).min(sends.len());
                    match submit(r, &sends[done..end], results, &mut calls) {
                        Ok(()) => done = end,
                        Err(e) => {
                            // Nothing of this chunk was sent (see `submit`): the ring goes,
                            // and the rest of the batch is sent one send(2) at a time.
                            tracing::warn!("io_uring failed ({e}): one send(2) per socket now");
                            *ring = Ring::Missing;
                            break;
                        }
                    }
                }
            }
        });
    }
    for send in &sends[done..] {
        results.push(send_one(send));
        calls += 1;
    }
    calls
}

/// True when this thread can batch its sends through io_uring (the kernel has it, with its
/// send, and nothing forbids it here): what [`send_all`] uses when asked to.
pub fn io_uring_available() -> bool {
    RING.with_borrow_mut(|ring| {
        if let Ring::Untried = ring {
            *ring = make_ring();
        }
        matches!(ring, Ring::Ready(_))
    })
}

/// A ring of [`SENDS_PER_SUBMISSION`] entries, if the kernel has io_uring and its send.
fn make_ring() -> Ring {
    let made = IoUring::new(SENDS_PER_SUBMISSION as u32).and_then(|ring| {
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        if probe.is_supported(opcode::Send::CODE) {
            Ok(ring)
        } else {
            Err(io::Error::other("the kernel's io_uring has no send"))
        }
    });
    match made {
        Ok(ring) => Ring::Ready(Box::new(ring)),
        Err(e) => {
            tracing::info!("no io_uring ({e}): the fan-out makes one send(2) per socket");
            Ring::Missing
        }
    }
}

/// Sends `chunk` (at most [`SENDS_PER_SUBMISSION`]) in one submission and appends the results in
/// order, counting its system calls in `calls`. An error means that none of the chunk's sends
/// was made: the ring is not to be used again (its queue may still hold them).
fn submit(
    ring: &mut IoUring,
    chunk: &[Straight<'_>],
    results: &mut Vec<io::Result<usize>>,
    calls: &mut u64,
) -> io::Result<()> {
    {
        let mut queue = ring.submission();
        for (i, send) in chunk.iter().enumerate() {
            let entry =
                opcode::Send::new(Fd(send.fd), send.bytes.as_ptr(), send.bytes.len() as u32)
                    .flags(FLAGS)
                    .build()
                    .user_data(i as u64);
            // SAFETY: the bytes live in `chunk`, borrowed until every completion of this
            // submission is read below; the queue has room for the chunk (its size).
            unsafe { queue.push(&entry) }.map_err(|_| io::Error::other("submission queue full"))?;
        }
    }
    let mut submitted = 0;
    let mut retries = 0;
    // A non-blocking send completes while it is submitted; the wait is for the sends the
    // kernel handed to its workers instead (it should not, with MSG_DONTWAIT).
    while submitted < chunk.len() || ring.completion().len() < chunk.len() {
        *calls += 1;
        match ring.submit_and_wait(chunk.len()) {
            Ok(n) => submitted += n,
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)
                ) && retries < MAX_RETRIES =>
            {
                retries += 1;
            }
            // Nothing of the chunk went to the kernel: the caller drops the ring (its queue
            // with it, never submitted) and sends the chunk one send(2) at a time.
            Err(e) if submitted == 0 => return Err(e),
            Err(e) => {
                // Some sends went, and the kernel fails the rest (it cannot, with a ring this
                // size and non-blocking sends). The queue still points at the caller's bytes,
                // which unwinding would free while the kernel may read them: stop here.
                tracing::error!(
                    "io_uring_enter failed after {submitted} of {} sends: {e}; stopping",
                    chunk.len()
                );
                std::process::abort();
            }
        }
    }
    let first = results.len();
    results.extend((0..chunk.len()).map(|_| Ok(0)));
    for done in ring.completion() {
        let answer = done.result();
        results[first + done.user_data() as usize] = if answer >= 0 {
            Ok(answer as usize)
        } else {
            Err(io::Error::from_raw_os_error(-answer))
        };
    }
    Ok(())
}

/// One non-blocking `send(2)`.
fn send_one(send: &Straight<'_>) -> io::Result<usize> {
    // SAFETY: the pointer and length are those of a live slice.
    let sent = unsafe { libc::send(send.fd, send.bytes.as_ptr().cast(), send.bytes.len(), FLAGS) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        io::Read,
        os::{fd::AsRawFd, unix::net::UnixStream},
    };

    /// Both ways answer as send(2) does: everything sent in order, a full socket's `EAGAIN`
    /// and a partial send reported, nothing sent twice.
    #[test]
    fn batched_and_one_by_one_sends_answer_as_send_does() {
        for uring in [true, false] {
            let pairs: Vec<(UnixStream, UnixStream)> = (0..SENDS_PER_SUBMISSION + 3)
                .map(|_| UnixStream::pair().unwrap())
                .collect();
            for (a, _) in &pairs {
                a.set_nonblocking(true).unwrap();
            }
            let frame = b"0123456789".repeat(7);
            let sends: Vec<Straight> = pairs
                .iter()
                .map(|(a, _)| Straight {
                    fd: a.as_raw_fd(),
                    bytes: &frame,
                })
                .collect();
            let mut results = Vec::new();
            let calls = send_all(&sends, uring, &mut results);
            assert_eq!(results.len(), sends.len());
            if uring && RING.with_borrow(|ring| matches!(ring, Ring::Ready(_))) {
                assert_eq!(calls, 2, "one submission per {SENDS_PER_SUBMISSION} sends");
            } else {
                // No io_uring here (the message says why): send(2) is tested twice.
                assert_eq!(calls, sends.len() as u64);
            }
            for ((_, mut b), result) in pairs.into_iter().zip(&results) {
                assert_eq!(*result.as_ref().unwrap(), frame.len(), "uring: {uring}");
                let mut got = vec![0; frame.len()];
                b.read_exact(&mut got).unwrap();
                assert_eq!(got, frame);
            }

            // A full socket: what fits is taken, then EAGAIN.
            let (a, mut b) = UnixStream::pair().unwrap();
            a.set_nonblocking(true).unwrap();
            let big = vec![7u8; 4 << 20];
            let fill = [Straight {
                fd: a.as_raw_fd(),
                bytes: &big,
            }];
            send_all(&fill, uring, &mut results);
            let took = *results[0].as_ref().unwrap();
            assert!(took > 0 && took < big.len(), "a partial send: {took}");
            send_all(&fill, uring, &mut results);
            assert_eq!(
                results[0].as_ref().unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            drop(a);
            let mut read = Vec::new();
            b.read_to_end(&mut read).unwrap();
            assert_eq!(read.len(), took, "nothing sent twice");
        }
    }
}
