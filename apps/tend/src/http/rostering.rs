//! Staff and rostering endpoints: rostering profiles, leave, shift types, demand, planned stays,
//! roster periods with background solve jobs, live-checked edits, publishing, repair, swaps and
//! exports. Handlers parse, call one store use case on a blocking thread, and map the result.
//! Solves run on their own thread (started by the store), never on the async workers.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use tend_core::{ClientId, SiteId, StaffId, ValueError};
use tend_store::{
    AssignmentEdit, DemandInput, LeaveDecision, LeaveInput, PeriodInput, RepairInput,
    ShiftTypeInput, SolveRequest, StaffRosteringInput, StayInput, Store, StoreError, SwapDecision,
    SwapInput,
};
use utoipa::IntoParams;

use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};

type Result<T> = std::result::Result<T, ApiError>;

async fn run<T: Send + 'static>(
    store: &web::Data<Store>,
    use_case: impl FnOnce(&Store) -> std::result::Result<T, StoreError> + Send + 'static,
) -> Result<T> {
    let store = store.clone();
    Ok(web::block(move || use_case(&store)).await??)
}

fn parse_id<T>(
    field: &str,
    text: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, ValueError>,
) -> Result<T> {
    parse(text).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.code(),
            error.to_string(),
        )
        .with_details(serde_json::json!({ "field": field }))
    })
}

