//! The follower: consumes the feed's stream from the next offset the hub needs, hands each event
//! to the hub, and reconnects by itself when the connection is lost. On the same connection it
//! follows `STREAM.settings`, the cluster's feed settings.
//!
//! Not lapin's auto-recovery: it would re-declare the stream while RabbitMQ still reports it
//! unavailable (and give up), and re-send the consumer with its first arguments, i.e. from the
//! offset it started at. Here each connection starts at the hub's last seq (= the next offset),
//! and [`Inner::take`](super::Inner) drops what the hub already has: exactly once.

use std::sync::Arc;

use futures_util::StreamExt;
use lapin::options::BasicAckOptions;

use super::{
    Backoff, Inner,
    link::{self},
    wire::{Offset, decode, decode_settings, offset_of},
};

/// Deliveries the broker may send ahead of our acknowledgements (RabbitMQ requires a prefetch
/// on stream consumers); at the bound it waits for an acknowledgement.
pub const PREFETCH: u16 = 1_000;
/// The follower acknowledges every this many deliveries at once (`multiple`), well under
/// [`PREFETCH`] so that the broker never waits.
const ACK_EVERY: u64 = 64;
/// The settings consumer's prefetch (settings change a few times a class).
const SETTINGS_PREFETCH: u16 = 16;

/// Follows the stream until shutdown, reconnecting after each failure (see [`Backoff`]).
pub async fn run(inner: Arc<Inner>) {
    let mut backoff = Backoff::new();
    loop {
        let error = match follow(&inner, &mut backoff).await {
            Ok(()) => return,
            Err(error) => error,
        };
        *inner
            .replay_connection
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        inner.set_part(Some(false), None, Some(error));
        tokio::select! {
            _ = tokio::time::sleep(backoff.next()) => {}
            _ = inner.shutdown.cancelled() => return,
        }
    }
}

/// One connection's worth of following: `Ok` at shutdown, the error that ended it otherwise.
async fn follow(inner: &Inner, backoff: &mut Backoff) -> Result<(), String> {
    if inner.shutdown.is_cancelled() {
        return Ok(());
    }
    let connection = link::connect(&inner.target, &inner.server, "follower", &inner.runtime)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let connection = Arc::new(connection);
    link::declare_stream(&connection, &inner.stream, Some(&inner.retention))
        .await
        .map_err(|e| e.to_string())?;
    // The hub's last seq is the offset of the next event it needs.
    let from = inner.hub.last_seq();
    // (The channels' handles are held for as long as their consumers are read.)
    let (_channel, mut consumer) = link::consume_stream(
        &connection,
        &inner.stream,
        &format!("pushlab-{}-follower", inner.instance),
        PREFETCH,
        Offset::At(from),
    )
    .await
    .map_err(|e| e.to_string())?;
    // The cluster's feed settings, on a channel of their own.
    let settings_from = *inner
        .settings_next
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (_settings_channel, mut settings) = link::consume_stream(
        &connection,
        &inner.settings_stream,
        &format!("pushlab-{}-settings", inner.instance),
        SETTINGS_PREFETCH,
        Offset::At(settings_from),
    )
    .await
    .map_err(|e| e.to_string())?;
    tracing::debug!(from, settings_from, "following the stream");
    *inner
        .replay_connection
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(connection.clone());
    inner.set_part(Some(true), None, None);
    inner.connected(backoff);
    let mut unacked = 0u64;
    loop {
        let next = tokio::select! {
            biased;
            _ = inner.shutdown.cancelled() => {
                let _ = connection.close(200, "pushlab stopping".into()).await;
                return Ok(());
            }
            shared = settings.next() => {
                let delivery = match shared {
                    None => return Err("the broker cancelled the settings' consumer".into()),
                    Some(Err(e)) => return Err(e.to_string()),
                    Some(Ok(delivery)) => delivery,
                };
                if let Some(offset) = offset_of(&delivery) {
                    inner.take_settings(offset, decode_settings(&delivery.data));
                }
                delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .map_err(|e| e.to_string())?;
                continue;
            }
            next = consumer.next() => next,
        };
        let delivery = match next {
            None => return Err("the broker cancelled the stream's consumer".into()),
            Some(Err(e)) => return Err(e.to_string()),
            Some(Ok(delivery)) => delivery,
        };
        let Some(offset) = offset_of(&delivery) else {
            return Err(format!(
                "{} is not a stream queue (no x-stream-offset on its deliveries)",
                inner.stream
            ));
        };
        inner.take(offset, decode(&delivery.data, &delivery.properties));
        unacked += 1;
        if unacked >= ACK_EVERY {
            delivery
                .acker
                .ack(BasicAckOptions { multiple: true })
                .await
                .map_err(|e| e.to_string())?;
            unacked = 0;
        }
    }
}
