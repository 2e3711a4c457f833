//! Errors as HTTP answers: a status and a JSON reason.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use silta_pipeline::PipelineError;

/// An error answer: `{"error": code, "message": reason}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short machine-readable code.
    pub code: &'static str,
    /// What went wrong and, where possible, how to fix it.
    pub message: String,
    /// Seconds after which a retry may succeed.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with a reason.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The answer to a body axum could not read: 413 naming the limit and
    /// the setting that raises it (`the body`, `api.max_body_bytes`), or
    /// the rejection's own status and text.
    pub fn unreadable_body(
        rejection: &axum::extract::rejection::BytesRejection,
        what: &str,
        limit: usize,
        setting: &str,
    ) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                status,
                "payload_too_large",
                format!("{what} is larger than the limit of {limit} bytes ({setting})"),
            )
        } else {
            Self::new(status, "unreadable_body", rejection.body_text())
        }
    }

    /// 404 for a missing record.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} {id} not found"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(err: PipelineError) -> Self {
        let message = err.to_string();
        match err {
            PipelineError::UnknownChannelAccount(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_channel_account", message)
            }
            PipelineError::BadInput(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_input", message)
            }
            PipelineError::Unauthorized(_) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "signature_refused", message)
            }
            PipelineError::Plugin {
                retry_after_seconds,
                ..
            } => ApiError {
                retry_after: Some(retry_after_seconds.unwrap_or(5)),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "plugin_failed", message)
            },
            PipelineError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            PipelineError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            PipelineError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            PipelineError::IdempotencyMismatch(_) => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", message)
            }
            PipelineError::Store(_) | PipelineError::ShuttingDown => ApiError {
                retry_after: Some(1),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            },
        }
    }
}

impl From<silta_store::StoreError> for ApiError {
    fn from(err: silta_store::StoreError) -> Self {
        PipelineError::Store(err).into()
    }
}
