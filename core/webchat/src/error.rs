//! The gateway's errors, and how the widget hears them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What went wrong serving a widget.
#[derive(Debug, thiserror::Error)]
pub enum WebchatError {
    /// A malformed request (400).
    #[error("{0}")]
    BadRequest(String),
    /// No session, or one Silta did not sign (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A site origin not allowed for the account (403).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown account or conversation (404).
    #[error("{0}")]
    NotFound(String),
    /// An upload over the limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// An upload of a type the account does not take (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The store failed (503: try again).
    #[error("store: {0}")]
    Store(#[from] silta_store::StoreError),
    /// The pipeline refused or failed.
    #[error(transparent)]
    Pipeline(#[from] silta_pipeline::PipelineError),
}

/// The gateway's results.
pub type Result<T, E = WebchatError> = std::result::Result<T, E>;

impl WebchatError {
    /// The HTTP status the widget gets.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        use silta_pipeline::PipelineError as P;
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Pipeline(P::BadInput(_)) => StatusCode::BAD_REQUEST,
            Self::Pipeline(P::Unauthorized(_)) => StatusCode::UNAUTHORIZED,
            Self::Pipeline(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Whether sending the same thing again may work (the widget keeps
    /// the message and retries).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.status().is_server_error()
    }
}

impl IntoResponse for WebchatError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "web chat request failed");
        }
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}
