//! What a server learns before it follows the feed: that the broker answers, that the stream
//! exists with this server's retention, the cluster's epoch, the cluster's feed settings, and
//! how far the stream goes.
//!
//! The epoch is the first message of the stream `STREAM.epoch`. A server that finds it empty
//! publishes a random one, then reads the first message like everyone else: a stream has one
//! order, so two servers that start together and both publish still agree on the first one.
//! Deleting both queues (`scripts/rabbitmq ctl delete_queue ...`) starts a new run.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::{
    BasicProperties, Connection,
    options::{BasicAckOptions, BasicPublishOptions, ConfirmSelectOptions},
};

use super::{
    BrokerError, BrokerSettings,
    link::{self, DeclareError, Target},
    wire::{Offset, decode_settings, offset_of},
};
use crate::feed::{FeedSettings, MAX_EPOCH_CHARS};

/// How long a server waits for the epoch stream's first message before it concludes that the
/// stream is empty and proposes an epoch (a late answer only means one more proposal, which
/// nobody adopts).
const EPOCH_LOOK: Duration = Duration::from_millis(1_000);
/// How long it then waits for the first message (its own proposal, or an earlier one).
const EPOCH_WAIT: Duration = Duration::from_secs(10);
/// Finding the stream's end: how long to wait for the first message of its last chunk (none
/// within it: the stream is empty)...
const TAIL_FIRST: Duration = Duration::from_millis(1_000);
/// ...then for each next one (silence: the end is reached)...
const TAIL_IDLE: Duration = Duration::from_millis(200);
/// ...and in all, at most (a feed that never pauses has no silence: where it got to then).
const TAIL_MAX: Duration = Duration::from_secs(3);
/// Unacknowledged messages a probe may hold (streams require a prefetch).
const PROBE_PREFETCH: u16 = 1_000;
/// A probe acknowledges every this many messages (with `multiple`).
const PROBE_ACK_EVERY: u64 = 100;

/// What the start learnt.
pub struct Prepared {
    pub epoch: String,
    /// The offset of the stream's last message when the server started; `None`: empty.
    pub tail: Option<u64>,
    /// The cluster's newest feed settings, if any server shared some.
    pub settings: Option<FeedSettings>,
    /// The offset the settings follower starts at (after the newest read).
    pub settings_next: u64,
}

/// How long the start waits before trying again on a new connection, after RabbitMQ closed the
/// connection while settling a stream (see [`settling`]).
const SETTLE_RETRY: Duration = Duration::from_millis(250);

/// Connects (the broker unreachable: an error naming it), declares the feed's stream with this
/// server's retention, reads the epoch and finds the stream's end. The connection is closed
/// afterwards: the follower and the publisher open their own. While RabbitMQ is still settling a
/// stream ([`settling`]) it tries again, on a new connection, for up to
/// [`link::DECLARE_PATIENCE`].
pub async fn prepare(
    target: Target,
    settings: BrokerSettings,
    runtime: tokio::runtime::Handle,
) -> Result<Prepared, BrokerError> {
    let deadline = tokio::time::Instant::now() + link::DECLARE_PATIENCE;
    loop {
        match prepare_once(target.clone(), settings.clone(), runtime.clone()).await {
            Err(BrokerError::Refused { error, .. })
                if settling(&error) && tokio::time::Instant::now() < deadline =>
            {
                tracing::debug!(%error, "the broker is settling a stream: trying again");
                tokio::time::sleep(SETTLE_RETRY).await;
            }
            outcome => return outcome,
        }
    }
}

/// RabbitMQ closes the connection with INTERNAL_ERROR when a stream is used while a stream of
/// the same name is still being deleted (a new run's servers started just after
/// `delete_queue`): not a refusal, a moment to wait.
fn settling(error: &str) -> bool {
    error.contains("INTERNAL_ERROR")
}

