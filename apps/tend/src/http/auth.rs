//! Bearer-token authentication as an extractor: a handler that takes [`Authenticated`] only runs
//! for a valid, unexpired session.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use tend_core::Actor;
use tend_store::Store;

use crate::http::error::ApiError;

/// The caller, authenticated from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub token: String,
}

fn bearer_token(request: &HttpRequest) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.missing_token",
            "log in and send `Authorization: Bearer <token>`",
        )
    };
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Authenticated, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer_token(request);
        let store = request.app_data::<web::Data<Store>>().cloned();
        Box::pin(async move {
            let token = token?;
            let store = store.ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal.error",
                    "the store is not configured",
                )
            })?;
            let checked = token.clone();
            let actor = web::block(move || store.authenticate(&checked)).await??;
            Ok(Authenticated { actor, token })
        })
    }
}
