//! Behaviour of the appointments domain through its public API.
// Helpers outside #[test] functions unwrap fixed, known-good test data.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Europe::Madrid;
use tend_appointments::*;
use tend_core::{Role, SiteId, SiteTimeZone, StaffId};

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];
const EVERY_DAY: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn madrid() -> SiteTimeZone {
    SiteTimeZone::parse("Europe/Madrid").unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A Madrid wall-clock time as an instant.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Madrid
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn dates(first: NaiveDate, last: NaiveDate) -> LocalDateRange {
    LocalDateRange::new(first, last).unwrap()
}

fn service(minutes: u32, staff: Vec<StaffRequirementDraft>) -> Service {
    Service::new(ServiceDraft {
        id: ServiceId::new(),
        site_id: SiteId::new(),
        name: "Consultation".into(),
        description: String::new(),
        price: Price {
            minor_units: 5000,
            currency: "EUR".into(),
        },
        duration_minutes: minutes,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        staff_requirements: staff,
        resource_requirements: vec![],
        min_notice_minutes: 0,
        booking_horizon_days: 365,
        work_kind: None,
        urgent: false,
    })
    .unwrap()
}

fn role(role: Role, count: u8) -> StaffRequirementDraft {
    StaffRequirementDraft {
        qualification: Qualification::Role(role),
        count,
        part: None,
    }
}

fn weekly(days: &[Weekday], from: u32, to: u32) -> Availability {
    Availability::new(WorkingTime::Weekly(
        WeeklyHours::new().with(days, LocalTimeRange::hm(from, 0, to, 0).unwrap()),
    ))
}

fn staff(roles: &[Role], free: IntervalSet) -> StaffCandidate {
    StaffCandidate {
        staff_id: StaffId::new(),
        roles: roles.iter().copied().collect(),
        skills: BTreeSet::new(),
        free,
    }
}

fn query(service: Service, range: LocalDateRange, now: DateTime<Utc>) -> SlotQuery {
    SlotQuery {
        service,
        dates: range,
        staff_preference: StaffPreference::Anyone,
        step_minutes: 15,
        now,
        limit: None,
    }
}

fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> TimeInterval {
    TimeInterval::new(start, end).unwrap()
}

// ---------------------------------------------------------------- availability and DST

#[test]
fn weekly_hours_keep_their_wall_clock_times_across_both_daylight_saving_changes() {
    let hours = weekly(&EVERY_DAY, 9, 17);
    for (day, offset_hours_before, offset_hours_after) in [((3, 28), 1, 2), ((10, 24), 2, 1)] {
        let first = date(2026, day.0, day.1);
        let free = hours.working_intervals(&madrid(), dates(first, first.succ_opt().unwrap()));
        assert_eq!(free.len(), 2);
        let [before, after] = [free.as_slice()[0], free.as_slice()[1]];
        assert_eq!(before.start().hour(), 9 - offset_hours_before);
        assert_eq!(after.start().hour(), 9 - offset_hours_after);
        assert_eq!(before.duration(), Duration::hours(8));
        assert_eq!(after.duration(), Duration::hours(8));
    }
}

#[test]
fn local_times_in_the_gap_move_to_its_end_and_repeated_times_take_the_first_instant() {
    let gap = date(2026, 3, 29).and_hms_opt(2, 30, 0).unwrap();
    assert_eq!(
        resolve_local(Madrid, gap),
        Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()
    );
    let overlap = date(2026, 10, 25).and_hms_opt(2, 30, 0).unwrap();
    assert_eq!(
        resolve_local(Madrid, overlap),
        Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
    );
    // The spring-forward day is 23 hours long, the fall-back day 25.
    assert_eq!(
        local_day(Madrid, date(2026, 3, 29)).unwrap().duration(),
        Duration::hours(23)
    );
    assert_eq!(
        local_day(Madrid, date(2026, 10, 25)).unwrap().duration(),
        Duration::hours(25)
    );
    // A night range lying wholly in the gap disappears instead of shifting.
    let in_gap = LocalTimeRange::hm(2, 0, 2, 45).unwrap();
    assert_eq!(in_gap.on(Madrid, date(2026, 3, 29)), None);
}

#[test]
fn exceptions_breaks_and_blocked_time_are_taken_out() {
    let mut availability = weekly(&WEEKDAYS, 9, 17);
    availability.breaks =
        WeeklyHours::new().with(&WEEKDAYS, LocalTimeRange::hm(13, 0, 14, 0).unwrap());
    availability.day_exceptions = vec![
        DayException::Closed {
            date: date(2026, 5, 5),
        },
        DayException::Hours {
            date: date(2026, 5, 6),
            ranges: vec![LocalTimeRange::hm(10, 0, 12, 0).unwrap()],
        },
    ];
    availability.blocked = vec![span(local(2026, 5, 4, 9, 0), local(2026, 5, 4, 10, 0))];
    let free = availability.working_intervals(&madrid(), dates(date(2026, 5, 4), date(2026, 5, 6)));
    let expected: IntervalSet = [
        span(local(2026, 5, 4, 10, 0), local(2026, 5, 4, 13, 0)),
        span(local(2026, 5, 4, 14, 0), local(2026, 5, 4, 17, 0)),
        span(local(2026, 5, 6, 10, 0), local(2026, 5, 6, 12, 0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(free, expected);
}

#[test]
fn held_time_and_the_emergency_reserve_are_open_only_to_the_right_bookings() {
    let mut availability = weekly(&WEEKDAYS, 9, 17);
    let hygiene = WorkKind::parse("hygiene").unwrap();
    availability.held = vec![HeldTime {
        interval: span(local(2026, 5, 4, 9, 0), local(2026, 5, 4, 10, 0)),
        purpose: HoldPurpose::Work(hygiene.clone()),
    }];
    availability.emergency_reserve = Some(EmergencyReserve {
        windows: WeeklyHours::new().with(&WEEKDAYS, LocalTimeRange::hm(16, 0, 17, 0).unwrap()),
        release_before: Some(Duration::hours(2)),
    });
    let day = dates(date(2026, 5, 4), date(2026, 5, 4));
    let early = local(2026, 5, 1, 8, 0);
    let routine = Access {
        urgency: Urgency::Routine,
        work_kind: None,
    };
    let urgent = Access {
        urgency: Urgency::Urgent,
        work_kind: None,
    };
    let hygienist = Access {
        urgency: Urgency::Routine,
        work_kind: Some(hygiene),
    };
    let total = |access: &Access, now| {
        availability
            .free_for(&madrid(), day, access, now)
            .total_duration()
    };
    assert_eq!(total(&routine, early), Duration::hours(6));
    assert_eq!(total(&urgent, early), Duration::hours(7));
    assert_eq!(total(&hygienist, early), Duration::hours(7));
    // Two hours before the reserve starts, unused emergency time is released to everyone.
    assert_eq!(
        total(&routine, local(2026, 5, 4, 14, 0)),
        Duration::hours(7)
    );
}

// ---------------------------------------------------------------- slot search

#[test]
fn a_week_spanning_spring_forward_has_the_same_wall_clock_slots_every_day() {
    let range = dates(date(2026, 3, 26), date(2026, 4, 1));
    let hours = weekly(&EVERY_DAY, 9, 12);
    let free = hours.working_intervals(&madrid(), range.widened_by_a_day());
    let calendar = Calendar {
        time_zone: madrid(),
        staff: vec![staff(&[Role::Expert], free)],
        resources: vec![],
        client_busy: IntervalSet::empty(),
    };
    let now = local(2026, 3, 1, 8, 0);
    let slots = find_slots(
        &query(service(30, vec![role(Role::Expert, 1)]), range, now),
        &calendar,
    )
    .unwrap();
    // 09:00 to 11:30 every 15 minutes: 11 starts a day, 7 days.
    assert_eq!(slots.len(), 77);
    let starts: BTreeSet<_> = slots.iter().map(|slot| slot.start()).collect();
    assert_eq!(starts.len(), slots.len(), "no slot twice");
    for slot in &slots {
        let wall = slot.local_start.time();
        assert!(
            wall.hour() >= 9 && (wall.hour(), wall.minute()) <= (11, 30),
            "{wall}"
        );
        assert_eq!(wall.minute() % 15, 0);
        assert_eq!(slot.visit.duration(), Duration::minutes(30));
    }
    let first_after = slots
        .iter()
        .find(|slot| slot.local_start.date_naive() == date(2026, 3, 29))
        .unwrap();
    assert_eq!(
        first_after.start(),
        Utc.with_ymd_and_hms(2026, 3, 29, 7, 0, 0).unwrap()
    );
}

#[test]
fn a_week_spanning_fall_back_has_no_shifted_or_duplicated_slots() {
    let range = dates(date(2026, 10, 22), date(2026, 10, 28));
    let free = weekly(&EVERY_DAY, 9, 12).working_intervals(&madrid(), range.widened_by_a_day());
    let calendar = Calendar {
        time_zone: madrid(),
        staff: vec![staff(&[Role::Expert], free)],
        resources: vec![],
        client_busy: IntervalSet::empty(),
    };
    let now = local(2026, 10, 1, 8, 0);
    let slots = find_slots(
        &query(service(60, vec![role(Role::Expert, 1)]), range, now),
        &calendar,
    )
    .unwrap();
    assert_eq!(slots.len(), 7 * 9);
    for day in range.days() {
        let walls: Vec<_> = slots
            .iter()
            .filter(|slot| slot.local_start.date_naive() == day)
            .map(|slot| slot.local_start.format("%H:%M").to_string())
            .collect();
        assert_eq!(walls.first().map(String::as_str), Some("09:00"), "{day}");
        assert_eq!(walls.last().map(String::as_str), Some("11:00"), "{day}");
        assert_eq!(walls.len(), 9, "{day}");
    }
}

#[test]
fn the_grid_skips_the_gap_and_keeps_both_instants_of_the_overlap() {
    let spring = grid_starts(&madrid(), LocalDateRange::single(date(2026, 3, 29)), 30);
    assert_eq!(spring.len(), 46); // 23 hours
    let autumn = grid_starts(&madrid(), LocalDateRange::single(date(2026, 10, 25)), 30);
    assert_eq!(autumn.len(), 50); // 25 hours
    assert!(autumn
        .windows(2)
        .all(|pair| pair[1] - pair[0] == Duration::minutes(30)));
}

#[test]
fn minimum_notice_horizon_buffers_and_the_clients_own_visits_are_respected() {
    let day = date(2026, 5, 4);
    let mut draft = service(30, vec![role(Role::Expert, 1)]).draft().clone();
    draft.buffer_before_minutes = 10;
    draft.buffer_after_minutes = 15;
    draft.min_notice_minutes = 120;
    let consultation = Service::new(draft).unwrap();
    let free = weekly(&WEEKDAYS, 9, 12).working_intervals(&madrid(), LocalDateRange::single(day));
    let mut calendar = Calendar {
        time_zone: madrid(),
        staff: vec![staff(&[Role::Expert], free)],
        resources: vec![],
        client_busy: span(local(2026, 5, 4, 11, 0), local(2026, 5, 4, 11, 30)).into_set(),
    };
    let now = local(2026, 5, 4, 7, 30);
    let slots = find_slots(
        &query(consultation.clone(), LocalDateRange::single(day), now),
        &calendar,
    )
    .unwrap();
    let walls: Vec<_> = slots
        .iter()
        .map(|s| s.local_start.format("%H:%M").to_string())
        .collect();
    // Buffers: first start 09:15 (10 minutes before) and last end 11:45 (15 after, before 12:00).
    // Notice: not before 09:30. Client busy 11:00-11:30.
    assert_eq!(walls, ["09:30", "09:45", "10:00", "10:15", "10:30"]);
    assert_eq!(
        slots[0].staff[0].occupied,
        span(local(2026, 5, 4, 9, 20), local(2026, 5, 4, 10, 15))
    );

    let q = query(consultation, LocalDateRange::single(day), now);
    let refused = |calendar: &Calendar, start| {
        check_start(&q, calendar, start)
            .map(|_| ())
            .map_err(|e| e.code())
    };
    assert_eq!(
        refused(&calendar, local(2026, 5, 4, 7, 0)),
        Err("appointments.slot.start_in_past")
    );
    assert_eq!(
        refused(&calendar, local(2026, 5, 4, 9, 0)),
        Err("appointments.slot.not_enough_notice")
    );
    assert_eq!(
        refused(&calendar, local(2027, 6, 1, 9, 0)),
        Err("appointments.slot.beyond_horizon")
    );
    assert_eq!(
        refused(&calendar, local(2026, 5, 4, 11, 0)),
        Err("appointments.slot.client_busy")
    );
    assert_eq!(
        refused(&calendar, local(2026, 5, 4, 9, 31)),
        Err("appointments.slot.misaligned_start")
    );
    calendar.client_busy = IntervalSet::empty();
    assert_eq!(
        refused(&calendar, local(2026, 5, 4, 11, 30)),
        Err("appointments.slot.no_qualified_staff_free")
    );
    assert_eq!(refused(&calendar, local(2026, 5, 4, 10, 5)), Ok(()));
}

trait IntoSet {
    fn into_set(self) -> IntervalSet;
}

impl IntoSet for TimeInterval {
    fn into_set(self) -> IntervalSet {
        IntervalSet::single(self)
    }
}

/// Store manager, consultant, expert and operator together for 90 minutes in a consultation
/// room: only times when four distinct qualified people and a room are free.
#[test]
fn a_joint_four_role_appointment_needs_four_distinct_people_and_a_room() {
    let day = date(2026, 5, 4);
    let at = |h, m| local(2026, 5, 4, h, m);
    let free = |pieces: &[(u32, u32, u32, u32)]| -> IntervalSet {
        pieces
            .iter()
            .map(|&(h1, m1, h2, m2)| span(at(h1, m1), at(h2, m2)))
            .collect()
    };
    // Anna is both store manager and consultant: she cannot fill both places.
    let anna = staff(
        &[Role::StoreManager, Role::Consultant],
        free(&[(9, 0, 17, 0)]),
    );
    let bruno = staff(&[Role::Consultant], free(&[(11, 0, 17, 0)]));
    let carla = staff(&[Role::Expert], free(&[(9, 0, 15, 0)]));
    let dario = staff(&[Role::Operator], free(&[(9, 0, 13, 0), (14, 0, 17, 0)]));
    let room_free = free(&[(9, 0, 12, 0), (14, 30, 17, 0)]);
    let mut draft = service(
        90,
        vec![
            role(Role::StoreManager, 1),
            role(Role::Consultant, 1),
            role(Role::Expert, 1),
            role(Role::Operator, 1),
        ],
    )
    .draft()
    .clone();
    draft.resource_requirements = vec![ResourceRequirement {
        kind: ResourceKind::Room,
        tags: [ResourceTag::parse("consultation").unwrap()]
            .into_iter()
            .collect(),
        count: 1,
    }];
    let joint = Service::new(draft).unwrap();
    let room = ResourceCandidate {
        resource_id: ResourceId::new(),
        kind: ResourceKind::Room,
        tags: [ResourceTag::parse("consultation").unwrap()]
            .into_iter()
            .collect(),
        free: room_free.clone(),
    };
    let plain_room = ResourceCandidate {
        resource_id: ResourceId::new(),
        kind: ResourceKind::Room,
        tags: BTreeSet::new(),
        free: free(&[(9, 0, 17, 0)]),
    };
    let people = [anna.clone(), bruno.clone(), carla.clone(), dario.clone()];
    let calendar = Calendar {
        time_zone: madrid(),
        staff: people.to_vec(),
        resources: vec![plain_room, room.clone()],
        client_busy: IntervalSet::empty(),
    };
    let now = local(2026, 5, 1, 8, 0);
    let slots = find_slots(
        &query(joint.clone(), LocalDateRange::single(day), now),
        &calendar,
    )
    .unwrap();
    let walls: Vec<_> = slots
        .iter()
        .map(|s| s.local_start.format("%H:%M").to_string())
        .collect();
    // Bruno from 11:00, room until 12:00 -> none in the morning (11:00+1:30 > 12:00).
    // Afternoon: room from 14:30, Carla until 15:00 -> none. So nothing: widen Carla and see.
    assert!(walls.is_empty(), "{walls:?}");

    let mut calendar = calendar;
    calendar.staff[2].free = free(&[(9, 0, 17, 0)]);
    let slots = find_slots(&query(joint, LocalDateRange::single(day), now), &calendar).unwrap();
    let walls: Vec<_> = slots
        .iter()
        .map(|s| s.local_start.format("%H:%M").to_string())
        .collect();
    assert_eq!(walls, ["14:30", "14:45", "15:00", "15:15", "15:30"]);
    // Brute-force check of every slot: distinct, qualified, free people; the tagged room.
    for slot in &slots {
        let ids: BTreeSet<_> = slot.staff_ids().collect();
        assert_eq!(ids.len(), 4);
        assert!(ids.contains(&anna.staff_id) && ids.contains(&bruno.staff_id));
        let manager = slot
            .staff
            .iter()
            .find(|a| a.requirement_index == 0)
            .unwrap();
        assert_eq!(
            manager.staff_id, anna.staff_id,
            "Anna must be the manager, Bruno the consultant"
        );
        for assignment in &slot.staff {
            let person = calendar
                .staff
                .iter()
                .find(|p| p.staff_id == assignment.staff_id)
                .unwrap();
            assert!(person.free.contains(&assignment.occupied));
        }
        assert_eq!(slot.resources.len(), 1);
        assert_eq!(slot.resources[0].resource_id, room.resource_id);
    }
}

#[test]
fn preferred_staff_are_assigned_first_and_required_staff_always() {
    let day = date(2026, 5, 4);
    let free = weekly(&WEEKDAYS, 9, 10).working_intervals(&madrid(), LocalDateRange::single(day));
    let first = staff(&[Role::Expert], free.clone());
    let second = staff(&[Role::Expert], free);
    let calendar = Calendar {
        time_zone: madrid(),
        staff: vec![first.clone(), second.clone()],
        resources: vec![],
        client_busy: IntervalSet::empty(),
    };
    let now = local(2026, 5, 1, 8, 0);
    let mut q = query(
        service(30, vec![role(Role::Expert, 1)]),
        LocalDateRange::single(day),
        now,
    );
    q.staff_preference = StaffPreference::Prefer(vec![second.staff_id]);
    let slots = find_slots(&q, &calendar).unwrap();
    assert!(slots
        .iter()
        .all(|slot| slot.staff[0].staff_id == second.staff_id));

    q.staff_preference = StaffPreference::Required(vec![StaffId::new()]);
    assert_eq!(
        find_slots(&q, &calendar).map_err(|e| e.code()),
        Err("appointments.unknown_staff")
    );
    q.step_minutes = 7;
    assert_eq!(
        find_slots(&q, &calendar).map_err(|e| e.code()),
        Err("appointments.search.invalid_step")
    );
}

// ---------------------------------------------------------------- bookings, series, quanta

fn one_expert_calendar(range: LocalDateRange, from: u32, to: u32) -> (Calendar, StaffId) {
    let free = weekly(&EVERY_DAY, from, to).working_intervals(&madrid(), range.widened_by_a_day());
    let person = staff(&[Role::Expert], free);
    let id = person.staff_id;
    (
        Calendar {
            time_zone: madrid(),
            staff: vec![person],
            resources: vec![],
            client_busy: IntervalSet::empty(),
        },
        id,
    )
}

#[test]
fn a_weekly_series_keeps_ten_oclock_local_across_the_spring_change() {
    let range = dates(date(2026, 3, 16), date(2026, 4, 30));
    let (calendar, _) = one_expert_calendar(range, 9, 17);
    let treatment = service(45, vec![role(Role::Expert, 1)]);
    let q = query(treatment, range, local(2026, 3, 1, 8, 0));
    let first = date(2026, 3, 17).and_hms_opt(10, 0, 0).unwrap();
    let series = Recurrence::weekly(first, 1, 6).unwrap();
    let outcomes = check_series(&q, &calendar, &series);
    assert_eq!(outcomes.len(), 6);
    for occurrence in &outcomes {
        let slot = occurrence.outcome.as_ref().unwrap();
        assert_eq!(slot.local_start.format("%H:%M").to_string(), "10:00");
    }
    // 10:00 is 09:00 UTC before the change and 08:00 UTC after it.
    assert_eq!(outcomes[1].start.hour(), 9);
    assert_eq!(outcomes[2].start.hour(), 8);
    assert_eq!(
        Recurrence::weekly(first, 0, 6).map_err(|e| e.code()),
        Err("appointments.booking.invalid_recurrence")
    );
}

#[test]
fn a_series_reports_each_refused_occurrence() {
    let range = dates(date(2026, 5, 1), date(2026, 5, 31));
    let (mut calendar, expert) = one_expert_calendar(range, 9, 17);
    // The expert is on leave the second week.
    calendar.staff[0].free = calendar.staff[0]
        .free
        .subtract_interval(&span(local(2026, 5, 11, 0, 0), local(2026, 5, 16, 0, 0)));
    let q = query(
        service(60, vec![role(Role::Expert, 1)]),
        range,
        local(2026, 4, 1, 8, 0),
    );
    let series = Recurrence::weekly(date(2026, 5, 4).and_hms_opt(11, 0, 0).unwrap(), 1, 3).unwrap();
    let codes: Vec<_> = check_series(&q, &calendar, &series)
        .into_iter()
        .map(|o| {
            o.outcome
                .map(|slot| slot.staff[0].staff_id)
                .map_err(|e| e.code())
        })
        .collect();
    assert_eq!(
        codes,
        [
            Ok(expert),
            Err("appointments.slot.no_qualified_staff_free"),
            Ok(expert)
        ]
    );
}

fn book(service: &Service, slot: &Slot) -> Booking {
    Booking::from_slot(
        BookingId::new(),
        service,
        tend_core::ClientId::new(),
        slot,
        Urgency::Routine,
        None,
    )
}

#[test]
fn overlapping_bookings_share_a_quantum_and_back_to_back_ones_do_not() {
    let day = LocalDateRange::single(date(2026, 5, 4));
    let (calendar, expert) = one_expert_calendar(day, 9, 17);
    let mut draft = service(30, vec![role(Role::Expert, 1)]).draft().clone();
    draft.buffer_after_minutes = 10;
    let cleaning = Service::new(draft).unwrap();
    let q = query(cleaning.clone(), day, local(2026, 5, 1, 8, 0));
    let slot_at = |h, m| check_start(&q, &calendar, local(2026, 5, 4, h, m)).unwrap();
    let first = book(&cleaning, &slot_at(9, 0));
    let overlapping = book(&cleaning, &slot_at(9, 35)); // inside the first's clean-up buffer
    let back_to_back = book(&cleaning, &slot_at(9, 40));
    let staff_quanta = |booking: &Booking| -> BTreeSet<i64> {
        occupied_quanta(booking)
            .into_iter()
            .filter(|row| row.occupant == Occupant::Staff(expert))
            .map(|row| row.quantum)
            .collect()
    };
    assert_eq!(staff_quanta(&first).len(), 8); // 30 minutes + 10 buffer
    assert!(!staff_quanta(&first).is_disjoint(&staff_quanta(&overlapping)));
    assert!(staff_quanta(&first).is_disjoint(&staff_quanta(&back_to_back)));
    // The client is busy for the visit only.
    let client_rows = occupied_quanta(&first)
        .into_iter()
        .filter(|row| row.occupant.kind() == "client")
        .count();
    assert_eq!(client_rows, 6);

    // A cancelled booking holds nothing; busy time feeds the next search.
    let mut cancelled = first.clone();
    cancelled
        .apply(
            BookingAction::Cancel,
            local(2026, 5, 1, 8, 0),
            &CancellationPolicy::default(),
        )
        .unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert!(occupied_quanta(&cancelled).is_empty());
    let busy = busy_time([&first]);
    let mut after = calendar.clone();
    after.staff[0].free = after.staff[0]
        .free
        .subtract(&busy[&Occupant::Staff(expert)]);
    assert_eq!(
        check_start(&q, &after, local(2026, 5, 4, 9, 35)).map_err(|e| e.code()),
        Err("appointments.slot.no_qualified_staff_free")
    );
    assert!(check_start(&q, &after, local(2026, 5, 4, 9, 40)).is_ok());
}

#[test]
fn rescheduling_moves_upcoming_bookings_only_and_no_shows_are_counted() {
    let day = LocalDateRange::single(date(2026, 5, 4));
    let (calendar, _) = one_expert_calendar(day, 9, 17);
    let visit = service(30, vec![role(Role::Expert, 1)]);
    let q = query(visit.clone(), day, local(2026, 5, 1, 8, 0));
    let slot_at = |h| check_start(&q, &calendar, local(2026, 5, 4, h, 0)).unwrap();
    let mut booking = book(&visit, &slot_at(9));
    booking.reschedule(&visit, &slot_at(11)).unwrap();
    assert_eq!(booking.start(), local(2026, 5, 4, 11, 0));
    let policy = CancellationPolicy::default();
    booking
        .apply(
            BookingAction::MarkNoShow,
            local(2026, 5, 4, 11, 20),
            &policy,
        )
        .unwrap();
    assert_eq!(
        booking
            .reschedule(&visit, &slot_at(12))
            .map_err(|e| e.code()),
        Err("appointments.booking.not_reschedulable")
    );
    let mut second = book(&visit, &slot_at(13));
    second.client_id = booking.client_id;
    second
        .apply(BookingAction::MarkNoShow, local(2026, 5, 4, 13, 5), &policy)
        .unwrap();
    let third = book(&visit, &slot_at(14));
    let counts = no_show_counts([&booking, &second, &third]);
    assert_eq!(counts.get(&booking.client_id), Some(&2));
    assert_eq!(counts.get(&third.client_id), None);
}

// ---------------------------------------------------------------- waitlist and reminders

#[test]
fn a_freed_slot_goes_to_the_first_matching_waiting_client() {
    let day = LocalDateRange::single(date(2026, 5, 4));
    let (calendar, expert) = one_expert_calendar(day, 9, 17);
    let visit = service(30, vec![role(Role::Expert, 1)]);
    let q = query(visit.clone(), day, local(2026, 5, 1, 8, 0));
    let slot = check_start(&q, &calendar, local(2026, 5, 4, 10, 0)).unwrap();
    let entry = |joined_day: u32,
                 first: NaiveDate,
                 last: NaiveDate,
                 preference: StaffPreference| WaitlistEntry {
        id: WaitlistEntryId::new(),
        client_id: tend_core::ClientId::new(),
        service_id: visit.id(),
        dates: dates(first, last),
        staff_preference: preference,
        joined_at: local(2026, 4, joined_day, 12, 0),
        status: WaitlistStatus::Waiting,
    };
    let wrong_dates = entry(
        1,
        date(2026, 5, 5),
        date(2026, 5, 9),
        StaffPreference::Anyone,
    );
    let wrong_person = entry(
        2,
        date(2026, 5, 1),
        date(2026, 5, 9),
        StaffPreference::Required(vec![StaffId::new()]),
    );
    let mut other_service = entry(
        3,
        date(2026, 5, 1),
        date(2026, 5, 9),
        StaffPreference::Anyone,
    );
    other_service.service_id = ServiceId::new();
    let mut offered = entry(
        4,
        date(2026, 5, 1),
        date(2026, 5, 9),
        StaffPreference::Anyone,
    );
    offered.status = WaitlistStatus::Offered;
    let later = entry(
        6,
        date(2026, 5, 4),
        date(2026, 5, 4),
        StaffPreference::Anyone,
    );
    let first_in_line = entry(
        5,
        date(2026, 5, 4),
        date(2026, 5, 4),
        StaffPreference::Required(vec![expert]),
    );
    let entries = vec![
        wrong_dates,
        wrong_person,
        other_service,
        offered,
        later.clone(),
        first_in_line.clone(),
    ];
    let chosen = first_match(&entries, visit.id(), &slot, &madrid(), None).unwrap();
    assert_eq!(chosen.id, first_in_line.id);
    let chosen = first_match(
        &entries,
        visit.id(),
        &slot,
        &madrid(),
        Some(first_in_line.client_id),
    )
    .unwrap();
    assert_eq!(chosen.id, later.id);
    let offer = make_offer(chosen, &slot, local(2026, 5, 4, 9, 30), Duration::hours(2));
    assert_eq!(
        offer.expires_at,
        slot.start(),
        "an offer never outlives the slot"
    );
}

#[test]
fn reminders_skip_the_past_and_follow_reschedules_and_cancellations() {
    let day = LocalDateRange::single(date(2026, 5, 4));
    let (calendar, _) = one_expert_calendar(day, 9, 17);
    let visit = service(30, vec![role(Role::Expert, 1)]);
    let now = local(2026, 5, 3, 12, 0);
    let q = query(visit.clone(), day, now);
    let mut booking = book(
        &visit,
        &check_start(&q, &calendar, local(2026, 5, 4, 10, 0)).unwrap(),
    );
    let policy = ReminderPolicy::default();
    let before = reminder_schedule(&booking, &policy, now);
    // The 24-hour reminder (10:00 on the 3rd) has passed; only the 2-hour one is due.
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].send_at, local(2026, 5, 4, 8, 0));
    assert_eq!(before[0].lead_minutes, 120);

    booking
        .reschedule(
            &visit,
            &check_start(&q, &calendar, local(2026, 5, 4, 15, 0)).unwrap(),
        )
        .unwrap();
    let after = reminder_schedule(&booking, &policy, now);
    assert_eq!(after.len(), 2);
    let changes = reminder_changes(&before, &after);
    assert_eq!(changes.cancel, before);
    assert_eq!(changes.create.len(), 2);
    assert_ne!(before[0].outbox_key(), after[1].outbox_key());

    booking
        .apply(BookingAction::Cancel, now, &CancellationPolicy::default())
        .unwrap();
    assert_eq!(booking.status, BookingStatus::Cancelled); // 27 hours ahead: not late
    let cancelled = reminder_schedule(&booking, &policy, now);
    assert!(cancelled.is_empty());
    assert_eq!(reminder_changes(&after, &cancelled).cancel, after);
    assert_eq!(
        ReminderPolicy::new(vec![0]).map_err(|e| e.code()),
        Err("appointments.reminder.zero_lead")
    );
}

// ---------------------------------------------------------------- iCalendar

/// Unfolds an iCalendar text, checking CRLF endings and the 75-octet limit on the way.
fn unfold(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"));
    let physical: Vec<&str> = text[..text.len() - 2].split("\r\n").collect();
    let mut logical: Vec<String> = Vec::new();
    for line in physical {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare line break in {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        match line.strip_prefix(' ') {
            Some(rest) => logical.last_mut().unwrap().push_str(rest),
            None => logical.push(line.to_owned()),
        }
    }
    logical
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_staff_members_day_exports_as_valid_icalendar_that_parses_back() {
    let day = LocalDateRange::single(date(2026, 3, 29));
    let (calendar, expert) = one_expert_calendar(day, 9, 17);
    let visit = service(60, vec![role(Role::Expert, 1)]);
    let q = query(visit.clone(), day, local(2026, 3, 1, 8, 0));
    let morning = book(
        &visit,
        &check_start(&q, &calendar, local(2026, 3, 29, 9, 0)).unwrap(),
    );
    let afternoon = book(
        &visit,
        &check_start(&q, &calendar, local(2026, 3, 29, 15, 0)).unwrap(),
    );
    let mut cancelled = book(
        &visit,
        &check_start(&q, &calendar, local(2026, 3, 29, 12, 0)).unwrap(),
    );
    cancelled.status = BookingStatus::Cancelled;
    let long_name =
        "Revisión, limpieza; y blanqueamiento \\ con anestesia local\nsegunda línea — ñandú "
            .repeat(2);
    let text = staff_day_calendar(
        "Dr. Ruiz, Sunday",
        expert,
        date(2026, 3, 29),
        &madrid(),
        &[afternoon.clone(), cancelled, morning.clone()],
        |_| long_name.clone(),
        Utc.with_ymd_and_hms(2026, 3, 20, 8, 0, 0).unwrap(),
    );
    let lines = unfold(&text);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert!(lines.contains(&"VERSION:2.0".to_owned()));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    assert!(lines.contains(&"X-WR-CALNAME:Dr. Ruiz\\, Sunday".to_owned()));
    let events: Vec<&[String]> = lines.split(|l| l == "BEGIN:VEVENT").skip(1).collect();
    assert_eq!(events.len(), 2, "the cancelled booking is left out");
    let property = |event: &[String], name: &str| -> String {
        event
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let expected = [
        (&morning, "20260329T070000Z", "20260329T080000Z"),
        (&afternoon, "20260329T130000Z", "20260329T140000Z"),
    ];
    for (event, (booking, start, end)) in events.iter().zip(expected) {
        assert_eq!(property(event, "UID"), format!("{}@tend", booking.id));
        assert_eq!(property(event, "DTSTAMP"), "20260320T080000Z");
        assert_eq!(property(event, "DTSTART"), start);
        assert_eq!(property(event, "DTEND"), end);
        assert_eq!(unescape(&property(event, "SUMMARY")), long_name);
        assert_eq!(property(event, "STATUS"), "TENTATIVE");
        assert!(event.contains(&"END:VEVENT".to_owned()));
    }
    let resource_text = resource_day_calendar(
        "Room 1",
        ResourceId::new(),
        date(2026, 3, 29),
        &madrid(),
        &[morning],
        |_| "x".into(),
        Utc::now(),
    );
    assert_eq!(
        unfold(&resource_text)
            .iter()
            .filter(|l| *l == "BEGIN:VEVENT")
            .count(),
        0
    );
}

// ---------------------------------------------------------------- search against brute force

mod brute_force {
    use super::*;
    use proptest::prelude::*;

    const ROLES: [Role; 3] = [Role::Consultant, Role::Expert, Role::Operator];

    /// Whether distinct people can fill `places` (each a list of who is free and qualified).
    fn assignable(places: &[Vec<usize>], taken: &mut Vec<usize>) -> bool {
        let Some((first, rest)) = places.split_first() else {
            return true;
        };
        for &person in first {
            if !taken.contains(&person) {
                taken.push(person);
                if assignable(rest, taken) {
                    return true;
                }
                taken.pop();
            }
        }
        false
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// On random diaries, the search returns exactly the starts where an exhaustive search
        /// finds distinct qualified free people for every place, and each returned assignment
        /// is valid.
        #[test]
        fn slot_search_agrees_with_exhaustive_assignment(
            people in proptest::collection::vec(
                (proptest::collection::btree_set(0usize..3, 1..3),
                 proptest::collection::vec((0i64..36, 1i64..12), 1..4)),
                2..6),
            counts in (1u8..3, 1u8..2, 0u8..2),
        ) {
            let day = date(2026, 5, 4);
            let base = local(2026, 5, 4, 9, 0);
            let quarter = Duration::minutes(15);
            let candidates: Vec<StaffCandidate> = people
                .iter()
                .map(|(roles, pieces)| {
                    let free: IntervalSet = pieces
                        .iter()
                        .map(|&(s, l)| span(base + quarter * s as i32, base + quarter * (s + l) as i32))
                        .collect();
                    staff(&roles.iter().map(|&r| ROLES[r]).collect::<Vec<_>>(), free)
                })
                .collect();
            let mut requirements = vec![role(ROLES[0], counts.0), role(ROLES[1], counts.1)];
            if counts.2 > 0 {
                requirements.push(StaffRequirementDraft {
                    qualification: Qualification::Role(ROLES[2]),
                    count: 1,
                    part: Some(VisitPartDraft { offset_minutes: 15, length_minutes: 15 }),
                });
            }
            let joint = service(45, requirements);
            let calendar = Calendar {
                time_zone: madrid(),
                staff: candidates.clone(),
                resources: vec![],
                client_busy: IntervalSet::empty(),
            };
            let q = query(joint.clone(), LocalDateRange::single(day), local(2026, 5, 1, 8, 0));
            let found: BTreeSet<DateTime<Utc>> =
                find_slots(&q, &calendar).unwrap().iter().map(Slot::start).collect();
            for start in grid_starts(&madrid(), LocalDateRange::single(day), 15) {
                let mut places = Vec::new();
                for requirement in joint.staff_requirements() {
                    let need = joint.staff_time_at(requirement, start);
                    let free: Vec<usize> = candidates
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| requirement.qualification().is_met_by(&c.roles, &c.skills))
                        .filter(|(_, c)| c.free.contains(&need))
                        .map(|(i, _)| i)
                        .collect();
                    for _ in 0..requirement.count() {
                        places.push(free.clone());
                    }
                }
                let possible = assignable(&places, &mut Vec::new());
                prop_assert_eq!(found.contains(&start), possible, "at {}", start);
                if let Ok(slot) = check_start(&q, &calendar, start) {
                    let ids: BTreeSet<_> = slot.staff_ids().collect();
                    prop_assert_eq!(ids.len(), slot.staff.len());
                    for assignment in &slot.staff {
                        let person = candidates.iter().find(|c| c.staff_id == assignment.staff_id).unwrap();
                        prop_assert!(person.free.contains(&assignment.occupied));
                    }
                }
            }
        }
    }
}
