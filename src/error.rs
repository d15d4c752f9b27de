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
use serde_json::json;

/// Largest JSON body accepted by the API (chat, client metrics, admin settings).
pub const MAX_JSON_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
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
        response.json(json!({ "error": self.message }))
    }
}

fn from_payload(err: &PayloadError) -> ApiError {
    match err {
        PayloadError::Overflow => ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("body is larger than {MAX_JSON_BODY} bytes"),
        },
        other => ApiError::bad_request(format!("could not read the body: {other}")),
    }
}

impl From<&JsonPayloadError> for ApiError {
    fn from(err: &JsonPayloadError) -> Self {
        match err {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    message: format!("body is larger than {MAX_JSON_BODY} bytes"),
                }
            }
            JsonPayloadError::ContentType => ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                message: "Content-Type must be application/json".into(),
            },
            JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!("invalid JSON: {e}")),
            JsonPayloadError::Payload(e) => from_payload(e),
            other => ApiError::bad_request(format!("invalid JSON body: {other}")),
        }
    }
}

impl From<&UrlencodedError> for ApiError {
    fn from(err: &UrlencodedError) -> Self {
        match err {
            UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: format!("form is larger than {MAX_JSON_BODY} bytes"),
            },
            UrlencodedError::ContentType => ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                message: "Content-Type must be application/x-www-form-urlencoded".into(),
            },
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
