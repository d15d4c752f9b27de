//! The fan-out of a worker thread: one wake-up per worker per publish, not one per connection.
//!
//! A push connection that has caught up with the feed takes a [`Seat`] in its worker's
//! [`Lane`] and hands it its [`Follower`]. On a publish the lane's one task reads the new
//! events once and offers them to every seat, in two steps:
//! - each seat says what it takes: nothing, or the shared frame to send straight to its socket
//!   (plain TCP with nothing queued: [`FastWrite::straight_fd`]), or it writes it itself
//!   ([`FastWrite::write_now`]: bytes of its own are queued ahead, such as a ping or a frame
//!   partly written, or its stream is not a plain socket);
//! - the straight sends go to the kernel 64 at a time, in one system call through io_uring
//!   where the kernel has it (`batch_send`), each a non-blocking `send(2)`; then each seat of
//!   the batch hears what its send took ([`FastWrite::sent_straight`]), before the next batch.
//!
//! A seat that cannot take it whole (its socket is full, partly written, throttled, gone) keeps
//! what is left queued, leaves the lane, and its connection's own task takes its follower back:
//! it writes the rest and follows the feed from its cursor as before (`missed` notices
//! included) until it has caught up and sits down again. So a slow reader never slows the
//! others, and costs the lane one failed send.
//!
//! Nobody sits while an added delay or a "slow" fault applies to the transport (each event must
//! then wait, or be throttled, per connection), and a lane that finds one applying sends every
//! seat back to its own task. What is counted is counted by the follower, as on the other path.
//!
//! Bounds: a lane holds one `Rc` per seat (16 bytes) and a seat about 100 bytes beside its
//! connection; a round holds, per seat, one flag and one send's answer (kept between rounds),
//! and per straight send of a batch under 100 bytes; a lane reads at most
//! [`LANE_BATCH`] events per read and exists, with its task, only while its worker has seats.

use std::{
    cell::{Cell, RefCell},
    io,
    os::fd::RawFd,
    rc::{Rc, Weak},
    sync::Arc,
    task::{Poll, Waker},
};

use bytes::{Bytes, BytesMut};
use tokio::sync::{Notify, watch};

use super::follower::Follower;
use crate::{
    batch_send::{self, Straight},
    feed::Event,
    state::AppState,
    transport_kind::Transport,
};

/// Most events a lane reads from the hub at a time (it reads again while more are there).
pub const LANE_BATCH: usize = 48;
/// Most reads of one round: a worker never spends more than this many batches in a row on the
/// fan-out (another wake-up finishes the rest).
const MAX_READS_PER_ROUND: usize = 16;

/// How a transport writes to one of its connections without waiting.
pub trait FastWrite {
    /// This connection's encoding of `event`: its frame shared by every connection, made once
    /// at publish.
    fn frame<'e>(&self, event: &'e Event) -> &'e Bytes;
    /// The socket's descriptor when the lane may send to it straight now, in one batch with the
    /// other seats' sends ([`batch_send`]): nothing queued ahead, plain TCP, no throttle. `None`:
    /// the lane writes through [`FastWrite::write_now`].
    fn straight_fd(&self) -> Option<RawFd>;
    /// Completes a straight send of `bytes` that answered `sent` (as `send(2)` answers): counts
    /// what it wrote and queues what is left for the connection's task, as
    /// [`FastWrite::write_now`] does. True when written whole.
    fn sent_straight(&self, bytes: &Bytes, sent: io::Result<usize>) -> bool;
    /// Writes `bytes` now if the connection takes all of them; otherwise queues what is left for
    /// the connection's task. True when written whole.
    fn write_now(&self, bytes: &Bytes) -> bool;
}

