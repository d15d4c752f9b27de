//! Where a follower starts: the query parameters and headers a client resumes with, read the same
//! way by every transport, and handed to [`Hub::resume`](crate::feed::Hub::resume).
//!
//! `since=S` means "events with seq > S"; `epoch=E` names the run S belongs to (PROTOCOL.md
//! "Runs of the feed"). Without `since` a follower starts from now.
//!
//! Clients add their own conventions, and a student's page may use any of them:
//! - what pushlab does not use is ignored (jQuery's `_=<time>` cache buster, `callback`, `r`,
//!   `t`, a framework's own parameters): only the parameters below are read;
//! - aliases of what pushlab uses are honoured: the `Last-Event-ID` header an `EventSource`
//!   sends when it reconnects (WHATWG HTML §9.2.4), and the `lastEventId` / `last_event_id` /
//!   `Last-Event-ID` query parameters that EventSource polyfills send instead of the header;
//!   their value may be an SSE id `<epoch>:<seq>` or a bare seq;
//! - an empty value counts as absent (`since=`, an empty `Last-Event-ID`): it is what form and
//!   URL serialisers write for a missing value (jQuery's `$.param({since: null})`);
//! - any other value of a parameter pushlab uses must be exactly what it accepts, or it is a 400
//!   that names the parameter, what it accepts and the value received ([`BadParam`]): a blank
//!   value (`since=%20`), a padded one (`since=5%20`), a sign (`since=-1`, `since=%2B5`) or an
//!   exponent (`since=1e3`) is not read as something else. (A header's surrounding blanks are
//!   no part of its value, RFC 9110 §5.5, so `Last-Event-ID: 5 ` is `5`.)
//!
//! The classic page reads its own parameters (`seen`, `refresh`, `projector`) with the same
//! rules and shows the same [`BadParam`] in its language.

use std::fmt;

use actix_web::HttpRequest;

use crate::{error::ApiError, feed::MAX_EPOCH_CHARS};

/// The query parameters of a request, percent-decoded, in order.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Reads the query string; a malformed one (bad percent-encoding) is a 400.
    pub fn of(req: &HttpRequest) -> Result<QueryParams, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .map(QueryParams)
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "invalid query string {:?}: {e}",
                    req.query_string()
                ))
            })
    }

    /// The last non-empty value of the first of `names` that has one, as sent (an empty value
    /// counts as absent; a repeated parameter's last value wins, as in most servers). Blanks are
    /// kept: a value of blanks is no value pushlab accepts, and its parser says so.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        self.named(names).map(|(_, value)| value)
    }

    /// [`get`](Self::get), with the name the value came under (for the message that refuses it).
    pub fn named<'n>(&self, names: &[&'n str]) -> Option<(&'n str, &str)> {
        names.iter().find_map(|name| {
            self.0
                .iter()
                .rev()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| (*name, value.as_str()))
        })
    }

    /// A whole number parameter, `None` when absent or empty; otherwise a clear 400.
    pub fn number(&self, name: &'static str) -> Result<Option<u64>, ApiError> {
        Ok(self
            .get(&[name])
            .map(|value| whole(name, value))
            .transpose()?)
    }

    /// A switch parameter (`1` or `0`), `None` when absent or empty; otherwise a clear 400.
    pub fn switch(&self, name: &'static str) -> Result<Option<bool>, ApiError> {
        Ok(self
            .get(&[name])
            .map(|value| switch(name, value))
            .transpose()?)
    }
}

/// What a parameter accepts, to say so when a value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// A whole number in decimal digits, 0 to `u64::MAX`.
    Whole,
    /// A whole number in decimal digits within these bounds, both included.
    WholeIn(u64, u64),
    /// A whole number of seconds within these bounds, both included.
    SecondsIn(u64, u64),
    /// A seq (a whole number) or an event id `<epoch>:<seq>`.
    EventId,
    /// An epoch: 1 to [`MAX_EPOCH_CHARS`] letters, digits, `-` or `_`.
    Epoch,
    /// A switch: `1` (on) or `0` (off).
    Switch,
}

