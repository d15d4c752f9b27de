//! Connections to the broker: the runtime they run on, how they are opened, and what their
//! errors mean.
//!
//! lapin runs each connection's I/O on a thread of its own and its heartbeats and timers on the
//! tokio runtime it is given: pushlab gives it a small runtime of its own ([`BrokerRuntime`]), so
//! that a busy HTTP worker never delays the broker's frames, nor the broker's work the HTTP
//! workers. Every task of the broker module runs there too.

use std::time::Duration;

use lapin::{
    Channel, Connection, ConnectionProperties, Consumer, ErrorKind,
    options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions},
    protocol::{AMQPErrorKind, AMQPSoftError},
    uri::AMQPUri,
};

use super::wire::{Offset, Retention, consume_arguments, stream_arguments};
use crate::config::redact_url;

/// Seconds between AMQP heartbeats when the URL does not say (`?heartbeat=`): a broker or a
/// server that hangs is noticed after about two of them, and the generator lease moves.
pub const HEARTBEAT_SECS: u16 = 5;
/// Longest wait for the TCP and AMQP handshake, in milliseconds, when the URL does not say
/// (`?connection_timeout=`): past it the broker counts as unreachable.
pub const CONNECT_TIMEOUT_MS: u64 = 3_000;
/// How long a declare keeps retrying while RabbitMQ says the stream is "down or inaccessible"
/// (NOT_FOUND for a moment after the broker restarts); past it the error stands.
pub const DECLARE_PATIENCE: Duration = Duration::from_secs(15);
/// Pause between two such retries.
const DECLARE_RETRY: Duration = Duration::from_millis(100);

/// The broker's own small runtime; shut down (without waiting) when the broker is dropped.
pub struct BrokerRuntime(Option<tokio::runtime::Runtime>);

impl BrokerRuntime {
    pub fn new() -> std::io::Result<BrokerRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pushlab-broker")
            .enable_all()
            .build()?;
        Ok(BrokerRuntime(Some(runtime)))
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("the runtime lives until drop")
            .handle()
            .clone()
    }
}

impl Drop for BrokerRuntime {
    fn drop(&mut self) {
        // A runtime dropped inside another runtime's task would panic: let it go in the
        // background (its connections are closed by then, or die with the process).
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where the broker is, as lapin wants it, and as people may see it (password hidden).
#[derive(Clone)]
pub struct Target {
    pub uri: AMQPUri,
    /// The URL without its password, for messages and the stats.
    pub shown: String,
}

impl Target {
    /// Reads `--broker`; sets the heartbeat and the connection timeout when the URL does not.
    pub fn parse(url: &str) -> Result<Target, String> {
        let shown = redact_url(url);
        let mut uri: AMQPUri = url
            .parse()
            .map_err(|e| format!("--broker {shown}: not an AMQP URL ({e})"))?;
        // amq-protocol-uri 10.6 takes the host from `Url::domain()`, which is empty for an IP
        // address, and would then connect to `localhost`: the host is read here instead.
        if let Some(host) = host_of(url) {
            uri.authority.host = host;
        }
        uri.query.heartbeat.get_or_insert(HEARTBEAT_SECS);
        uri.query
            .connection_timeout
            .get_or_insert(CONNECT_TIMEOUT_MS);
        Ok(Target { uri, shown })
    }
}

/// The host of `scheme://[userinfo@]host[:port][/...]`, brackets of an IPv6 address removed.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// Opens a connection named `pushlab <server> <role>` (RabbitMQ shows the name), on `runtime`.
pub async fn connect(
    target: &Target,
    server: &str,
    role: &str,
    runtime: &tokio::runtime::Handle,
) -> Result<Connection, lapin::Error> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("pushlab {server} {role}").into());
    let runtime = async_rs::Runtime::tokio_with_handle(runtime.clone());
    Connection::connect_uri_with_runtime(target.uri.clone(), properties, runtime).await
}

/// The soft (channel) error of a failed call, if that is what it was.
pub fn soft_error(error: &lapin::Error) -> Option<AMQPSoftError> {
    match error.kind() {
        ErrorKind::ProtocolError(e) => match e.kind() {
            AMQPErrorKind::Soft(soft) => Some(soft.clone()),
            AMQPErrorKind::Hard(_) => None,
        },
        _ => None,
    }
}

