//! Every route of pushlab, in one table (PROTOCOL.md is the contract for the `/api` and `/ws`
//! ones). Part of the app's assembly, at the top of the house: it names every handler, places
//! each transport at its [`Transport::path`], and gives the WebSocket endpoints the server's
//! stream type. The server receives this table; it does not import it.
//!
//! Each path is one `web::resource` holding all its methods, so that a known path asked with
//! another method is answered `405` with `Allow` (RFC 9110 §15.5.6) rather than `404`. `HEAD`
//! is served by every `GET` route (the server's edge turns it into a GET without the body), and
//! `OPTIONS` by every path (`204` with `Allow`).

use actix_web::web;

use crate::{
    admin, api, export, pages,
    server::ClientStream,
    transport,
    transport_kind::{CLASSIC_CHAT_PATH, Transport},
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let at = web::resource;
    cfg
        // The five transports, each at its path.
        .service(at(Transport::Classic.path()).get(transport::classic::classic_page))
        .service(at(CLASSIC_CHAT_PATH).post(transport::classic::classic_chat))
        .service(at(Transport::Poll.path()).get(transport::poll::short_poll))
        .service(at(Transport::LongPoll.path()).get(transport::longpoll::long_poll))
        .service(at(Transport::Sse.path()).get(transport::sse::sse))
        .service(at(Transport::Ws.path()).get(transport::ws::feed_socket::<ClientStream>))
        // Around them.
        .service(at("/ws/echo").get(transport::echo::echo_socket::<ClientStream>))
        .service(at("/api/chat").post(transport::chat::post_chat))
        .service(at("/api/time").get(api::time))
        .service(at("/healthz").get(api::healthz))
        .service(at("/api/stats").get(api::get_stats))
        .service(at("/api/stats/window").get(api::get_window))
        .service(at("/api/stats/stream").get(api::stats_stream))
        .service(at("/api/stats/ws").get(api::stats_socket::<ClientStream>))
        .service(at("/metrics").get(api::metrics))
        .service(at("/api/client-metrics").post(api::client_metrics))
        .service(at("/api/handshake/{tag}").get(api::handshake))
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
