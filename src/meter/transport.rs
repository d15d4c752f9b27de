//! The fixed set of compared transports, and which requests belong to which.
//!
//! This is the only place that maps a URL to a transport: the byte tap, the request counters and
//! the Prometheus labels all use it, so a route can never be counted under two names.

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

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn parse(name: &str) -> Option<Transport> {
        Transport::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The transport a request path belongs to; `None` for everything that is not compared
    /// (pages, static files, the stats stream, chat posts, the echo socket, admin).
    pub fn for_path(path: &str) -> Option<Transport> {
        match path {
            "/classic" | "/classic/chat" => Some(Transport::Classic),
            "/api/poll" => Some(Transport::Poll),
            "/api/longpoll" => Some(Transport::LongPoll),
            "/api/sse" => Some(Transport::Sse),
            "/ws" => Some(Transport::Ws),
            _ => None,
        }
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
        }
        assert_eq!(Transport::for_path("/ws"), Some(Transport::Ws));
        assert_eq!(Transport::for_path("/ws/echo"), None);
        assert_eq!(Transport::for_path("/api/stats"), None);
        assert_eq!(Transport::for_path("/static/js/ws.js"), None);
    }
}
