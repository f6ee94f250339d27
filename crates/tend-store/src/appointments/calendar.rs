//! Assembling the domain's [`Calendar`] for a service over local dates: each qualified staff
//! member's and suitable resource's availability (hours, exceptions, breaks, blocked time, held
//! time for the booking's access), and the time existing bookings keep busy.
//!
//! A staff member's working time on a local date comes from the site's published roster when a
//! published roster period covers that date and the staff member is rostered at the site (see
//! `PublishedRoster`): exactly their shifts that date, none meaning not working. Other dates
//! keep the weekly hours. Slot search and booking checks both build their calendar here.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use tend_appointments::{
    busy_time, resolve_local, Access, Booking, BookingStatus, Calendar, HeldTime, IntervalSet,
    LocalDateRange, LocalTimeRange, Occupant, ResourceCandidate, Service, StaffCandidate,
    StaffPreference, TimeInterval, WorkingTime,
};
use tend_core::{ClientId, SiteTimeZone};
use tend_staff::RosterStatus;

use super::bookings::BookingRow;
use super::catalogue::{site_blocked, site_resources, site_staff};
use crate::connection::AnyConnection;
use crate::error::StoreError;
use crate::map::{parse_column, to_db_time};
use crate::schema::bookings;
use crate::sites::Site;

/// A site's availability for one service, and the busy time of its bookings, kept apart so a
/// refusal can be told apart: taken by a booking (409) or never available (422).
pub(super) struct CalendarParts {
    pub(super) free: Calendar,
    pub(super) busy: BTreeMap<Occupant, IntervalSet>,
}

impl CalendarParts {
    /// The calendar with existing bookings taken out; `client` adds the client's own visits.
    pub(super) fn with_bookings(&self, client: Option<ClientId>) -> Calendar {
        let mut calendar = self.free.clone();
        for staff in &mut calendar.staff {
            if let Some(busy) = self.busy.get(&Occupant::Staff(staff.staff_id)) {
                staff.free = staff.free.subtract(busy);
            }
        }
        for resource in &mut calendar.resources {
            if let Some(busy) = self.busy.get(&Occupant::Resource(resource.resource_id)) {
                resource.free = resource.free.subtract(busy);
            }
        }
        if let Some(busy) = client.and_then(|client| self.busy.get(&Occupant::Client(client))) {
            calendar.client_busy = busy.clone();
        }
        calendar
    }
}

/// Bookings of a site that hold time and touch `window`, except `exclude`.
pub(super) fn bookings_in(
    connection: &mut AnyConnection,
    site: &Site,
    window: &TimeInterval,
    exclude: Option<tend_appointments::BookingId>,
) -> Result<Vec<Booking>, StoreError> {
    // Occupied time reaches past the visit by the buffers; a day either side covers them.
    let holding: Vec<&str> = BookingStatus::ALL
        .iter()
        .filter(|status| status.holds_time())
        .map(|status| status.as_str())
        .collect();
    let mut query = bookings::table
        .filter(bookings::site_id.eq(site.id.to_string()))
        .filter(bookings::starts_at.lt(to_db_time(window.end() + Duration::days(1))))
        .filter(bookings::ends_at.gt(to_db_time(window.start() - Duration::days(1))))
        .filter(bookings::status.eq_any(holding))
        .select(BookingRow::as_select())
        .into_boxed();
    if let Some(exclude) = exclude {
        query = query.filter(bookings::id.ne(exclude.to_string()));
    }
    query
        .load(connection)?
        .into_iter()
        .map(BookingRow::into_booking)
        .collect()
}

