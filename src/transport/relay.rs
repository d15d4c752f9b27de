//! The wait of a held long poll: a publish, relayed to the polls held on one worker thread by a
//! task of that thread.
//!
//! A task woken from another thread (the hub's watch is sent by the publishing thread) waits in
//! its worker's remote queue, which tokio's `LocalSet` serves only at every 31st task while local
//! work is queued. The next requests of the clients answered first are local work (the worker's
//! own I/O driver wakes them): each crossed the whole request path before the next held poll was
//! answered, and the last answers of a publish came late (at 1000 clients, a p99 1.6 times Bun's,
//! BENCHMARKS.md). Here one relay task per worker and feed takes the hub's wake-up and wakes
//! every held poll from the worker's own thread: the answers are queued before any request that
//! arrives after them, as Bun answers them all in one loop.
//!
//! Bounds: one relay (about 100 bytes and one task) per worker thread and feed, for the life of
//! the feed (the relay names its feed without keeping it: when the feed is dropped, its watch
//! closes and the relay ends); a held poll adds one waiter to its relay's `Notify` while it
//! waits.

use std::{cell::RefCell, future::Future, rc::Rc};

use tokio::sync::{Notify, watch};

use crate::feed::{AheadOfFeed, Batch, Hub, HubIdentity};

/// The hub's publishes, as seen by the polls held on this worker thread.
struct Relay {
    /// The feed relayed, named without being kept: a held poll keeps it while it waits.
    feed: HubIdentity,
    /// Notified (from this thread) at every publish.
    published: Notify,
}

thread_local! {
    /// This worker's relays, one per feed (tests run several servers in a process).
    static RELAYS: RefCell<Vec<Rc<Relay>>> = const { RefCell::new(Vec::new()) };
}

/// Waits until an event after `cursor` exists, `until` passes or `stop` resolves; returns what
/// is there then (possibly an empty batch; at most `limit` events). Must run on a worker thread
/// (the first wait of a feed there spawns its relay task). Errors: a cursor ahead of the feed.
pub async fn wait_since(
    hub: &Hub,
    cursor: u64,
    limit: usize,
    until: tokio::time::Instant,
    stop: impl Future<Output = ()>,
) -> Result<Batch, AheadOfFeed> {
    let relay = relay_of(hub);
    // Counted by `Hub::follower_count` while held, as an open stream is (never read: the relay
    // wakes us).
    let _held = hub.subscribe();
    tokio::pin!(stop);
    loop {
        // Waiting before the first look, so that a publish between the look and the wait
        // still wakes us.
        let published = relay.published.notified();
        tokio::pin!(published);
        published.as_mut().enable();
        let batch = hub.since(cursor, limit)?;
        if !batch.is_empty() {
            return Ok(batch);
        }
        tokio::select! {
            _ = published => {}
            _ = tokio::time::sleep_until(until) => return Ok(batch),
            _ = &mut stop => return Ok(batch),
        }
    }
}

/// This thread's relay for `hub`, started on first use.
fn relay_of(hub: &Hub) -> Rc<Relay> {
    RELAYS.with_borrow_mut(|relays| {
        if let Some(relay) = relays.iter().find(|r| r.feed.is(hub)) {
            return relay.clone();
        }
        let relay = Rc::new(Relay {
            feed: hub.identity(),
            published: Notify::new(),
        });
        // Subscribed now, not when the task first runs: a publish in between must wake it.
        tokio::task::spawn_local(relay.clone().run(hub.subscribe_lane()));
        relays.push(relay.clone());
        relay
    })
}

impl Relay {
    /// Wakes every held poll of this thread at each publish, until the feed is dropped (no
    /// poll can be held then: each keeps the feed while it waits).
    async fn run(self: Rc<Relay>, mut wake: watch::Receiver<u64>) {
        while wake.changed().await.is_ok() {
            self.published.notify_waiters();
        }
        RELAYS.with_borrow_mut(|relays| relays.retain(|r| !Rc::ptr_eq(r, &self)));
    }
}

#[cfg(test)]
mod tests {
    use std::{cell::Cell, time::Duration};

