//! Slot search and bookings: book (idempotently), list, reschedule, act on (confirm … no-show),
//! weekly series, reminders, no-show counts and iCalendar exports.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tend_appointments::{
    check_series, check_start, local_day, occupied_quanta, reminder_changes, reminder_schedule,
    resource_day_calendar, staff_day_calendar, Access, Booking, BookingAction, BookingError,
    BookingId, BookingStatus, CancellationPolicy, LocalDateRange, Recurrence, ReminderPolicy,
    ResourceAssignment, ResourceId, ScheduledReminder, SeriesId, Service, ServiceId, Slot,
    SlotQuery, SlotRefusal, StaffAssignment, StaffPreference, TimeInterval, Urgency,
    QUANTUM_MINUTES,
};
use tend_audit::AuditRecord;
use tend_core::{Actor, ClientId, SiteId, StaffId};

use super::calendar::{bookings_in, load_calendar};
use super::catalogue::{load_resource, load_service, load_staff};
use super::waitlist::offer_freed_slot;
use super::{
    from_json, parse_local_dates, require_booker, target_site, to_json, AppointmentError,
    SeriesConflict,
};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{from_db_time, parse_column, parse_optional, to_db_time};
use crate::schema::{booking_occupancy, booking_requests, bookings, clients, outbox_reminders};
use crate::schema::{services, staff_members};
use crate::sites::{load_site, Site};
use crate::Store;

/// Spacing of searched starts when the caller does not say.
pub const DEFAULT_SLOT_STEP_MINUTES: u32 = 15;
/// Most slots one search returns.
pub const MAX_SLOTS: usize = 2000;
/// The channel reminders go out on until clients choose one.
pub const REMINDER_CHANNEL: &str = "sms";

/// A slot search over local dates of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    pub service_id: ServiceId,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// Only slots with this person.
    pub staff_id: Option<StaffId>,
    /// Leaves out times the client is already booked.
    pub client_id: Option<ClientId>,
    /// May use emergency capacity.
    pub urgent: bool,
    pub step_minutes: Option<u32>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotList {
    pub service_id: ServiceId,
    pub time_zone: String,
    pub slots: Vec<Slot>,
}

/// A booking request. Staff preferences: `required_staff_ids` must all take part,
/// `preferred_staff_ids` are assigned where they can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub service_id: ServiceId,
    pub client_id: ClientId,
    pub start: DateTime<Utc>,
    #[serde(default)]
    pub preferred_staff_ids: Vec<StaffId>,
    #[serde(default)]
    pub required_staff_ids: Vec<StaffId>,
    #[serde(default)]
    pub urgent: bool,
}

/// A weekly series at the same local wall-clock time (`first_start` is site-local).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRequest {
    pub service_id: ServiceId,
    pub client_id: ClientId,
    pub first_start: NaiveDateTime,
    #[serde(default = "one_week")]
    pub interval_weeks: u8,
    pub occurrences: u16,
    #[serde(default)]
    pub preferred_staff_ids: Vec<StaffId>,
    #[serde(default)]
    pub required_staff_ids: Vec<StaffId>,
    #[serde(default)]
    pub urgent: bool,
}

fn one_week() -> u8 {
    1
}

/// A booking as the API shows it. Also the stored reply of an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRecord {
    pub id: BookingId,
    pub site_id: SiteId,
    pub service_id: ServiceId,
    pub client_id: ClientId,
    pub status: BookingStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_start: DateTime<FixedOffset>,
    pub local_end: DateTime<FixedOffset>,
    pub staff: Vec<StaffAssignment>,
    pub resources: Vec<ResourceAssignment>,
    pub urgency: Urgency,
    pub series_id: Option<SeriesId>,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The result of a booking request: `replayed` when an earlier request with the same
/// idempotency key and body made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingOutcome {
    pub booking: BookingRecord,
    pub replayed: bool,
}

/// The result of a series request: `replayed` when an earlier request with the same
/// idempotency key and body booked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesOutcome {
    pub bookings: Vec<BookingRecord>,
    pub replayed: bool,
}

