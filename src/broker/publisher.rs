//! The publisher: one connection with a channel in confirm mode (chats publish on it directly,
//! ticks through a queue), and the generator lease held on the same connection.
//!
//! The lease and the publishes share the connection on purpose: a server that has lost its
//! connection has lost the lease with it, so two servers never tick at once as far as the
//! broker can tell.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use futures_util::{StreamExt, stream::FuturesUnordered};
use lapin::{
    Channel, Connection,
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions},
    protocol::AMQPSoftError,
    types::FieldTable,
};
use tokio::sync::mpsc;

use super::{Backoff, Inner, link, wire};
use crate::feed::{Kind, unix_micros};

/// How often a server without the generator lease tries to take it: when the holder goes, the
/// generator moves within this (plus RabbitMQ noticing the holder's connection is gone: at once
/// for a stopped or crashed process, about two heartbeats for a hung one).
pub const LEASE_RETRY: Duration = Duration::from_secs(1);

/// Publishes until shutdown, reconnecting after each failure.
pub async fn run(inner: Arc<Inner>, mut ticks: mpsc::Receiver<(Kind, serde_json::Value)>) {
    let mut backoff = Backoff::new();
    loop {
        let error = match publish(&inner, &mut ticks, &mut backoff).await {
            Ok(()) => return,
            Err(error) => error,
        };
        *inner.publisher.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if inner.lease.swap(false, Relaxed) {
            tracing::info!("generator lease lost with the broker connection");
        }
        inner.set_part(None, Some(false), Some(error));
        // Ticks queued before the failure would all leave at once, late: dropped.
        while ticks.try_recv().is_ok() {
            inner.counters.ticks_dropped.fetch_add(1, Relaxed);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next()) => {}
            _ = inner.shutdown.cancelled() => return,
        }
    }
}

async fn publish(
    inner: &Inner,
    ticks: &mut mpsc::Receiver<(Kind, serde_json::Value)>,
    backoff: &mut Backoff,
) -> Result<(), String> {
    if inner.shutdown.is_cancelled() {
        return Ok(());
    }
    let connection = link::connect(&inner.target, &inner.server, "publisher", &inner.runtime)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    link::declare_stream(&connection, &inner.stream, Some(&inner.retention))
        .await
        .map_err(|e| e.to_string())?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| e.to_string())?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut events = connection.events_listener();
    *inner.publisher.lock().unwrap_or_else(|e| e.into_inner()) = Some(channel.clone());
    inner.set_part(None, Some(true), None);
    inner.connected(backoff);
    // Held while the lease is: the exclusive queue belongs to the connection, the channel only
    // keeps the handle alive.
    let mut _lease: Option<Channel> = None;
    let mut lease_timer = tokio::time::interval(LEASE_RETRY);
    lease_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut confirms = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            _ = inner.shutdown.cancelled() => {
                // Closing releases the lease at once: another server ticks within LEASE_RETRY.
                let _ = connection.close(200, "pushlab stopping".into()).await;
                return Ok(());
            }
            event = events.next() => match event {
                // A channel's error (the lease refused) is that channel's; the connection's
                // own errors end it.
                Some(lapin::Event::Error(e)) if link::soft_error(&e).is_none() => {
                    return Err(e.to_string());
                }
                Some(lapin::Event::ConnectionBlocked(why)) => {
                    tracing::warn!(why, "the broker blocks publishing (resource alarm)");
                }
                Some(_) => {}
                None => return Err("the connection ended".into()),
            },
            _ = lease_timer.tick(), if !inner.lease.load(Relaxed) => {
                if let Some(held) = take_lease(&connection, &inner.lease_queue).await? {
                    _lease = Some(held);
                    inner.lease.store(true, Relaxed);
                    tracing::info!(queue = %inner.lease_queue, "this server ticks for the cluster");
                    // Its settings are now the cluster's: say so, so that every server agrees.
                    let current = inner.feed_settings.borrow().clone();
                    inner.share_settings(&current).await;
                }
            }
            Some((kind, data)) = ticks.recv() => {
                let id = inner.message_id();
                let (body, properties) = wire::encode(kind, unix_micros(), &data, &id, &inner.server);
                let confirm = channel
                    .basic_publish(
                        "".into(),
                        inner.stream.as_str().into(),
                        BasicPublishOptions::default(),
                        &body,
                        properties,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                confirms.push(confirm);
            }
            Some(confirmed) = confirms.next() => match confirmed {
                Ok(c) if c.is_ack() => {
                    inner.counters.published.fetch_add(1, Relaxed);
                }
                Ok(other) => {
                    tracing::warn!(?other, "the broker did not take a tick");
                    inner.counters.ticks_dropped.fetch_add(1, Relaxed);
                }
                Err(e) => return Err(e.to_string()),
            },
        }
    }
}

/// Tries to take the generator lease: `Some(channel)` when this server now holds it, `None` when
/// another does; an error when the connection itself fails.
async fn take_lease(connection: &Connection, queue: &str) -> Result<Option<Channel>, String> {
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| e.to_string())?;
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await;
    match declared {
        Ok(_) => Ok(Some(channel)),
        Err(e) if link::soft_error(&e) == Some(AMQPSoftError::RESOURCELOCKED) => Ok(None),
        Err(e) => Err(format!("taking the generator lease: {e}")),
    }
}
