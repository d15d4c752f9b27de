//! The classic page's chat form, read from its raw bytes: `application/x-www-form-urlencoded`
//! as the WHATWG URL Standard (§5.1) defines it — `&`-separated `name=value` pairs, `+` for a
//! space, `%XX` for a byte — except that the decoded bytes must be UTF-8.
//!
//! The standard's parser (and serde_urlencoded) replaces a byte sequence that is not UTF-8 with
//! U+FFFD, so `%FF` would be published as "�" where the JSON and WebSocket transports refuse
//! the same bytes. Here such a field is refused, and the chat rules then see exactly the
//! characters the other transports would.

use std::borrow::Cow;

use super::super::chat::ChatError;

/// The fields of the classic chat form, as text.
#[derive(Debug, Default, PartialEq)]
pub struct ClassicChatForm {
    pub author: Option<String>,
    pub text: Option<String>,
    pub refresh: Option<String>,
    pub seen: Option<String>,
    pub epoch: Option<String>,
    pub lang: Option<String>,
    pub projector: Option<String>,
}

/// Why a form was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FormError {
    #[error(transparent)]
    Field(#[from] ChatError),
    #[error("the field {0} is given twice")]
    Twice(&'static str),
}

/// Reads the form's bytes. Unknown fields are ignored (a browser may add a submit button's name);
/// a known field given twice is refused rather than one of the two silently chosen.
pub fn parse(body: &[u8]) -> Result<ClassicChatForm, FormError> {
    let mut form = ClassicChatForm::default();
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[..0]),
        };
        let slot = match &*decode(name) {
            b"author" => ("author", &mut form.author),
            b"text" => ("text", &mut form.text),
            b"refresh" => ("refresh", &mut form.refresh),
            b"seen" => ("seen", &mut form.seen),
            b"epoch" => ("epoch", &mut form.epoch),
            b"lang" => ("lang", &mut form.lang),
            b"projector" => ("projector", &mut form.projector),
            _ => continue,
        };
        let (field, slot) = slot;
        if slot.is_some() {
            return Err(FormError::Twice(field));
        }
        let text = String::from_utf8(decode(value).into_owned())
            .map_err(|_| ChatError::NotUtf8 { field })?;
        *slot = Some(text);
    }
    Ok(form)
}

/// `+` to a space, then `%XX` to its byte (a `%` not followed by two hex digits stays as is).
fn decode(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.iter().any(|&b| b == b'+' || b == b'%') {
        return Cow::Borrowed(raw);
    }
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    Cow::Owned(percent_encoding::percent_decode(&spaced).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_as_a_browser_sends_them() {
        let form = parse(b"author=ana&text=gard%C3%A9+ce+texte%21&seen=3&submit=").unwrap();
        assert_eq!(form.author.as_deref(), Some("ana"));
        assert_eq!(form.text.as_deref(), Some("gardé ce texte!"));
        assert_eq!(form.seen.as_deref(), Some("3"));
        assert_eq!(
            parse(b"text=100%25+s%FFr%").unwrap_err(),
            ChatError::NotUtf8 { field: "text" }.into()
        );
        assert_eq!(parse(b"text=a%").unwrap().text.as_deref(), Some("a%"));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_not_replaced() {
        for bad in [
            &b"author=%FF&text=x"[..],
            b"author=a&text=%C3",       // a sequence cut short
            b"author=a&text=%ED%A0%80", // a UTF-16 surrogate, encoded
            b"author=a&text=%C0%AF",    // an overlong encoding
            b"author=a&text=\xff",      // a raw byte, not even percent-encoded
        ] {
            assert!(
                matches!(parse(bad), Err(FormError::Field(ChatError::NotUtf8 { .. }))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        assert_eq!(
            parse(b"author=a&author=b&text=x").unwrap_err(),
            FormError::Twice("author")
        );
    }
}
