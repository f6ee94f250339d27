//! Appointment endpoints: staff for booking, resources, the service catalogue, slot search,
//! bookings (with `Idempotency-Key`), series, the waitlist, reminders, no-shows and iCalendar
//! exports. Handlers parse, call one store use case on a blocking thread, and map the result.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tend_appointments::{BookingId, BookingStatus, ResourceId, ServiceId, WaitlistEntryId};
use tend_core::{ClientId, SiteId, StaffId, ValueError};
use tend_store::{
    BookingQuery, BookingRequest, ResourceInput, SeriesRequest, ServiceInput, SlotSearch,
    StaffInput, Store, StoreError, TimeOffInput, WaitlistInput, WorkingHours,
};
use utoipa::IntoParams;

use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};

type Result<T> = std::result::Result<T, ApiError>;

/// The header that makes `POST /bookings` safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Set on a reply that repeats the first result of an idempotent request.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

async fn run<T: Send + 'static>(
    store: &web::Data<Store>,
    use_case: impl FnOnce(&Store) -> std::result::Result<T, StoreError> + Send + 'static,
) -> Result<T> {
    let store = store.clone();
    Ok(web::block(move || use_case(&store)).await??)
}

fn invalid(field: &str, code: &str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        .with_details(serde_json::json!({ "field": field }))
}

fn parse_id<T>(
    field: &str,
    text: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, ValueError>,
) -> Result<T> {
    parse(text).map_err(|error| invalid(field, error.code(), error.to_string()))
}

/// A query parameter; blank means "not given".
fn optional<T>(
    field: &str,
    text: &Option<String>,
    parse: impl FnOnce(&str) -> std::result::Result<T, ValueError>,
) -> Result<Option<T>> {
    match text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        Some(text) => parse_id(field, text, parse).map(Some),
        None => Ok(None),
    }
}

fn date(field: &str, text: &Option<String>) -> Result<Option<NaiveDate>> {
    optional(field, text, tend_core::parse_date)
}

fn required_date(field: &str, text: &Option<String>) -> Result<NaiveDate> {
    date(field, text)?.ok_or_else(|| {
        invalid(
            field,
            "value.required",
            format!("`{field}` is required (YYYY-MM-DD)"),
        )
    })
}

fn flag(field: &str, text: &Option<String>) -> Result<bool> {
    match text.as_deref().map(str::trim).unwrap_or("") {
        "" | "false" | "0" => Ok(false),
        "true" | "1" => Ok(true),
        other => Err(invalid(
            field,
            "value.invalid_flag",
            format!("`{other}` is not true or false"),
        )),
    }
}

fn number<T: std::str::FromStr>(field: &str, text: &Option<String>) -> Result<Option<T>> {
    match text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        Some(text) => text.parse().map(Some).map_err(|_| {
            invalid(
                field,
                "value.invalid_number",
                format!("`{text}` is not a valid number"),
            )
        }),
        None => Ok(None),
    }
}

