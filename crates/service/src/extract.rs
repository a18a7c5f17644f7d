//! Request extractors whose problems are refused as `{code, message}` like every
//! other refusal, for the sign-in routes and the admin API alike.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

use crate::refusal::Refusal;

/// A JSON object body whose problems are refused as `{code, message}` like every
/// other refusal. Only an object is taken: serde would also read a struct from an
/// array of its fields in order (`[null, null]`), which no client means.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match Json::<serde_json::Value>::from_request(request, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => {
                let code = match rejection {
                    JsonRejection::JsonSyntaxError(_) => "bad_json",
                    _ => "bad_request",
                };
                return Err(Refusal::new(StatusCode::BAD_REQUEST, code, rejection.body_text()));
            }
        };
        if !value.is_object() {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "The body must be a JSON object ({...}) with the fields this operation takes.",
            ));
        }
        serde_json::from_value(value).map(Body).map_err(|error| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("The body is not valid: {error}."),
            )
        })
    }
}

/// Path parameters whose problems are refused as `{code, message}`.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("The address is not valid: {}.", rejection.body_text()),
            )),
        }
    }
}

/// A query string whose problems are refused as `{code, message}`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("The query string is not valid: {}.", rejection.body_text()),
            )),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is
/// case-insensitive (RFC 7235, section 2.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim_start();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}