impl fmt::Display for Accepts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accepts::Whole => write!(f, "a whole number ≥ 0"),
            Accepts::WholeIn(min, max) => write!(f, "a whole number from {min} to {max}"),
            Accepts::SecondsIn(min, max) => {
                write!(f, "a whole number of seconds from {min} to {max}")
            }
            Accepts::EventId => write!(f, "a seq (a whole number ≥ 0) or <epoch>:<seq>"),
            Accepts::Epoch => write!(f, "1 to {MAX_EPOCH_CHARS} letters, digits, - or _"),
            Accepts::Switch => write!(f, "1 (on) or 0 (off)"),
        }
    }
}

/// A value of a parameter pushlab reads that is not what the parameter accepts: a 400 on the
/// JSON endpoints and the WebSocket handshake (`{"error": "since must be …, got \"-1\""}`), a
/// sentence in the page's language on the classic page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be {accepts}, got {got:?}")]
pub struct BadParam {
    /// The parameter as the client named it (`since`, `lastEventId`, `Last-Event-ID`, …).
    pub name: &'static str,
    /// What it accepts.
    pub accepts: Accepts,
    /// The value received, as sent (percent-decoded).
    pub got: String,
}

impl BadParam {
    pub fn new(name: &'static str, accepts: Accepts, got: &str) -> BadParam {
        BadParam {
            name,
            accepts,
            got: got.to_owned(),
        }
    }
}

impl From<BadParam> for ApiError {
    fn from(bad: BadParam) -> ApiError {
        ApiError::bad_request(bad.to_string())
    }
}

/// A whole number written in decimal digits only (no sign, blank or exponent), 0 to `u64::MAX`.
pub fn whole(name: &'static str, value: &str) -> Result<u64, BadParam> {
    digits(value).ok_or_else(|| BadParam::new(name, whole_or_too_large(value), value))
}

/// What a whole number's parameter accepts, as told to a client that sent `value`: digits
/// past `u64::MAX` are told the bound, where "a whole number ≥ 0" would not say what is wrong.
fn whole_or_too_large(value: &str) -> Accepts {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Accepts::WholeIn(0, u64::MAX)
    } else {
        Accepts::Whole
    }
}