/// The rostering tables read here. Their owner, the rostering module, keeps its declarations
/// private; these name only the columns appointments need.
mod roster_tables {
    diesel::table! {
        staff_rostering (staff_id) {
            staff_id -> Text,
            site_id -> Text,
        }
    }
    diesel::table! {
        shift_types (id) {
            id -> Text,
            site_id -> Text,
            key -> Text,
            start_time -> Text,
            end_time -> Text,
        }
    }
    diesel::table! {
        roster_periods (id) {
            id -> Text,
            site_id -> Text,
            first_day -> Text,
            last_day -> Text,
            status -> Text,
        }
    }
    diesel::table! {
        roster_assignments (period_id, staff_id, day) {
            period_id -> Text,
            staff_id -> Text,
            day -> Text,
            shift_type -> Text,
        }
    }
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_day(column: &'static str, text: &str) -> Result<NaiveDate, StoreError> {
    parse_column(column, text, tend_core::parse_date)
}

fn parse_shift_time(column: &'static str, text: &str) -> Result<NaiveTime, StoreError> {
    parse_column(column, text, |text| {
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
    })
}

/// The instants of a shift starting on `date`, local times in `time_zone` resolved by the
/// domain's daylight-saving policy. An end not after the start runs into the next day; an end
/// equal to the start is a 24-hour shift. `None` if it falls wholly into a gap.
fn shift_interval(
    time_zone: &SiteTimeZone,
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
) -> Option<TimeInterval> {
    let tz = time_zone.tz();
    match LocalTimeRange::new(start, end) {
        Ok(range) => range.on(tz, date),
        Err(_) => TimeInterval::new(
            resolve_local(tz, date.and_time(start)),
            resolve_local(tz, date.succ_opt()?.and_time(end)),
        )
        .ok(),
    }
}

/// What the site's published rosters say about a range of local dates.
///
/// Membership: rostering plans every staff member with a rostering profile at the site (a
/// `staff_rostering` row with the site's id), so such a person is in every published period of
/// the site, and a date of a period on which they have no assignment is a day off. Anyone with
/// an assignment in a published period is in it too. Staff without a profile (roles the site does
/// not roster) keep their weekly hours.
#[derive(Default)]
struct PublishedRoster {
    /// Local date ranges of the published periods, both ends included.
    periods: Vec<(NaiveDate, NaiveDate)>,
    /// Staff ids (as stored) rostered at the site.
    rostered: HashSet<String>,
    /// Shift intervals by staff id and the local date the shift starts on.
    shifts: HashMap<(String, NaiveDate), Vec<TimeInterval>>,
}

impl PublishedRoster {
    /// Loads the published periods of `site` touching `first..=last`, their assignments in that
    /// range and the shift types they name.
    fn load(
        connection: &mut AnyConnection,
        site: &Site,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<PublishedRoster, StoreError> {
        use roster_tables::{roster_assignments, roster_periods, shift_types, staff_rostering};
        let site_id = site.id.to_string();
        let period_rows: Vec<(String, String, String)> = roster_periods::table
            .filter(roster_periods::site_id.eq(&site_id))
            .filter(roster_periods::status.eq(RosterStatus::Published.as_str()))
            .filter(roster_periods::first_day.le(date_text(last)))
            .filter(roster_periods::last_day.ge(date_text(first)))
            .select((
                roster_periods::id,
                roster_periods::first_day,
                roster_periods::last_day,
            ))
            .load(connection)?;
        if period_rows.is_empty() {
            return Ok(PublishedRoster::default());
        }
        let mut periods = Vec::new();
        let mut period_ids = Vec::new();
        for (id, first_day, last_day) in period_rows {
            periods.push((
                parse_day("roster_periods.first_day", &first_day)?,
                parse_day("roster_periods.last_day", &last_day)?,
            ));
            period_ids.push(id);
        }
        let mut rostered: HashSet<String> = staff_rostering::table
            .filter(staff_rostering::site_id.eq(&site_id))
            .select(staff_rostering::staff_id)
            .load::<String>(connection)?
            .into_iter()
            .collect();
        let types: HashMap<String, (NaiveTime, NaiveTime)> = shift_types::table
            .filter(shift_types::site_id.eq(&site_id))
            .select((
                shift_types::key,
                shift_types::start_time,
                shift_types::end_time,
            ))
            .load::<(String, String, String)>(connection)?
            .into_iter()
            .map(|(key, start, end)| {
                Ok((
                    key,
                    (
                        parse_shift_time("shift_types.start_time", &start)?,
                        parse_shift_time("shift_types.end_time", &end)?,
                    ),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let assignment_rows: Vec<(String, String, String)> = roster_assignments::table
            .filter(roster_assignments::period_id.eq_any(&period_ids))
            .filter(roster_assignments::day.ge(date_text(first)))
            .filter(roster_assignments::day.le(date_text(last)))
            .select((
                roster_assignments::staff_id,
                roster_assignments::day,
                roster_assignments::shift_type,
            ))
            .load(connection)?;
        let mut shifts: HashMap<(String, NaiveDate), Vec<TimeInterval>> = HashMap::new();
        for (staff_id, day, shift_type) in assignment_rows {
            let date = parse_day("roster_assignments.day", &day)?;
            let (start, end) = types.get(&shift_type).ok_or_else(|| {
                StoreError::corrupt(format!(
                    "roster_assignments.shift_type: no shift type {shift_type:?} at the site"
                ))
            })?;
            rostered.insert(staff_id.clone());
            let entry = shifts.entry((staff_id, date)).or_default();
            if let Some(interval) = shift_interval(&site.time_zone, date, *start, *end) {
                entry.push(interval);
            }
        }
        Ok(PublishedRoster {
            periods,
            rostered,
            shifts,
        })
    }

    /// The dates of `first..=last` on which the published roster decides `staff_id`'s working
    /// time, each with its shifts (empty: a day off). Empty when the roster says nothing.
    fn days_of(
        &self,
        staff_id: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> BTreeMap<NaiveDate, Vec<TimeInterval>> {
        let mut days = BTreeMap::new();
        if !self.rostered.contains(staff_id) {
            return days;
        }
        for date in first.iter_days().take_while(|date| *date <= last) {
            let covered = self
                .periods
                .iter()
                .any(|(from, to)| *from <= date && date <= *to);
            if covered {
                let shifts = self
                    .shifts
                    .get(&(staff_id.to_owned(), date))
                    .cloned()
                    .unwrap_or_default();
                days.insert(date, shifts);
            }
        }
        days
    }
}

fn always() -> Result<IntervalSet, StoreError> {
    let start = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let end = start + Duration::days(365 * 400);
    Ok(IntervalSet::single(TimeInterval::new(start, end)?))
}

/// Loads the availability of every staff member and resource that could serve `service` on
/// `dates` (widened by a day, as the search wants), and the busy time of existing bookings.
#[allow(clippy::too_many_arguments)]
pub(super) fn load_calendar(
    connection: &mut AnyConnection,
    site: &Site,
    service: &Service,
    dates: LocalDateRange,
    access: &Access,
    preference: &StaffPreference,
    now: DateTime<Utc>,
    exclude: Option<tend_appointments::BookingId>,
) -> Result<CalendarParts, StoreError> {
    let time_zone: &SiteTimeZone = &site.time_zone;
    let widened = dates.widened_by_a_day();
    let Some(window) = widened.utc_window(time_zone.tz()) else {
        return Ok(CalendarParts {
            free: Calendar {
                time_zone: *time_zone,
                staff: Vec::new(),
                resources: Vec::new(),
                client_busy: IntervalSet::empty(),
            },
            busy: BTreeMap::new(),
        });
    };
    // Plain blocks take the time away; typed blocks hold it for one purpose.
    let mut blocked: HashMap<(String, String), Vec<TimeInterval>> = HashMap::new();
    let mut held: HashMap<(String, String), Vec<HeldTime>> = HashMap::new();
    for row in site_blocked(connection, site.id, &window)? {
        match row.held()? {
            Some(time) => held
                .entry((row.owner_kind, row.owner_id))
                .or_default()
                .push(time),
            None => {
                let interval = row.interval()?;
                blocked
                    .entry((row.owner_kind, row.owner_id))
                    .or_default()
                    .push(interval);
            }
        }
    }
    // Working intervals look a day before the dates they are asked for (overnight ranges).
    let roster_first = widened.first().pred_opt().unwrap_or(widened.first());
    let roster_last = widened.last();
    let roster = PublishedRoster::load(connection, site, roster_first, roster_last)?;
    let named = preference.named_staff();
    let mut staff = Vec::new();
    for member in site_staff(connection, site.id)? {
        let roles = [member.role].into_iter().collect();
        let qualified = service.staff_requirements().iter().any(|requirement| {
            requirement
                .qualification()
                .is_met_by(&roles, &member.skills)
        });
        if !qualified && !named.contains(&member.id) {
            continue;
        }
        let owner = ("staff".to_owned(), member.id.to_string());
        let own_blocked = blocked.remove(&owner).unwrap_or_default();
        let rostered_days = roster.days_of(&member.id.to_string(), roster_first, roster_last);
        let mut availability = member.working_hours.to_availability_with_roster(
            own_blocked,
            time_zone,
            roster_first,
            roster_last,
            &rostered_days,
        )?;
        availability.held = held.remove(&owner).unwrap_or_default();
        staff.push(StaffCandidate {
            staff_id: member.id,
            roles,
            skills: member.skills,
            free: availability.free_for(time_zone, widened, access, now),
        });
    }
    let mut resources = Vec::new();
    for resource in site_resources(connection, site.id)? {
        let suitable = service
            .resource_requirements()
            .iter()
            .any(|requirement| requirement.is_met_by(resource.kind, &resource.tags));
        if !suitable {
            continue;
        }
        let owner = ("resource".to_owned(), resource.id.to_string());
        let own_blocked = blocked.remove(&owner).unwrap_or_default();
        let mut availability = match &resource.working_hours {
            Some(hours) => hours.to_availability(own_blocked)?,
            None => {
                let mut availability =
                    tend_appointments::Availability::new(WorkingTime::Rostered(always()?));
                availability.blocked = own_blocked;
                availability
            }
        };
        availability.held = held.remove(&owner).unwrap_or_default();
        let free = availability.free_for(time_zone, widened, access, now);
        resources.push(ResourceCandidate {
            resource_id: resource.id,
            kind: resource.kind,
            tags: resource.tags,
            free,
        });
    }
    let existing = bookings_in(connection, site, &window, exclude)?;
    Ok(CalendarParts {
        free: Calendar {
            time_zone: *time_zone,
            staff,
            resources,
            client_busy: IntervalSet::empty(),
        },
        busy: busy_time(&existing),
    })
}
