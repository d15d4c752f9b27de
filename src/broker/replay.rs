//! Replays: a follower that resumes from further back than the replay buffer reaches gets the
//! events in between read back from the stream, while the stream still holds them.
//!
//! Each replay is a short-lived consumer, on a channel of its own on the follower's connection,
//! from the offset after the client's cursor up to the hub's newest event (overlapping the
//! buffer, so that the buffer moving on meanwhile leaves no hole). What retention
//! removed before the first message read is counted as missed, as is what lies beyond
//! [`MAX_REPLAY_EVENTS`] (the newest are replayed, so the answer stays bounded).

use std::{sync::atomic::Ordering::Relaxed, time::Duration};

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};

use super::{
    Inner, link, published_at,
    wire::{Offset, bookkeeping, consume_arguments, decode, offset_of},
};
use crate::feed::{Backlog, Kind};

/// Most events one replay reads (the newest before the buffer); older ones count as missed.
/// Bounds the memory and the time of one resume: about 64 MiB at the largest payload.
pub const MAX_REPLAY_EVENTS: u64 = crate::config::MAX_BUFFER as u64;
/// Replays running at once on one server; a further resume waits (within [`REPLAY_TIMEOUT`])
/// for one to end.
pub const MAX_REPLAYS_AT_ONCE: usize = 8;
/// Longest a replay may take, waiting included: past it, what was read is served and the rest
/// counts as missed.
pub const REPLAY_TIMEOUT: Duration = Duration::from_secs(5);
/// A replay's prefetch and acknowledgement batch.
const REPLAY_PREFETCH: u16 = 500;

/// The events after `cursor` older than the hub's buffer, from the stream (see the module).
pub async fn backlog(inner: &Inner, cursor: u64) -> Option<Backlog> {
    let oldest = inner.hub.oldest_kept();
    // Seqs (cursor, oldest) are not in the buffer: offsets cursor ..= oldest - 2.
    if cursor + 1 >= oldest {
        return None;
    }
    let from = cursor.max(oldest - 1 - MAX_REPLAY_EVENTS.min(oldest - 1));
    let connection = inner
        .replay_connection
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()?;
    let deadline = tokio::time::Instant::now() + REPLAY_TIMEOUT;
    let _slot = tokio::time::timeout_at(deadline, inner.replays.acquire())
        .await
        .ok()?
        .ok()?;
    let channel = connection.create_channel().await.ok()?;
    let mut backlog = Backlog {
        events: Vec::new(),
        missed: from - cursor,
    };
    let read = async {
        channel
            .basic_qos(REPLAY_PREFETCH, BasicQosOptions::default())
            .await?;
        let tag = format!("pushlab-{}-replay-{cursor}", inner.instance);
        let mut consumer = channel
            .basic_consume(
                inner.stream.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                consume_arguments(Offset::At(from)),
            )
            .await?;
        let mut expected = from;
        let mut unacked = 0;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            let Some(offset) = offset_of(&delivery) else {
                break;
            };
            if offset < expected {
                continue;
            }
            let seq = offset + 1;
            if backlog.events.is_empty() && offset > expected + 1 {
                // Retention removed the first ones. If it removed everything the buffer does
                // not hold (or more), all of that was missed and the buffer has the rest.
                let oldest = inner.hub.oldest_kept();
                if seq >= oldest {
                    backlog.missed += (oldest - 1).saturating_sub(expected);
                    break;
                }
            }
            // Read on into what the buffer holds, up to the hub's newest: the buffer moves on
            // while the replay reads, and an overlap leaves nothing in between however far it
            // moved. Beyond the hub's newest, the replay would be ahead of the follower.
            let newest = inner.hub.last_seq();
            if seq > newest {
                break;
            }
            let Some(message) = decode(&delivery.data, &delivery.properties) else {
                break; // not pushlab's: the rest counts as missed
            };
            let (at, _) = published_at(message.ts_us);
            if offset == expected + 1 {
                // RabbitMQ's bookkeeping at a segment start, as the follower shows it.
                backlog.events.push(inner.hub.encode(
                    offset,
                    message.ts_us,
                    Kind::Broker,
                    &bookkeeping(expected),
                    at,
                ));
            } else if backlog.events.is_empty() {
                backlog.missed += offset - expected; // removed by retention
            } else if offset != expected {
                break;
            }
            backlog.events.push(inner.hub.encode(
                offset + 1,
                message.ts_us,
                message.kind,
                &message.data,
                at,
            ));
            expected = offset + 1;
            unacked += 1;
            if unacked >= REPLAY_PREFETCH / 2 {
                delivery
                    .acker
                    .ack(BasicAckOptions { multiple: true })
                    .await?;
                unacked = 0;
            }
            if seq >= newest {
                break;
            }
        }
        let _ = channel
            .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
            .await;
        Ok::<_, lapin::Error>(())
    };
    let outcome = tokio::time::timeout_at(deadline, read).await;
    // Closed in the background: the follower reads the buffer now, not after a round trip.
    inner
        .runtime
        .spawn(async move { link::close_quietly(&channel).await });
    if let Ok(Err(e)) = &outcome {
        tracing::debug!(error = %e, "replay from the stream failed");
    }
    if backlog.events.is_empty() && backlog.missed == 0 {
        return None;
    }
    inner.counters.replays.fetch_add(1, Relaxed);
    inner
        .counters
        .replayed_events
        .fetch_add(backlog.events.len() as u64, Relaxed);
    Some(backlog)
}