fn site_param(params: &SiteParams) -> Result<Option<SiteId>> {
    match params
        .site_id
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        Some(text) => parse_id("site_id", text, SiteId::parse).map(Some),
        None => Ok(None),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteParams {
    /// Defaults to the caller's own site; required for chain-wide users.
    pub site_id: Option<String>,
}

// ---- Staff profiles and leave ----

/// Sets a staff member's skill levels, contract, allowed shift types and preferences.
#[utoipa::path(put, path = "/api/v1/staff/{id}/rostering", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    request_body(content = Object, description = "skills [{skill, level}], contract, shift_types, preferences"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_staff_rostering(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<StaffRosteringInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let input = body.into_inner();
    let profile = run(&store, move |store| {
        store.set_staff_rostering(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(profile))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}/rostering", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_staff_rostering(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let profile = run(&store, move |store| {
        store.get_staff_rostering(&caller.actor, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Requests leave for a staff member (managers, or the person themselves).
#[utoipa::path(post, path = "/api/v1/staff/{id}/leave", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    request_body(content = Object, description = "first_day, last_day, reason"),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_leave(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<LeaveInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let input = body.into_inner();
    let leave = run(&store, move |store| {
        store.request_leave(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(leave))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}/leave", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff member id")),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_leave(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, StaffId::parse)?;
    let leave = run(&store, move |store| store.list_leave(&caller.actor, id)).await?;
    Ok(HttpResponse::Ok().json(leave))
}

/// Approves, rejects or cancels leave. Approval over published shifts repairs each published
/// period they are in, in the approval's transaction (all or nothing; `"repair": false` only
/// records the leave and lists `periods_needing_repair`); it is refused over pinned shifts
/// (409 `leave.contradicts_pinned`), when the repair needs more than `max_changes` (409
/// `roster.repair_too_many_changes`) or when a roster changed meanwhile (409
/// `roster.changed_concurrently`).
#[utoipa::path(post, path = "/api/v1/leave/{id}/decision", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "leave request id")),
    request_body(content = Object, description = "status: approved, rejected or cancelled; repair (default true), max_changes, time_limit_seconds, change_weight (the repair's bounds)"),
    responses((status = 200, body = Object, description = "leave, affected_shifts (before the repair), repairs [{period_id, from, changes, uncovered (with candidates), hard_violations, explanation}], periods_needing_repair"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_leave(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<LeaveDecision>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let decision = body.into_inner();
    let outcome = run(&store, move |store| {
        store.decide_leave(&caller.actor, &id, decision)
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

// ---- Shift types, demand, stays ----

#[utoipa::path(post, path = "/api/v1/shift-types", tag = "rostering", security(("bearer" = [])),
    request_body(content = Object, description = "site_id, key, start (HH:MM:SS local), end"),
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_shift_type(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<ShiftTypeInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let shift = run(&store, move |store| {
        store.create_shift_type(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(shift))
}

#[utoipa::path(get, path = "/api/v1/shift-types", tag = "rostering", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_shift_types(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = site_param(&params)?;
    let shifts = run(&store, move |store| {
        store.list_shift_types(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(shifts))
}

/// Replaces a site's demand rules, date overrides and care ratios. Published rosters are not
/// rewritten: `affected_periods` lists the published periods whose demand changed (from today
/// on), with what is now uncovered and whether each `needs_repair`.
#[utoipa::path(put, path = "/api/v1/demand", tag = "rostering", security(("bearer" = [])),
    request_body(content = Object, description = "site_id, rules, overrides, care_ratios"),
    responses((status = 200, body = Object, description = "rules, overrides, care_ratios, affected_periods [{period_id, first_day, last_day, dates, uncovered, needs_repair}]"),
        (status = 422, body = ErrorBody)))]
pub async fn set_demand(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<DemandInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let demand = run(&store, move |store| store.set_demand(&caller.actor, input)).await?;
    Ok(HttpResponse::Ok().json(demand))
}

#[utoipa::path(get, path = "/api/v1/demand", tag = "rostering", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_demand(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = site_param(&params)?;
    let demand = run(&store, move |store| {
        store.get_demand(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(demand))
}

/// A client's planned stay, counted by occupancy-derived demand while contracted or checked in.
/// Published rosters are not rewritten: `affected_periods` lists the published periods whose
/// demand the stay changed and whether each `needs_repair`.
#[utoipa::path(put, path = "/api/v1/clients/{id}/stay", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")),
    request_body(content = Object, description = "check_in, check_out (site-local dates)"),
    responses((status = 200, body = Object, description = "client_id, site_id, check_in, check_out, affected_periods [{period_id, first_day, last_day, dates, uncovered, needs_repair}]"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_client_stay(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<StayInput>,
) -> Result<HttpResponse> {
    let id = parse_id("id", &path, ClientId::parse)?;
    let input = body.into_inner();
    let stay = run(&store, move |store| {
        store.set_client_stay(&caller.actor, id, input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(stay))
}

// ---- Roster periods ----

#[utoipa::path(post, path = "/api/v1/roster-periods", tag = "rostering", security(("bearer" = [])),
    request_body(content = Object, description = "site_id, first_day, last_day"),
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_period(
    store: web::Data<Store>,
    caller: Authenticated,
    body: web::Json<PeriodInput>,
) -> Result<HttpResponse> {
    let input = body.into_inner();
    let period = run(&store, move |store| {
        store.create_roster_period(&caller.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(period))
}

#[utoipa::path(get, path = "/api/v1/roster-periods", tag = "rostering", security(("bearer" = [])), params(SiteParams),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn list_periods(
    store: web::Data<Store>,
    caller: Authenticated,
    params: web::Query<SiteParams>,
) -> Result<HttpResponse> {
    let site_id = site_param(&params)?;
    let periods = run(&store, move |store| {
        store.list_roster_periods(&caller.actor, site_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(periods))
}

/// A period with its assignments and the explanation of its last solve or repair.
#[utoipa::path(get, path = "/api/v1/roster-periods/{id}", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_period(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let roster = run(&store, move |store| store.get_roster(&caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(roster))
}

/// Starts a background solve (202 with the job; poll `GET /solve-jobs/{id}`). One per site:
/// a second is 409 `roster.solve_running`.
#[utoipa::path(post, path = "/api/v1/roster-periods/{id}/solve-jobs", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    request_body(content = Object, description = "time_limit_seconds (default 20, at most 300)"),
    responses((status = 202, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_solve(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: Option<web::Json<SolveRequest>>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let request = body.map(web::Json::into_inner).unwrap_or_default();
    // The handle is dropped: the solve thread runs on, detached from the request.
    let job = run(&store, move |store| {
        store
            .start_solve_job(&caller.actor, &id, request)
            .map(|handle| handle.job)
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/solve-jobs/{}", job.id)))
        .json(job))
}

/// A solve job's status and progress: while it runs, the engine's phase, the incumbent objective,
/// the best bound and the gap (written at most once a second), elapsed seconds, and the owner's
/// heartbeat. A job whose server stopped is reported `failed`, "interrupted: the server
/// stopped".
#[utoipa::path(get, path = "/api/v1/solve-jobs/{id}", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "solve job id")),
    responses((status = 200, body = Object, description = "id, site_id, period_id, status (running, succeeded, failed, cancelled), phase, time_limit_seconds, progress, objective, best_bound, gap, iterations, solver_seconds, elapsed_seconds, error, started_at, finished_at, heartbeat_at"),
        (status = 404, body = ErrorBody)))]
pub async fn get_solve_job(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let job = run(&store, move |store| store.get_solve_job(&caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(job))
}

/// Cancels a running solve: the period returns to its earlier status at once (the site is free
/// for a new solve), the solver is stopped through its cancel flag, and nothing it found is
/// stored. The answer's `phase` is `stopped` once the solver has stopped (`stopping` before).
#[utoipa::path(delete, path = "/api/v1/solve-jobs/{id}", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "solve job id")),
    responses((status = 200, body = Object, description = "the job, status cancelled"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_solve_job(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let job = run(&store, move |store| {
        store.cancel_solve_job(&caller.actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(job))
}

/// Sets one staff member's shift on one day (none: a day off), optionally pinned. Hard conflicts
/// are 409 `roster.edit_conflict` listing the violations; soft ones come back as warnings.
#[utoipa::path(put, path = "/api/v1/roster-periods/{id}/assignments", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    request_body(content = Object, description = "staff_id, date, shift_type (null: day off), pinned"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_assignment(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<AssignmentEdit>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let edit = body.into_inner();
    let outcome = run(&store, move |store| {
        store.edit_assignment(&caller.actor, &id, edit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[utoipa::path(post, path = "/api/v1/roster-periods/{id}/publish", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publish(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let roster = run(&store, move |store| {
        store.publish_roster(&caller.actor, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(roster))
}

/// Repairs a published roster from a day on, keeping past and pinned shifts, with a penalty per
/// changed published shift and an optional maximum number of changes.
#[utoipa::path(post, path = "/api/v1/roster-periods/{id}/repair", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    request_body(content = Object, description = "from, max_changes, time_limit_seconds, change_weight"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn repair(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: Option<web::Json<RepairInput>>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let input = body.map(web::Json::into_inner).unwrap_or_default();
    let outcome = run(&store, move |store| {
        store.repair_roster(&caller.actor, &id, input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[utoipa::path(post, path = "/api/v1/roster-periods/{id}/swaps", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    request_body(content = Object, description = "staff_id, date, other_staff_id, other_date"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn request_swap(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<SwapInput>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let input = body.into_inner();
    let swap = run(&store, move |store| {
        store.request_swap(&caller.actor, &id, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(swap))
}

#[utoipa::path(post, path = "/api/v1/swaps/{id}/decision", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "swap request id")),
    request_body(content = Object, description = "status: approved, rejected or cancelled"),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide_swap(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
    body: web::Json<SwapDecision>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let decision = body.into_inner();
    let swap = run(&store, move |store| {
        store.decide_swap(&caller.actor, &id, decision)
    })
    .await?;
    Ok(HttpResponse::Ok().json(swap))
}

/// The roster as CSV: staff × day grid of shift keys.
#[utoipa::path(get, path = "/api/v1/roster-periods/{id}/roster.csv", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn roster_csv(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let body = run(&store, move |store| store.roster_csv(&caller.actor, &id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(body))
}

/// One staff member's shifts in the period as iCalendar (RFC 5545).
#[utoipa::path(get, path = "/api/v1/roster-periods/{id}/staff/{staff_id}/roster.ics", tag = "rostering", security(("bearer" = [])),
    params(("id" = String, Path, description = "roster period id"), ("staff_id" = String, Path, description = "staff member id")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn roster_ics(
    store: web::Data<Store>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (id, staff) = path.into_inner();
    let staff = parse_id("staff_id", &staff, StaffId::parse)?;
    let body = run(&store, move |store| {
        store.staff_roster_ics(&caller.actor, &id, staff)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(body))
}

/// Registers the rostering routes inside the `/api/v1` scope.
pub fn routes(config: &mut web::ServiceConfig) {
    use super::resource;
    config
        .service(
            resource("/staff/{id}/rostering")
                .route(web::get().to(get_staff_rostering))
                .route(web::put().to(set_staff_rostering)),
        )
        .service(
            resource("/staff/{id}/leave")
                .route(web::get().to(list_leave))
                .route(web::post().to(request_leave)),
        )
        .service(resource("/leave/{id}/decision").route(web::post().to(decide_leave)))
        .service(
            resource("/shift-types")
                .route(web::get().to(list_shift_types))
                .route(web::post().to(create_shift_type)),
        )
        .service(
            resource("/demand")
                .route(web::get().to(get_demand))
                .route(web::put().to(set_demand)),
        )
        .service(resource("/clients/{id}/stay").route(web::put().to(set_client_stay)))
        .service(
            resource("/roster-periods")
                .route(web::get().to(list_periods))
                .route(web::post().to(create_period)),
        )
        .service(resource("/roster-periods/{id}").route(web::get().to(get_period)))
        .service(resource("/roster-periods/{id}/solve-jobs").route(web::post().to(start_solve)))
        .service(resource("/roster-periods/{id}/assignments").route(web::put().to(edit_assignment)))
        .service(resource("/roster-periods/{id}/publish").route(web::post().to(publish)))
        .service(resource("/roster-periods/{id}/repair").route(web::post().to(repair)))
        .service(resource("/roster-periods/{id}/swaps").route(web::post().to(request_swap)))
        .service(resource("/roster-periods/{id}/roster.csv").route(web::get().to(roster_csv)))
        .service(
            resource("/roster-periods/{id}/staff/{staff_id}/roster.ics")
                .route(web::get().to(roster_ics)),
        )
        .service(
            resource("/solve-jobs/{id}")
                .route(web::get().to(get_solve_job))
                .route(web::delete().to(cancel_solve_job)),
        )
        .service(resource("/swaps/{id}/decision").route(web::post().to(decide_swap)));
}
