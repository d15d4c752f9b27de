//! Chat: what a person posts, checked once, limited per client, published as a `chat` event.
//!
//! Every transport (JSON `POST /api/chat`, the classic form, a `/ws` frame) hands its two fields
//! to [`admit`], so the same characters get the same verdict whichever way they came, and every
//! post counts against the same per-address limit. Text is stored as typed (trimmed); pages
//! escape it and isolate its direction when they render it, so a posted `<script>` is shown,
//! never run, and a right-to-left name cannot swallow the line around it.

use actix_web::{HttpRequest, HttpResponse, web};
use icu_properties::{
    CodePointMapData, CodePointMapDataBorrowed, CodePointSetData, CodePointSetDataBorrowed,
    props::{BidiControl, DefaultIgnorableCodePoint, GeneralCategory, WhiteSpace},
};
use serde::Deserialize;
use serde_json::json;

use std::sync::Arc;

use crate::{
    broker::PublishError,
    error::{ApiError, JsonObject},
    feed::{Event, Kind},
    limits::{ClientKey, Refused, client_key},
    state::AppState,
};

/// Longest author, in Unicode scalar values (after trimming).
pub const MAX_AUTHOR_CHARS: usize = 32;
/// Longest text, in Unicode scalar values (after trimming).
pub const MAX_TEXT_CHARS: usize = 500;

/// A chat message as a client sends it: a JSON object (`POST /api/chat`, read through
/// [`JsonObject`]), the fields of a `/ws` chat frame, or the classic form's fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPost {
    pub author: String,
    pub text: String,
}

/// A chat message that passed the rules.
#[derive(Debug)]
pub struct ChatMessage {
    author: String,
    text: String,
}

/// Why a field was refused. The messages name the field and, where one character is at fault,
/// its code point, so a student can find it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChatError {
    #[error("{field} must not be empty: it needs at least one visible character")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters or line breaks (found U+{:04X})", *found as u32)]
    Control { field: &'static str, found: char },
    #[error(
        "{field} must not contain bidirectional control characters (found U+{:04X}): they change how the rest of the line reads",
        *found as u32
    )]
    Bidi { field: &'static str, found: char },
    #[error("{field} is not valid UTF-8")]
    NotUtf8 { field: &'static str },
    #[error(
        "{field} stacks more than {MAX_MARKS_PER_CHARACTER} combining marks on one character: they would draw over the lines around it"
    )]
    StackedMarks { field: &'static str },
}

/// Most combining marks (general categories Mn, Me) one character may carry. Written languages
/// stack two or three (Vietnamese, Hebrew points, Devanagari); dozens ("Zalgo" text) draw a
/// column over the neighbouring lines of every page.
pub const MAX_MARKS_PER_CHARACTER: usize = 4;

