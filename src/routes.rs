//! Every route of pushlab, in one table (PROTOCOL.md is the contract for the `/api` and `/ws` ones).

use actix_web::web;

use crate::{admin, api, export, pages, transport};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg
        // The five transports.
        .route("/classic", web::get().to(transport::classic::classic_page))
        .route(
            "/classic/chat",
            web::post().to(transport::classic::classic_chat),
        )
        .route("/api/poll", web::get().to(transport::poll::short_poll))
        .route(
            "/api/longpoll",
            web::get().to(transport::longpoll::long_poll),
        )
        .route("/api/sse", web::get().to(transport::sse::sse))
        .route("/ws", web::get().to(transport::ws::feed_socket))
        // Around them.
        .route("/ws/echo", web::get().to(transport::echo::echo_socket))
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
        .route("/admin", web::get().to(admin::console::admin_page))
        .route("/admin/login", web::post().to(admin::console::login))
        .route("/admin/logout", web::post().to(admin::console::logout))
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
