//! The server's edge: the listener, TLS, the socket tap under every connection, the upgrade
//! hand-off, and the middleware every request crosses (metering, Origin, refuse faults).
//!
//! pushlab builds its actix server by hand (actix-server + actix-http's HTTP/1 service) rather
//! than with `HttpServer`, for two reasons: to wrap each accepted `TcpStream` in a
//! [`TappedStream`], so that the meter counts real bytes on the wire (under TLS when it is on),
//! and to give WebSocket endpoints their stream once the handshake is answered ([`upgrade`]).
//! Routing and handlers are plain actix-web: [`serve`] receives the route table from the app's
//! assembly (`routes.rs`) and imports no handler.

pub mod cors;
mod edge;
pub mod http;
pub mod limit;
mod metered;
pub mod origin;
mod refusal;
mod refuse;
mod stopping;
mod stream;
pub mod tap;
pub mod tls;
pub mod upgrade;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_http::{HttpService, KeepAlive, error::DispatchError};
use actix_server::Server;
use actix_service::{ServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::{App, dev::AppConfig, middleware::from_fn, web};

use crate::{error, limits::TrustedProxies, state::AppState};
pub use stream::ClientStream;
pub use tap::TappedStream;

/// How long an idle keep-alive connection stays open: long enough that a poll every few seconds
/// reuses its connection, as a browser would.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Time a client has to send a complete request head before getting 408 (JSON, see `refusal`).
/// The body has its own deadlines: `--body-idle-secs`, `--body-timeout-secs` (see `http`).
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on a graceful stop: connections still open after this are dropped.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// Time a client has to complete the TLS handshake before its connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection refused by `--max-connections-per-address` is read (and its bytes
/// dropped) after its 429, so that the request the client sent meanwhile does not turn the
/// close into a reset that would hide the answer (RFC 9112 §9.6).
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Most bytes read from a refused connection during [`REFUSAL_LINGER`].
const REFUSAL_LINGER_BYTES: usize = 64 * 1024;

/// The actix-web app of one worker: every route, behind the one middleware every request
/// crosses (`edge`).
fn app(
    data: web::Data<AppState>,
    routes: Routes,
) -> impl ServiceFactory<
    actix_http::Request,
    Config = (),
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody + 'static>,
    Error = actix_web::Error,
    InitError = (),
> + 'static {
    map_config(
        App::new()
            .app_data(web::Data::new(TrustedProxies(
                data.config.trusted_proxies.clone(),
            )))
            .app_data(data)
            .configure(error::extractor_configs)
            .configure(routes)
            .wrap(from_fn(edge::edge)),
        |_| AppConfig::default(),
    )
}

/// The route table the app's assembly hands the server (every handler, every path).
pub type Routes = fn(&mut web::ServiceConfig);

