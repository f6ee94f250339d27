//! Assembling the domain's [`Calendar`] for a service over local dates: each qualified staff
//! member's and suitable resource's availability (hours, exceptions, breaks, blocked time, held
//! time for the booking's access), and the time existing bookings keep busy.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use tend_appointments::{
    busy_time, Access, Booking, BookingStatus, Calendar, IntervalSet, LocalDateRange, Occupant,
    ResourceCandidate, Service, StaffCandidate, StaffPreference, TimeInterval, WorkingTime,
};
use tend_core::{ClientId, SiteTimeZone};

use super::bookings::BookingRow;
use super::catalogue::{site_blocked, site_resources, site_staff};
use crate::connection::AnyConnection;
use crate::error::StoreError;
use crate::map::to_db_time;
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
    let mut blocked: HashMap<(String, String), Vec<TimeInterval>> = HashMap::new();
    for row in site_blocked(connection, site.id, &window)? {
        let interval = row.interval()?;
        blocked
            .entry((row.owner_kind, row.owner_id))
            .or_default()
            .push(interval);
    }
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
        let own_blocked = blocked
            .remove(&("staff".to_owned(), member.id.to_string()))
            .unwrap_or_default();
        let availability = member.working_hours.to_availability(own_blocked)?;
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
        let own_blocked = blocked
            .remove(&("resource".to_owned(), resource.id.to_string()))
            .unwrap_or_default();
        let free = match &resource.working_hours {
            Some(hours) => hours
                .to_availability(own_blocked)?
                .free_for(time_zone, widened, access, now),
            None => {
                let mut availability =
                    tend_appointments::Availability::new(WorkingTime::Rostered(always()?));
                availability.blocked = own_blocked;
                availability.free_for(time_zone, widened, access, now)
            }
        };
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
