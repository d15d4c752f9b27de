//! Chat: what a person posts, checked once, published as a `chat` event on the one feed.
//!
//! Every transport posts through [`ChatPost::validate`] and [`publish_chat`], so the rules (length,
//! no control characters) are the same everywhere. Text is stored as typed; pages escape it when
//! they render it, so a posted `<script>` is shown, never run.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use std::sync::Arc;

use crate::{
    error::ApiError,
    feed::{Event, Hub, Kind},
    state::AppState,
};

pub const MAX_AUTHOR_CHARS: usize = 32;
pub const MAX_TEXT_CHARS: usize = 500;

/// A chat message as a client sends it (JSON, form or WebSocket).
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

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChatError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters")]
    Control { field: &'static str },
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

impl ChatPost {
    pub fn validate(self) -> Result<ChatMessage, ChatError> {
        Ok(ChatMessage {
            author: checked("author", &self.author, MAX_AUTHOR_CHARS)?,
            text: checked("text", &self.text, MAX_TEXT_CHARS)?,
        })
    }
}

fn checked(field: &'static str, value: &str, max: usize) -> Result<String, ChatError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ChatError::Empty { field });
    }
    if value.chars().count() > max {
        return Err(ChatError::TooLong { field, max });
    }
    if value.chars().any(char::is_control) {
        return Err(ChatError::Control { field });
    }
    Ok(value.to_owned())
}

pub fn publish_chat(hub: &Hub, message: &ChatMessage) -> Arc<Event> {
    hub.publish(
        Kind::Chat,
        &json!({ "author": message.author, "text": message.text }),
    )
}

/// `POST /api/chat`: 201 with the published event.
pub async fn post_chat(
    state: web::Data<AppState>,
    post: web::Json<ChatPost>,
) -> Result<HttpResponse, ApiError> {
    let message = post.into_inner().validate()?;
    let event = publish_chat(&state.hub, &message);
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
            ChatError::Control { field: "text" }
        );
        assert_eq!(
            post("a", "two\nlines").unwrap_err(),
            ChatError::Control { field: "text" }
        );
    }
}
