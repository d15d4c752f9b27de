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
//! - an empty value counts as absent (`since=`, an empty `Last-Event-ID`);
//! - a malformed value of a parameter pushlab uses is a 400 that says what was expected.

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

    /// The last non-empty value of the first of `names` that has one (an empty value counts as
    /// absent; a repeated parameter's last value wins, as in most servers).
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| {
            self.0
                .iter()
                .rev()
                .find(|(key, value)| key == name && !value.trim().is_empty())
                .map(|(_, value)| value.trim())
        })
    }

    /// A whole number parameter, `None` when absent or empty; otherwise a clear 400.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(&[name])
            .map(|value| {
                value.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid query string: {name}={value:?} must be a whole number"
                    ))
                })
            })
            .transpose()
    }
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
    /// Reads `since` and `epoch` (and their aliases: the `Last-Event-ID` header wins, then the
    /// polyfills' query parameters, then `since`).
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
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let epoch = params.get(&["epoch"]).map(checked_epoch).transpose()?;
        if let Some(id) = header.or_else(|| params.get(&LAST_EVENT_ID_ALIASES)) {
            let (id_epoch, since) = parse_event_id(id).map_err(|_| {
                ApiError::bad_request(format!(
                    "Last-Event-ID (or lastEventId) {id:?} must be <epoch>:<seq> or a seq"
                ))
            })?;
            return Ok(Resume {
                since: Some(since),
                epoch: id_epoch.or(epoch),
            });
        }
        let since = params
            .get(&["since"])
            .map(|v| {
                parse_event_id(v).map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid query string: since={v:?} must be a seq (a whole number) or <epoch>:<seq>"
                    ))
                })
            })
            .transpose()?;
        Ok(match since {
            Some((id_epoch, since)) => Resume {
                since: Some(since),
                epoch: id_epoch.or(epoch),
            },
            None => Resume { since: None, epoch },
        })
    }
}

/// An event id as pushlab gives it (`<epoch>:<seq>`) or a bare seq.
fn parse_event_id(id: &str) -> Result<(Option<String>, u64), ApiError> {
    let (epoch, seq) = match id.rsplit_once(':') {
        Some((epoch, seq)) => (Some(checked_epoch(epoch)?), seq),
        None => (None, id),
    };
    let seq = seq.trim().parse::<u64>().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid event id {id:?}: expected <epoch>:<seq> or a seq (a whole number)"
        ))
    })?;
    Ok((epoch, seq))
}

/// An epoch sent back by a client: 1 to [`MAX_EPOCH_CHARS`] letters, digits, `-` or `_`.
fn checked_epoch(epoch: &str) -> Result<String, ApiError> {
    let epoch = epoch.trim();
    if (1..=MAX_EPOCH_CHARS).contains(&epoch.len())
        && epoch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(epoch.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid epoch {epoch:?}: 1 to {MAX_EPOCH_CHARS} letters, digits, - or _"
        )))
    }
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
        ] {
            let err = resume(uri, header).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "{uri}");
        }
    }
}