/// Listing filters; dates are site-local.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingQuery {
    pub site_id: Option<SiteId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub staff_id: Option<StaffId>,
    pub client_id: Option<ClientId>,
    pub status: Option<BookingStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderRecord {
    pub id: String,
    pub booking_id: String,
    pub channel: String,
    pub lead_minutes: i64,
    pub due_at: DateTime<Utc>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoShowSummary {
    pub client_id: ClientId,
    pub no_shows: i64,
    pub bookings: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Assignments {
    staff: Vec<StaffAssignment>,
    resources: Vec<ResourceAssignment>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings)]
pub(super) struct BookingRow {
    id: String,
    site_id: String,
    service_id: String,
    client_id: String,
    status: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    urgency: String,
    series_id: Option<String>,
    assignments: String,
    status_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn urgency_text(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Routine => "routine",
        Urgency::Urgent => "urgent",
    }
}

impl BookingRow {
    fn new(booking: &Booking, now: DateTime<Utc>) -> Result<BookingRow, StoreError> {
        Ok(BookingRow {
            id: booking.id.to_string(),
            site_id: booking.site_id.to_string(),
            service_id: booking.service_id.to_string(),
            client_id: booking.client_id.to_string(),
            status: booking.status.as_str().to_owned(),
            starts_at: to_db_time(booking.visit.start()),
            ends_at: to_db_time(booking.visit.end()),
            urgency: urgency_text(booking.urgency).to_owned(),
            series_id: booking.series_id.map(|id| id.to_string()),
            assignments: to_json(&Assignments {
                staff: booking.staff.clone(),
                resources: booking.resources.clone(),
            })?,
            status_reason: None,
            created_at: to_db_time(now),
            updated_at: to_db_time(now),
        })
    }

    pub(super) fn into_booking(self) -> Result<Booking, StoreError> {
        Ok(self.parts()?.0)
    }

    fn parts(self) -> Result<(Booking, BookingMeta), StoreError> {
        let assignments: Assignments = from_json("bookings.assignments", &self.assignments)?;
        let booking = Booking {
            id: parse_column("bookings.id", &self.id, BookingId::parse)?,
            site_id: parse_column("bookings.site_id", &self.site_id, SiteId::parse)?,
            service_id: parse_column("bookings.service_id", &self.service_id, ServiceId::parse)?,
            client_id: parse_column("bookings.client_id", &self.client_id, ClientId::parse)?,
            status: parse_column("bookings.status", &self.status, BookingStatus::parse)?,
            visit: TimeInterval::new(from_db_time(self.starts_at), from_db_time(self.ends_at))
                .map_err(|error| StoreError::corrupt(format!("bookings: {error}")))?,
            staff: assignments.staff,
            resources: assignments.resources,
            urgency: match self.urgency.as_str() {
                "urgent" => Urgency::Urgent,
                "routine" => Urgency::Routine,
                other => return Err(StoreError::corrupt(format!("bookings.urgency: {other}"))),
            },
            series_id: parse_optional(
                "bookings.series_id",
                self.series_id.as_deref(),
                SeriesId::parse,
            )?,
        };
        Ok((
            booking,
            BookingMeta {
                status_reason: self.status_reason,
                created_at: from_db_time(self.created_at),
                updated_at: from_db_time(self.updated_at),
            },
        ))
    }
}

#[derive(Debug, Clone)]
struct BookingMeta {
    status_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn record(booking: &Booking, meta: &BookingMeta, site: &Site) -> BookingRecord {
    let tz = site.time_zone.tz();
    let local = |instant: DateTime<Utc>| instant.with_timezone(&tz).fixed_offset();
    BookingRecord {
        id: booking.id,
        site_id: booking.site_id,
        service_id: booking.service_id,
        client_id: booking.client_id,
        status: booking.status,
        start: booking.visit.start(),
        end: booking.visit.end(),
        local_start: local(booking.visit.start()),
        local_end: local(booking.visit.end()),
        staff: booking.staff.clone(),
        resources: booking.resources.clone(),
        urgency: booking.urgency,
        series_id: booking.series_id,
        status_reason: meta.status_reason.clone(),
        created_at: meta.created_at,
        updated_at: meta.updated_at,
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_reminders)]
struct ReminderRow {
    id: String,
    booking_id: String,
    site_id: String,
    channel: String,
    lead_minutes: i64,
    due_at: NaiveDateTime,
    status: String,
    outbox_key: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Whether a write failed because another transaction holds the same time: the occupancy key
/// (or, on PostgreSQL, a serialisation failure or deadlock between two such writers).
fn lost_race(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
        | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().contains("deadlock"),
        _ => false,
    }
}

pub(super) fn staff_preference(preferred: &[StaffId], required: &[StaffId]) -> StaffPreference {
    if !required.is_empty() {
        StaffPreference::Required(required.to_vec())
    } else if !preferred.is_empty() {
        StaffPreference::Prefer(preferred.to_vec())
    } else {
        StaffPreference::Anyone
    }
}

/// The client must exist at the service's site (and be visible to the actor).
pub(super) fn check_client(
    connection: &mut AnyConnection,
    actor: &Actor,
    client_id: ClientId,
    site_id: SiteId,
) -> Result<(), StoreError> {
    let client_site = clients::table
        .find(client_id.to_string())
        .select(clients::site_id)
        .first::<String>(connection)
        .optional()?
        .ok_or(StoreError::ClientNotFound)?;
    if client_site != site_id.to_string() || !actor.can_access_site(site_id) {
        return Err(StoreError::ClientNotFound);
    }
    Ok(())
}

/// Named staff must be active staff of the site.
pub(super) fn check_named_staff(
    connection: &mut AnyConnection,
    site_id: SiteId,
    preference: &StaffPreference,
) -> Result<(), StoreError> {
    for staff_id in preference.named_staff() {
        let found = staff_members::table
            .find(staff_id.to_string())
            .filter(staff_members::site_id.eq(site_id.to_string()))
            .filter(staff_members::deactivated_at.is_null())
            .select(staff_members::id)
            .first::<String>(connection)
            .optional()?;
        if found.is_none() {
            return Err(AppointmentError::StaffNotFound.into());
        }
    }
    Ok(())
}

fn access_for(service: &Service, urgency: Urgency) -> Access {
    Access {
        urgency,
        work_kind: service.work_kind().cloned(),
    }
}

fn urgency_for(service: &Service, urgent: bool) -> Urgency {
    if urgent || service.is_urgent() {
        Urgency::Urgent
    } else {
        Urgency::Routine
    }
}

/// Whether `service` can start at `start` now, and with whom. A refusal that only existing
/// bookings cause is `booking.slot_taken` (409); one that holds on an empty calendar keeps the
/// domain's code (422).
#[allow(clippy::too_many_arguments)]
pub(super) fn find_bookable(
    connection: &mut AnyConnection,
    site: &Site,
    service: &Service,
    start: DateTime<Utc>,
    preference: &StaffPreference,
    access: &Access,
    now: DateTime<Utc>,
    client: Option<ClientId>,
    exclude: Option<BookingId>,
) -> Result<Slot, StoreError> {
    let date = start.with_timezone(&site.time_zone.tz()).date_naive();
    let dates = LocalDateRange::single(date);
    let parts = load_calendar(
        connection, site, service, dates, access, preference, now, exclude,
    )?;
    let query = SlotQuery {
        service: service.clone(),
        dates,
        staff_preference: preference.clone(),
        step_minutes: QUANTUM_MINUTES as u32,
        now,
        limit: None,
    };
    match check_start(&query, &parts.with_bookings(client), start) {
        Ok(slot) => Ok(slot),
        Err(refusal) => {
            let taken = match refusal {
                SlotRefusal::ClientBusy => true,
                SlotRefusal::RequiredStaffUnavailable(_)
                | SlotRefusal::NoQualifiedStaffFree { .. }
                | SlotRefusal::NotEnoughDistinctStaff
                | SlotRefusal::NoResourceFree { .. } => {
                    check_start(&query, &parts.free, start).is_ok()
                }
                _ => false,
            };
            if taken {
                Err(AppointmentError::SlotTaken {
                    reason: refusal.code().to_owned(),
                }
                .into())
            } else {
                Err(refusal.into())
            }
        }
    }
}

/// Takes the booking's quanta; a quantum someone else holds means the slot was taken.
///
/// One multi-row `INSERT` per 500 rows: diesel's batch insert is not available on the
/// multi-connection. Every value is generated here (a fixed occupant kind, hyphenated UUIDs, an
/// integer), never caller text, so writing them as literals is safe.
fn occupy(connection: &mut AnyConnection, booking: &Booking) -> Result<(), StoreError> {
    let quanta = occupied_quanta(booking);
    let booking_id = booking.id.as_uuid().hyphenated().to_string();
    for chunk in quanta.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|quantum| {
                format!(
                    "('{}', '{}', {}, '{}')",
                    quantum.occupant.kind(),
                    quantum.occupant.uuid().hyphenated(),
                    quantum.quantum,
                    booking_id
                )
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO booking_occupancy (occupant_kind, occupant_id, quantum, booking_id) VALUES {}",
            values.join(", ")
        ))
        .execute(connection)
        .map_err(|error| {
            if lost_race(&error) {
                StoreError::from(AppointmentError::SlotTaken {
                    reason: "booking.occupancy_conflict".into(),
                })
            } else {
                StoreError::Database(error)
            }
        })?;
    }
    Ok(())
}