    use super::*;
    use crate::feed::Kind;

    /// Local work that is always ready: two tasks waking each other from this thread, as the
    /// next requests of answered clients are woken by the worker's own I/O driver.
    fn busy_local_work(turns: Rc<Cell<u64>>) {
        let (ping, pong) = (Rc::new(Notify::new()), Rc::new(Notify::new()));
        for (mine, theirs) in [(ping.clone(), pong.clone()), (pong, ping)] {
            let turns = turns.clone();
            tokio::task::spawn_local(async move {
                loop {
                    theirs.notify_one();
                    mine.notified().await;
                    turns.set(turns.get() + 1);
                }
            });
        }
    }

    #[tokio::test]
    async fn a_held_wait_returns_at_the_publish_and_at_its_deadline() {
        let hub = Hub::new(4);
        hub.publish(Kind::Tick, &serde_json::json!({}));
        tokio::task::LocalSet::new()
            .run_until(async {
                let soon = tokio::time::Instant::now() + Duration::from_millis(10);
                let empty = wait_since(&hub, 1, 10, soon, std::future::pending()).await;
                assert!(empty.expect("at the feed's end").is_empty());
                let far = tokio::time::Instant::now() + Duration::from_secs(3600);
                let waiter = tokio::task::spawn_local({
                    let hub = hub.clone();
                    async move { wait_since(&hub, 1, 10, far, std::future::pending()).await }
                });
                tokio::task::yield_now().await;
                hub.publish(Kind::Chat, &serde_json::json!({}));
                let batch = waiter.await.expect("ran").expect("at the feed's end");
                assert_eq!(batch.events[0].seq, 2);
            })
            .await;
    }

    #[tokio::test]
    async fn a_relay_ends_with_its_feed() {
        let relays = || RELAYS.with_borrow(|relays| relays.len());
        tokio::task::LocalSet::new()
            .run_until(async {
                let hub = Hub::new(4);
                let now = tokio::time::Instant::now();
                let empty = wait_since(&hub, 0, 10, now, std::future::pending()).await;
                assert!(empty.expect("at the feed's end").is_empty());
                assert_eq!(relays(), 1, "the first wait started this thread's relay");
                drop(hub);
                // The relay's task sees its watch close, at its next turn.
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
                assert_eq!(
                    relays(),
                    0,
                    "a dropped feed leaves no relay (nor its events) behind"
                );
            })
            .await;
    }

    #[tokio::test]
    async fn held_polls_are_all_answered_before_other_local_work_runs_again() {
        let hub = Hub::new(64);
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let far = tokio::time::Instant::now() + Duration::from_secs(30);
                let done = Rc::new(RefCell::new(Vec::new()));
                let turns = Rc::new(Cell::new(0u64));
                let held = Rc::new(Cell::new(0));
                for _ in 0..100 {
                    let (hub, done, turns, held) =
                        (hub.clone(), done.clone(), turns.clone(), held.clone());
                    tokio::task::spawn_local(async move {
                        // Held from its first poll on: the wait registers before it looks.
                        held.set(held.get() + 1);
                        let batch = wait_since(&hub, 0, 10, far, std::future::pending())
                            .await
                            .expect("behind the feed");
                        assert_eq!(batch.events.len(), 1);
                        done.borrow_mut().push(turns.get());
                    });
                }
                while held.get() < 100 {
                    tokio::task::yield_now().await;
                }
                busy_local_work(turns.clone());
                let publisher = hub.clone();
                std::thread::spawn(move || publisher.publish(Kind::Tick, &serde_json::json!({})))
                    .join()
                    .expect("published");
                while done.borrow().len() < 100 {
                    tokio::task::yield_now().await;
                }
                let done = done.borrow();
                let (first, last) = (done[0], done[99]);
                // Woken from the publishing thread, the polls waited in the remote queue: one
                // taken at every 31st task, about 3000 turns of the local work in between.
                assert!(
                    last - first < 10,
                    "{} turns of other local work between the first and the last answer",
                    last - first
                );
            })
            .await;
    }
}
