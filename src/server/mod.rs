//! The HTTP server: shared state, the listener, and the socket tap under every connection.
//!
//! pushlab builds its actix server by hand (actix-server + actix-http's HTTP/1 service) rather
//! than with `HttpServer`, for two reasons: to wrap each accepted `TcpStream` in a
//! [`TappedStream`], so that the meter counts real bytes on the wire (under TLS when it is on),
//! and to give WebSocket endpoints their stream once the handshake is answered ([`upgrade`]).
//! Routing and handlers are plain actix-web.

pub mod error;
pub mod faults;
mod metered;
pub mod origin;
mod stream;
pub mod tap;
pub mod tls;
pub mod upgrade;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_http::{HttpService, KeepAlive, error::DispatchError};
use actix_server::Server;
use actix_service::{ServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::{App, dev::AppConfig, middleware::from_fn, web};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    admin::Sessions,
    config::Config,
    feed::{FeedSettings, Hub, TickSource},
    meter::Meter,
};
use faults::Faults;
pub use stream::ClientStream;
pub use tap::TappedStream;

/// Everything a handler may need, built once and shared by all workers (never per worker: each
/// worker building its own would split the hub and the counters into copies).
pub struct AppState {
    pub config: Config,
    pub hub: Hub,
    pub meter: Arc<Meter>,
    pub settings: watch::Sender<FeedSettings>,
    /// The generator's walk, shared with the instructor's burst.
    pub ticks: Arc<TickSource>,
    pub faults: Arc<Faults>,
    pub admin_sessions: Sessions,
    /// Cancelled on Ctrl-C/SIGTERM: every streaming task and held long poll ends on it.
    pub shutdown: CancellationToken,
    pub admin_token: String,
    /// Numbers connections for logs and the protocol inspector (never random).
    pub next_connection_id: std::sync::atomic::AtomicU64,
    pub handshakes: crate::transport::HandshakeLog,
}

impl AppState {
    pub fn new(config: Config, admin_token: String) -> AppState {
        let settings = FeedSettings::initial(config.rate, config.longpoll_max_ms);
        AppState {
            ticks: Default::default(),
            faults: Default::default(),
            admin_sessions: Default::default(),
            hub: Hub::new(config.buffer),
            meter: Arc::new(Meter::with_recording(!config.no_meter)),
            settings: watch::channel(settings).0,
            shutdown: CancellationToken::new(),
            admin_token,
            next_connection_id: Default::default(),
            handshakes: Default::default(),
            config,
        }
    }

    pub fn connection_id(&self) -> u64 {
        self.next_connection_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }
}

/// How long an idle keep-alive connection stays open: long enough that a poll every few seconds
/// reuses its connection, as a browser would.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Time a client has to send a complete request head before getting 408.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on a graceful stop: connections still open after this are dropped.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// Time a client has to complete the TLS handshake before its connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The actix-web app of one worker: every route, behind the middleware that every request
/// crosses. The last wrap runs first: the tap must see every request.
fn app(
    data: web::Data<AppState>,
) -> impl ServiceFactory<
    actix_http::Request,
    Config = (),
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody + 'static>,
    Error = actix_web::Error,
    InitError = (),
> + 'static {
    map_config(
        App::new()
            .app_data(data)
            .configure(error::extractor_configs)
            .configure(crate::routes::routes)
            .wrap(from_fn(faults::refuse_guard))
            .wrap(from_fn(origin::origin_guard))
            .wrap(from_fn(metered::tap_and_count)),
        |_| AppConfig::default(),
    )
}

/// Starts serving `listener`, over TLS when `tls` is given. The returned server is a future
/// that ends when stopped.
pub fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<Server> {
    let workers = state
        .config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let per_worker_connections = state.config.max_connections.div_ceil(workers).max(1);
    let data = web::Data::from(state.clone());
    Server::build()
        .workers(workers)
        .max_concurrent_connections(per_worker_connections)
        .backlog(4096)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .disable_signals() // lib.rs handles signals: streams must be told before the stop
        .listen("pushlab", listener, move || {
            let meter = state.meter.clone();
            let faults = state.faults.clone();
            let data = data.clone();
            let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
            let http_service = HttpService::build()
                .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
                .client_request_timeout(REQUEST_HEAD_TIMEOUT);
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
                let tapped = TappedStream::new(io, meter.clone(), faults.clone());
                let acceptor = acceptor.clone();
                async move {
                    let stream = match acceptor {
                        None => ClientStream::Plain(tapped),
                        Some(acceptor) => {
                            let handshake = acceptor.accept(tapped);
                            let tls = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake)
                                .await
                                .map_err(|_| std::io::ErrorKind::TimedOut.into())
                                .and_then(|accepted| accepted)
                                .map_err(|e: std::io::Error| {
                                    tracing::debug!(?peer, error = %e, "TLS handshake failed");
                                    DispatchError::Io(e)
                                })?;
                            ClientStream::Tls(Box::new(tls))
                        }
                    };
                    Ok((stream, peer))
                }
            })
            .and_then(
                http_service
                    .on_connect_ext(|io: &ClientStream, ext| {
                        ext.insert(io.tap());
                    })
                    // WebSocket handshakes go through the same app, then own their stream.
                    .upgrade(upgrade::service(app(data.clone())))
                    .h1(app(data.clone())),
            )
        })
        .map(|builder| builder.run())
}
