//! The one error shape of the API: `{"error": {"code", "message", "details"}}` with a stable code
//! and the right status. Internal errors are logged with their cause chain and answered with a
//! generic message.

use std::fmt;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use tend_store::{ErrorKind, StoreError};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `client.not_found`, `auth.token_expired`, …
    #[schema(example = "client.illegal_transition")]
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Machine-readable particulars (invalid fields, versions), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// A failure the client cannot fix: logged in full, answered without internals.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next.source();
        }
        tracing::error!(cause = %chain, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal.error",
            "something went wrong on our side; it has been logged",
        )
    }

    pub fn code(&self) -> &str {
        &self.code
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let status = match error.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Internal => return ApiError::internal(&error),
        };
        let details = error.details();
        ApiError {
            status,
            code: error.code().to_owned(),
            message: error.to_string(),
            details,
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal(&error)
    }
}

/// Maps actix's JSON body errors to the API's shape.
pub fn json_error(error: JsonPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!("the request body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(cause) => body_error(cause),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.unreadable_body",
            other.to_string(),
        ),
    };
    api_error.into()
}

/// A JSON body that is not JSON (400) or does not have the expected fields (422).
pub fn body_error(cause: &serde_json::Error) -> ApiError {
    if cause.is_data() {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.invalid_body",
            format!("the body does not match the expected fields: {cause}"),
        )
        .with_details(serde_json::json!({ "reason": cause.to_string() }))
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.malformed_json",
            format!("the body is not valid JSON: {cause}"),
        )
    }
}

/// Maps query-string errors to the API's shape.
pub fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "request.invalid_query",
        format!("the query string is not valid: {error}"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::body::MessageBody;

    use super::*;

    fn body_of(error: &ApiError) -> serde_json::Value {
        let bytes = error.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = ApiError::from(StoreError::Migration(
            "relation clients: password=hunter2".into(),
        ));
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(&error);
        assert_eq!(body["error"]["code"], "internal.error");
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }

    #[test]
    fn store_errors_keep_their_code_status_and_details() {
        let conflict = ApiError::from(StoreError::VersionConflict {
            expected: 1,
            actual: 2,
        });
        assert_eq!(conflict.status_code(), StatusCode::CONFLICT);
        let body = body_of(&conflict);
        assert_eq!(body["error"]["code"], "client.version_conflict");
        assert_eq!(body["error"]["details"]["current_version"], 2);
        let expired = ApiError::from(StoreError::TokenExpired);
        assert_eq!(expired.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            expired
                .error_response()
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .unwrap(),
            "Bearer"
        );
        assert_eq!(
            ApiError::from(StoreError::ClientNotFound).status_code(),
            StatusCode::NOT_FOUND
        );
    }
}