/// One connection as the lane sees it: its writer and, while seated, its follower.
pub struct Seat<W> {
    /// The transport's side of the connection (its socket).
    pub writer: W,
    /// The connection's follower while the lane follows for it; `None` while its task does.
    follower: RefCell<Option<Follower>>,
    /// Set by the lane when the seat must leave; the task then takes its follower back.
    evicted: Cell<bool>,
    /// The connection's task, to be woken on eviction.
    waker: Cell<Option<Waker>>,
    /// The lane it sits in.
    lane: RefCell<Weak<Lane>>,
}

/// What the lane calls on each seat (the seat's writer type erased).
trait Offer {
    /// What the seat takes of `events` (the lane's batch): nothing new, a gap (it leaves), a
    /// write done through [`FastWrite::write_now`], or a straight send for the lane to batch.
    fn prepare<'e>(&self, events: &'e [Arc<Event>]) -> Step<'e>;
    /// Completes the straight send `prepare` asked for: `new` are the events it carried, `bytes`
    /// its bytes, `sent` what the send answered. False when the seat has left the lane.
    fn complete(&self, new: &[Arc<Event>], bytes: &Bytes, sent: io::Result<usize>) -> bool;
    fn evict(&self);
}

/// A seat's part in a lane's round.
enum Step<'e> {
    /// Nothing new for it: it stays.
    Stays,
    /// It left the lane (a gap behind the batch, or a write not taken whole).
    Left,
    /// Written whole through [`FastWrite::write_now`]: it stays.
    Written,
    /// To send straight to `fd`: the events from index `from` of the batch, as `frames`.
    Send {
        fd: RawFd,
        from: usize,
        frames: Frames<'e>,
    },
}

/// What a straight send carries: one event's shared frame where it lies (no reference taken:
/// both workers would bounce its count between their cores at each send), or several joined.
enum Frames<'e> {
    One(&'e Bytes),
    Joined(Bytes),
}

impl Frames<'_> {
    fn bytes(&self) -> &Bytes {
        match self {
            Frames::One(bytes) => bytes,
            Frames::Joined(bytes) => bytes,
        }
    }
}

/// A straight send waiting for its batch: the seat's index in the lane and its [`Step::Send`].
struct Pending<'e> {
    seat: usize,
    fd: RawFd,
    from: usize,
    frames: Frames<'e>,
}

impl<W: FastWrite> Seat<W> {
    pub fn new(writer: W) -> Rc<Seat<W>> {
        Rc::new(Seat {
            writer,
            follower: RefCell::new(None),
            evicted: Cell::new(false),
            waker: Cell::new(None),
            lane: RefCell::new(Weak::new()),
        })
    }

    /// True while the lane follows for this connection (its task must not follow too).
    pub fn is_seated(&self) -> bool {
        self.follower.borrow().is_some()
    }

    /// True when the lane has sent the seat back to its task (call [`Seat::stand_up`]).
    pub fn is_evicted(&self) -> bool {
        self.evicted.get()
    }

    /// Resolves once the lane has sent the seat back to its task ([`Seat::stand_up`] then
    /// returns the follower). Cancel-safe; pending forever while not seated.
    pub async fn evicted(&self) {
        std::future::poll_fn(|cx| {
            if self.evicted.get() {
                return Poll::Ready(());
            }
            self.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await
    }

    /// Leaves the lane (if seated) and gives the follower back to the connection's task.
    pub fn stand_up(&self) -> Option<Follower> {
        if let Some(lane) = self.lane.replace(Weak::new()).upgrade() {
            lane.remove(self as *const Self as *const ());
        }
        self.evicted.set(false);
        self.waker.set(None);
        self.follower.borrow_mut().take()
    }
}

impl<W: FastWrite> Offer for Seat<W> {
    fn prepare<'e>(&self, events: &'e [Arc<Event>]) -> Step<'e> {
        let mut slot = self.follower.borrow_mut();
        let Some(follower) = slot.as_mut() else {
            return Step::Left;
        };
        let cursor = follower.cursor();
        let from = events.partition_point(|e| e.seq <= cursor);
        let new = &events[from..];
        match new.first() {
            None => return Step::Stays,
            // Events between the cursor and the batch are gone: the follower tells the client.
            Some(first) if first.seq != cursor + 1 => {
                drop(slot);
                self.evict();
                return Step::Left;
            }
            Some(_) => {}
        }
        let frames = match new {
            [event] => Frames::One(self.writer.frame(event)),
            events => {
                let mut joined = BytesMut::new();
                for event in events {
                    joined.extend_from_slice(self.writer.frame(event));
                }
                Frames::Joined(joined.freeze())
            }
        };
        if let Some(fd) = self.writer.straight_fd() {
            return Step::Send { fd, from, frames };
        }
        let whole = self.writer.write_now(frames.bytes());
        // Written or queued, they are handed over: counted now, as `Follower::take` counts.
        follower.handed(new);
        drop(slot);
        if whole {
            Step::Written
        } else {
            self.evict();
            Step::Left
        }
    }