/// Whether `c` is a combining mark drawn on the character before it.
fn is_mark(c: char) -> bool {
    matches!(
        CATEGORY.get(c),
        GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
    )
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

/// Why a post was not published: its content, or its client posting too often.
#[derive(Debug)]
pub enum ChatRefusal {
    Invalid(ChatError),
    TooMany(Refused),
    /// The broker could not take it (`--broker`): what happened to the message.
    Unavailable(PublishError),
}

impl ChatRefusal {
    /// The message a client reads, on every transport.
    pub fn message(&self) -> String {
        match self {
            ChatRefusal::Invalid(e) => e.to_string(),
            ChatRefusal::TooMany(refused) => format!(
                "too many chat messages from your address: try again in {} s",
                refused.retry_after_secs()
            ),
            ChatRefusal::Unavailable(e) => e.to_string(),
        }
    }
}

impl From<ChatRefusal> for ApiError {
    fn from(refusal: ChatRefusal) -> Self {
        match refusal {
            ChatRefusal::Invalid(e) => e.into(),
            ChatRefusal::TooMany(refused) => {
                ApiError::too_many_requests(refusal.message(), refused.retry_after_secs())
            }
            ChatRefusal::Unavailable(e) => e.into(),
        }
    }
}

impl ChatPost {
    /// The one verdict on a post's characters, whatever transport carried them.
    pub fn validate(self) -> Result<ChatMessage, ChatError> {
        Ok(ChatMessage {
            author: checked("author", &self.author, MAX_AUTHOR_CHARS)?,
            text: checked("text", &self.text, MAX_TEXT_CHARS)?,
        })
    }
}

/// Takes a post from `client` through the limit and the rules, and publishes it. The limit
/// comes first: every post counts, so a flood of refused posts is as limited as one of good
/// ones (a body that is not a chat object at all was refused before, as bad JSON).
pub async fn admit(
    state: &AppState,
    client: ClientKey,
    post: ChatPost,
) -> Result<Arc<Event>, ChatRefusal> {
    state.chat_limit.check(client).map_err(|refused| {
        tracing::debug!(%client, "chat refused: over the limit");
        ChatRefusal::TooMany(refused)
    })?;
    let message = post.validate().map_err(ChatRefusal::Invalid)?;
    publish_chat(state, &message)
        .await
        .map_err(ChatRefusal::Unavailable)
}

const WHITE_SPACE: CodePointSetDataBorrowed<'static> = CodePointSetData::new::<WhiteSpace>();
const DEFAULT_IGNORABLE: CodePointSetDataBorrowed<'static> =
    CodePointSetData::new::<DefaultIgnorableCodePoint>();
const BIDI_CONTROL: CodePointSetDataBorrowed<'static> = CodePointSetData::new::<BidiControl>();
const CATEGORY: CodePointMapDataBorrowed<'static, GeneralCategory> =
    CodePointMapData::<GeneralCategory>::new();

/// Graphic characters (not White_Space, Cf nor Default_Ignorable) that fonts draw as blank
/// space, used to fake an empty name: U+2800 BRAILLE PATTERN BLANK.
const BLANK_GRAPHICS: [char; 1] = ['\u{2800}'];

/// Whether `c` shows nothing by itself: Unicode's White_Space, general category Format (Cf) or
/// Default_Ignorable_Code_Point (which covers U+200B, U+2060, U+FEFF, U+00AD, the Hangul fillers
/// U+115F, U+1160, U+3164, U+FFA0, variation selectors, tag characters…), or a blank graphic.
/// Data: ICU4X's compiled Unicode Character Database (`icu_properties`).
pub fn is_invisible(c: char) -> bool {
    WHITE_SPACE.contains(c)
        || DEFAULT_IGNORABLE.contains(c)
        || CATEGORY.get(c) == GeneralCategory::Format
        || BLANK_GRAPHICS.contains(&c)
}

/// The rules of one field, in order: trimmed of White_Space at both ends; not empty and not
/// invisible only; at most `max` characters; no control character (Cc) nor line or paragraph
/// separator (U+2028, U+2029: a line break that would let a text fake another author's line);
/// no bidirectional control (Bidi_Control: U+061C, U+200E–200F, U+202A–202E, U+2066–2069, which
/// reorder the text around them: "evil\u{202E}txt.exe"). Returns the trimmed value.
fn checked(field: &'static str, value: &str, max: usize) -> Result<String, ChatError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ChatError::TooLong { field, max });
    }
    if let Some(found) = value
        .chars()
        .find(|&c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(ChatError::Control { field, found });
    }
    if let Some(found) = value.chars().find(|&c| BIDI_CONTROL.contains(c)) {
        return Err(ChatError::Bidi { field, found });
    }
    // Marks alone (nothing to draw them on) are as empty as invisible characters.
    if value.chars().all(|c| is_invisible(c) || is_mark(c)) {
        return Err(ChatError::Empty { field });
    }
    let mut run = 0;
    for c in value.chars() {
        run = if is_mark(c) { run + 1 } else { 0 };
        if run > MAX_MARKS_PER_CHARACTER {
            return Err(ChatError::StackedMarks { field });
        }
    }
    Ok(value.to_owned())
}

/// Publishes a chat on the feed: at once alone; with a broker, once the broker confirmed it and
/// this server read it back (the event carries the stream's seq). The one publishing path of
/// every transport's chat; a broker fault is an error to show the poster (a 503 over HTTP).
pub async fn publish_chat(
    state: &AppState,
    message: &ChatMessage,
) -> Result<Arc<Event>, PublishError> {
    state
        .publish(
            Kind::Chat,
            &json!({ "author": message.author, "text": message.text }),
        )
        .await
}