fn calendar_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(body)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteParams {
    /// Defaults to the caller's own site; required for chain-wide users.
    pub site_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateParams {
    /// Site-local date, YYYY-MM-DD.
    pub date: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotParams {
    /// First site-local date, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last site-local date (default: `from`), at most 400 days later.
    pub to: Option<String>,
    /// Only slots with this staff member.
    pub staff_id: Option<String>,
    /// Leave out times this client is already booked.
    pub client_id: Option<String>,
    /// May use emergency capacity.
    pub urgent: Option<String>,
    /// Spacing of starts on the wall clock, a multiple of 5 minutes (default 15).
    pub step_minutes: Option<String>,
    /// At most this many slots (default and maximum 2000).
    pub limit: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingListParams {
    pub site_id: Option<String>,
    /// One site-local date (same as from = to = date).
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub staff_id: Option<String>,
    pub client_id: Option<String>,
    /// requested, confirmed, arrived, in_service, completed, cancelled, late_cancelled, no_show.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistParams {
    pub site_id: Option<String>,
    pub service_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    pub start: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// confirm, arrive, start, complete, cancel or no_show.
    pub action: String,
    pub reason: Option<String>,
}

// ---- Staff ----

/// Adds a bookable staff member (administrators and store managers).
#[utoipa::path(post, path = "/api/v1/staff", tag = "appointments", security(("bearer" = [])),
    request_body(content = Object, description = "site_id, full_name, role, skills, user_id, working_hours"),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_staff(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<StaffInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let staff = run(&store, move |store| {
        store.create_staff_member(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(staff))
}

/// A site's bookable staff.
#[utoipa::path(get, path = "/api/v1/staff", tag = "appointments", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_staff(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = optional("site_id", &params.site_id, SiteId::parse)?;
    let staff = run(&store, move |store| {
        store.list_staff(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(staff))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_staff(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let staff = run(&store, move |store| {
        store.get_staff_member(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(staff))
}

/// Replaces a staff member's weekly hours, breaks, date exceptions and emergency windows
/// (site-local wall-clock times).
#[utoipa::path(put, path = "/api/v1/staff/{id}/working-hours", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    request_body(content = Object, description = "weekly, breaks, day_exceptions, emergency_windows, emergency_release_minutes"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_working_hours(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<WorkingHours>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let hours = body.into_inner();
    let staff = run(&store, move |store| {
        store.set_staff_working_hours(&caller.actor, id, hours)
    })
    .await?;
    Ok(HttpResponse::Ok().json(staff))
}

/// Blocks time of a staff member (leave, a meeting), or holds it for one purpose (`held_for`).
#[utoipa::path(post, path = "/api/v1/staff/{id}/time-off", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    request_body(content = Object, description = "start, end (RFC 3339), reason, held_for (optional typed block: {\"kind\": \"work\", \"work_kind\": K} or {\"kind\": \"emergency\"})"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_time_off(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<TimeOffInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let input = body.into_inner();
    let blocked = run(&store, move |store| {
        store.add_staff_time_off(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(blocked))
}

/// Blocks time of a room, chair or piece of equipment, or holds it for one purpose (`held_for`).
#[utoipa::path(post, path = "/api/v1/resources/{id}/time-off", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "resource id")),
    request_body(content = Object, description = "start, end (RFC 3339), reason, held_for (optional typed block)"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_resource_time_off(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<TimeOffInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ResourceId::parse)?;
    let input = body.into_inner();
    let blocked = run(&store, move |store| {
        store.add_resource_time_off(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(blocked))
}

/// A staff member's site-local day as iCalendar.
#[utoipa::path(get, path = "/api/v1/staff/{id}/calendar.ics", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id"), DateParams),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn staff_calendar(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    params: web::Query<DateParams>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let date = required_date("date", &params.date)?;
    let body = run(&store, move |store| {
        store.staff_calendar(&caller.actor, id, date)
    })
    .await?;
    Ok(calendar_response(body))
}

// ---- Resources ----

/// Adds a room, dental chair or piece of equipment (administrators and store managers).
#[utoipa::path(post, path = "/api/v1/resources", tag = "appointments", security(("bearer" = [])),
    request_body(content = Object, description = "site_id, name, kind (room, dental_chair, equipment), tags, working_hours"),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resource(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<ResourceInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let resource = run(&store, move |store| {
        store.create_resource(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(resource))
}

#[utoipa::path(get, path = "/api/v1/resources", tag = "appointments", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_resources(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = optional("site_id", &params.site_id, SiteId::parse)?;
    let resources = run(&store, move |store| {
        store.list_resources(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(resources))
}

/// A resource's site-local day as iCalendar.
#[utoipa::path(get, path = "/api/v1/resources/{id}/calendar.ics", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "resource id"), DateParams),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn resource_calendar(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    params: web::Query<DateParams>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ResourceId::parse)?;
    let date = required_date("date", &params.date)?;
    let body = run(&store, move |store| {
        store.resource_calendar(&caller.actor, id, date)
    })
    .await?;
    Ok(calendar_response(body))
}

// ---- Services and slots ----

/// Adds a service to a site's catalogue (administrators and store managers).
#[utoipa::path(post, path = "/api/v1/services", tag = "appointments", security(("bearer" = [])),
    request_body(content = Object, description = "name, price, duration_minutes, buffers, staff_requirements, resource_requirements, min_notice_minutes, booking_horizon_days, work_kind, urgent"),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_service(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<ServiceInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let service = run(&store, move |store| {
        store.create_service(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(service))
}

#[utoipa::path(get, path = "/api/v1/services", tag = "appointments", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_services(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = optional("site_id", &params.site_id, SiteId::parse)?;
    let services = run(&store, move |store| {
        store.list_services(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(services))
}

#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_service(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ServiceId::parse)?;
    let service = run(&store, move |store| store.get_service(&caller.actor, id)).await?;
    Ok(HttpResponse::Ok().json(service))
}

/// Replaces a service's definition (same body as creating one); existing bookings are kept.
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id")),
    request_body(content = Object, description = "the service, as for POST /services"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_service(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<ServiceInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ServiceId::parse)?;
    let input = body.into_inner();
    let service = run(&store, move |store| {
        store.update_service(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(service))
}

/// Takes a service out of the catalogue; existing bookings are kept.
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn deactivate_service(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ServiceId::parse)?;
    run(&store, move |store| {
        store.deactivate_service(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Takes a room, chair or piece of equipment out of use; existing bookings are kept.
#[utoipa::path(delete, path = "/api/v1/resources/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "resource id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn deactivate_resource(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ResourceId::parse)?;
    run(&store, move |store| {
        store.deactivate_resource(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bookable starts of a service on site-local dates, each with the people and resources it
/// would get. Joint visits (several roles at once) get distinct people.
#[utoipa::path(get, path = "/api/v1/services/{id}/slots", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id"), SlotParams),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn find_slots(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    params: web::Query<SlotParams>,
) -> Result<HttpResponse> {
    let search = SlotSearch {
        service_id: parse_id("id", &path, ServiceId::parse)?,
        from: required_date("from", &params.from)?,
        to: date("to", &params.to)?,
        staff_id: optional("staff_id", &params.staff_id, StaffId::parse)?,
        client_id: optional("client_id", &params.client_id, ClientId::parse)?,
        urgent: flag("urgent", &params.urgent)?,
        step_minutes: number("step_minutes", &params.step_minutes)?,
        limit: number("limit", &params.limit)?,
    };
    let slots = run(&store, move |store| store.find_slots(&caller.actor, search)).await?;
    Ok(HttpResponse::Ok().json(slots))
}

// ---- Bookings ----

/// Books a visit. Send an `Idempotency-Key` to retry safely: the same key with the same body
/// returns the first result (same status and body, header `Idempotent-Replayed: true`) and books
/// nothing; with another body it is refused (422 `booking.idempotency_key_reused`). A time
/// someone else holds is 409 `booking.slot_taken`.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "appointments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body(content = Object, description = "service_id, client_id, start (RFC 3339), preferred_staff_ids, required_staff_ids, urgent"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_booking(
    store: web::Data<Store>,
    caller: Authenticated,
    request: HttpRequest,
    body: web::Json<BookingRequest>,
) -> Result<HttpResponse> {
    let key = idempotency_key(&request)?;
    let booking_request = body.into_inner();
    let outcome = run(&store, move |store| {
        store.book(&caller.actor, booking_request, key.as_deref())
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((
        header::LOCATION,
        format!("/api/v1/bookings/{}", outcome.booking.id),
    ));
    if outcome.replayed {
        response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    }
    Ok(response.json(outcome.booking))
}

/// The request's `Idempotency-Key` header, if any.
fn idempotency_key(request: &HttpRequest) -> Result<Option<String>> {
    match request.headers().get(IDEMPOTENCY_KEY) {
        Some(value) => Ok(Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "booking.invalid_idempotency_key",
                        "an Idempotency-Key must be visible ASCII",
                    )
                })?
                .to_owned(),
        )),
        None => Ok(None),
    }
}

/// Books a weekly series at the same site-local wall-clock time, all or nothing. If any
/// occurrence cannot be booked, nothing is, and 409 `booking.series_conflict` lists them.
/// `Idempotency-Key` works as for single bookings.
#[utoipa::path(post, path = "/api/v1/bookings/series", tag = "appointments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body(content = Object, description = "service_id, client_id, first_start (site-local YYYY-MM-DDTHH:MM:SS), interval_weeks, occurrences, preferred_staff_ids, required_staff_ids, urgent"),
    responses((status = 201, body = [Object]), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_series(
    store: web::Data<Store>,
    caller: Authenticated,
    request: HttpRequest,
    body: web::Json<SeriesRequest>,
) -> Result<HttpResponse> {
    let key = idempotency_key(&request)?;
    let series = body.into_inner();
    let outcome = run(&store, move |store| {
        store.book_series(&caller.actor, series, key.as_deref())
    })
    .await?;
    let mut response = HttpResponse::Created();
    if outcome.replayed {
        response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    }
    Ok(response.json(outcome.bookings))
}

/// A site's bookings by start.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "appointments", security(("bearer" = [])), params(BookingListParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_bookings(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<BookingListParams>,
) -> Result<HttpResponse> {
    let on = date("date", &params.date)?;
    let status = match params.status.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(
            BookingStatus::parse(text)
                .map_err(|error| invalid("status", "booking.unknown_status", error.to_string()))?,
        ),
        _ => None,
    };
    let query = BookingQuery {
        site_id: optional("site_id", &params.site_id, SiteId::parse)?,
        from: on.or(date("from", &params.from)?),
        to: on.or(date("to", &params.to)?),
        staff_id: optional("staff_id", &params.staff_id, StaffId::parse)?,
        client_id: optional("client_id", &params.client_id, ClientId::parse)?,
        status,
    };
    let bookings = run(&store, move |store| {
        store.list_bookings(&caller.actor, query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(bookings))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "booking id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_booking(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, BookingId::parse)?;
    let booking = run(&store, move |store| store.get_booking(&caller.actor, id)).await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// Moves an upcoming booking; reminders move with it and the freed time goes to the waitlist.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/reschedule", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "booking id")),
    request_body(content = Object, description = "start (RFC 3339)"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reschedule_booking(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<RescheduleRequest>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, BookingId::parse)?;
    let start = body.into_inner().start;
    let booking = run(&store, move |store| {
        store.reschedule_booking(&caller.actor, id, start)
    })
    .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// confirm, arrive, start, complete, cancel (late within 24 hours) or no_show.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/actions", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "booking id")),
    request_body(content = Object, description = "action, reason"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn booking_action(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<ActionRequest>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, BookingId::parse)?;
    let ActionRequest { action, reason } = body.into_inner();
    let action = tend_store::parse_booking_action(&action)?;
    let booking = run(&store, move |store| {
        store.booking_action(&caller.actor, id, action, reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// The booking's reminder outbox rows (24 hours and 2 hours before).
#[utoipa::path(get, path = "/api/v1/bookings/{id}/reminders", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "booking id")),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn booking_reminders(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, BookingId::parse)?;
    let reminders = run(&store, move |store| {
        store.booking_reminders(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(reminders))
}

/// How often a client did not come.
#[utoipa::path(get, path = "/api/v1/clients/{id}/no-shows", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn client_no_shows(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ClientId::parse)?;
    let summary = run(&store, move |store| {
        store.client_no_shows(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}

// ---- Waitlist ----

/// Puts a client on a service's waitlist for site-local dates.
#[utoipa::path(post, path = "/api/v1/waitlist", tag = "appointments", security(("bearer" = [])),
    request_body(content = Object, description = "service_id, client_id, from, to, preferred_staff_ids, required_staff_ids"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn join_waitlist(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<WaitlistInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let entry = run(&store, move |store| {
        store.join_waitlist(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

/// A site's waitlist, first come first, with each entry's latest offer.
#[utoipa::path(get, path = "/api/v1/waitlist", tag = "appointments", security(("bearer" = [])), params(WaitlistParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_waitlist(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<WaitlistParams>,
) -> Result<HttpResponse> {
    let site_id = optional("site_id", &params.site_id, SiteId::parse)?;
    let service_id = optional("service_id", &params.service_id, ServiceId::parse)?;
    let entries = run(&store, move |store| {
        store.list_waitlist(&caller.actor, site_id, service_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(entries))
}

/// Books the open offer of a waitlist entry.
#[utoipa::path(post, path = "/api/v1/waitlist/{id}/accept", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "waitlist entry id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_offer(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, WaitlistEntryId::parse)?;
    let booking = run(&store, move |store| {
        store.accept_waitlist_offer(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::Created().json(booking))
}

/// Registers the appointment routes inside the `/api/v1` scope.
pub fn routes(config: &mut web::ServiceConfig) {
    use super::resource;
    config
        .service(
            resource("/staff")
                .route(web::get().to(list_staff))
                .route(web::post().to(create_staff)),
        )
        .service(resource("/staff/{id}").route(web::get().to(get_staff)))
        .service(resource("/staff/{id}/working-hours").route(web::put().to(set_working_hours)))
        .service(resource("/staff/{id}/time-off").route(web::post().to(add_time_off)))
        .service(resource("/staff/{id}/calendar.ics").route(web::get().to(staff_calendar)))
        .service(
            resource("/resources")
                .route(web::get().to(list_resources))
                .route(web::post().to(create_resource)),
        )
        .service(resource("/resources/{id}").route(web::delete().to(deactivate_resource)))
        .service(resource("/resources/{id}/time-off").route(web::post().to(add_resource_time_off)))
        .service(resource("/resources/{id}/calendar.ics").route(web::get().to(resource_calendar)))
        .service(
            resource("/services")
                .route(web::get().to(list_services))
                .route(web::post().to(create_service)),
        )
        .service(
            resource("/services/{id}")
                .route(web::get().to(get_service))
                .route(web::put().to(update_service))
                .route(web::delete().to(deactivate_service)),
        )
        .service(resource("/services/{id}/slots").route(web::get().to(find_slots)))
        .service(
            resource("/bookings")
                .route(web::get().to(list_bookings))
                .route(web::post().to(create_booking)),
        )
        .service(resource("/bookings/series").route(web::post().to(create_series)))
        .service(resource("/bookings/{id}").route(web::get().to(get_booking)))
        .service(resource("/bookings/{id}/reschedule").route(web::post().to(reschedule_booking)))
        .service(resource("/bookings/{id}/actions").route(web::post().to(booking_action)))
        .service(resource("/bookings/{id}/reminders").route(web::get().to(booking_reminders)))
        .service(resource("/clients/{id}/no-shows").route(web::get().to(client_no_shows)))
        .service(
            resource("/waitlist")
                .route(web::get().to(list_waitlist))
                .route(web::post().to(join_waitlist)),
        )
        .service(resource("/waitlist/{id}/accept").route(web::post().to(accept_offer)));
}
