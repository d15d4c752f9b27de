//! The bench's Socket.IO client (Engine.IO protocol v4), to drive the Socket.IO peer with the
//! same tallies as pushlab's own transports.
//!
//! Engine.IO wraps every Socket.IO packet in a one-character type: `0` open (with the session
//! id and ping timings), `2` ping / `3` pong, `4` message. Socket.IO adds its own type after
//! the `4`: `40` connect to the default namespace, `42["event", data]` an event. Over polling,
//! one HTTP body carries several packets separated by the record separator 0x1E.

use super::{
    clients::{Shared, Tally, mark_connected, on_message},
    wire::{Frame, Wire},
};

/// Where the peer serves Socket.IO, with the feed's `since` as a handshake query parameter.
fn endpoint(transport: &str, since: u64, sid: Option<&str>) -> String {
    let sid = sid.map_or(String::new(), |s| format!("&sid={s}"));
    format!("/socket.io/?EIO=4&transport={transport}&since={since}{sid}")
}

fn protocol_error(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

/// One Engine.IO packet from the server: handles pings, hands events to the tally.
/// Returns a packet to send back (a pong), if any.
fn on_packet(
    packet: &[u8],
    shared: &Shared,
    tally: &mut Tally,
) -> std::io::Result<Option<&'static [u8]>> {
    match packet.first() {
        Some(b'2') => Ok(Some(b"3")),
        Some(b'4') if packet.starts_with(b"42") => {
            // 42["event",{...}]: the event object sits between the first comma and the final ].
            let body = &packet[2..];
            let start = body
                .iter()
                .position(|b| *b == b',')
                .ok_or_else(|| protocol_error("event without data"))?;
            let end = body
                .iter()
                .rposition(|b| *b == b']')
                .ok_or_else(|| protocol_error("unterminated event"))?;
            on_message(&body[start + 1..end], shared, tally)?;
            Ok(None)
        }
        Some(b'4') if packet.starts_with(b"40") => {
            mark_connected(shared, tally);
            Ok(None)
        }
        Some(b'4') if packet.starts_with(b"44") => {
            Err(protocol_error("namespace connection refused"))
        }
        Some(b'1') => Err(protocol_error("the server closed the Engine.IO session")),
        _ => Ok(None),
    }
}

/// The session id from the open packet `0{"sid":"...",...}`.
fn session_id(open: &[u8]) -> std::io::Result<String> {
    let json: serde_json::Value = serde_json::from_slice(open.get(1..).unwrap_or_default())
        .map_err(|e| protocol_error(format!("bad open packet: {e}")))?;
    json["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| protocol_error("open packet without sid"))
}

pub async fn follow_websocket(
    wire: &mut Wire,
    shared: &Shared,
    tally: &mut Tally,
) -> std::io::Result<()> {
    wire.upgrade(&endpoint("websocket", shared.since, None), None)
        .await?;
    tally.requests += 1;
    loop {
        let frame = wire.read_frame().await;
        tally.bytes = wire.sent + wire.received;
        match frame? {
            Frame::Text(packet) if packet.first() == Some(&b'0') => {
                session_id(&packet)?;
                wire.send_frame(0x1, b"40").await?; // join the default namespace
            }
            Frame::Text(packet) => {
                if let Some(reply) = on_packet(&packet, shared, tally)? {
                    wire.send_frame(0x1, reply).await?;
                }
            }
            Frame::Ping(payload) => wire.send_frame(0xA, &payload).await?,
            Frame::Close(code) => return Err(std::io::Error::other(format!("closed with {code}"))),
            Frame::Binary | Frame::Other => {}
        }
    }
}

pub async fn follow_polling(
    wire: &mut Wire,
    shared: &Shared,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let open = poll_once(wire, tally, &endpoint("polling", shared.since, None)).await?;
    let sid = session_id(open.split(|b| *b == 0x1e).next().unwrap_or_default())?;
    let path = endpoint("polling", shared.since, Some(&sid));
    post(wire, tally, &path, b"40").await?;
    loop {
        let body = poll_once(wire, tally, &path).await?;
        for packet in body.split(|b| *b == 0x1e) {
            if let Some(reply) = on_packet(packet, shared, tally)? {
                post(wire, tally, &path, reply).await?;
            }
        }
    }
}

/// One polling GET: the server holds it until it has packets (or its ping interval passes).
async fn poll_once(wire: &mut Wire, tally: &mut Tally, path: &str) -> std::io::Result<Vec<u8>> {
    wire.get(path, "").await?;
    let (status, head) = wire.read_head().await?;
    let body = wire.read_sized_body(&head).await?;
    tally.requests += 1;
    tally.bytes = wire.sent + wire.received;
    if status != 200 {
        return Err(std::io::Error::other(format!("polling answered {status}")));
    }
    if body.is_empty() {
        tally.empty += 1;
    }
    Ok(body)
}

async fn post(wire: &mut Wire, tally: &mut Tally, path: &str, body: &[u8]) -> std::io::Result<()> {
    wire.post(path, "text/plain;charset=UTF-8", body).await?;
    let (status, head) = wire.read_head().await?;
    wire.read_sized_body(&head).await?;
    tally.requests += 1;
    if status != 200 {
        return Err(std::io::Error::other(format!(
            "polling POST answered {status}"
        )));
    }
    Ok(())
}