fn release(connection: &mut AnyConnection, booking_id: BookingId) -> Result<(), StoreError> {
    diesel::delete(
        booking_occupancy::table.filter(booking_occupancy::booking_id.eq(booking_id.to_string())),
    )
    .execute(connection)?;
    Ok(())
}

/// Brings the booking's pending outbox rows in line with its reminder schedule.
fn sync_reminders(
    connection: &mut AnyConnection,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let before: Vec<ScheduledReminder> = outbox_reminders::table
        .filter(outbox_reminders::booking_id.eq(booking.id.to_string()))
        .filter(outbox_reminders::status.eq("pending"))
        .select((outbox_reminders::due_at, outbox_reminders::lead_minutes))
        .load::<(NaiveDateTime, i64)>(connection)?
        .into_iter()
        .map(|(due_at, lead)| ScheduledReminder {
            booking_id: booking.id,
            send_at: from_db_time(due_at),
            lead_minutes: u32::try_from(lead).unwrap_or(0),
        })
        .collect();
    let after = reminder_schedule(booking, &ReminderPolicy::default(), now);
    let changes = reminder_changes(&before, &after);
    for reminder in &changes.cancel {
        diesel::update(
            outbox_reminders::table.filter(outbox_reminders::outbox_key.eq(reminder.outbox_key())),
        )
        .set((
            outbox_reminders::status.eq("cancelled"),
            outbox_reminders::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
    }
    for reminder in &changes.create {
        // A visit moved back to an earlier time reuses its old (cancelled) row.
        let revived = diesel::update(
            outbox_reminders::table.filter(outbox_reminders::outbox_key.eq(reminder.outbox_key())),
        )
        .set((
            outbox_reminders::status.eq("pending"),
            outbox_reminders::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
        if revived == 0 {
            diesel::insert_into(outbox_reminders::table)
                .values(ReminderRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    booking_id: booking.id.to_string(),
                    site_id: booking.site_id.to_string(),
                    channel: REMINDER_CHANNEL.to_owned(),
                    lead_minutes: i64::from(reminder.lead_minutes),
                    due_at: to_db_time(reminder.send_at),
                    status: "pending".into(),
                    outbox_key: reminder.outbox_key(),
                    created_at: to_db_time(now),
                    updated_at: to_db_time(now),
                })
                .execute(connection)?;
        }
    }
    Ok(())
}

fn booking_json(booking: &Booking) -> serde_json::Value {
    serde_json::json!({
        "service_id": booking.service_id,
        "client_id": booking.client_id,
        "status": booking.status,
        "start": booking.visit.start(),
        "end": booking.visit.end(),
        "staff": booking.staff.iter().map(|a| a.staff_id).collect::<Vec<_>>(),
        "resources": booking.resources.iter().map(|a| a.resource_id).collect::<Vec<_>>(),
        "series_id": booking.series_id,
    })
}

/// Inserts a new booking with its occupancy, reminders and audit event; the caller owns the
/// transaction and has checked the slot.
pub(super) fn insert_booking(
    connection: &mut AnyConnection,
    actor: &Actor,
    site: &Site,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<BookingRecord, StoreError> {
    let row = BookingRow::new(booking, now)?;
    diesel::insert_into(bookings::table)
        .values(&row)
        .execute(connection)?;
    occupy(connection, booking)?;
    sync_reminders(connection, booking, now)?;
    let created = booking_json(booking)
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(field, value)| {
                    (
                        field.clone(),
                        serde_json::json!({ "before": null, "after": value }),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
        })
        .unwrap_or_default();
    audit::append(
        connection,
        AuditRecord::success(
            Some(actor.user_id),
            Some(booking.site_id),
            "booking.created",
            "booking",
            booking.id,
            serde_json::Value::Object(created),
        ),
        now,
    )?;
    Ok(record(
        booking,
        &BookingMeta {
            status_reason: None,
            created_at: now,
            updated_at: now,
        },
        site,
    ))
}

/// Books `start` of `service` for a client; the caller owns the transaction.
#[allow(clippy::too_many_arguments)]
pub(super) fn book_in_transaction(
    connection: &mut AnyConnection,
    actor: &Actor,
    site: &Site,
    service: &Service,
    booking_id: BookingId,
    client_id: ClientId,
    start: DateTime<Utc>,
    preference: &StaffPreference,
    urgency: Urgency,
    now: DateTime<Utc>,
) -> Result<BookingRecord, StoreError> {
    check_client(connection, actor, client_id, site.id)?;
    check_named_staff(connection, site.id, preference)?;
    let access = access_for(service, urgency);
    let slot = find_bookable(
        connection,
        site,
        service,
        start,
        preference,
        &access,
        now,
        Some(client_id),
        None,
    )?;
    let booking = Booking::from_slot(booking_id, service, client_id, &slot, urgency, None);
    insert_booking(connection, actor, site, &booking, now)
}

/// Loads a booking the actor may see.
fn load_booking(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: BookingId,
) -> Result<(Booking, BookingMeta, Site), StoreError> {
    let (booking, meta) = bookings::table
        .find(id.to_string())
        .select(BookingRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(AppointmentError::BookingNotFound)?
        .parts()?;
    if !actor.can_access_site(booking.site_id) {
        return Err(AppointmentError::BookingNotFound.into());
    }
    let site = load_site(connection, booking.site_id)?;
    Ok((booking, meta, site))
}

fn check_idempotency_key(key: &str) -> Result<String, StoreError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppointmentError::InvalidIdempotencyKey.into());
    }
    Ok(key.to_owned())
}

/// What a request's idempotency key is compared by: a hash of its kind and canonical body, so
/// a series never replays as a single booking.
fn request_hash(kind: &str, request: &impl Serialize) -> Result<String, StoreError> {
    let canonical = format!("{kind}:{}", to_json(request)?);
    Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
}

/// Looks an idempotency key up inside the booking transaction: the stored result when the same
/// request already ran (`Some`), a refusal when another request used the key; otherwise claims
/// the key for this request (a concurrent duplicate then waits on the key, not the slot).
fn claim_key<T: serde::de::DeserializeOwned>(
    connection: &mut AnyConnection,
    actor: &Actor,
    key: &str,
    hash: &str,
    created_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<T>, StoreError> {
    let earlier = booking_requests::table
        .find((actor.user_id.to_string(), key.to_owned()))
        .select((booking_requests::request_hash, booking_requests::response))
        .first::<(String, String)>(connection)
        .optional()?;
    if let Some((earlier_hash, response)) = earlier {
        if earlier_hash != hash {
            return Err(AppointmentError::IdempotencyKeyReused.into());
        }
        return from_json("booking_requests.response", &response).map(Some);
    }
    diesel::insert_into(booking_requests::table)
        .values((
            booking_requests::actor_id.eq(actor.user_id.to_string()),
            booking_requests::idempotency_key.eq(key.to_owned()),
            booking_requests::request_hash.eq(hash.to_owned()),
            booking_requests::booking_id.eq(created_id.to_owned()),
            booking_requests::response.eq(""),
            booking_requests::created_at.eq(to_db_time(now)),
        ))
        .execute(connection)
        .map_err(|error| {
            if lost_race(&error) {
                StoreError::from(AppointmentError::IdempotencyKeyInFlight)
            } else {
                StoreError::Database(error)
            }
        })?;
    Ok(None)
}

/// Stores the result a claimed key replays, in the transaction that produced it.
fn store_response(
    connection: &mut AnyConnection,
    actor: &Actor,
    key: &str,
    response: &impl Serialize,
) -> Result<(), StoreError> {
    diesel::update(booking_requests::table.find((actor.user_id.to_string(), key.to_owned())))
        .set(booking_requests::response.eq(to_json(response)?))
        .execute(connection)?;
    Ok(())
}

/// Runs a keyed request, once more (up to three times) when it lost the race for its key to a
/// concurrent duplicate: the retry then replays the winner's result.
fn retry_in_flight<T>(mut attempt: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Err(StoreError::Appointments(AppointmentError::IdempotencyKeyInFlight))
                if tries < 3 =>
            {
                continue
            }
            other => return other,
        }
    }
}

/// Parses an action name of the API: confirm, arrive, start, complete, cancel, no_show.
pub fn parse_booking_action(text: &str) -> Result<BookingAction, StoreError> {
    match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "confirm" => Ok(BookingAction::Confirm),
        "arrive" => Ok(BookingAction::Arrive),
        "start" | "start_service" => Ok(BookingAction::StartService),
        "complete" => Ok(BookingAction::Complete),
        "cancel" => Ok(BookingAction::Cancel),
        "no_show" | "mark_no_show" => Ok(BookingAction::MarkNoShow),
        _ => Err(StoreError::invalid(
            "action",
            "booking.unknown_action",
            format!("`{text}` is not one of confirm, arrive, start, complete, cancel, no_show"),
        )),
    }
}

