//! Black-box tests: a real pushlab on 127.0.0.1:0, real sockets, clients that know only
//! PROTOCOL.md. One binary, one module per concern.

mod admin;
mod bad_input;
mod bench;
mod chat;
mod classic;
mod cors;
mod cursor;
mod fanout;
mod faults;
mod guard;
mod helpers;
mod http;
mod limits;
mod meter;
mod resume;
mod security;
mod shutdown;
mod tls;
mod transports;
mod websocket;
