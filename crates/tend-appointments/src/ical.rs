//! iCalendar (RFC 5545) exports of a staff member's or a resource's day.
//!
//! Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); text is
//! escaped; every event has UID, DTSTAMP, DTSTART and DTEND. Times are written in UTC (`Z`
//! form), which needs no VTIMEZONE component and is exact across daylight-saving changes;
//! calendar apps show them in the reader's zone. Summaries name the service, never the client:
//! these files leave Tend for third-party calendar apps.

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::{SiteTimeZone, StaffId};

use crate::availability::local_day;
use crate::booking::{Booking, BookingStatus};
use crate::ids::ResourceId;
use crate::interval::TimeInterval;

/// One VEVENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcalEvent {
    pub uid: String,
    pub interval: TimeInterval,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    /// `TENTATIVE` for requested bookings, `CONFIRMED` otherwise.
    pub tentative: bool,
}

/// A whole VCALENDAR with `events`, stamped `dtstamp`.
pub fn render_calendar(name: &str, events: &[IcalEvent], dtstamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |text: &str| push_folded(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Tend//Appointments//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    for event in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape_text(&event.uid)));
        line(&format!("DTSTAMP:{}", utc_stamp(dtstamp)));
        line(&format!("DTSTART:{}", utc_stamp(event.interval.start())));
        line(&format!("DTEND:{}", utc_stamp(event.interval.end())));
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if let Some(description) = &event.description {
            line(&format!("DESCRIPTION:{}", escape_text(description)));
        }
        if let Some(location) = &event.location {
            line(&format!("LOCATION:{}", escape_text(location)));
        }
        line(if event.tentative {
            "STATUS:TENTATIVE"
        } else {
            "STATUS:CONFIRMED"
        });
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// A staff member's day: their time in every booking that holds time and touches the local
/// `date`. `summary` names each booking (typically the service's name).
pub fn staff_day_calendar(
    calendar_name: &str,
    staff_id: StaffId,
    date: NaiveDate,
    time_zone: &SiteTimeZone,
    bookings: &[Booking],
    summary: impl Fn(&Booking) -> String,
    dtstamp: DateTime<Utc>,
) -> String {
    let events = day_events(date, time_zone, bookings, &summary, |booking| {
        booking
            .staff
            .iter()
            .filter(|a| a.staff_id == staff_id)
            .map(|a| a.occupied)
            .collect()
    });
    render_calendar(calendar_name, &events, dtstamp)
}

/// A resource's day, like [`staff_day_calendar`].
pub fn resource_day_calendar(
    calendar_name: &str,
    resource_id: ResourceId,
    date: NaiveDate,
    time_zone: &SiteTimeZone,
    bookings: &[Booking],
    summary: impl Fn(&Booking) -> String,
    dtstamp: DateTime<Utc>,
) -> String {
    let events = day_events(date, time_zone, bookings, &summary, |booking| {
        booking
            .resources
            .iter()
            .filter(|a| a.resource_id == resource_id)
            .map(|a| a.occupied)
            .collect()
    });
    render_calendar(calendar_name, &events, dtstamp)
}

fn day_events(
    date: NaiveDate,
    time_zone: &SiteTimeZone,
    bookings: &[Booking],
    summary: &dyn Fn(&Booking) -> String,
    owned: impl Fn(&Booking) -> Vec<TimeInterval>,
) -> Vec<IcalEvent> {
    let Some(day) = local_day(time_zone.tz(), date) else {
        return Vec::new();
    };
    let mut events: Vec<IcalEvent> = bookings
        .iter()
        .filter(|booking| booking.status.holds_time())
        .flat_map(|booking| {
            owned(booking)
                .into_iter()
                .filter(|interval| interval.overlaps(&day))
                .enumerate()
                .map(move |(index, interval)| IcalEvent {
                    uid: if index == 0 {
                        format!("{}@tend", booking.id)
                    } else {
                        format!("{}-{index}@tend", booking.id)
                    },
                    interval,
                    summary: summary(booking),
                    description: None,
                    location: None,
                    tentative: booking.status == BookingStatus::Requested,
                })
        })
        .collect();
    events.sort_by_key(|event| event.interval);
    events
}

fn utc_stamp(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 TEXT escaping: backslash, semicolon, comma and newlines.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no physical line exceeds 75 octets, ending in CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut budget = 75;
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > budget {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            budget = 74;
            used = 0;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}