impl Store {
    /// Bookable starts of a service over site-local dates, with whom and what.
    pub fn find_slots(&self, actor: &Actor, search: SlotSearch) -> Result<SlotList, StoreError> {
        let dates = parse_local_dates(search.from, search.to)?;
        let now = self.now();
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let service = load_service(connection, actor, search.service_id)?;
        let site = load_site(connection, service.site_id())?;
        if let Some(client_id) = search.client_id {
            check_client(connection, actor, client_id, site.id)?;
        }
        let preference = match search.staff_id {
            Some(staff_id) => StaffPreference::Required(vec![staff_id]),
            None => StaffPreference::Anyone,
        };
        check_named_staff(connection, site.id, &preference)?;
        let access = access_for(&service, urgency_for(&service, search.urgent));
        let parts = load_calendar(
            connection,
            &site,
            &service,
            dates,
            &access,
            &preference,
            now,
            None,
        )?;
        let query = SlotQuery {
            service: service.clone(),
            dates,
            staff_preference: preference,
            step_minutes: search.step_minutes.unwrap_or(DEFAULT_SLOT_STEP_MINUTES),
            now,
            limit: Some(search.limit.unwrap_or(MAX_SLOTS).min(MAX_SLOTS)),
        };
        let slots = tend_appointments::find_slots(&query, &parts.with_bookings(search.client_id))?;
        Ok(SlotList {
            service_id: service.id(),
            time_zone: site.time_zone.as_str().to_owned(),
            slots,
        })
    }

