//! The waitlist: clients waiting for a service on a range of dates. When a booking is cancelled
//! or moved away, the freed start is offered to the first matching waiting client (first come,
//! first served) for [`super::WAITLIST_OFFER_HOURS`]; accepting books it through the ordinary
//! booking path, so an offer never bypasses the occupancy guarantee.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tend_appointments::{
    check_start, first_match, make_offer, BookingId, LocalDateRange, Service, ServiceId, SlotQuery,
    StaffPreference, WaitlistEntry, WaitlistEntryId, WaitlistStatus, QUANTUM_MINUTES,
};
use tend_audit::AuditRecord;
use tend_core::{Actor, ClientId, SiteId, StaffId};

use super::bookings::{
    book_in_transaction, check_client, check_named_staff, staff_preference, BookingRecord,
};
use super::calendar::load_calendar;
use super::catalogue::load_service;
use super::{
    from_json, parse_local_dates, require_booker, target_site, to_json, AppointmentError,
    WAITLIST_OFFER_HOURS,
};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{from_db_time, parse_column, to_db_time};
use crate::schema::{waitlist_entries, waitlist_offers};
use crate::sites::{load_site, Site};
use crate::Store;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistInput {
    pub service_id: ServiceId,
    pub client_id: ClientId,
    /// Site-local dates the client can come on.
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub preferred_staff_ids: Vec<StaffId>,
    #[serde(default)]
    pub required_staff_ids: Vec<StaffId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitlistOfferRecord {
    pub id: String,
    pub start: DateTime<Utc>,
    pub offered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// open, accepted or lapsed.
    pub status: String,
    pub booking_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitlistRecord {
    pub id: WaitlistEntryId,
    pub site_id: SiteId,
    pub service_id: ServiceId,
    pub client_id: ClientId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub staff_preference: StaffPreference,
    pub status: WaitlistStatus,
    pub joined_at: DateTime<Utc>,
    /// The latest offer made to this entry, if any.
    pub offer: Option<WaitlistOfferRecord>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = waitlist_entries)]
struct EntryRow {
    id: String,
    site_id: String,
    service_id: String,
    client_id: String,
    first_date: NaiveDate,
    last_date: NaiveDate,
    staff_preference: String,
    status: String,
    joined_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = waitlist_offers)]
struct OfferRow {
    id: String,
    entry_id: String,
    site_id: String,
    starts_at: NaiveDateTime,
    offered_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    status: String,
    booking_id: Option<String>,
}

impl OfferRow {
    fn record(&self, now: DateTime<Utc>) -> WaitlistOfferRecord {
        let lapsed = self.status == "open" && from_db_time(self.expires_at) <= now;
        WaitlistOfferRecord {
            id: self.id.clone(),
            start: from_db_time(self.starts_at),
            offered_at: from_db_time(self.offered_at),
            expires_at: from_db_time(self.expires_at),
            status: if lapsed {
                "lapsed".into()
            } else {
                self.status.clone()
            },
            booking_id: self.booking_id.clone(),
        }
    }
}

fn status_text(status: WaitlistStatus) -> &'static str {
    match status {
        WaitlistStatus::Waiting => "waiting",
        WaitlistStatus::Offered => "offered",
        WaitlistStatus::Booked => "booked",
        WaitlistStatus::Withdrawn => "withdrawn",
    }
}

fn parse_status(text: &str) -> Result<WaitlistStatus, StoreError> {
    match text {
        "waiting" => Ok(WaitlistStatus::Waiting),
        "offered" => Ok(WaitlistStatus::Offered),
        "booked" => Ok(WaitlistStatus::Booked),
        "withdrawn" => Ok(WaitlistStatus::Withdrawn),
        other => Err(StoreError::corrupt(format!(
            "waitlist_entries.status: {other}"
        ))),
    }
}

impl EntryRow {
    fn into_entry(self) -> Result<(WaitlistEntry, SiteId), StoreError> {
        Ok((
            WaitlistEntry {
                id: parse_column("waitlist_entries.id", &self.id, WaitlistEntryId::parse)?,
                client_id: parse_column(
                    "waitlist_entries.client_id",
                    &self.client_id,
                    ClientId::parse,
                )?,
                service_id: parse_column(
                    "waitlist_entries.service_id",
                    &self.service_id,
                    ServiceId::parse,
                )?,
                dates: LocalDateRange::new(self.first_date, self.last_date)
                    .map_err(|error| StoreError::corrupt(format!("waitlist_entries: {error}")))?,
                staff_preference: from_json(
                    "waitlist_entries.staff_preference",
                    &self.staff_preference,
                )?,
                joined_at: from_db_time(self.joined_at),
                status: parse_status(&self.status)?,
            },
            parse_column("waitlist_entries.site_id", &self.site_id, SiteId::parse)?,
        ))
    }
}

fn latest_offer(
    connection: &mut AnyConnection,
    entry_id: WaitlistEntryId,
) -> Result<Option<OfferRow>, StoreError> {
    Ok(waitlist_offers::table
        .filter(waitlist_offers::entry_id.eq(entry_id.to_string()))
        .order(waitlist_offers::offered_at.desc())
        .select(OfferRow::as_select())
        .first(connection)
        .optional()?)
}

