//! The fixed set of compared transports, their names and their paths.
//!
//! This is the only place that maps a transport to its URL and back: the route table registers
//! each transport at [`Transport::path`], and the byte tap, the request counters and the
//! Prometheus labels find a request's transport with [`Transport::for_path`]; so a route can
//! never be counted under two names, and renaming one moves its metering with it. The front
//! end's list (`static/js/…/transports.js`) is checked against this one by a test.
//!
//! At the bottom of the house: imports nothing of pushlab.

use serde::Serialize;

/// One of the five ways to follow the feed. A fixed enum: metric labels have bounded cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Classic,
    Poll,
    #[serde(rename = "longpoll")]
    LongPoll,
    Sse,
    Ws,
}

/// The classic page's form post: part of the classic transport, at its own path.
pub const CLASSIC_CHAT_PATH: &str = "/classic/chat";

impl Transport {
    pub const ALL: [Transport; 5] = [
        Transport::Classic,
        Transport::Poll,
        Transport::LongPoll,
        Transport::Sse,
        Transport::Ws,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Classic => "classic",
            Transport::Poll => "poll",
            Transport::LongPoll => "longpoll",
            Transport::Sse => "sse",
            Transport::Ws => "ws",
        }
    }

    /// Where a client follows the feed with this transport (PROTOCOL.md "The transports").
    pub fn path(self) -> &'static str {
        match self {
            Transport::Classic => "/classic",
            Transport::Poll => "/api/poll",
            Transport::LongPoll => "/api/longpoll",
            Transport::Sse => "/api/sse",
            Transport::Ws => "/ws",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn parse(name: &str) -> Option<Transport> {
        Transport::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The transport a request path belongs to; `None` for everything that is not compared
    /// (pages, static files, the stats streams, chat posts, the echo socket, admin).
    pub fn for_path(path: &str) -> Option<Transport> {
        if path == CLASSIC_CHAT_PATH {
            return Some(Transport::Classic);
        }
        Transport::ALL.into_iter().find(|t| t.path() == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_feed_routes_are_counted() {
        for t in Transport::ALL {
            assert_eq!(Transport::parse(t.as_str()), Some(t));
            assert_eq!(Transport::ALL[t.index()], t);
            assert_eq!(Transport::for_path(t.path()), Some(t));
        }
        assert_eq!(Transport::for_path("/ws"), Some(Transport::Ws));
        assert_eq!(
            Transport::for_path("/classic/chat"),
            Some(Transport::Classic)
        );
        assert_eq!(Transport::for_path("/ws/echo"), None);
        assert_eq!(Transport::for_path("/api/stats"), None);
        assert_eq!(Transport::for_path("/api/stats/ws"), None);
        assert_eq!(Transport::for_path("/static/js/clients/ws.js"), None);
    }
}
