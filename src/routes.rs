//! Every route of pushlab, in one table (PROTOCOL.md is the contract for the `/api` and `/ws`
//! ones). Part of the app's assembly, at the top of the house: it names every handler, places
//! each transport at its [`Transport::path`], and gives the WebSocket endpoints the server's
//! stream type. The server receives this table; it does not import it.

use actix_web::web;

use crate::{
    admin, api, export, pages,
    server::ClientStream,
    transport,
    transport_kind::{CLASSIC_CHAT_PATH, Transport},
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg
        // The five transports, each at its path.
        .route(
            Transport::Classic.path(),
            web::get().to(transport::classic::classic_page),
        )
        .route(
            CLASSIC_CHAT_PATH,
            web::post().to(transport::classic::classic_chat),
        )
        .route(
            Transport::Poll.path(),
            web::get().to(transport::poll::short_poll),
        )
        .route(
            Transport::LongPoll.path(),
            web::get().to(transport::longpoll::long_poll),
        )
        .route(Transport::Sse.path(), web::get().to(transport::sse::sse))
        .route(
            Transport::Ws.path(),
            web::get().to(transport::ws::feed_socket::<ClientStream>),
        )
        // Around them.
        .route(
            "/ws/echo",
            web::get().to(transport::echo::echo_socket::<ClientStream>),
        )
        .route("/api/chat", web::post().to(transport::chat::post_chat))
        .route("/api/time", web::get().to(api::time))
        .route("/healthz", web::get().to(api::healthz))
        .route("/api/stats", web::get().to(api::get_stats))
        .route("/api/stats/window", web::get().to(api::get_window))
        .route("/api/stats/stream", web::get().to(api::stats_stream))
        .route("/metrics", web::get().to(api::metrics))
        .route("/api/client-metrics", web::post().to(api::client_metrics))
        .route("/api/handshake/{tag}", web::get().to(api::handshake))
        .configure(export::routes)
        // The instructor's console and controls (token or console cookie).
        .route("/admin", web::get().to(pages::console::admin_page))
        .route("/admin/login", web::post().to(pages::console::login))
        .route("/admin/logout", web::post().to(pages::console::logout))
        .route(
            "/api/admin/settings",
            web::get().to(admin::controls::get_settings),
        )
        .route(
            "/api/admin/settings",
            web::put().to(admin::controls::put_settings),
        )
        .route("/api/admin/reset", web::post().to(admin::controls::reset))
        .route("/api/admin/burst", web::post().to(admin::controls::burst))
        .route("/api/admin/fault", web::post().to(admin::controls::fault))
        // Pages and their files.
        .configure(pages::pages);
}
