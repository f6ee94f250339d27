//! When staff members and resources can take bookings.
//!
//! Working time comes from the published roster (already UTC intervals) or, where a site does
//! not roster a role, from weekly working hours in the site's local time. From it are removed
//! day exceptions, recurring breaks and blocked time (leave, meetings, maintenance). Typed blocks
//! and the emergency reserve *hold* time: it stays working time but only bookings with the right
//! [`Access`] may use it.
//!
//! # Daylight-saving policy
//!
//! Local wall-clock times are turned into instants by [`resolve_local`]:
//! - a time that does not exist (the spring-forward gap, 02:30 in Madrid on 2026-03-29) resolves to
//!   the first instant after the gap, i.e. when the clock jumps to 03:00. A range lying wholly in
//!   the gap becomes empty and disappears;
//! - a time that exists twice (the autumn overlap, 02:30 in Madrid on 2026-10-25) resolves to the
//!   earlier instant, the first time the clock shows it.
//!
//! So "09:00–17:00 every Monday" is 09:00–17:00 on the wall clock every week, whatever the offset.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tend_core::SiteTimeZone;

use crate::catalogue::WorkKind;
use crate::interval::{IntervalSet, TimeInterval};

/// Longest date range one computation may cover (a year and a bit).
pub const MAX_DATE_RANGE_DAYS: i64 = 400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilityError {
    #[error("a local time range must not start and end at the same time ({0})")]
    EmptyTimeRange(NaiveTime),
    #[error("the date range {first}..={last} is reversed")]
    ReversedDateRange { first: NaiveDate, last: NaiveDate },
    #[error("the date range {first}..={last} is longer than {max} days", max = MAX_DATE_RANGE_DAYS)]
    DateRangeTooLong { first: NaiveDate, last: NaiveDate },
}

impl AvailabilityError {
    pub fn code(&self) -> &'static str {
        match self {
            AvailabilityError::EmptyTimeRange(_) => "appointments.availability.empty_time_range",
            AvailabilityError::ReversedDateRange { .. } => {
                "appointments.availability.reversed_date_range"
            }
            AvailabilityError::DateRangeTooLong { .. } => {
                "appointments.availability.date_range_too_long"
            }
        }
    }
}

/// Turns a site-local wall-clock time into an instant, by the policy in the module docs.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap. Transitions happen on minute boundaries, so the first wall-clock minute
            // that exists again is the instant the clock jumped to. Gaps are at most a day long
            // (Samoa skipped 2011-12-30), so the search ends.
            let mut probe = local
                .date()
                .and_hms_opt(local.hour(), local.minute(), 0)
                .unwrap_or(local);
            for _ in 0..(26 * 60) {
                probe += Duration::minutes(1);
                if let Some(instant) = tz.from_local_datetime(&probe).earliest() {
                    return instant.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

/// The instants of one local day in the site's time zone: `[local midnight, next local midnight)`.
/// `None` for a date the zone skipped entirely.
pub fn local_day(tz: Tz, date: NaiveDate) -> Option<TimeInterval> {
    let start = resolve_local(tz, date.and_time(NaiveTime::MIN));
    let end = resolve_local(tz, date.succ_opt()?.and_time(NaiveTime::MIN));
    TimeInterval::new(start, end).ok()
}

/// A range of local calendar dates, both ends included, at most [`MAX_DATE_RANGE_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct LocalDateRange {
    first: NaiveDate,
    last: NaiveDate,
}

#[derive(Deserialize)]
struct RawDateRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl TryFrom<RawDateRange> for LocalDateRange {
    type Error = AvailabilityError;
    fn try_from(raw: RawDateRange) -> Result<Self, Self::Error> {
        LocalDateRange::new(raw.first, raw.last)
    }
}

impl LocalDateRange {
    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<LocalDateRange, AvailabilityError> {
        if last < first {
            return Err(AvailabilityError::ReversedDateRange { first, last });
        }
        if (last - first).num_days() >= MAX_DATE_RANGE_DAYS {
            return Err(AvailabilityError::DateRangeTooLong { first, last });
        }
        Ok(LocalDateRange { first, last })
    }

    pub fn single(date: NaiveDate) -> LocalDateRange {
        LocalDateRange {
            first: date,
            last: date,
        }
    }

    pub fn first(&self) -> NaiveDate {
        self.first
    }

    pub fn last(&self) -> NaiveDate {
        self.last
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let last = self.last;
        self.first.iter_days().take_while(move |day| *day <= last)
    }

    /// The range with a day more on each side: availability for a search over `self` should
    /// cover this, so buffers and overnight ranges at the edges are seen.
    pub fn widened_by_a_day(&self) -> LocalDateRange {
        LocalDateRange {
            first: self.first.pred_opt().unwrap_or(self.first),
            last: self.last.succ_opt().unwrap_or(self.last),
        }
    }

    /// The instants from the first day's local midnight to the midnight after the last day.
    /// `None` only for a single date the zone skipped entirely.
    pub fn utc_window(&self, tz: Tz) -> Option<TimeInterval> {
        let start = resolve_local(tz, self.first.and_time(NaiveTime::MIN));
        let end = resolve_local(tz, self.last.succ_opt()?.and_time(NaiveTime::MIN));
        TimeInterval::new(start, end).ok()
    }
}

/// A range of wall-clock time in a day. If `end` is not after `start` the range runs past
/// midnight into the next day (a night shift 22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTimeRange")]
pub struct LocalTimeRange {
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Deserialize)]
struct RawTimeRange {
    start: NaiveTime,
    end: NaiveTime,
}

