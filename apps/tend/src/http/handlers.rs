//! Request handlers: parse the request, call one use case on a blocking thread, map the result.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tend_clients::{ClientInput, ClientPatchInput, ClientView};
use tend_core::{ClientId, SiteId};
use tend_store::{AuditQuery, ClientQuery, NewUser, Store};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Authenticated;
use crate::http::error::{body_error, ApiError, ErrorBody};

type Result<T> = std::result::Result<T, ApiError>;

/// Runs a blocking use case off the async workers.
async fn run<T: Send + 'static>(
    store: &web::Data<Store>,
    use_case: impl FnOnce(&Store) -> std::result::Result<T, tend_store::StoreError> + Send + 'static,
) -> Result<T> {
    let store = store.clone();
    Ok(web::block(move || use_case(&store)).await??)
}

fn parse_id<T>(
    text: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, tend_core::ValueError>,
) -> Result<T> {
    parse(text).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.code(),
            error.to_string(),
        )
    })
}

// ---- DTOs ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@tend.local")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    #[schema(example = "Riverside Center")]
    pub name: String,
    /// IANA time zone.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteResponse {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

impl From<tend_store::Site> for SiteResponse {
    fn from(site: tend_store::Site) -> SiteResponse {
        SiteResponse {
            id: site.id.to_string(),
            name: site.name,
            time_zone: site.time_zone.as_str().to_owned(),
            created_at: site.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub email: String,
    /// admin, store_manager, consultant, expert, operator, chef, receptionist or finance.
    pub role: String,
    /// Required for every role except admin.
    pub site_id: Option<String>,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub role: String,
    pub site_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A client record as the caller's role may see it. Fields the role may not read are `null` and
/// listed in `hidden_fields`; listings always hide allergies and health notes (open the client to
/// read them, which is audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientDocument {
    pub id: String,
    pub site_id: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub expected_due_date: Option<String>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    pub allergies: Option<String>,
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    /// new, returning, vip or special_attention.
    pub category: String,
    pub consultant_id: Option<String>,
    /// inquiry, contracted, checked_in, checked_out, in_follow_up, closed, lost or cancelled.
    pub status: String,
    pub next_follow_up_on: Option<String>,
    pub owner_id: Option<String>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub hidden_fields: Vec<String>,
}

/// A new client (documentation of the body; the store parses it). Every field but `full_name` is
/// optional; unknown fields are refused. Dates are `YYYY-MM-DD`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCreateRequest {
    /// Defaults to the caller's own site; required for chain-wide users.
    pub site_id: Option<String>,
    #[schema(example = "Li Mei")]
    pub full_name: String,
    #[schema(example = "+86 138 0013 8000")]
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub expected_due_date: Option<String>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    pub allergies: Option<String>,
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    /// new (default), returning, vip or special_attention.
    pub category: Option<String>,
    pub consultant_id: Option<String>,
    pub next_follow_up_on: Option<String>,
    pub owner_id: Option<String>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
}

/// Changes to a client (documentation of the body). Absent fields are kept, `null` clears a field;
/// `status` is not editable (use transitions). `version` is the version you saw.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientPatchRequest {
    pub version: Option<i64>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub expected_due_date: Option<String>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    pub allergies: Option<String>,
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    pub category: Option<String>,
    pub consultant_id: Option<String>,
    pub next_follow_up_on: Option<String>,
    pub owner_id: Option<String>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PossibleDuplicateResponse {
    pub client_id: String,
    pub full_name: String,
    /// same_phone or same_name_and_birth_date.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClientResponse {
    #[schema(value_type = ClientDocument)]
    pub client: ClientView,
    /// Existing clients that may be the same person: a warning, the client was registered.
    #[schema(value_type = Vec<PossibleDuplicateResponse>)]
    pub possible_duplicates: Vec<tend_store::PossibleDuplicate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPageResponse {
    #[schema(value_type = Vec<ClientDocument>)]
    pub items: Vec<ClientView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListParams {
    /// Defaults to the caller's own site.
    pub site_id: Option<String>,
    /// Part of the name, or of the phone number.
    pub q: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// 1 to 200, default 50.
    pub per_page: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    #[schema(example = "contracted")]
    pub to: String,
    /// Required when moving to lost or cancelled.
    pub reason: Option<String>,
    /// The version the caller saw; a stale one gets 409.
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionResponse {
    pub client_id: String,
    pub from: String,
    pub to: String,
    pub actor_id: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

impl From<tend_store::ClientTransition> for TransitionResponse {
    fn from(transition: tend_store::ClientTransition) -> TransitionResponse {
        TransitionResponse {
            client_id: transition.client_id.to_string(),
            from: transition.from.as_str().to_owned(),
            to: transition.to.as_str().to_owned(),
            actor_id: transition.actor_id.to_string(),
            at: transition.at,
            reason: transition.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionOutcomeResponse {
    pub transition: TransitionResponse,
    #[schema(value_type = ClientDocument)]
    pub client: ClientView,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// client, user, site, …
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// client.created, auth.login_failed, …
    pub action: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub site_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// `{"field": {"before": …, "after": …}}`; sensitive values are redacted.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// success or failure.
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageResponse {
    pub items: Vec<AuditEventResponse>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: String,
}

// ---- Handlers ----

/// Opens a session.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login(store: web::Data<Store>, body: web::Json<LoginRequest>) -> Result<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    let session = run(&store, move |store| store.login(&email, &password)).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at,
        user_id: session.actor.user_id.to_string(),
        role: session.actor.role.as_str().to_owned(),
    }))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(store: web::Data<Store>, caller: Authenticated) -> Result<HttpResponse> {
    run(&store, move |store| store.logout(&caller.token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Opens a site (administrators).
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])), request_body = SiteRequest,
    responses((status = 201, body = SiteResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_site(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<SiteRequest>,
) -> Result<HttpResponse> {
    let SiteRequest { name, time_zone } = body.into_inner();
    let site = run(&store, move |store| {
        store.create_site(&caller.actor, &name, &time_zone)
    })
    .await?;
    Ok(HttpResponse::Created().json(SiteResponse::from(site)))
}

/// The sites the caller may see.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = Vec<SiteResponse>), (status = 401, body = ErrorBody)))]
pub async fn list_sites(store: web::Data<Store>, caller: Authenticated) -> Result<HttpResponse> {
    let sites = run(&store, move |store| store.list_sites(&caller.actor)).await?;
    let sites: Vec<SiteResponse> = sites.into_iter().map(SiteResponse::from).collect();
    Ok(HttpResponse::Ok().json(sites))
}

/// Creates a user (administrators; store managers for their own site).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = UserRequest,
    responses((status = 201, body = UserResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<UserRequest>,
) -> Result<HttpResponse> {
    let UserRequest {
        email,
        role,
        site_id,
        password,
    } = body.into_inner();
    let new_user = NewUser {
        email,
        role,
        site_id,
        password,
    };
    let user = run(&store, move |store| {
        store.create_user(Some(&caller.actor), new_user)
    })
    .await?;
    Ok(HttpResponse::Created().json(UserResponse {
        id: user.id.to_string(),
        email: user.email.as_str().to_owned(),
        role: user.role.as_str().to_owned(),
        site_id: user.site_id.map(|site| site.to_string()),
        created_at: user.created_at,
    }))
}

/// Registers a client. The body holds the client fields plus `site_id` (defaults to the caller's
/// own site). Possible duplicates are returned as a warning.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])), request_body = ClientCreateRequest,
    responses((status = 201, body = CreatedClientResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_client(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<HttpResponse> {
    let mut fields = body.into_inner();
    let site_id = match fields.remove("site_id") {
        Some(serde_json::Value::String(text)) => parse_id(&text, SiteId::parse)?,
        Some(serde_json::Value::Null) | None => caller.actor.home_site().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation.invalid_fields",
                "site_id is required for users who work at every site",
            )
            .with_details(serde_json::json!({"fields": [{"field": "site_id", "code": "value.required", "message": "required"}]}))
        })?,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "value.invalid_id",
                "site_id must be a site id (text)",
            ))
        }
    };
    let input: ClientInput = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|error| body_error(&error))?;
    let created = run(&store, move |store| {
        store.create_client(&caller.actor, site_id, input)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(created.client.client.version)))
        .json(CreatedClientResponse {
            client: created.client,
            possible_duplicates: created.possible_duplicates,
        }))
}

/// Clients of a site, newest first, with search, filters and paging.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])), params(ClientListParams),
    responses((status = 200, body = ClientPageResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_clients(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<ClientListParams>,
) -> Result<HttpResponse> {
    let params = params.into_inner();
    let site_id = given(params.site_id)
        .as_deref()
        .map(|text| parse_id(text, SiteId::parse))
        .transpose()?;
    let query = ClientQuery {
        site_id,
        search: given(params.q),
        status: given(params.status),
        category: given(params.category),
        page: params.page,
        per_page: params.per_page,
    };
    let page = run(&store, move |store| {
        store.list_clients(&caller.actor, query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ClientPageResponse {
        items: page.items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// A query parameter that is present and not blank: forms send `?status=` for "any status".
fn given(parameter: Option<String>) -> Option<String> {
    parameter.filter(|value| !value.trim().is_empty())
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version in an `If-Match` header: `"3"`, `W/"3"` or `3`.
fn if_match(request: &HttpRequest) -> Result<Option<i64>> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.invalid_if_match",
            "If-Match must hold the client version, e.g. \"3\"",
        )
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| invalid())
}

/// One client as the caller's role may see it. Reading allergies or health notes is audited.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = ClientDocument), (status = 404, body = ErrorBody)))]
pub async fn get_client(
    store: web::Data<Store>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id(&id, ClientId::parse)?;
    let view = run(&store, move |store| store.get_client(&caller.actor, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.client.version)))
        .json(view))
}

/// Edits a client. Send the version you saw as `version` in the body or as `If-Match`; a stale
/// version gets 409 `client.version_conflict`. `null` clears a field; absent fields are kept.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id"), ("If-Match" = Option<String>, Header, description = "the version you saw")),
    request_body = ClientPatchRequest,
    responses((status = 200, body = ClientDocument), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_client(
    store: web::Data<Store>,
    caller: Authenticated,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ClientPatchInput>,
) -> Result<HttpResponse> {
    let id = parse_id(&id, ClientId::parse)?;
    let expected = if_match(&request)?;
    let patch = body.into_inner();
    let view = run(&store, move |store| {
        store.update_client(&caller.actor, id, patch, expected)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.client.version)))
        .json(view))
}

/// Moves a client along the lifecycle; an illegal step gets 409 `client.illegal_transition`.
#[utoipa::path(post, path = "/api/v1/clients/{id}/transitions", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")), request_body = TransitionRequest,
    responses((status = 201, body = TransitionOutcomeResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn transition_client(
    store: web::Data<Store>,
    caller: Authenticated,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Json<TransitionRequest>,
) -> Result<HttpResponse> {
    let id = parse_id(&id, ClientId::parse)?;
    let TransitionRequest {
        to,
        reason,
        version,
    } = body.into_inner();
    let expected = if_match(&request)?.or(version);
    let outcome = run(&store, move |store| {
        store.transition_client(&caller.actor, id, &to, reason.as_deref(), expected)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(outcome.client.client.version)))
        .json(TransitionOutcomeResponse {
            transition: outcome.transition.into(),
            client: outcome.client,
        }))
}

/// A client's lifecycle history, oldest first.
#[utoipa::path(get, path = "/api/v1/clients/{id}/transitions", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = Vec<TransitionResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_transitions(
    store: web::Data<Store>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id(&id, ClientId::parse)?;
    let transitions = run(&store, move |store| {
        store.list_transitions(&caller.actor, id)
    })
    .await?;
    let transitions: Vec<TransitionResponse> = transitions
        .into_iter()
        .map(TransitionResponse::from)
        .collect();
    Ok(HttpResponse::Ok().json(transitions))
}

/// The audit trail, newest first (administrators; store managers see their site).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditPageResponse), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse> {
    let params = params.into_inner();
    let query = AuditQuery {
        entity_type: given(params.entity_type),
        entity_id: given(params.entity_id),
        action: given(params.action),
        page: params.page,
        per_page: params.per_page,
    };
    let page = run(&store, move |store| store.list_audit(&caller.actor, query)).await?;
    let items = page
        .items
        .into_iter()
        .map(|event| AuditEventResponse {
            id: event.id.to_string(),
            seq: event.seq,
            at: event.at,
            actor_id: event.record.actor_id.map(|id| id.to_string()),
            site_id: event.record.site_id.map(|id| id.to_string()),
            action: event.record.action,
            entity_type: event.record.entity_type,
            entity_id: event.record.entity_id,
            changes: event.record.changes,
            outcome: event.record.outcome.as_str().to_owned(),
            prev_hash: event.prev_hash,
            hash: event.hash,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditPageResponse {
        items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = HealthResponse), (status = 503, body = ErrorBody)))]
pub async fn healthz(store: web::Data<Store>) -> Result<HttpResponse> {
    match run(&store, |store| store.check_health()).await {
        Ok(()) => Ok(HttpResponse::Ok().json(HealthResponse {
            status: "ok".into(),
        })),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "health.database_unavailable",
            "the database does not answer",
        )),
    }
}

pub async fn route_not_found(request: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::new(
        StatusCode::NOT_FOUND,
        "route.not_found",
        format!("no such endpoint: {}", request.path()),
    ))
}

pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
        format!("{} is not allowed on {}", request.method(), request.path()),
    ))
}
