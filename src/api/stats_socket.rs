//! `GET /api/stats/ws`: the stats stream of `/api/stats/stream` over a WebSocket, for pushlab's
//! own pages (dashboard, lab, console). Same records, each a text message naming itself:
//! `{"type":"window","samples":[...]}` first, then every second `{"type":"stats", ...}`.
//!
//! Why a WebSocket: a browser keeps at most six HTTP/1.1 connections per server for all its tabs,
//! and an SSE stream holds one for as long as the page is open; a WebSocket is counted apart from
//! those six. Never counted in a transport (`Transport::for_path` gives `None`), like the SSE one.
//! One-way: what the client sends is read (pings, close) and otherwise ignored.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, web};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use super::{STATS_STREAM_PERIOD, stats_record, window_record};
use crate::{
    state::AppState,
    transport::handshake::socket_limits,
    ws::{CloseCode, CloseReason, FIN_TEXT, Socket, SocketEvent, accept, server_frame},
};

/// Largest message the stats socket takes from a client, in bytes: it expects none (what comes
/// is read and dropped), so a larger one is refused as the RFC 6455 guard does (close 1009).
const STATS_CLIENT_MESSAGE_BYTES: usize = 1024;

/// The stats endpoint, over the server's stream type `IO` (chosen by the route table). A request
/// that is not a WebSocket handshake is refused with 400, as on `/ws`.
pub async fn stats_socket<IO>(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let state = state.into_inner();
    let span = tracing::debug_span!("stats_ws", connection = state.connection_id());
    let limits = socket_limits(&state, STATS_CLIENT_MESSAGE_BYTES);
    accept(&req, None, limits, move |socket: Socket<IO>| {
        follow_stats(socket, state, STATS_STREAM_PERIOD).instrument(span)
    })
}

/// The connection's life: the window, then one update per `period` until a close or the end.
///
/// Bound: an update is only queued once the previous one has been written (`outbox_is_empty`);
/// a client too slow to read one update a period skips updates (each one replaces the one
/// before: it carries totals, not increments), so a slow reader holds at most one message here.
async fn follow_stats<IO: AsyncRead + AsyncWrite + Unpin>(
    mut socket: Socket<IO>,
    state: Arc<AppState>,
    period: Duration,
) {
    let text = |json: String| server_frame(FIN_TEXT, json.as_bytes()).0;
    socket.send_frame(text(window_record(&state, Some("window"))));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let reason = loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) });
            }
            _ = ticker.tick() => {
                if socket.outbox_is_empty() {
                    socket.send_frame(text(stats_record(&state, Some("stats"))));
                } else {
                    tracing::debug!("update skipped: the last one is still being written");
                }
            }
            event = socket.next() => match event {
                SocketEvent::Received(_) | SocketEvent::Flushed => {}
                SocketEvent::Closing(reason) => break reason,
                SocketEvent::Gone => return,
            },
        }
    };
    socket.close(reason).await;
}