    /// Books a visit. With an idempotency key, a retry of the same request returns the first
    /// result and books nothing; the same key with another request is refused.
    pub fn book(
        &self,
        actor: &Actor,
        request: BookingRequest,
        idempotency_key: Option<&str>,
    ) -> Result<BookingOutcome, StoreError> {
        require_booker(actor)?;
        let key = idempotency_key.map(check_idempotency_key).transpose()?;
        let hash = request_hash("booking", &request)?;
        let now = self.now();
        retry_in_flight(|| {
            let mut connection = self.connection()?;
            write_transaction(&mut connection, |connection| {
                let booking_id = BookingId::new();
                if let Some(key) = &key {
                    let earlier =
                        claim_key(connection, actor, key, &hash, &booking_id.to_string(), now)?;
                    if let Some(booking) = earlier {
                        return Ok(BookingOutcome {
                            booking,
                            replayed: true,
                        });
                    }
                }
                let service = load_service(connection, actor, request.service_id)?;
                let site = load_site(connection, service.site_id())?;
                let preference =
                    staff_preference(&request.preferred_staff_ids, &request.required_staff_ids);
                let booking = book_in_transaction(
                    connection,
                    actor,
                    &site,
                    &service,
                    booking_id,
                    request.client_id,
                    request.start,
                    &preference,
                    urgency_for(&service, request.urgent),
                    now,
                )?;
                if let Some(key) = &key {
                    store_response(connection, actor, key, &booking)?;
                }
                Ok(BookingOutcome {
                    booking,
                    replayed: false,
                })
            })
        })
    }