/// A whole number in decimal digits within `range` (both bounds included).
pub fn whole_in(
    name: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, BadParam> {
    digits(value)
        .filter(|n| range.contains(n))
        .ok_or_else(|| BadParam::new(name, Accepts::WholeIn(*range.start(), *range.end()), value))
}

/// A whole number of seconds within `range` (both bounds included).
pub fn seconds_in(
    name: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, BadParam> {
    whole_in(name, value, range.clone()).map_err(|bad| BadParam {
        accepts: Accepts::SecondsIn(*range.start(), *range.end()),
        ..bad
    })
}

/// A switch: `1` is on, `0` is off.
pub fn switch(name: &'static str, value: &str) -> Result<bool, BadParam> {
    match value {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(BadParam::new(name, Accepts::Switch, value)),
    }
}

/// An epoch sent back by a client ([`Accepts::Epoch`]).
pub fn epoch(name: &'static str, value: &str) -> Result<String, BadParam> {
    checked_epoch(value)
        .map(str::to_owned)
        .ok_or_else(|| BadParam::new(name, Accepts::Epoch, value))
}

/// `value` when it is 1 or more ASCII digits and fits a `u64`.
fn digits(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Query parameters that mean "resume after this event id": the polyfills' names for what an
/// `EventSource` sends as the `Last-Event-ID` header.
const LAST_EVENT_ID_ALIASES: [&str; 3] = ["lastEventId", "last_event_id", "Last-Event-ID"];

/// What a client said about where to resume.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resume {
    pub since: Option<u64>,
    pub epoch: Option<String>,
}

impl Resume {
    /// [`Resume::of`] the request's own query: what short polls and streams read first.
    pub fn of_request(req: &HttpRequest) -> Result<Resume, ApiError> {
        Resume::of(req, &QueryParams::of(req)?)
    }

    /// Reads `since` and `epoch` (and their aliases: the `Last-Event-ID` header wins, then the
    /// polyfills' query parameters, then `since`). A value that is not what its parameter
    /// accepts is a 400 naming it ([`BadParam`]).
    pub fn of(req: &HttpRequest, params: &QueryParams) -> Result<Resume, ApiError> {
        let header = req
            .headers()
            .get("last-event-id")
            .map(|v| {
                v.to_str().map_err(|_| {
                    ApiError::bad_request("Last-Event-ID must be text: <epoch>:<seq> or a seq")
                })
            })
            .transpose()?
            // The header's surrounding blanks are no part of its value (RFC 9110 §5.5).
            .map(|v| v.trim_matches([' ', '\t']))
            .filter(|v| !v.is_empty())
            .map(|v| ("Last-Event-ID", v));
        let epoch = params
            .get(&["epoch"])
            .map(|v| self::epoch("epoch", v))
            .transpose()?;
        let id = header
            .or_else(|| params.named(&LAST_EVENT_ID_ALIASES))
            .or_else(|| params.named(&["since"]));
        Ok(match id {
            Some((name, id)) => {
                let (id_epoch, since) = event_id(name, id)?;
                Resume {
                    since: Some(since),
                    epoch: id_epoch.or(epoch),
                }
            }
            None => Resume { since: None, epoch },
        })
    }
}

/// An event id as pushlab gives it (`<epoch>:<seq>`) or a bare seq.
fn event_id(name: &'static str, id: &str) -> Result<(Option<String>, u64), BadParam> {
    let bad = || BadParam::new(name, Accepts::EventId, id);
    let (epoch, seq) = match id.rsplit_once(':') {
        Some((epoch, seq)) => (Some(checked_epoch(epoch).ok_or_else(bad)?), seq),
        None => (None, id),
    };
    let seq = digits(seq).ok_or_else(|| match whole_or_too_large(seq) {
        Accepts::Whole => bad(),
        too_large => BadParam::new(name, too_large, id),
    })?;
    Ok((epoch.map(str::to_owned), seq))
}

/// `epoch` when it is 1 to [`MAX_EPOCH_CHARS`] letters, digits, `-` or `_`.
fn checked_epoch(epoch: &str) -> Option<&str> {
    ((1..=MAX_EPOCH_CHARS).contains(&epoch.len())
        && epoch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(epoch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn resume(uri: &str, header: Option<&str>) -> Result<Resume, ApiError> {
        let mut req = TestRequest::with_uri(uri);
        if let Some(h) = header {
            req = req.insert_header(("Last-Event-ID", h));
        }
        let req = req.to_http_request();
        Resume::of(&req, &QueryParams::of(&req)?)
    }

    fn ok(since: Option<u64>, epoch: Option<&str>) -> Resume {
        Resume {
            since,
            epoch: epoch.map(str::to_owned),
        }
    }

    #[test]
    fn what_clients_add_is_ignored_or_honoured() {
        assert_eq!(
            resume("/api/poll?since=5&_=1712345", None).unwrap(),
            ok(Some(5), None)
        );
        assert_eq!(
            resume("/api/poll?since=&epoch=", None).unwrap(),
            ok(None, None)
        );
        assert_eq!(
            resume("/api/sse?since=3", Some("")).unwrap(),
            ok(Some(3), None)
        );
        assert_eq!(
            resume("/api/sse?since=20&lastEventId=681", None).unwrap(),
            ok(Some(681), None)
        );
        assert_eq!(
            resume("/api/sse?lastEventId=ab12:681", Some("cd34:700")).unwrap(),
            ok(Some(700), Some("cd34"))
        );
        assert_eq!(
            resume("/api/poll?since=9&epoch=ab12", None).unwrap(),
            ok(Some(9), Some("ab12"))
        );
        assert_eq!(
            resume("/api/poll?since=ab12%3A9", None).unwrap(),
            ok(Some(9), Some("ab12"))
        );
    }

    #[test]
    fn a_malformed_value_of_a_used_parameter_is_a_clear_400() {
        for (uri, header) in [
            ("/api/poll?since=abc", None),
            ("/api/poll?since=-1", None),
            ("/api/poll?epoch=%3Cscript%3E", None),
            ("/api/sse", Some("yesterday")),
            ("/api/sse?lastEventId=a:b", None),
            ("/api/poll?since=%zz", None),
            ("/api/poll?since=1e3", None),
            ("/api/poll?since=%2B5", None),
            ("/api/poll?since=%20", None),
            ("/api/poll?since=+", None),
            ("/api/poll?since=5%20", None),
            ("/api/poll?since=%095", None),
            ("/api/poll?since=99999999999999999999", None),
            ("/api/poll?since=3&epoch=%20", None),
            ("/api/sse?lastEventId=%20", None),
            ("/api/sse?lastEventId=ab12:%205", None),
        ] {
            let err = resume(uri, header).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "{uri}");
        }
    }

    #[test]
    fn a_refusal_names_the_parameter_what_it_accepts_and_the_value() {
        let message = |uri: &str, header: Option<&str>| resume(uri, header).unwrap_err().message;
        assert_eq!(
            message("/api/poll?since=-1", None),
            r#"since must be a seq (a whole number ≥ 0) or <epoch>:<seq>, got "-1""#
        );
        assert_eq!(
            message("/api/poll?since=%20", None),
            r#"since must be a seq (a whole number ≥ 0) or <epoch>:<seq>, got " ""#
        );
        assert_eq!(
            message("/api/sse?last_event_id=x", None),
            r#"last_event_id must be a seq (a whole number ≥ 0) or <epoch>:<seq>, got "x""#
        );
        assert_eq!(
            message("/api/sse", Some("x")),
            r#"Last-Event-ID must be a seq (a whole number ≥ 0) or <epoch>:<seq>, got "x""#
        );
        assert!(message("/api/poll?epoch=%09", None).starts_with("epoch must be 1 to 64 letters"));
        // Digits past u64::MAX: the bound is what is wrong, so the bound is said.
        let too_large = "99999999999999999999999";
        for uri in [
            format!("/api/poll?since={too_large}"),
            format!("/api/poll?since=e1:{too_large}"),
        ] {
            assert!(
                message(&uri, None).starts_with(
                    "since must be a whole number from 0 to 18446744073709551615, got"
                ),
                "{}",
                message(&uri, None)
            );
        }
        let req = TestRequest::with_uri("/api/longpoll?timeout_ms=18446744073709551616")
            .to_http_request();
        assert_eq!(
            QueryParams::of(&req)
                .unwrap()
                .number("timeout_ms")
                .unwrap_err()
                .message,
            r#"timeout_ms must be a whole number from 0 to 18446744073709551615, got "18446744073709551616""#
        );
        let req = TestRequest::with_uri("/api/longpoll?timeout_ms=%20").to_http_request();
        let params = QueryParams::of(&req).unwrap();
        assert_eq!(
            params.number("timeout_ms").unwrap_err().message,
            r#"timeout_ms must be a whole number ≥ 0, got " ""#
        );
    }

    #[test]
    fn empty_is_absent_blank_is_not() {
        assert_eq!(resume("/api/poll?since=", None).unwrap(), ok(None, None));
        assert_eq!(resume("/api/poll", None).unwrap(), ok(None, None));
        // A header's surrounding blanks are not its value (RFC 9110 §5.5).
        assert_eq!(resume("/api/sse", Some(" 5 ")).unwrap(), ok(Some(5), None));
        let req = TestRequest::with_uri("/classic?projector=1&seen=&refresh=3").to_http_request();
        let params = QueryParams::of(&req).unwrap();
        assert_eq!(params.get(&["seen"]), None);
        assert_eq!(
            switch("projector", params.get(&["projector"]).unwrap()),
            Ok(true)
        );
        assert!(whole_in("refresh", "0", 1..=3600).is_err());
        assert_eq!(whole_in("refresh", "3600", 1..=3600), Ok(3600));
        assert!(switch("projector", "yes").is_err());
    }
}
