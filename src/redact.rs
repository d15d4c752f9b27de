//! Credentials kept out of everything pushlab shows, stores or logs about a request.
//!
//! The protocol inspector shows a visitor the upgrade request their browser sent, and the browser
//! sends its cookies on that request (the console's HttpOnly session cookie included): shown as
//! is, the instructor's session would be on the projected wall, and any script of the page could
//! read the HttpOnly cookie back from `GET /api/handshake/{tag}`. So the record is made with this
//! module, at record time: a credential is never stored, only its shape, so that the lesson (the
//! browser sends cookies on the upgrade; a script sent a Bearer token) survives:
//!
//! ```text
//! cookie: <redacted: 1 cookie, 45 bytes>
//! authorization: Bearer <redacted: 32 bytes>
//! GET /ws?inspect=a1&token=<redacted: 12 bytes> HTTP/1.1
//! ```
//!
//! What counts as a credential (decided here, once, for every place that shows a request):
//! - the headers `Cookie`, `Authorization`, `Proxy-Authorization` (RFC 9110 §11.6.2, §11.7.2;
//!   RFC 6265 §5.4), and any header whose name says it carries one: `X-Api-Key`, `X-Auth-Token`,
//!   `X-CSRF-Token`, `X-Amz-Security-Token`, … (see [`is_credential_name`]);
//! - query parameters `token`, `access_token` and any other whose name says the same (`api_key`,
//!   `jwt`, `password`, `sig`, OAuth's `code`, …), in the request line and in a `Referer`;
//! - in `Sec-WebSocket-Protocol`, every offered value the endpoint does not speak: a browser's
//!   `new WebSocket` cannot set `Authorization`, so libraries carry the bearer token there
//!   (Kubernetes' `base64url.bearer.authorization.k8s.io.<token>`, AppSync's `header-<base64>`,
//!   apps offering a bare JWT); pushlab cannot tell a foreign protocol name from a token, and the
//!   names it speaks are public by definition, so only those are shown.
//!
//! `Sec-WebSocket-Key` is a nonce, not a credential: it stays, it is the lesson.
//!
//! At the bottom of the house: imports nothing of pushlab.

use std::borrow::Cow;

/// Parts of a (lowercased, `-`/`_`/`.`-free) header or parameter name that mark a credential.
const CREDENTIAL_WORDS: [&str; 12] = [
    "token",
    "secret",
    "passw",
    "auth",
    "apikey",
    "accesskey",
    "session",
    "jwt",
    "credential",
    "signature",
    "csrf",
    "xsrf",
];

/// Whole names (normalised as above) that are credentials though no word above is in them.
const CREDENTIAL_NAMES: [&str; 6] = ["cookie", "key", "sig", "code", "pwd", "sid"];

/// Whether a header or query parameter called `name` carries a credential (case-insensitive;
/// `-`, `_` and `.` are ignored, so `X-Api-Key`, `api_key` and `apiKey` are one name).
pub fn is_credential_name(name: &str) -> bool {
    let normal: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    CREDENTIAL_NAMES.contains(&normal.as_str())
        || CREDENTIAL_WORDS.iter().any(|word| normal.contains(word))
}

/// How a header's value may be shown. `spoken`: the subprotocols the endpoint speaks (shown as
/// offered; any other offered value is redacted, see the module doc).
pub fn header_value<'a>(name: &str, value: &'a str, spoken: &[&str]) -> Cow<'a, str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "cookie" => {
            let count = value.split(';').filter(|c| !c.trim().is_empty()).count();
            let plural = if count == 1 { "cookie" } else { "cookies" };
            Cow::Owned(format!(
                "<redacted: {count} {plural}, {} bytes>",
                value.len()
            ))
        }
        "authorization" | "proxy-authorization" => Cow::Owned(authorization(value)),
        "sec-websocket-protocol" => subprotocols(value, spoken),
        "referer" => url(value),
        _ if is_credential_name(&lower) => Cow::Owned(bytes(value)),
        _ => Cow::Borrowed(value),
    }
}

/// A path and query with the value of every credential parameter redacted
/// (`/ws?token=<redacted: 12 bytes>&since=4`); anything before `?` is kept as is.
pub fn url(url: &str) -> Cow<'_, str> {
    let Some((before, query)) = url.split_once('?') else {
        return Cow::Borrowed(url);
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let mut changed = false;
    let pairs: Vec<Cow<str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_credential_name(&percent_decoded(name)) => {
                changed = true;
                Cow::Owned(format!("{name}={}", bytes(value)))
            }
            _ => Cow::Borrowed(pair),
        })
        .collect();
    if !changed {
        return Cow::Borrowed(url);
    }
    let mut shown = format!("{before}?{}", pairs.join("&"));
    if let Some(fragment) = fragment {
        shown.push('#');
        shown.push_str(fragment);
    }
    Cow::Owned(shown)
}

