//! What the bench asks of the servers it loads, beside its clients' traffic: where each feed
//! stands, the feed settings (set for a phase, given back after the run) and the reports.
//!
//! The feed's position is read from `/healthz`, which the meter does not count: the bench's own
//! reads never show in the figures a class compares with the bench's (a read of `/api/poll`
//! was counted as a short poll, and an empty one). A position names the run (`epoch`,
//! PROTOCOL.md "Runs of the feed"), so a restart or a reset between two reads is seen as such,
//! never taken for a feed that went backwards.
//!
//! Every error names the server it comes from.

use std::net::SocketAddr;

use anyhow::Context;

use super::wire::Wire;

/// Where a server's feed stands: its run and the last seq published in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The run's epoch (empty from a server too old to name it).
    pub epoch: String,
    pub last_seq: u64,
}

/// A server's feed settings, as `/api/stats` shows them (`feed.paused`, `feed.rate_hz`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedSettings {
    pub paused: bool,
    /// Events per second the generator is set to.
    pub rate_hz: f64,
}

/// The address of a `--url` (http://IP:PORT on this machine).
pub fn server_addr(url: &str) -> anyhow::Result<SocketAddr> {
    anyhow::ensure!(
        !url.starts_with("https://"),
        "--url {url}: the bench speaks plain HTTP only; bench a server without --tls"
    );
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    authority.parse().map_err(|_| {
        anyhow::anyhow!(
            "--url {url}: must be http://IP:PORT on this machine, e.g. http://127.0.0.1:8080"
        )
    })
}

/// `GET path` on `addr`: the status and the JSON body (`null` when the body is not JSON).
async fn get_json(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, serde_json::Value)> {
    get_json_with(addr, path, "").await
}

/// [`get_json`] with `extra` header lines (each ending in CRLF).
async fn get_json_with(
    addr: SocketAddr,
    path: &str,
    extra: &str,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n");
    exchange(addr, &format!("GET {path}"), &request).await
}

/// Sends `request` (a whole HTTP/1.1 request, `what` in messages) on a new connection to
/// `addr`: the answer's status and JSON body (`null` when the body is not JSON). A 429 says
/// why a bench meets it.
async fn exchange(
    addr: SocketAddr,
    what: &str,
    request: &str,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut wire = Wire::connect(addr)
        .await
        .with_context(|| format!("server {addr}: cannot connect"))?;
    let context = || format!("server {addr}: {what}");
    wire.send(request.as_bytes()).await.with_context(context)?;
    let (status, head) = wire.read_head().await.with_context(context)?;
    let body = wire.read_sized_body(&head).await.with_context(context)?;
    if status == 429 {
        anyhow::bail!(
            "server {addr} refused the bench ({status} {}): it bounds the connections of one \
             address (--max-connections-per-address, 256 by default), and every bench client \
             comes from this machine; start the server with a higher bound for a bench",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((status, serde_json::from_slice(&body).unwrap_or_default()))
}

/// Where `addr`'s feed stands (`/healthz`: 200, or 503 while its broker is unreachable; both
/// carry the position).
pub async fn position(addr: SocketAddr) -> anyhow::Result<Position> {
    let (status, json) = get_json(addr, "/healthz").await?;
    let last_seq = json["last_seq"].as_u64().ok_or_else(|| {
        anyhow::anyhow!("server {addr}: /healthz answered {status} without a last_seq: {json}")
    })?;
    Ok(Position {
        epoch: json["epoch"].as_str().unwrap_or_default().to_owned(),
        last_seq,
    })
}

/// The position of every server, checked to be one run: the servers of one bench share one
/// feed (one server, or a cluster's servers on one broker stream), else a client's count
/// against another server's seqs means nothing.
pub async fn shared_position(addrs: &[SocketAddr]) -> anyhow::Result<Position> {
    let first = position(addrs[0]).await?;
    for addr in &addrs[1..] {
        let other = position(*addr).await?;
        anyhow::ensure!(
            other.epoch == first.epoch,
            "servers {} and {addr} do not share one feed (runs {:?} and {:?}): the servers of \
             one bench must be one cluster, on the same --broker and --broker-stream",
            addrs[0],
            first.epoch,
            other.epoch
        );
    }
    Ok(first)
}

/// `addr`'s feed settings: with the admin `token`, `GET /api/admin/settings` (which every peer
/// of `bench/peers` answers too; a wrong token is said here, before the run); without it,
/// pushlab's public `/api/stats`, and `None` from a server that has no such page.
pub async fn feed_settings(
    addr: SocketAddr,
    token: Option<&str>,
) -> anyhow::Result<Option<FeedSettings>> {
    let settings = |json: &serde_json::Value| {
        Some(FeedSettings {
            paused: json["paused"].as_bool()?,
            rate_hz: json["rate_hz"].as_f64()?,
        })
    };
    let Some(token) = token else {
        let (_, json) = get_json(addr, "/api/stats").await?;
        return Ok(settings(&json["feed"]));
    };
    let authorization = format!("Authorization: Bearer {token}\r\n");
    let (status, json) = get_json_with(addr, "/api/admin/settings", &authorization).await?;
    anyhow::ensure!(
        status == 200,
        "server {addr} refused the admin token ({status}): {}",
        json["error"].as_str().unwrap_or("no reason given")
    );
    settings(&json).map(Some).ok_or_else(|| {
        anyhow::anyhow!("server {addr}: /api/admin/settings has no paused and rate_hz: {json}")
    })
}

/// Sets `addr`'s feed settings (`PUT /api/admin/settings` with the admin `token`).
pub async fn set_feed(addr: SocketAddr, token: &str, settings: FeedSettings) -> anyhow::Result<()> {
    let body =
        serde_json::json!({ "paused": settings.paused, "rate_hz": settings.rate_hz }).to_string();
    let request = format!(
        "PUT /api/admin/settings HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, answer) = exchange(addr, "PUT /api/admin/settings", &request).await?;
    anyhow::ensure!(
        status == 200,
        "server {addr} refused the settings {body} ({status}): {}",
        answer["error"].as_str().unwrap_or("no reason given")
    );
    Ok(())
}

/// One `--url` server at the end of a run, as its `/api/stats` describe it: its name, and with a
/// broker, its hop and what it read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerReport {
    pub url: String,
    pub name: String,
    /// `/api/stats` → `broker`, when the server has one.
    pub broker: Option<serde_json::Value>,
}

/// The `/api/stats` of every `--url` (after a run: the broker hop of each server).
pub async fn server_reports(urls: &[String]) -> anyhow::Result<Vec<ServerReport>> {
    let mut reports = Vec::with_capacity(urls.len());
    for url in urls {
        let (_, stats) = get_json(server_addr(url)?, "/api/stats").await?;
        reports.push(ServerReport {
            url: url.clone(),
            name: stats["server"]["name"].as_str().unwrap_or(url).to_owned(),
            broker: stats.get("broker").cloned(),
        });
    }
    Ok(reports)
}