    /// Books every occurrence of a weekly series, or nothing: each occurrence is checked (and
    /// those that cannot be booked are reported) before anything is written. An idempotency key
    /// works as for single bookings: a retry returns the series first booked.
    pub fn book_series(
        &self,
        actor: &Actor,
        request: SeriesRequest,
        idempotency_key: Option<&str>,
    ) -> Result<SeriesOutcome, StoreError> {
        require_booker(actor)?;
        let key = idempotency_key.map(check_idempotency_key).transpose()?;
        let hash = request_hash("series", &request)?;
        let recurrence = Recurrence::weekly(
            request.first_start,
            request.interval_weeks,
            request.occurrences,
        )?;
        let locals = recurrence.local_starts();
        let first = request.first_start.date();
        let last = locals.last().map_or(first, |local| local.date());
        let dates = LocalDateRange::new(first, last)?;
        let now = self.now();
        retry_in_flight(|| {
            let mut connection = self.connection()?;
            write_transaction(&mut connection, |connection| {
                self.book_series_in(
                    connection,
                    actor,
                    &request,
                    &recurrence,
                    dates,
                    &key,
                    &hash,
                    now,
                )
            })
        })
    }

    /// The series booking proper, inside its transaction.
    #[allow(clippy::too_many_arguments)]
    fn book_series_in(
        &self,
        connection: &mut AnyConnection,
        actor: &Actor,
        request: &SeriesRequest,
        recurrence: &Recurrence,
        dates: LocalDateRange,
        key: &Option<String>,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<SeriesOutcome, StoreError> {
        let series_id = SeriesId::new();
        if let Some(key) = key {
            if let Some(bookings) =
                claim_key(connection, actor, key, hash, &series_id.to_string(), now)?
            {
                return Ok(SeriesOutcome {
                    bookings,
                    replayed: true,
                });
            }
        }
        {
            let service = load_service(connection, actor, request.service_id)?;
            let site = load_site(connection, service.site_id())?;
            check_client(connection, actor, request.client_id, site.id)?;
            let preference =
                staff_preference(&request.preferred_staff_ids, &request.required_staff_ids);
            check_named_staff(connection, site.id, &preference)?;
            let urgency = urgency_for(&service, request.urgent);
            let access = access_for(&service, urgency);
            let parts = load_calendar(
                connection,
                &site,
                &service,
                dates,
                &access,
                &preference,
                now,
                None,
            )?;
            let query = SlotQuery {
                service: service.clone(),
                dates,
                staff_preference: preference.clone(),
                step_minutes: QUANTUM_MINUTES as u32,
                now,
                limit: None,
            };
            let outcomes = check_series(
                &query,
                &parts.with_bookings(Some(request.client_id)),
                recurrence,
            );
            let conflicts: Vec<SeriesConflict> = outcomes
                .iter()
                .filter_map(|occurrence| {
                    occurrence
                        .outcome
                        .as_ref()
                        .err()
                        .map(|refusal| SeriesConflict {
                            index: occurrence.index,
                            start: occurrence.start,
                            code: refusal.code().to_owned(),
                            message: refusal.to_string(),
                        })
                })
                .collect();
            if !conflicts.is_empty() {
                return Err(AppointmentError::SeriesConflict(conflicts).into());
            }
            let mut records = Vec::new();
            for occurrence in &outcomes {
                if let Ok(slot) = &occurrence.outcome {
                    let booking = Booking::from_slot(
                        BookingId::new(),
                        &service,
                        request.client_id,
                        slot,
                        urgency,
                        Some(series_id),
                    );
                    records.push(insert_booking(connection, actor, &site, &booking, now)?);
                }
            }
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site.id),
                    "booking.series_created",
                    "booking_series",
                    series_id,
                    serde_json::json!({
                        "first_start": { "before": null, "after": request.first_start },
                        "interval_weeks": { "before": null, "after": request.interval_weeks },
                        "occurrences": { "before": null, "after": request.occurrences },
                        "bookings": { "before": null, "after": records.iter().map(|r| r.id).collect::<Vec<_>>() },
                    }),
                ),
                now,
            )?;
            if let Some(key) = key {
                store_response(connection, actor, key, &records)?;
            }
            Ok(SeriesOutcome {
                bookings: records,
                replayed: false,
            })
        }
    }

    pub fn get_booking(&self, actor: &Actor, id: BookingId) -> Result<BookingRecord, StoreError> {
        let mut connection = self.connection()?;
        let (booking, meta, site) = load_booking(&mut connection, actor, id)?;
        Ok(record(&booking, &meta, &site))
    }

    /// A site's bookings by start, optionally on site-local dates, of one staff member, client
    /// or status. At most 1000.
    pub fn list_bookings(
        &self,
        actor: &Actor,
        query: BookingQuery,
    ) -> Result<Vec<BookingRecord>, StoreError> {
        let site_id = target_site(actor, query.site_id)?;
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let site = load_site(connection, site_id)?;
        let mut select = bookings::table
            .filter(bookings::site_id.eq(site_id.to_string()))
            .select(BookingRow::as_select())
            .into_boxed();
        if let Some(from) = query.from.or(query.to) {
            let dates = parse_local_dates(from, query.to)?;
            if let Some(window) = dates.utc_window(site.time_zone.tz()) {
                select = select
                    .filter(bookings::starts_at.lt(to_db_time(window.end())))
                    .filter(bookings::ends_at.gt(to_db_time(window.start())));
            }
        }
        if let Some(client_id) = query.client_id {
            select = select.filter(bookings::client_id.eq(client_id.to_string()));
        }
        if let Some(status) = query.status {
            select = select.filter(bookings::status.eq(status.as_str()));
        }
        let mut records = Vec::new();
        for row in select
            .order((bookings::starts_at.asc(), bookings::id.asc()))
            .limit(1000)
            .load(connection)?
        {
            let (booking, meta) = row.parts()?;
            if let Some(staff_id) = query.staff_id {
                if !booking.staff.iter().any(|a| a.staff_id == staff_id) {
                    continue;
                }
            }
            records.push(record(&booking, &meta, &site));
        }
        Ok(records)
    }

    /// Moves an upcoming booking to `start`, in one transaction: the old time is released, the
    /// new one taken, reminders moved, and the freed time offered to the waitlist.
    pub fn reschedule_booking(
        &self,
        actor: &Actor,
        id: BookingId,
        start: DateTime<Utc>,
    ) -> Result<BookingRecord, StoreError> {
        require_booker(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (mut booking, mut meta, site) = load_booking(connection, actor, id)?;
            if !booking.status.is_upcoming() {
                return Err(BookingError::NotReschedulable {
                    status: booking.status,
                }
                .into());
            }
            let service = load_service(connection, actor, booking.service_id)?;
            let before = booking.clone();
            let keep_people =
                StaffPreference::Prefer(booking.staff.iter().map(|a| a.staff_id).collect());
            let slot = find_bookable(
                connection,
                &site,
                &service,
                start,
                &keep_people,
                &access_for(&service, booking.urgency),
                now,
                Some(booking.client_id),
                Some(booking.id),
            )?;
            booking.reschedule(&service, &slot)?;
            release(connection, booking.id)?;
            occupy(connection, &booking)?;
            diesel::update(bookings::table.find(id.to_string()))
                .set((
                    bookings::starts_at.eq(to_db_time(booking.visit.start())),
                    bookings::ends_at.eq(to_db_time(booking.visit.end())),
                    bookings::assignments.eq(to_json(&Assignments {
                        staff: booking.staff.clone(),
                        resources: booking.resources.clone(),
                    })?),
                    bookings::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            sync_reminders(connection, &booking, now)?;
            let (old, new) = (booking_json(&before), booking_json(&booking));
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site.id),
                    "booking.rescheduled",
                    "booking",
                    id,
                    serde_json::json!({
                        "start": { "before": old["start"], "after": new["start"] },
                        "end": { "before": old["end"], "after": new["end"] },
                        "staff": { "before": old["staff"], "after": new["staff"] },
                        "resources": { "before": old["resources"], "after": new["resources"] },
                    }),
                ),
                now,
            )?;
            offer_freed_slot(
                connection,
                actor,
                &site,
                &service,
                before.start(),
                Some(booking.client_id),
                now,
            )?;
            meta.updated_at = now;
            Ok(record(&booking, &meta, &site))
        })
    }

    /// Confirm, arrive, start, complete, cancel (late within 24 hours) or mark a no-show.
    /// Cancelling and no-shows free the time; a cancellation offers it to the waitlist.
    pub fn booking_action(
        &self,
        actor: &Actor,
        id: BookingId,
        action: BookingAction,
        reason: Option<String>,
    ) -> Result<BookingRecord, StoreError> {
        require_booker(actor)?;
        let reason = reason
            .map(|reason| reason.trim().to_owned())
            .filter(|reason| !reason.is_empty());
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (mut booking, mut meta, site) = load_booking(connection, actor, id)?;
            let from = booking.status;
            let to = booking.apply(action, now, &CancellationPolicy::default())?;
            if !to.holds_time() {
                release(connection, booking.id)?;
            }
            if reason.is_some() {
                meta.status_reason = reason.clone();
            }
            diesel::update(bookings::table.find(id.to_string()))
                .set((
                    bookings::status.eq(to.as_str()),
                    bookings::status_reason.eq(meta.status_reason.clone()),
                    bookings::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            sync_reminders(connection, &booking, now)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site.id),
                    &format!("booking.{}", to.as_str()),
                    "booking",
                    id,
                    serde_json::json!({
                        "status": { "before": from, "after": to },
                        "reason": { "before": null, "after": reason },
                    }),
                ),
                now,
            )?;
            if matches!(to, BookingStatus::Cancelled | BookingStatus::LateCancelled) {
                let service = load_service(connection, actor, booking.service_id)?;
                offer_freed_slot(
                    connection,
                    actor,
                    &site,
                    &service,
                    booking.start(),
                    Some(booking.client_id),
                    now,
                )?;
            }
            meta.updated_at = now;
            Ok(record(&booking, &meta, &site))
        })
    }

    /// The booking's reminder outbox rows, pending and cancelled, by due time.
    pub fn booking_reminders(
        &self,
        actor: &Actor,
        id: BookingId,
    ) -> Result<Vec<ReminderRecord>, StoreError> {
        let mut connection = self.connection()?;
        load_booking(&mut connection, actor, id)?;
        Ok(outbox_reminders::table
            .filter(outbox_reminders::booking_id.eq(id.to_string()))
            .order((outbox_reminders::due_at.asc(), outbox_reminders::id.asc()))
            .select(ReminderRow::as_select())
            .load(&mut *connection)?
            .into_iter()
            .map(|row| ReminderRecord {
                id: row.id,
                booking_id: row.booking_id,
                channel: row.channel,
                lead_minutes: row.lead_minutes,
                due_at: from_db_time(row.due_at),
                status: row.status,
            })
            .collect())
    }

    /// How often a client did not come, out of how many bookings.
    pub fn client_no_shows(
        &self,
        actor: &Actor,
        client_id: ClientId,
    ) -> Result<NoShowSummary, StoreError> {
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let site = clients::table
            .find(client_id.to_string())
            .select(clients::site_id)
            .first::<String>(connection)
            .optional()?
            .ok_or(StoreError::ClientNotFound)?;
        let site_id = parse_column("clients.site_id", &site, SiteId::parse)?;
        if !actor.can_access_site(site_id) {
            return Err(StoreError::ClientNotFound);
        }
        let of_client = bookings::client_id.eq(client_id.to_string());
        let no_shows = bookings::table
            .filter(of_client.clone())
            .filter(bookings::status.eq(BookingStatus::NoShow.as_str()))
            .count()
            .get_result::<i64>(connection)?;
        let all = bookings::table
            .filter(of_client)
            .count()
            .get_result::<i64>(connection)?;
        Ok(NoShowSummary {
            client_id,
            no_shows,
            bookings: all,
        })
    }

    /// A staff member's site-local day as iCalendar text.
    pub fn staff_calendar(
        &self,
        actor: &Actor,
        staff_id: StaffId,
        date: NaiveDate,
    ) -> Result<String, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let staff = load_staff(connection, actor, staff_id)?;
        let site = load_site(connection, staff.site_id)?;
        let (bookings, names) = day_bookings(connection, &site, date)?;
        Ok(staff_day_calendar(
            &format!("{} {date}", staff.full_name),
            staff_id,
            date,
            &site.time_zone,
            &bookings,
            |booking| service_name(&names, booking),
            now,
        ))
    }

    /// A resource's site-local day as iCalendar text.
    pub fn resource_calendar(
        &self,
        actor: &Actor,
        resource_id: ResourceId,
        date: NaiveDate,
    ) -> Result<String, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let resource = load_resource(connection, actor, resource_id)?;
        let site = load_site(connection, resource.site_id)?;
        let (bookings, names) = day_bookings(connection, &site, date)?;
        Ok(resource_day_calendar(
            &format!("{} {date}", resource.name),
            resource_id,
            date,
            &site.time_zone,
            &bookings,
            |booking| service_name(&names, booking),
            now,
        ))
    }
}

fn service_name(names: &HashMap<String, String>, booking: &Booking) -> String {
    names
        .get(&booking.service_id.to_string())
        .cloned()
        .unwrap_or_else(|| "Appointment".to_owned())
}

type DayBookings = (Vec<Booking>, HashMap<String, String>);

fn day_bookings(
    connection: &mut AnyConnection,
    site: &Site,
    date: NaiveDate,
) -> Result<DayBookings, StoreError> {
    let Some(day) = local_day(site.time_zone.tz(), date) else {
        return Ok((Vec::new(), HashMap::new()));
    };
    let bookings = bookings_in(connection, site, &day, None)?;
    let names = services::table
        .filter(services::site_id.eq(site.id.to_string()))
        .select((services::id, services::name))
        .load::<(String, String)>(connection)?
        .into_iter()
        .collect();
    Ok((bookings, names))
}