    fn complete(&self, new: &[Arc<Event>], bytes: &Bytes, sent: io::Result<usize>) -> bool {
        let whole = self.writer.sent_straight(bytes, sent);
        if let Some(follower) = self.follower.borrow_mut().as_mut() {
            // Sent or queued, they are handed over: counted now, as `Follower::take` counts.
            follower.handed(new);
        }
        if !whole {
            self.evict();
        }
        whole
    }

    fn evict(&self) {
        self.evicted.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The seats of one worker thread for one feed, and the task that writes to them.
pub struct Lane {
    state: Arc<AppState>,
    transport: Transport,
    seats: RefCell<Vec<(*const (), Rc<dyn Offer>)>>,
    /// The last seq the lane has offered (every seat's cursor is at or after it).
    cursor: Cell<u64>,
    /// Wakes the task when the lane has emptied, so that it ends.
    emptied: Notify,
    /// Which seats stay after a round's offer, and what its straight sends answered: kept
    /// between rounds, so that a round allocates no list per seat.
    staying: Cell<Vec<bool>>,
    results: Cell<Vec<io::Result<usize>>>,
}

thread_local! {
    /// This worker's lanes, one per feed and transport (tests run several servers in a process).
    static LANES: RefCell<Vec<Rc<Lane>>> = const { RefCell::new(Vec::new()) };
}

/// Seats the connection of `seat` in its worker's lane for `transport`, handing the lane
/// `follower` (which must just have found nothing to take: see [`Follower::is_caught_up`]).
/// Gives the follower back (`Some`) when the lane cannot follow for it now (an added delay or a slow
/// fault on the transport, or a cursor behind the lane's). Must run on a worker thread (it
/// may spawn the lane's task there).
pub fn sit<W: FastWrite + 'static>(
    state: &Arc<AppState>,
    transport: Transport,
    seat: &Rc<Seat<W>>,
    follower: Follower,
) -> Option<Follower> {
    if !follower.is_caught_up() || !lane_may_follow(state, transport) {
        return Some(follower);
    }
    let lane = LANES.with_borrow_mut(|lanes| {
        if let Some(lane) = lanes
            .iter()
            .find(|l| l.transport == transport && l.state.hub.is_same(&state.hub))
        {
            return lane.clone();
        }
        let lane = Rc::new(Lane {
            state: state.clone(),
            transport,
            seats: RefCell::new(Vec::new()),
            cursor: Cell::new(state.hub.last_seq()),
            emptied: Notify::new(),
            staying: Cell::default(),
            results: Cell::default(),
        });
        // Subscribed now, not when the task first runs: a publish in between must wake it.
        // Unconstrained: tokio's cooperative budget (128 I/O operations per poll of a task)
        // would make every write after the 128th of a round report a full socket, sending
        // those seats back to their own tasks. The lane yields at each wait for a publish.
        let run = lane.clone().run(state.hub.subscribe_lane());
        tokio::task::spawn_local(tokio::task::unconstrained(run));
        lanes.push(lane.clone());
        lane
    });
    // Events up to the lane's cursor were offered already: a seat behind it would miss them.
    if follower.cursor() < lane.cursor.get() {
        if lane.seats.borrow().is_empty() {
            lane.close();
        }
        return Some(follower);
    }
    *seat.follower.borrow_mut() = Some(follower);
    seat.evicted.set(false);
    *seat.lane.borrow_mut() = Rc::downgrade(&lane);
    let offer: Rc<dyn Offer> = seat.clone();
    lane.seats
        .borrow_mut()
        .push((Rc::as_ptr(seat) as *const (), offer));
    state.meter.fanout_seated(transport, 1);
    None
}

/// True when no added delay and no slow fault applies to `transport`: every event may leave
/// as soon as it is published, at the socket's pace.
fn lane_may_follow(state: &AppState, transport: Transport) -> bool {
    state
        .network
        .borrow()
        .added_delay_ms
        .of(transport)
        .is_zero()
        && state.faults.slow_rate(transport).is_none()
}

impl Lane {
    /// Offers every publish to the seats until the lane empties: the lane keeps the feed
    /// (through the state), so its watch stays open for as long as the lane lives; at shutdown
    /// each seat's connection ends and leaves ([`Lane::remove`]), and the last one closes it.
    async fn run(self: Rc<Lane>, mut wake: watch::Receiver<u64>) {
        loop {
            wake.borrow_and_update();
            if self.seats.borrow().is_empty() {
                break;
            }
            // Reads from the lane's cursor: whatever was published since, however many wake-ups
            // it took (a watch keeps only the newest).
            self.round();
            tokio::select! {
                Ok(()) = wake.changed() => {}
                _ = self.emptied.notified() => {}
            }
        }
        // Already out of the worker's list (whatever emptied the lane closed it); said again
        // so that no later seat can ever sit in a lane whose task has ended.
        self.close();
    }

