//! The refusals actix-http writes below every service — `400` for a request it cannot parse,
//! `408` when no complete request head arrived in time, `431` for a head too large — are sent
//! with an empty body. The contract wants `{"error": ...}` on every 4xx, so the connection's
//! stream ([`super::ClientStream`]) rewrites such an answer, and only such an answer: a
//! response head alone, status 4xx or 5xx, `content-length: 0`, written between requests.

use serde_json::json;

use super::REQUEST_HEAD_TIMEOUT;

/// Most header fields actix-http parses in a request head (its `MAX_HEADERS`).
const ACTIX_MAX_HEADERS: usize = 96;
/// Largest request head actix-http buffers, in bytes (its `MAX_BUFFER_SIZE`).
const ACTIX_MAX_HEAD_BYTES: usize = 128 * 1024;

/// `head` with a JSON body, if it is an empty-bodied refusal; `None` for anything else.
pub fn with_json_body(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    if !(400..600).contains(&status) || !text.ends_with("\r\n\r\n") {
        return None;
    }
    let head = &text[..text.len() - 4];
    if head.contains("\r\n\r\n") {
        return None; // more than one message
    }
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") {
            empty = value.trim() == "0";
        } else if name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return None;
        } else {
            kept.push(line);
        }
    }
    if !empty {
        return None;
    }
    let body = json!({ "error": message(status) }).to_string();
    let mut out = String::with_capacity(head.len() + body.len() + 64);
    out.push_str(status_line);
    out.push_str("\r\n");
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("content-type: application/json\r\n");
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    out.push_str(&body);
    Some(out.into_bytes())
}

fn message(status: u16) -> String {
    match status {
        400 => "the request is not valid HTTP/1.1 (RFC 9112): its request line, a header or \
                its framing could not be parsed"
            .to_owned(),
        408 => format!(
            "no complete request head arrived within {} s",
            REQUEST_HEAD_TIMEOUT.as_secs()
        ),
        431 => format!(
            "the request head is too large: at most {ACTIX_MAX_HEADERS} header fields and \
             {} KiB in all",
            ACTIX_MAX_HEAD_BYTES / 1024
        ),
        other => actix_web::http::StatusCode::from_u16(other)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_refusal_gets_a_json_body_and_nothing_else_does() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(with_json_body(head).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("connection: close"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["error"].as_str().unwrap().contains("too large"));

        for other in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nrest",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n\r\n",
            b"\x81\x05hello",
        ] {
            assert!(with_json_body(other).is_none(), "{other:?}");
        }
    }
}