/// Why a stream could not be declared.
#[derive(Debug, thiserror::Error)]
pub enum DeclareError {
    /// The stream exists with other arguments (another server's retention flags).
    #[error(
        "stream {stream} exists with other retention arguments ({detail}): give every server of the cluster the same --broker-max-bytes, --broker-max-age and --broker-segment-bytes, or use another --broker-stream"
    )]
    Inequivalent { stream: String, detail: String },
    #[error("declaring stream {stream}: {error}")]
    Broker { stream: String, error: lapin::Error },
}

/// Declares the stream `name` (durable; the same arguments as every other declare of it), on a
/// channel of its own, retrying while RabbitMQ reports it "down or inaccessible" (for a moment
/// after a restart) or without a replica on its node yet (just declared by another server).
/// The channel is closed afterwards.
pub async fn declare_stream(
    connection: &Connection,
    name: &str,
    retention: Option<&Retention>,
) -> Result<(), DeclareError> {
    let deadline = tokio::time::Instant::now() + DECLARE_PATIENCE;
    let broker = |error| DeclareError::Broker {
        stream: name.to_owned(),
        error,
    };
    loop {
        let channel = connection.create_channel().await.map_err(broker)?;
        let declared = channel
            .queue_declare(
                name.into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                stream_arguments(retention),
            )
            .await;
        match declared {
            Ok(_) => {
                close_quietly(&channel).await;
                return Ok(());
            }
            Err(e) => match soft_error(&e) {
                Some(AMQPSoftError::PRECONDITIONFAILED)
                    if no_replica_yet(&e) && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(DECLARE_RETRY).await;
                }
                Some(AMQPSoftError::PRECONDITIONFAILED) => {
                    let detail = match e.kind() {
                        ErrorKind::ProtocolError(p) => p.get_message().as_str().to_owned(),
                        _ => e.to_string(),
                    };
                    return Err(DeclareError::Inequivalent {
                        stream: name.to_owned(),
                        detail,
                    });
                }
                Some(AMQPSoftError::NOTFOUND) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(DECLARE_RETRY).await;
                }
                _ => return Err(broker(e)),
            },
        }
    }
}

/// Consumes the stream `name` from `offset` as `tag`, on a channel of its own with `prefetch`
/// unacknowledged messages (a stream consumer needs a prefetch). Retries, on a new channel, for
/// up to [`DECLARE_PATIENCE`] while RabbitMQ answers that the stream has no replica on its node
/// yet (PRECONDITION_FAILED, for a moment after another server declared it: servers started
/// together on a fresh broker); any other error stands.
pub async fn consume_stream(
    connection: &Connection,
    name: &str,
    tag: &str,
    prefetch: u16,
    offset: Offset,
) -> Result<(Channel, Consumer), lapin::Error> {
    let deadline = tokio::time::Instant::now() + DECLARE_PATIENCE;
    loop {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        let consumed = channel
            .basic_consume(
                name.into(),
                tag.into(),
                BasicConsumeOptions::default(),
                consume_arguments(offset),
            )
            .await;
        match consumed {
            Ok(consumer) => return Ok((channel, consumer)),
            Err(e) if no_replica_yet(&e) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(DECLARE_RETRY).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// RabbitMQ's answer to a consumer of a stream whose replica on its node is not ready yet.
fn no_replica_yet(error: &lapin::Error) -> bool {
    let ErrorKind::ProtocolError(e) = error.kind() else {
        return false;
    };
    matches!(
        e.kind(),
        AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED)
    ) && e.get_message().as_str().contains("replica")
}

/// Closes a channel, ignoring that it may be closed already.
pub async fn close_quietly(channel: &Channel) {
    if channel.status().connected() {
        let _ = channel.close(200, "done".into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_the_url_is_the_one_connected_to() {
        let target = Target::parse("amqp://guest:pw@10.1.2.3:5679/%2f").unwrap();
        assert_eq!(target.uri.authority.host, "10.1.2.3");
        assert_eq!(target.uri.authority.port, 5679);
        assert_eq!(target.uri.vhost, "/");
        assert_eq!(target.uri.query.heartbeat, Some(HEARTBEAT_SECS));
        assert_eq!(target.shown, "amqp://guest:***@10.1.2.3:5679/%2f");
        let named = Target::parse("amqp://rabbit.lab:5672/x?heartbeat=30").unwrap();
        assert_eq!(
            (named.uri.authority.host.as_str(), named.uri.query.heartbeat),
            ("rabbit.lab", Some(30))
        );
        assert_eq!(host_of("amqp://u:p@[::1]:5672/"), Some("::1".into()));
        assert!(Target::parse("amqp://h:notaport/").is_err());
    }
}