/// Starts serving `routes` on `listener`, over TLS when `tls` is given. The returned server is a
/// future that ends when stopped.
pub fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    routes: Routes,
) -> std::io::Result<Server> {
    let workers = state
        .config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let per_worker_connections = state.config.max_connections.div_ceil(workers).max(1);
    let data = web::Data::from(state.clone());
    let limit = limit::AddressLimit::new(
        state.config.max_connections_per_address,
        state.config.trusted_proxies.clone(),
    );
    Server::build()
        .workers(workers)
        .max_concurrent_connections(per_worker_connections)
        .backlog(4096)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .disable_signals() // main.rs handles signals: streams must be told before the stop
        .listen("pushlab", listener, move || {
            let meter = state.meter.clone();
            let faults = state.faults.clone();
            let unwritable = Duration::from_secs(state.config.unwritable_timeout_secs);
            let data = data.clone();
            let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
            let limit = limit.clone();
            let http_service = HttpService::build()
                .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
                .client_request_timeout(REQUEST_HEAD_TIMEOUT)
                // A client that closes its side while a request is held (a long poll, an SSE
                // stream, a delayed page) has gone: browsers and curl never half-close. Ending
                // the connection at its FIN drops the handler at once, so a reload or a killed
                // curl leaves no phantom held for its whole timeout (counted as abandoned).
                .h1_allow_half_closed(false);
            // `secure` makes requests report the https scheme.
            let http_service = if tls.is_some() {
                http_service.secure()
            } else {
                http_service
            };
            fn_service(move |io: tokio::net::TcpStream| {
                let peer = io.peer_addr().ok();
                // Delivery latency matters more than packet count here: no Nagle delay.
                let _ = io.set_nodelay(true);
                let mut tapped = TappedStream::new(io, meter.clone(), faults.clone(), unwritable);
                let refused = match peer.map(|p| limit.admit(p.ip())) {
                    Some(Err(refused)) => Some(refused),
                    Some(Ok(Some(slot))) => {
                        tapped.hold(slot);
                        None
                    }
                    _ => None,
                };
                let acceptor = acceptor.clone();
                let meter = meter.clone();
                // Boxed, the two rare and large waits below (a TLS handshake, a refusal's
                // lingering read): this future shares its task with the connection's dispatcher
                // for the connection's whole life, and inline they would make every connection's
                // task kilobytes larger (BENCHMARKS.md, "RSS per idle connection").
                async move {
                    let stream = match acceptor {
                        None => ClientStream::plain(tapped),
                        Some(acceptor) => {
                            let handshake = Box::pin(acceptor.accept(tapped));
                            let tls = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake)
                                .await
                                .map_err(|_| std::io::ErrorKind::TimedOut.into())
                                .and_then(|accepted| accepted)
                                .map_err(|e: std::io::Error| {
                                    tracing::debug!(?peer, error = %e, "TLS handshake failed");
                                    DispatchError::Io(e)
                                })?;
                            ClientStream::tls(tls)
                        }
                    };
                    if let Some(refused) = refused {
                        meter.connection_refused();
                        Box::pin(refuse_connection(stream, &refused)).await;
                        return Err(DispatchError::Io(std::io::Error::other(
                            "refused: --max-connections-per-address",
                        )));
                    }
                    Ok((stream, peer))
                }
            })
            .and_then(
                http_service
                    .on_connect_ext(|io: &ClientStream, ext| {
                        let tap = io.tap();
                        // What the transports remember of this connection (answers, closing).
                        ext.insert(tap.history.clone());
                        ext.insert(tap);
                        // An SSE response writes its own bytes through it (plain TCP only).
                        if let Some(socket) = io.shared() {
                            ext.insert(socket);
                        }
                    })
                    // WebSocket handshakes go through the same app, then own their stream.
                    .upgrade(upgrade::service(app(data.clone(), routes)))
                    .h1(app(data.clone(), routes)),
            )
        })
        .map(|builder| builder.run())
}

/// Answers a connection over `--max-connections-per-address` with its 429 and closes it, reading
/// what the client sent meanwhile for at most [`REFUSAL_LINGER`] and [`REFUSAL_LINGER_BYTES`].
async fn refuse_connection(mut stream: ClientStream, refused: &limit::Refused) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer = limit::refusal_response(refused);
    let written = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        let mut sink = [0u8; 4096];
        let mut read = 0;
        while read < REFUSAL_LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use actix_service::Service;

    use super::*;
    use crate::config::Config;

    /// The bytes of a service's future: actix-http keeps the app's future inline in each
    /// connection's dispatcher, whose task keeps room for it for the connection's whole life.
    fn future_bytes<R, S: Service<R>>(_: &S) -> usize {
        std::mem::size_of::<S::Future>()
    }

    /// An idle WebSocket's memory holds the app's future (the middleware's, inline): it must
    /// stay a pointer or two, whatever the steps of the middleware hold (`edge`).
    #[actix_web::test]
    async fn the_apps_future_is_a_pointer_kept_in_every_connection() {
        let state = web::Data::new(AppState::new(Config::for_tests(), "t".into()));
        let service = app(state, |_| {}).new_service(()).await.expect("the app");
        let bytes = future_bytes(&service);
        assert!(
            bytes <= 64,
            "the app's future is {bytes} bytes, in every connection"
        );
    }

    /// The upgrade service's future is what an idle WebSocket's connection task keeps for the
    /// socket's life: the endpoint and the answer's body, the handshake boxed apart.
    #[actix_web::test]
    async fn an_upgraded_connection_keeps_only_its_endpoint_and_body() {
        let state = web::Data::new(AppState::new(Config::for_tests(), "t".into()));
        let service = upgrade::service(app(state, |_| {}))
            .new_service(())
            .await
            .expect("the upgrade service");
        let bytes = future_bytes(&service);
        assert!(
            bytes <= 256,
            "the upgrade's future is {bytes} bytes, for the socket's life"
        );
    }
}