    /// Reads what was published since the lane's cursor and offers it to every seat.
    fn round(&self) {
        if !lane_may_follow(&self.state, self.transport) {
            self.evict_all();
            return;
        }
        for _ in 0..MAX_READS_PER_ROUND {
            let cursor = self.cursor.get();
            let Ok(batch) = self.state.hub.since(cursor, LANE_BATCH) else {
                self.evict_all();
                return;
            };
            self.cursor.set(batch.next_cursor(cursor));
            if batch.events.is_empty() {
                break;
            }
            self.state.meter.fanout_round(self.transport);
            self.offer(&batch.events);
            if batch.events.len() < LANE_BATCH {
                break;
            }
        }
        if self.seats.borrow().is_empty() {
            self.close();
        }
    }

    /// Offers `events` to every seat: the seats that can take them straight get them in
    /// batches of sends ([`batch_send::send_all`], [`batch_send::SENDS_PER_SUBMISSION`] at a
    /// time, each batch's seats completed before the next is prepared: their hand-off times are
    /// read right after their own batch), the others through their own write; the seats that
    /// could not take them whole leave.
    fn offer(&self, events: &[Arc<Event>]) {
        let mut staying = self.staying.take();
        let mut results = self.results.take();
        {
            let seats = self.seats.borrow();
            staying.clear();
            staying.resize(seats.len(), true);
            let mut sends = Vec::with_capacity(batch_send::SENDS_PER_SUBMISSION);
            for (i, (_, seat)) in seats.iter().enumerate() {
                match seat.prepare(events) {
                    Step::Stays | Step::Written => {}
                    Step::Left => staying[i] = false,
                    Step::Send { fd, from, frames } => {
                        sends.push(Pending {
                            seat: i,
                            fd,
                            from,
                            frames,
                        });
                        if sends.len() == batch_send::SENDS_PER_SUBMISSION {
                            self.send(&seats, events, &mut sends, &mut staying, &mut results);
                        }
                    }
                }
            }
            self.send(&seats, events, &mut sends, &mut staying, &mut results);
        }
        let mut seats = self.seats.borrow_mut();
        let before = seats.len();
        let mut keep = staying.iter();
        seats.retain(|_| *keep.next().unwrap_or(&true));
        let left = before - seats.len();
        drop(seats);
        self.state
            .meter
            .fanout_seated(self.transport, -(left as i64));
        self.state.meter.fanout_left(self.transport, left as u64);
        self.staying.set(staying);
        self.results.set(results);
    }