/// `POST /api/chat` with a JSON object `{"author","text"}`: 201 with the published event; 400
/// for anything but such an object or for refused characters; 429 with `Retry-After` over the
/// client's limit; 503 when the broker cannot take it (`--broker`).
pub async fn post_chat(
    req: HttpRequest,
    state: web::Data<AppState>,
    post: web::Json<JsonObject<ChatPost>>,
) -> Result<HttpResponse, ApiError> {
    let event = admit(&state, client_key(&req), post.into_inner().0).await?;
    Ok(HttpResponse::Created()
        .content_type("application/json")
        .body(event.json().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(author: &str, text: &str) -> Result<ChatMessage, ChatError> {
        ChatPost {
            author: author.into(),
            text: text.into(),
        }
        .validate()
    }

    fn author_error(author: &str) -> ChatError {
        post(author, "salut").expect_err(&format!("{author:?} must be refused"))
    }

    #[test]
    fn marks_stack_as_written_languages_do_and_no_higher() {
        // Vietnamese "ệ" decomposed (e + two marks), Hebrew with points: accepted.
        assert!(post("lan", "Vie\u{0323}\u{0302}t").is_ok());
        assert!(post("dan", "\u{05E9}\u{05BC}\u{05C1}\u{05B8}").is_ok());
        let four = format!("c{}", "\u{0311}".repeat(MAX_MARKS_PER_CHARACTER));
        assert!(post("z", &four).is_ok());
        let zalgo = format!("c{}", "\u{0311}\u{0346}\u{0352}\u{0357}".repeat(60));
        assert_eq!(
            post("z", &zalgo).unwrap_err(),
            ChatError::StackedMarks { field: "text" }
        );
    }

    #[test]
    fn rules_at_every_bound() {
        assert!(post("ana", "salut").is_ok());
        assert_eq!(
            post("  ", "x").unwrap_err(),
            ChatError::Empty { field: "author" }
        );
        assert!(post(&"é".repeat(32), &"x".repeat(500)).is_ok());
        assert_eq!(
            post(&"é".repeat(33), "x").unwrap_err(),
            ChatError::TooLong {
                field: "author",
                max: 32
            }
        );
        assert!(matches!(
            post("a", &"x".repeat(501)),
            Err(ChatError::TooLong { .. })
        ));
        assert_eq!(
            post("a", "bell\u{7}").unwrap_err(),
            ChatError::Control {
                field: "text",
                found: '\u{7}'
            }
        );
        assert!(matches!(
            post("a", "two\nlines"),
            Err(ChatError::Control { .. })
        ));
    }

    #[test]
    fn every_bidirectional_control_is_refused_where_ever_it_stands() {
        let controls = ['\u{061C}', '\u{200E}', '\u{200F}']
            .into_iter()
            .chain('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}');
        for c in controls {
            for author in [format!("ana{c}"), format!("{c}ana"), format!("a{c}na")] {
                assert_eq!(
                    author_error(&author),
                    ChatError::Bidi {
                        field: "author",
                        found: c
                    },
                    "U+{:04X}",
                    c as u32
                );
            }
            assert!(matches!(
                post("ana", &format!("salut {c}les amis")),
                Err(ChatError::Bidi { field: "text", .. })
            ));
        }
        // Right-to-left letters themselves are text like any other.
        assert!(post("مريم", "שלום").is_ok());
    }

    #[test]
    fn a_field_with_nothing_visible_is_empty() {
        let invisible = [
            "\u{200B}",                    // zero width space (Cf, default ignorable)
            "\u{2060}",                    // word joiner
            "\u{FEFF}",                    // byte order mark
            "\u{00AD}",                    // soft hyphen
            "\u{3164}",                    // Hangul filler (Lo, default ignorable)
            "\u{115F}\u{1160}",            // Hangul choseong / jungseong fillers
            "\u{FFA0}",                    // halfwidth Hangul filler
            "\u{FE0F}\u{FE00}",            // variation selectors
            "\u{E0041}\u{E007F}",          // tag characters
            "\u{180E}",                    // Mongolian vowel separator
            "\u{034F}",                    // combining grapheme joiner
            "\u{3000}\u{00A0}\u{2007}",    // ideographic, no-break, figure spaces
            "\u{1D173}",                   // musical symbol begin beam (Cf)
            "\u{2800}\u{2800}",            // braille pattern blank
            "\u{0301}\u{0301}",            // combining marks with nothing to sit on
            " \u{200B} \u{200D}\u{2063} ", // a mix
        ];
        for author in invisible {
            assert_eq!(
                author_error(author),
                ChatError::Empty { field: "author" },
                "{:?}",
                author.escape_unicode().to_string()
            );
            assert!(matches!(
                post("ana", author),
                Err(ChatError::Empty { field: "text" })
            ));
        }
        // One visible character among them is enough; the invisible ones stay as typed.
        assert_eq!(
            post("\u{200B}a\u{200B}", "x").unwrap().author,
            "\u{200B}a\u{200B}"
        );
        // A line or paragraph separator is a line break.
        assert!(matches!(
            post("ana", "salut\u{2028}bob: moi"),
            Err(ChatError::Control {
                found: '\u{2028}',
                ..
            })
        ));
        // At either end it is trimmed like any White_Space.
        assert_eq!(post("ana", "salut\u{2029}").unwrap().text, "salut");
    }

    #[test]
    fn messages_name_the_field_and_the_code_point() {
        let message = author_error("ana\u{202E}").to_string();
        assert!(message.contains("author"), "{message}");
        assert!(message.contains("U+202E"), "{message}");
        assert!(author_error("\u{3164}").to_string().contains("visible"));
    }
}
