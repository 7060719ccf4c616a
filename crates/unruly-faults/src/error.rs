//! Errors of the control API, in Toxiproxy's shape: `{"error": "...", "status": N}`.

use serde::Serialize;

/// An error the control API answers with: its message and HTTP status, serialised as
/// Toxiproxy does (`{"error":"proxy not found","status":404}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error} ({status})")]
pub struct ApiError {
    /// What went wrong, in Toxiproxy's words where Toxiproxy has words for it.
    pub error: String,
    /// The HTTP status code.
    pub status: u16,
}

impl ApiError {
    /// An error with this message and status.
    pub fn new(error: impl Into<String>, status: u16) -> ApiError {
        ApiError {
            error: error.into(),
            status,
        }
    }

    /// 400 `bad request body: <detail>`.
    pub fn bad_body(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(format!("bad request body: {detail}"), 400)
    }

    /// 400 `missing required field: <field>`.
    pub fn missing_field(field: &str) -> ApiError {
        ApiError::new(format!("missing required field: {field}"), 400)
    }

    /// 404 `proxy not found`.
    pub fn proxy_not_found() -> ApiError {
        ApiError::new("proxy not found", 404)
    }

    /// 409 `proxy already exists`.
    pub fn proxy_exists() -> ApiError {
        ApiError::new("proxy already exists", 409)
    }

    /// 400 `invalid toxic type`.
    pub fn invalid_toxic_type() -> ApiError {
        ApiError::new("invalid toxic type", 400)
    }

    /// 400 for a stream other than upstream or downstream.
    pub fn invalid_stream() -> ApiError {
        ApiError::new(
            "stream was invalid, can be either upstream or downstream",
            400,
        )
    }

    /// 404 `toxic not found`.
    pub fn toxic_not_found() -> ApiError {
        ApiError::new("toxic not found", 404)
    }

    /// 409 `toxic already exists`.
    pub fn toxic_exists() -> ApiError {
        ApiError::new("toxic already exists", 409)
    }

    /// The error as the JSON body the API sends.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            format!(
                "{{\"error\":\"internal error\",\"status\":{}}}",
                self.status
            )
        })
    }
}
