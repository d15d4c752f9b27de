//! Every route of pushlab, in one table (PROTOCOL.md is the contract for the `/api` and `/ws`
//! ones). Part of the app's assembly, at the top of the house: it names every handler, places
//! each transport at its [`Transport::path`], and gives the WebSocket endpoints the server's
//! stream type. The server receives this table; it does not import it.
//!
//! Each path is one `web::resource` holding all its methods, so that a known path asked with
//! another method is answered `405` with `Allow` (RFC 9110 §15.5.6) rather than `404`. `HEAD`
//! is served by every `GET` route (the server's edge turns it into a GET without the body), and
//! `OPTIONS` by every path (`204` with `Allow`).

use actix_web::{Route, guard, http::Method, web};

use crate::{
    admin, api, export, pages,
    server::ClientStream,
    transport,
    transport_kind::{CLASSIC_CHAT_PATH, Transport},
};

/// A route for `GET` alone whose method test records nothing: actix-web's `web::get()` writes
/// the methods it tried into the request's data at every request (two allocations, for the
/// `405`'s `Allow`), where a path that answers only `GET` gets `Allow: GET, HEAD, OPTIONS` from
/// the server's edge anyway (`server::http`). Only for a path that answers `GET` alone: a path
/// with other methods keeps `web::get()` beside them, so that its `405` lists them all.
fn get() -> Route {
    web::route().guard(guard::fn_guard(|ctx| ctx.head().method == Method::GET))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let at = web::resource;
    cfg
        // The five transports, each at its path.
        .service(at(Transport::Classic.path()).route(get().to(transport::classic::classic_page)))
        .service(at(CLASSIC_CHAT_PATH).post(transport::classic::classic_chat))
        .service(at(Transport::Poll.path()).route(get().to(transport::poll::short_poll)))
        .service(at(Transport::LongPoll.path()).route(get().to(transport::longpoll::long_poll)))
        .service(at(Transport::Sse.path()).route(get().to(transport::sse::sse)))
        .service(
            at(Transport::Ws.path()).route(get().to(transport::ws::feed_socket::<ClientStream>)),
        )
        // Around them.
        .service(at("/ws/echo").route(get().to(transport::echo::echo_socket::<ClientStream>)))
        .service(at("/api/chat").post(transport::chat::post_chat))
        .service(at("/api/time").route(get().to(api::time)))
        .service(at("/healthz").route(get().to(api::healthz)))
        .service(at("/api/stats").route(get().to(api::get_stats)))
        .service(at("/api/stats/window").route(get().to(api::get_window)))
        .service(at("/api/stats/stream").route(get().to(api::stats_stream)))
        .service(at("/api/stats/ws").route(get().to(api::stats_socket::<ClientStream>)))
        .service(at("/metrics").route(get().to(api::metrics)))
        .service(at("/api/client-metrics").post(api::client_metrics))
        .service(at("/api/handshake/{tag}").route(get().to(api::handshake)))
        .configure(export::routes)
        // The instructor's console and controls (token or console cookie).
        .service(at("/admin").get(pages::console::admin_page))
        .service(at("/admin/login").post(pages::console::login))
        .service(at("/admin/logout").post(pages::console::logout))
        .service(
            at("/api/admin/settings")
                .get(admin::controls::get_settings)
                .put(admin::controls::put_settings),
        )
        .service(at("/api/admin/reset").post(admin::controls::reset))
        .service(at("/api/admin/burst").post(admin::controls::burst))
        .service(at("/api/admin/fault").post(admin::controls::fault))
        // Pages and their files.
        .configure(pages::pages);
}