impl TryFrom<RawTimeRange> for LocalTimeRange {
    type Error = AvailabilityError;
    fn try_from(raw: RawTimeRange) -> Result<Self, Self::Error> {
        LocalTimeRange::new(raw.start, raw.end)
    }
}

impl LocalTimeRange {
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<LocalTimeRange, AvailabilityError> {
        if start == end {
            Err(AvailabilityError::EmptyTimeRange(start))
        } else {
            Ok(LocalTimeRange { start, end })
        }
    }

    /// Convenience for whole hours and minutes, e.g. `hm(9, 0, 17, 30)`.
    pub fn hm(
        start_hour: u32,
        start_minute: u32,
        end_hour: u32,
        end_minute: u32,
    ) -> Result<LocalTimeRange, AvailabilityError> {
        let start = NaiveTime::from_hms_opt(start_hour, start_minute, 0).unwrap_or(NaiveTime::MIN);
        let end = NaiveTime::from_hms_opt(end_hour, end_minute, 0).unwrap_or(NaiveTime::MIN);
        LocalTimeRange::new(start, end)
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// The instants this range covers on `date` (starting on `date`), `None` if it falls wholly
    /// into a daylight-saving gap.
    pub fn on(&self, tz: Tz, date: NaiveDate) -> Option<TimeInterval> {
        let end_date = if self.end > self.start {
            date
        } else {
            date.succ_opt()?
        };
        TimeInterval::new(
            resolve_local(tz, date.and_time(self.start)),
            resolve_local(tz, end_date.and_time(self.end)),
        )
        .ok()
    }
}

/// Ranges of wall-clock time per weekday.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    /// Indexed by days from Monday (0 = Monday … 6 = Sunday).
    days: [Vec<LocalTimeRange>; 7],
}

impl WeeklyHours {
    pub fn new() -> WeeklyHours {
        WeeklyHours::default()
    }

    pub fn add(&mut self, weekday: Weekday, range: LocalTimeRange) -> &mut WeeklyHours {
        self.days[weekday.num_days_from_monday() as usize].push(range);
        self
    }

    /// The same ranges on several weekdays.
    pub fn with(mut self, weekdays: &[Weekday], range: LocalTimeRange) -> WeeklyHours {
        for weekday in weekdays {
            self.add(*weekday, range);
        }
        self
    }

    pub fn ranges_on(&self, weekday: Weekday) -> &[LocalTimeRange] {
        &self.days[weekday.num_days_from_monday() as usize]
    }

    /// The instants covered on the days of `dates` (ranges are taken by the day they start on).
    pub fn to_intervals(&self, tz: Tz, dates: LocalDateRange) -> IntervalSet {
        dates
            .days()
            .flat_map(|date| {
                self.ranges_on(date.weekday())
                    .iter()
                    .filter_map(move |range| range.on(tz, date))
            })
            .collect()
    }
}

/// Where a staff member's (or a resource's) working time comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "time")]
pub enum WorkingTime {
    /// Shifts of the published roster, as UTC intervals.
    Rostered(IntervalSet),
    /// Weekly hours, where the site does not roster this role (and for resources' opening hours).
    Weekly(WeeklyHours),
}

/// A change to one local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DayException {
    /// No working time at all on this date (holiday, sick day, resource out of service).
    Closed { date: NaiveDate },
    /// These hours instead of the usual ones on this date (weekly hours only; a roster already
    /// says what happens on each date).
    Hours {
        date: NaiveDate,
        ranges: Vec<LocalTimeRange>,
    },
}

impl DayException {
    pub fn date(&self) -> NaiveDate {
        match self {
            DayException::Closed { date } | DayException::Hours { date, .. } => *date,
        }
    }
}

/// Who may use held time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "work_kind")]
pub enum HoldPurpose {
    /// Only services of this kind of work.
    Work(WorkKind),
    /// Only urgent bookings (emergency capacity).
    Emergency,
}

/// Working time held back for a purpose (a typed block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldTime {
    pub interval: TimeInterval,
    pub purpose: HoldPurpose,
}

/// Emergency capacity held back every day: windows of local time only urgent bookings may use,
/// released to everyone `release_before` their start (say 2 hours) if still unused, so an
/// unneeded reserve does not go to waste.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyReserve {
    pub windows: WeeklyHours,
    #[serde(default, with = "optional_minutes")]
    pub release_before: Option<Duration>,
}