async fn prepare_once(
    target: Target,
    settings: BrokerSettings,
    runtime: tokio::runtime::Handle,
) -> Result<Prepared, BrokerError> {
    let url = target.shown.clone();
    let refused = |error: String| BrokerError::Refused {
        url: url.clone(),
        error,
    };
    let connection = link::connect(&target, &settings.server, "start", &runtime)
        .await
        .map_err(|e| BrokerError::Unreachable {
            url: url.clone(),
            error: e.to_string(),
        })?;
    let outcome = async {
        link::declare_stream(&connection, &settings.stream, Some(&settings.retention))
            .await
            .map_err(|e| match e {
                DeclareError::Inequivalent { .. } => refused(e.to_string()),
                DeclareError::Broker { .. } => refused(e.to_string()),
            })?;
        let epoch = shared_epoch(&connection, &settings.stream)
            .await
            .map_err(refused)?;
        let shared = format!("{}.settings", settings.stream);
        link::declare_stream(&connection, &shared, Some(&settings.retention))
            .await
            .map_err(|e| refused(e.to_string()))?;
        let (newest, settings_tail) = read_to_end(&connection, &shared, decode_settings)
            .await
            .map_err(|e| refused(format!("reading stream {shared}: {e}")))?;
        let (_, tail) = read_to_end(&connection, &settings.stream, |_| None::<()>)
            .await
            .map_err(|e| refused(format!("reading stream {}: {e}", settings.stream)))?;
        Ok(Prepared {
            epoch,
            tail,
            settings: newest,
            settings_next: settings_tail.map_or(0, |t| t + 1),
        })
    }
    .await;
    let _ = connection.close(200, "start done".into()).await;
    outcome
}

/// The cluster's epoch: the first message of `STREAM.epoch`, proposed by this server if none.
async fn shared_epoch(connection: &Connection, stream: &str) -> Result<String, String> {
    let name = format!("{stream}.epoch");
    link::declare_stream(connection, &name, None)
        .await
        .map_err(|e| e.to_string())?;
    let (channel, mut consumer) =
        link::consume_stream(connection, &name, "pushlab-epoch", 1, Offset::First)
            .await
            .map_err(|e| e.to_string())?;
    let first = match tokio::time::timeout(EPOCH_LOOK, consumer.next()).await {
        Ok(first) => first,
        Err(_) => {
            let proposal = format!("{:08x}", rand::random::<u32>());
            let publisher = connection
                .create_channel()
                .await
                .map_err(|e| e.to_string())?;
            publisher
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            publisher
                .basic_publish(
                    "".into(),
                    name.as_str().into(),
                    BasicPublishOptions::default(),
                    proposal.as_bytes(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())?;
            link::close_quietly(&publisher).await;
            tokio::time::timeout(EPOCH_WAIT, consumer.next())
                .await
                .map_err(|_| format!("no epoch in stream {name} after proposing one"))?
        }
    };
    let delivery = first
        .ok_or_else(|| format!("stream {name}: the consumer was cancelled"))?
        .map_err(|e| e.to_string())?;
    link::close_quietly(&channel).await;
    let epoch = String::from_utf8(delivery.data).unwrap_or_default();
    let valid = (1..=MAX_EPOCH_CHARS).contains(&epoch.len())
        && epoch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(format!(
            "stream {name} starts with something that is not an epoch ({} bytes): delete it to start a new run",
            epoch.len()
        ));
    }
    Ok(epoch)
}

/// The offset of the stream's last message (`None`: empty), and the last message that `read`
/// turns into something. AMQP 0-9-1 has no "tail" query and a passive declare's message count
/// is not reliable on a stream: this reads from the start of the last chunk until the stream is
/// silent ([`TAIL_IDLE`]) or [`TAIL_MAX`] has passed.
async fn read_to_end<T>(
    connection: &Connection,
    stream: &str,
    read: impl Fn(&[u8]) -> Option<T>,
) -> Result<(Option<T>, Option<u64>), lapin::Error> {
    let (channel, mut consumer) = link::consume_stream(
        connection,
        stream,
        "pushlab-tail",
        PROBE_PREFETCH,
        Offset::LastChunk,
    )
    .await?;
    let started = Instant::now();
    let mut tail = None;
    let mut newest = None;
    let mut wait = TAIL_FIRST;
    let mut count = 0u64;
    while started.elapsed() < TAIL_MAX {
        let Ok(next) = tokio::time::timeout(wait, consumer.next()).await else {
            break; // silence: the end
        };
        let Some(delivery) = next else { break };
        let delivery = delivery?;
        tail = tail.max(offset_of(&delivery));
        if let Some(value) = read(&delivery.data) {
            newest = Some(value);
        }
        count += 1;
        if count.is_multiple_of(PROBE_ACK_EVERY) {
            delivery
                .acker
                .ack(BasicAckOptions { multiple: true })
                .await?;
        }
        wait = TAIL_IDLE;
    }
    link::close_quietly(&channel).await;
    Ok((newest, tail))
}
