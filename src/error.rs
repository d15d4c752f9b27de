//! The HTTP error of every JSON endpoint: a status and `{"error": "<what was wrong>"}`.
//!
//! Handlers return `Result<_, ApiError>`; extractor failures (bad query, bad JSON, wrong content
//! type, oversize body) are turned into the same shape by the configs in [`extractor_configs`].
//! Domain errors (`ChatError`, `FeedSettingsError`, `AheadOfFeed`, …) become an `ApiError`
//! through a `From` written beside each of them, so a handler only says `?`.
//!
//! At the bottom of the house: imports nothing of pushlab.

use actix_web::{
    HttpResponse, ResponseError,
    error::{JsonPayloadError, PayloadError, QueryPayloadError, UrlencodedError},
    http::StatusCode,
    web,
};
use serde::{Deserialize, Deserializer, de};
use serde_json::json;

/// Largest JSON body accepted by the API (chat, client metrics, admin settings).
pub const MAX_JSON_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds after which the client may try again (`Retry-After`, RFC 9110 §10.2.3), for a 429.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 429 Too Many Requests (RFC 6585 §4), with `Retry-After: <secs>`.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: say which scheme would have worked.
            response.insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                "Bearer realm=\"pushlab admin\"",
            ));
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        response.json(json!({ "error": self.message }))
    }
}

/// A JSON body or message that must be an object (RFC 8259 §4), read as `T`.
///
/// serde's derived structs also accept an array of their fields in order (`["ana","hi"]` for
/// `{author, text}`), and internally tagged enums an array led by the tag, so a client sending
/// an array would be obeyed. Every JSON body and socket message of pushlab is an object:
/// anything else (array, string, number, boolean, null) is refused here, as "invalid type:
/// sequence, expected a JSON object", before `T` sees it.
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectOnly<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for ObjectOnly<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                // The field a refusal is about, named: serde alone says "invalid value:
                // integer `-5`, expected usize at line 1 column 19", and leaves the reader to
                // count columns to find which.
                serde_path_to_error::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map_err(|e| {
                        let path = e.path().to_string();
                        let inner = e.into_inner();
                        if path == "." {
                            // No path (an internally tagged enum reads its fields buffered):
                            // the words at least.
                            return de::Error::custom(plain_words(&inner.to_string()));
                        }
                        de::Error::custom(format!("{path}: {}", plain_words(&inner.to_string())))
                    })
            }
        }
        deserializer
            .deserialize_map(ObjectOnly(std::marker::PhantomData))
            .map(JsonObject)
    }
}

/// serde's words for a value of the wrong kind, as a reader says them ("expected usize" is
/// "expected a whole number ≥ 0"), without serde_json's position (which it adds once more to
/// the new message, after the field's name).
fn plain_words(serde_text: &str) -> String {
    let text = serde_text
        .rfind(" at line ")
        .map_or(serde_text, |at| &serde_text[..at]);
    [
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
        ("expected u16", "expected a whole number ≥ 0"),
        ("expected u8", "expected a whole number ≥ 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ]
    .iter()
    .fold(text.to_owned(), |text, (serde, plain)| {
        text.replace(serde, plain)
    })
}

fn from_payload(err: &PayloadError) -> ApiError {
    match err {
        PayloadError::Overflow => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body is larger than {MAX_JSON_BODY} bytes"),
        ),
        other => ApiError::bad_request(format!("could not read the body: {other}")),
    }
}

/// What is wrong with a JSON text, as serde_json says it, and what it means when its words would
/// not tell a student: a `\uD800`–`\uDBFF` escape not followed by its low half (`\uDC00`–
/// `\uDFFF`) is a lone surrogate, no Unicode text (RFC 8259 §7), which serde_json reports as
/// the end of a hex escape.
pub fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.contains("hex escape") || text.contains("surrogate") {
        format!(
            "{text} (a \\uD800-\\uDBFF escape must be followed by its low half \\uDC00-\\uDFFF: \
             a lone surrogate is no Unicode text, RFC 8259 §7)"
        )
    } else {
        text
    }
}

impl From<&JsonPayloadError> for ApiError {
    fn from(err: &JsonPayloadError) -> Self {
        match err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("body is larger than {MAX_JSON_BODY} bytes"),
                )
            }
            JsonPayloadError::ContentType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            ),
            JsonPayloadError::Deserialize(e) => {
                ApiError::bad_request(format!("invalid JSON: {}", json_problem(e)))
            }
            JsonPayloadError::Payload(e) => from_payload(e),
            other => ApiError::bad_request(format!("invalid JSON body: {other}")),
        }
    }
}

impl From<&UrlencodedError> for ApiError {
    fn from(err: &UrlencodedError) -> Self {
        match err {
            UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("form is larger than {MAX_JSON_BODY} bytes"),
            ),
            UrlencodedError::ContentType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/x-www-form-urlencoded",
            ),
            UrlencodedError::Payload(e) => from_payload(e),
            other => ApiError::bad_request(format!("invalid form: {other}")),
        }
    }
}

/// Extractor configurations that answer bad input with an [`ApiError`] instead of actix's
/// plain-text defaults.
pub fn extractor_configs(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_JSON_BODY)
            .content_type_required(true)
            .error_handler(|err, _req| ApiError::from(&err).into()),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, req| {
        let query = req.query_string();
        let message = match &err {
            QueryPayloadError::Deserialize(e) => format!("invalid query string {query:?}: {e}"),
            other => format!("invalid query string {query:?}: {other}"),
        };
        ApiError::bad_request(message).into()
    }))
    .app_data(
        web::FormConfig::default()
            .limit(MAX_JSON_BODY)
            .error_handler(|err, _req| ApiError::from(&err).into()),
    )
    .app_data(web::PayloadConfig::default().limit(MAX_JSON_BODY));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: String,
        b: String,
    }

    #[test]
    fn only_an_object_is_read() {
        let pair = serde_json::from_str::<JsonObject<Pair>>(r#"{"a":"x","b":"y"}"#).unwrap();
        assert_eq!(pair.0.b, "y");
        // A derived struct alone takes an array of its fields; the wrapper does not.
        assert!(serde_json::from_str::<Pair>(r#"["x","y"]"#).is_ok());
        for other in [r#"["x","y"]"#, r#""x""#, "1", "true", "null"] {
            let err = serde_json::from_str::<JsonObject<Pair>>(other).unwrap_err();
            assert!(
                err.to_string().contains("expected a JSON object"),
                "{other}: {err}"
            );
        }
        // The struct's own rules still hold inside: duplicates and unknown fields.
        assert!(serde_json::from_str::<JsonObject<Pair>>(r#"{"a":"x","a":"z","b":"y"}"#).is_err());
        assert!(serde_json::from_str::<JsonObject<Pair>>(r#"{"a":"x","b":"y","c":1}"#).is_err());
    }
}