    /// Makes the straight sends of `pending` (emptied) in one batch and completes their seats:
    /// a seat whose send did not take all its bytes is marked as leaving in `staying`.
    fn send(
        &self,
        seats: &[(*const (), Rc<dyn Offer>)],
        events: &[Arc<Event>],
        pending: &mut Vec<Pending<'_>>,
        staying: &mut [bool],
        results: &mut Vec<io::Result<usize>>,
    ) {
        if pending.is_empty() {
            return;
        }
        let straight: Vec<Straight> = pending
            .iter()
            .map(|p| Straight {
                fd: p.fd,
                bytes: p.frames.bytes(),
            })
            .collect();
        let uring = !self.state.config.no_io_uring;
        let calls = batch_send::send_all(&straight, uring, results);
        self.state
            .meter
            .fanout_sends(self.transport, straight.len() as u64, calls);
        for (p, sent) in pending.drain(..).zip(results.drain(..)) {
            let (_, seat) = &seats[p.seat];
            staying[p.seat] = seat.complete(&events[p.from..], p.frames.bytes(), sent);
        }
    }

    /// Sends every seat back to its task.
    fn evict_all(&self) {
        let seats = std::mem::take(&mut *self.seats.borrow_mut());
        self.state
            .meter
            .fanout_seated(self.transport, -(seats.len() as i64));
        for (_, seat) in seats {
            seat.evict();
        }
        self.close();
    }

    fn remove(&self, seat: *const ()) {
        let emptied = {
            let mut seats = self.seats.borrow_mut();
            if let Some(i) = seats.iter().position(|(s, _)| *s == seat) {
                seats.swap_remove(i);
                self.state.meter.fanout_seated(self.transport, -1);
            }
            seats.is_empty()
        };
        if emptied {
            self.close();
        }
    }

    /// Takes the lane out of its worker's list (a later seat starts a new one) and ends its task.
    fn close(&self) {
        LANES.with_borrow_mut(|lanes| lanes.retain(|l| !std::ptr::eq(&**l, self)));
        self.emptied.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, feed::Kind, limits::ClientKey};

    /// A connection that takes every write whole and remembers what it was handed.
    struct Taker(RefCell<Vec<Bytes>>);

    impl FastWrite for Taker {
        fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
            event.sse_record()
        }

        fn straight_fd(&self) -> Option<RawFd> {
            None
        }

        fn sent_straight(&self, _: &Bytes, _: io::Result<usize>) -> bool {
            unreachable!("never sends straight")
        }

        fn write_now(&self, bytes: &Bytes) -> bool {
            self.0.borrow_mut().push(bytes.clone());
            true
        }
    }