/// How pressing a booking is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Urgent,
}

/// What a booking may use besides ordinary working time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    pub urgency: Urgency,
    pub work_kind: Option<WorkKind>,
}

impl Access {
    /// The access of a service's ordinary bookings: its work kind, urgent if it is urgent.
    pub fn for_service(service: &crate::catalogue::Service) -> Access {
        Access {
            urgency: if service.is_urgent() {
                Urgency::Urgent
            } else {
                Urgency::Routine
            },
            work_kind: service.work_kind().cloned(),
        }
    }

    pub fn may_use(&self, purpose: &HoldPurpose) -> bool {
        match purpose {
            HoldPurpose::Emergency => self.urgency == Urgency::Urgent,
            HoldPurpose::Work(kind) => self.work_kind.as_ref() == Some(kind),
        }
    }
}

/// Everything that decides when one staff member or resource can be booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub working_time: WorkingTime,
    #[serde(default)]
    pub day_exceptions: Vec<DayException>,
    /// Recurring breaks (lunch), in local time.
    #[serde(default)]
    pub breaks: WeeklyHours,
    /// One-off blocked time: leave, meetings, maintenance.
    #[serde(default)]
    pub blocked: Vec<TimeInterval>,
    /// Typed blocks holding time for a kind of work or for emergencies.
    #[serde(default)]
    pub held: Vec<HeldTime>,
    #[serde(default)]
    pub emergency_reserve: Option<EmergencyReserve>,
}

impl Availability {
    pub fn new(working_time: WorkingTime) -> Availability {
        Availability {
            working_time,
            day_exceptions: Vec::new(),
            breaks: WeeklyHours::new(),
            blocked: Vec::new(),
            held: Vec::new(),
            emergency_reserve: None,
        }
    }

    /// Working time on `dates`, less exceptions, breaks and blocked time; held time included.
    pub fn working_intervals(&self, tz: &SiteTimeZone, dates: LocalDateRange) -> IntervalSet {
        let tz = tz.tz();
        let Some(window) = dates.utc_window(tz) else {
            return IntervalSet::empty();
        };
        // Ranges may start the day before (night shifts) so look one day further back.
        let look = LocalDateRange {
            first: dates.first.pred_opt().unwrap_or(dates.first),
            last: dates.last,
        };
        let mut working = match &self.working_time {
            WorkingTime::Rostered(shifts) => shifts.clip(&window),
            WorkingTime::Weekly(hours) => {
                let mut set = IntervalSet::empty();
                for date in look.days() {
                    let ranges: Vec<LocalTimeRange> =
                        match self.day_exceptions.iter().rev().find(|e| e.date() == date) {
                            Some(DayException::Hours { ranges, .. }) => ranges.clone(),
                            Some(DayException::Closed { .. }) => Vec::new(),
                            None => hours.ranges_on(date.weekday()).to_vec(),
                        };
                    for range in ranges {
                        if let Some(interval) = range.on(tz, date) {
                            set.insert(interval);
                        }
                    }
                }
                set.clip(&window)
            }
        };
        for exception in &self.day_exceptions {
            if let DayException::Closed { date } = exception {
                if let Some(day) = local_day(tz, *date) {
                    working = working.subtract_interval(&day);
                }
            }
        }
        let breaks = self.breaks.to_intervals(tz, look);
        let blocked: IntervalSet = self.blocked.iter().copied().collect();
        working.subtract(&breaks).subtract(&blocked)
    }

    /// The time a booking with `access` may use on `dates`, seen at `now`: working time less the
    /// held time it may not use. Existing bookings are not known here; subtract them after.
    pub fn free_for(
        &self,
        tz: &SiteTimeZone,
        dates: LocalDateRange,
        access: &Access,
        now: DateTime<Utc>,
    ) -> IntervalSet {
        let working = self.working_intervals(tz, dates);
        let mut closed_to_access: IntervalSet = self
            .held
            .iter()
            .filter(|held| !access.may_use(&held.purpose))
            .map(|held| held.interval)
            .collect();
        if let (Some(reserve), false) = (
            &self.emergency_reserve,
            access.may_use(&HoldPurpose::Emergency),
        ) {
            let look = LocalDateRange {
                first: dates.first.pred_opt().unwrap_or(dates.first),
                last: dates.last,
            };
            for window in reserve.windows.to_intervals(tz.tz(), look).iter() {
                let released = reserve
                    .release_before
                    .is_some_and(|lead| now >= window.start() - lead);
                if !released {
                    closed_to_access.insert(*window);
                }
            }
        }
        working.subtract(&closed_to_access)
    }
}

mod optional_minutes {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => s.serialize_some(&duration.num_minutes()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u32>::deserialize(d)?.map(|minutes| Duration::minutes(minutes.into())))
    }
}