/// Whether the entry's latest offer was neither accepted nor is still open at `now`.
fn offer_lapsed(
    connection: &mut AnyConnection,
    entry_id: WaitlistEntryId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(
        latest_offer(connection, entry_id)?
            .is_none_or(|offer| offer.record(now).status == "lapsed"),
    )
}

fn waitlist_record(
    connection: &mut AnyConnection,
    entry: WaitlistEntry,
    site_id: SiteId,
    now: DateTime<Utc>,
) -> Result<WaitlistRecord, StoreError> {
    let offer = latest_offer(connection, entry.id)?.map(|offer| offer.record(now));
    let lapsed = offer.as_ref().is_some_and(|offer| offer.status == "lapsed");
    let status = match entry.status {
        WaitlistStatus::Offered if lapsed => WaitlistStatus::Waiting,
        status => status,
    };
    Ok(WaitlistRecord {
        id: entry.id,
        site_id,
        service_id: entry.service_id,
        client_id: entry.client_id,
        from: entry.dates.first(),
        to: entry.dates.last(),
        staff_preference: entry.staff_preference,
        status,
        joined_at: entry.joined_at,
        offer,
    })
}

/// Offers the start `freed` of `service` (if it is now bookable and still ahead) to the first
/// matching waiting entry, other than `excluded_client`. Runs in the caller's transaction.
pub(super) fn offer_freed_slot(
    connection: &mut AnyConnection,
    actor: &Actor,
    site: &Site,
    service: &Service,
    freed: DateTime<Utc>,
    excluded_client: Option<ClientId>,
    now: DateTime<Utc>,
) -> Result<Option<WaitlistOfferRecord>, StoreError> {
    if freed <= now {
        return Ok(None);
    }
    let rows = waitlist_entries::table
        .filter(waitlist_entries::service_id.eq(service.id().to_string()))
        .filter(waitlist_entries::status.eq_any([
            status_text(WaitlistStatus::Waiting),
            status_text(WaitlistStatus::Offered),
        ]))
        .order((
            waitlist_entries::joined_at.asc(),
            waitlist_entries::id.asc(),
        ))
        .select(EntryRow::as_select())
        .load(connection)?;
    let mut entries = Vec::new();
    for row in rows {
        let (mut entry, _) = row.into_entry()?;
        // An entry whose offer lapsed is waiting again, in its old place in the queue.
        if entry.status == WaitlistStatus::Offered && offer_lapsed(connection, entry.id, now)? {
            entry.status = WaitlistStatus::Waiting;
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let date = freed.with_timezone(&site.time_zone.tz()).date_naive();
    let dates = LocalDateRange::single(date);
    let access = tend_appointments::Access::for_service(service);
    let parts = load_calendar(
        connection,
        site,
        service,
        dates,
        &access,
        &StaffPreference::Anyone,
        now,
        None,
    )?;
    let query = SlotQuery {
        service: service.clone(),
        dates,
        staff_preference: StaffPreference::Anyone,
        step_minutes: QUANTUM_MINUTES as u32,
        now,
        limit: None,
    };
    let Ok(slot) = check_start(&query, &parts.with_bookings(None), freed) else {
        return Ok(None);
    };
    let Some(entry) = first_match(
        &entries,
        service.id(),
        &slot,
        &site.time_zone,
        excluded_client,
    ) else {
        return Ok(None);
    };
    let offer = make_offer(entry, &slot, now, Duration::hours(WAITLIST_OFFER_HOURS));
    let row = OfferRow {
        id: uuid::Uuid::now_v7().to_string(),
        entry_id: entry.id.to_string(),
        site_id: site.id.to_string(),
        starts_at: to_db_time(offer.slot.start()),
        offered_at: to_db_time(offer.offered_at),
        expires_at: to_db_time(offer.expires_at),
        status: "open".into(),
        booking_id: None,
    };
    diesel::update(
        waitlist_offers::table
            .filter(waitlist_offers::entry_id.eq(entry.id.to_string()))
            .filter(waitlist_offers::status.eq("open")),
    )
    .set(waitlist_offers::status.eq("lapsed"))
    .execute(connection)?;
    diesel::insert_into(waitlist_offers::table)
        .values(&row)
        .execute(connection)?;
    diesel::update(waitlist_entries::table.find(entry.id.to_string()))
        .set((
            waitlist_entries::status.eq(status_text(WaitlistStatus::Offered)),
            waitlist_entries::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
    audit::append(
        connection,
        AuditRecord::success(
            Some(actor.user_id),
            Some(site.id),
            "waitlist.offered",
            "waitlist_entry",
            entry.id,
            serde_json::json!({
                "status": { "before": status_text(entry.status), "after": "offered" },
                "offer": { "before": null, "after": { "start": offer.slot.start(), "expires_at": offer.expires_at } },
            }),
        ),
        now,
    )?;
    Ok(Some(row.record(now)))
}

fn load_entry(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: WaitlistEntryId,
) -> Result<(WaitlistEntry, SiteId), StoreError> {
    let (entry, site_id) = waitlist_entries::table
        .find(id.to_string())
        .select(EntryRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(AppointmentError::WaitlistEntryNotFound)?
        .into_entry()?;
    if !actor.can_access_site(site_id) {
        return Err(AppointmentError::WaitlistEntryNotFound.into());
    }
    Ok((entry, site_id))
}

impl Store {
    /// Puts a client on the waitlist of a service for site-local dates.
    pub fn join_waitlist(
        &self,
        actor: &Actor,
        input: WaitlistInput,
    ) -> Result<WaitlistRecord, StoreError> {
        require_booker(actor)?;
        let dates = parse_local_dates(input.from, input.to)?;
        let preference = staff_preference(&input.preferred_staff_ids, &input.required_staff_ids);
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let service = load_service(connection, actor, input.service_id)?;
            let site_id = service.site_id();
            check_client(connection, actor, input.client_id, site_id)?;
            check_named_staff(connection, site_id, &preference)?;
            let entry = WaitlistEntry {
                id: WaitlistEntryId::new(),
                client_id: input.client_id,
                service_id: service.id(),
                dates,
                staff_preference: preference.clone(),
                joined_at: now,
                status: WaitlistStatus::Waiting,
            };
            diesel::insert_into(waitlist_entries::table)
                .values(EntryRow {
                    id: entry.id.to_string(),
                    site_id: site_id.to_string(),
                    service_id: entry.service_id.to_string(),
                    client_id: entry.client_id.to_string(),
                    first_date: dates.first(),
                    last_date: dates.last(),
                    staff_preference: to_json(&entry.staff_preference)?,
                    status: status_text(entry.status).to_owned(),
                    joined_at: to_db_time(now),
                    updated_at: to_db_time(now),
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "waitlist.joined",
                    "waitlist_entry",
                    entry.id,
                    serde_json::json!({
                        "service_id": { "before": null, "after": entry.service_id },
                        "client_id": { "before": null, "after": entry.client_id },
                        "from": { "before": null, "after": dates.first() },
                        "to": { "before": null, "after": dates.last() },
                        "staff_preference": { "before": null, "after": entry.staff_preference },
                    }),
                ),
                now,
            )?;
            waitlist_record(connection, entry, site_id, now)
        })
    }

    /// A site's waitlist (optionally of one service), first come first.
    pub fn list_waitlist(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
        service_id: Option<ServiceId>,
    ) -> Result<Vec<WaitlistRecord>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let now = self.now();
        let mut connection = self.connection()?;
        let connection = &mut *connection;
        let mut select = waitlist_entries::table
            .filter(waitlist_entries::site_id.eq(site_id.to_string()))
            .select(EntryRow::as_select())
            .into_boxed();
        if let Some(service_id) = service_id {
            select = select.filter(waitlist_entries::service_id.eq(service_id.to_string()));
        }
        let rows = select
            .order((
                waitlist_entries::joined_at.asc(),
                waitlist_entries::id.asc(),
            ))
            .limit(1000)
            .load(connection)?;
        rows.into_iter()
            .map(|row| {
                let (entry, site_id) = row.into_entry()?;
                waitlist_record(connection, entry, site_id, now)
            })
            .collect()
    }

    /// Books the open offer of a waitlist entry for its client.
    pub fn accept_waitlist_offer(
        &self,
        actor: &Actor,
        id: WaitlistEntryId,
    ) -> Result<BookingRecord, StoreError> {
        require_booker(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (entry, site_id) = load_entry(connection, actor, id)?;
            let offer = latest_offer(connection, id)?
                .filter(|offer| offer.status == "open" && from_db_time(offer.expires_at) > now)
                .ok_or(AppointmentError::NoOpenOffer)?;
            let service = load_service(connection, actor, entry.service_id)?;
            let site = load_site(connection, site_id)?;
            let urgency = if service.is_urgent() {
                tend_appointments::Urgency::Urgent
            } else {
                tend_appointments::Urgency::Routine
            };
            let booking = book_in_transaction(
                connection,
                actor,
                &site,
                &service,
                BookingId::new(),
                entry.client_id,
                from_db_time(offer.starts_at),
                &entry.staff_preference,
                urgency,
                now,
            )?;
            diesel::update(waitlist_offers::table.find(offer.id.clone()))
                .set((
                    waitlist_offers::status.eq("accepted"),
                    waitlist_offers::booking_id.eq(Some(booking.id.to_string())),
                ))
                .execute(connection)?;
            diesel::update(waitlist_entries::table.find(id.to_string()))
                .set((
                    waitlist_entries::status.eq(status_text(WaitlistStatus::Booked)),
                    waitlist_entries::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "waitlist.accepted",
                    "waitlist_entry",
                    id,
                    serde_json::json!({
                        "status": { "before": "offered", "after": "booked" },
                        "booking_id": { "before": null, "after": booking.id },
                    }),
                ),
                now,
            )?;
            Ok(booking)
        })
    }
}