    #[tokio::test]
    async fn a_publish_before_the_lanes_task_first_runs_still_reaches_its_seats() {
        let state = Arc::new(AppState::new(Config::for_tests(), "t".into()));
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let seat = Seat::new(Taker(RefCell::new(Vec::new())));
                let follower = Follower::new(&state, Transport::Ws, 0, ClientKey::Unknown);
                assert!(sit(&state, Transport::Ws, &seat, follower).is_none());
                // The lane's task is spawned, not yet run: this publish comes first.
                state.hub.publish(Kind::Tick, &serde_json::json!({}));
                let handed = async {
                    while seat.writer.0.borrow().is_empty() {
                        tokio::task::yield_now().await;
                    }
                };
                tokio::time::timeout(std::time::Duration::from_secs(5), handed)
                    .await
                    .expect("the lane wrote the event");
                let published = state.hub.since(0, 1).expect("in the buffer").events;
                assert_eq!(*seat.writer.0.borrow(), [published[0].sse_record().clone()]);
                assert!(seat.stand_up().is_some());
            })
            .await;
    }

    /// One end of a socket pair, sent to straight; on completion it checks that the socket one
    /// batch further has been sent nothing yet.
    struct Paired {
        near: std::os::unix::net::UnixStream,
        index: usize,
        /// The far ends of every seat's pair, in seating order.
        far: Rc<Vec<std::os::unix::net::UnixStream>>,
        /// Completions seen, and those that found the next batch already sent.
        completed: Rc<Cell<usize>>,
        early: Rc<Cell<usize>>,
    }

    impl FastWrite for Paired {
        fn frame<'e>(&self, event: &'e Event) -> &'e Bytes {
            event.ws_frame(false)
        }

        fn straight_fd(&self) -> Option<RawFd> {
            use std::os::fd::AsRawFd;
            Some(self.near.as_raw_fd())
        }

        fn sent_straight(&self, bytes: &Bytes, sent: io::Result<usize>) -> bool {
            assert_eq!(sent.unwrap(), bytes.len());
            self.completed.set(self.completed.get() + 1);
            let later = self.index + batch_send::SENDS_PER_SUBMISSION;
            if let Some(far) = self.far.get(later) {
                use std::os::fd::AsRawFd;
                let mut byte = 0u8;
                let flags = libc::MSG_PEEK | libc::MSG_DONTWAIT;
                // SAFETY: one byte into a live byte.
                let seen = unsafe { libc::recv(far.as_raw_fd(), (&raw mut byte).cast(), 1, flags) };
                if seen > 0 {
                    self.early.set(self.early.get() + 1);
                }
            }
            true
        }

        fn write_now(&self, _: &Bytes) -> bool {
            unreachable!("sends straight")
        }
    }

    /// A delivery's hand-off time is read when its seat completes: a seat must complete right
    /// after its own batch of sends, not after the whole round's (at 1000 seats, 16 batches).
    #[tokio::test]
    async fn each_batch_of_sends_is_completed_before_the_next_is_sent() {
        const SEATS: usize = 3 * batch_send::SENDS_PER_SUBMISSION + 5;
        let state = Arc::new(AppState::new(Config::for_tests(), "t".into()));
        let pairs: Vec<_> = (0..SEATS)
            .map(|_| std::os::unix::net::UnixStream::pair().unwrap())
            .collect();
        let (near, far): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        for socket in near.iter().chain(&far) {
            socket.set_nonblocking(true).unwrap();
        }
        let far = Rc::new(far);
        let completed = Rc::new(Cell::new(0));
        let early = Rc::new(Cell::new(0));
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let seats: Vec<_> = near
                    .into_iter()
                    .enumerate()
                    .map(|(index, near)| {
                        let seat = Seat::new(Paired {
                            near,
                            index,
                            far: far.clone(),
                            completed: completed.clone(),
                            early: early.clone(),
                        });
                        let follower = Follower::new(&state, Transport::Ws, 0, ClientKey::Unknown);
                        assert!(sit(&state, Transport::Ws, &seat, follower).is_none());
                        seat
                    })
                    .collect();
                state.hub.publish(Kind::Tick, &serde_json::json!({}));
                let round = async {
                    while completed.get() < SEATS {
                        tokio::task::yield_now().await;
                    }
                };
                tokio::time::timeout(std::time::Duration::from_secs(5), round)
                    .await
                    .expect("every seat completed");
                assert_eq!(
                    early.get(),
                    0,
                    "a later batch was sent before a seat completed"
                );
                for seat in &seats {
                    assert!(seat.stand_up().is_some());
                }
            })
            .await;
    }
}