/// `Bearer <redacted: 32 bytes>`: the scheme is kept (it is the lesson, and never secret).
fn authorization(value: &str) -> String {
    let value = value.trim();
    match value.split_once([' ', '\t']) {
        Some((scheme, credentials)) if is_scheme(scheme) => {
            format!("{scheme} {}", bytes(credentials.trim_start()))
        }
        _ => bytes(value),
    }
}

/// An auth-scheme is a token (RFC 9110 §11.1, §5.6.2), and a short one in practice.
fn is_scheme(word: &str) -> bool {
    (1..=32).contains(&word.len())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&b))
}

fn subprotocols<'a>(value: &'a str, spoken: &[&str]) -> Cow<'a, str> {
    let offered: Vec<&str> = value.split(',').map(str::trim).collect();
    if offered.iter().all(|p| p.is_empty() || spoken.contains(p)) {
        return Cow::Borrowed(value);
    }
    let shown: Vec<Cow<str>> = offered
        .into_iter()
        .map(|p| {
            if spoken.contains(&p) {
                Cow::Borrowed(p)
            } else {
                Cow::Owned(bytes(p))
            }
        })
        .collect();
    Cow::Owned(shown.join(", "))
}

/// One offered subprotocol as shown: as offered if `spoken` has it, else redacted.
pub fn subprotocol(offered: &str, spoken: &[&str]) -> String {
    if spoken.contains(&offered) {
        offered.to_owned()
    } else {
        bytes(offered)
    }
}

fn bytes(secret: &str) -> String {
    format!("<redacted: {} bytes>", secret.len())
}

/// `%XX` decoded (for parameter names only: `access%5Ftoken` is `access_token`); `+` is a space.
fn percent_decoded(name: &str) -> String {
    let raw = name.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_keep_only_their_shape() {
        let cookie = "pushlab_admin=0123456789abcdef0123456789abcdef; theme=dark";
        assert_eq!(
            header_value("Cookie", cookie, &[]),
            format!("<redacted: 2 cookies, {} bytes>", cookie.len())
        );
        assert_eq!(
            header_value("authorization", "Bearer s3cret-token", &[]),
            "Bearer <redacted: 12 bytes>"
        );
        assert_eq!(
            header_value("Proxy-Authorization", "Basic dXNlcjpwYXNz", &[]),
            "Basic <redacted: 12 bytes>"
        );
        assert_eq!(
            header_value("authorization", "justatoken", &[]),
            "<redacted: 10 bytes>"
        );
        for name in [
            "X-Api-Key",
            "x-auth-token",
            "X-CSRF-Token",
            "api_key",
            "X-Session-Id",
        ] {
            assert_eq!(
                header_value(name, "abcdef", &[]),
                "<redacted: 6 bytes>",
                "{name}"
            );
        }
        for (name, value) in [
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("host", "127.0.0.1:8080"),
            ("user-agent", "Mozilla/5.0"),
            ("origin", "http://127.0.0.1:8080"),
            ("accept-language", "fr"),
        ] {
            assert_eq!(header_value(name, value, &[]), value, "{name}");
        }
    }

    #[test]
    fn token_parameters_are_redacted_in_urls() {
        assert_eq!(
            url("/ws?inspect=a1&token=abc&access_token=xyz1&since=3"),
            "/ws?inspect=a1&token=<redacted: 3 bytes>&access_token=<redacted: 4 bytes>&since=3"
        );
        assert_eq!(
            url("/ws?ACCESS%5FTOKEN=ab"),
            "/ws?ACCESS%5FTOKEN=<redacted: 2 bytes>"
        );
        assert_eq!(
            url("http://h/protocol?apiKey=k#x"),
            "http://h/protocol?apiKey=<redacted: 1 bytes>#x"
        );
        assert_eq!(url("/ws?since=3&inspect=t"), "/ws?since=3&inspect=t");
        assert_eq!(url("/ws"), "/ws");
        assert_eq!(url("/ws?%"), "/ws?%");
    }

    #[test]
    fn only_spoken_subprotocols_are_shown() {
        let spoken = ["pushlab.json", "pushlab.bin"];
        assert_eq!(
            header_value(
                "Sec-WebSocket-Protocol",
                "pushlab.json, pushlab.bin",
                &spoken
            ),
            "pushlab.json, pushlab.bin"
        );
        assert_eq!(
            header_value(
                "sec-websocket-protocol",
                "pushlab.json, base64url.bearer.authorization.k8s.io.ZXlK",
                &spoken
            ),
            "pushlab.json, <redacted: 42 bytes>"
        );
    }
}
