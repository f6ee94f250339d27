//! Appointment use cases against real databases: SQLite always, PostgreSQL when
//! `TEND_TEST_POSTGRES_URL` is set. The clock is fixed on Monday 2026-03-23, 08:00 in Madrid, the
//! week the clocks go forward (Sunday 2026-03-29).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use serde_json::json;
use tend_appointments::{BookingAction, BookingId, BookingStatus, ServiceId};
use tend_clients::ClientInput;
use tend_core::{Actor, ClientId, Role, StaffId};
use tend_store::testing::{test_databases, TestClock};
use tend_store::{
    AuditQuery, BookingQuery, BookingRecord, BookingRequest, ErrorKind, NewUser, SeriesRequest,
    Site, SlotSearch, Store, StoreError,
};

const ADMIN_PASSWORD: &str = "correct horse battery";

struct Fixture {
    store: Store,
    clock: Arc<TestClock>,
    admin: Actor,
    main: Site,
}

fn madrid(date: &str, time: &str) -> DateTime<Utc> {
    let local =
        chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap();
    tend_core::SiteTimeZone::parse("Europe/Madrid")
        .unwrap()
        .tz()
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn on_each_backend(test: impl Fn(&Fixture)) {
    for database in test_databases() {
        let clock = TestClock::new(madrid("2026-03-23", "08:00"));
        let store = database.open(clock.clone());
        let bootstrap = store
            .bootstrap("Europe/Madrid", Some(ADMIN_PASSWORD.into()))
            .unwrap()
            .unwrap();
        let admin = store
            .login("admin@tend.local", ADMIN_PASSWORD)
            .unwrap()
            .actor;
        test(&Fixture {
            store,
            clock,
            admin,
            main: bootstrap.site,
        });
    }
}

fn week_hours(start: &str, end: &str) -> serde_json::Value {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    json!(days
        .iter()
        .map(|day| json!({"weekday": day, "start": start, "end": end}))
        .collect::<Vec<_>>())
}

impl Fixture {
    fn user(&self, email: &str, role: Role, site: &Site) -> Actor {
        let password = "a long enough password";
        self.store
            .create_user(
                Some(&self.admin),
                NewUser {
                    email: email.into(),
                    role: role.as_str().into(),
                    site_id: Some(site.id.to_string()),
                    password: password.into(),
                },
            )
            .unwrap();
        self.store.login(email, password).unwrap().actor
    }

    fn client(&self, site: &Site, name: &str) -> ClientId {
        let input: ClientInput = serde_json::from_value(json!({ "full_name": name })).unwrap();
        self.store
            .create_client(&self.admin, site.id, input)
            .unwrap()
            .client
            .client
            .id
    }

    fn staff(&self, site: &Site, name: &str, role: &str) -> StaffId {
        let input = serde_json::from_value(json!({
            "site_id": site.id,
            "full_name": name,
            "role": role,
            "working_hours": {
                "weekly": week_hours("09:00", "17:00"),
                "breaks": [{"weekday": "mon", "start": "13:00", "end": "14:00"}],
            },
        }))
        .unwrap();
        self.store
            .create_staff_member(&self.admin, input)
            .unwrap()
            .id
    }

    fn service(&self, site: &Site, body: serde_json::Value) -> ServiceId {
        let mut body = body;
        body["site_id"] = json!(site.id);
        self.store
            .create_service(&self.admin, serde_json::from_value(body).unwrap())
            .unwrap()
            .id()
    }

    fn check_up(&self, site: &Site) -> ServiceId {
        self.store
            .create_resource(
                &self.admin,
                serde_json::from_value(json!({
                    "site_id": site.id, "name": "Chair 1", "kind": "dental_chair",
                    "working_hours": {"weekly": week_hours("08:00", "20:00")},
                }))
                .unwrap(),
            )
            .unwrap();
        self.service(
            site,
            json!({
                "name": "Check-up", "price": {"minor_units": 4500, "currency": "EUR"},
                "duration_minutes": 30, "buffer_after_minutes": 10,
                "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
                "resource_requirements": [{"kind": "dental_chair", "count": 1}],
                "booking_horizon_days": 90,
            }),
        )
    }

    fn book(
        &self,
        service: ServiceId,
        client: ClientId,
        start: DateTime<Utc>,
    ) -> Result<BookingRecord, StoreError> {
        self.store
            .book(
                &self.admin,
                BookingRequest {
                    service_id: service,
                    client_id: client,
                    start,
                    preferred_staff_ids: Vec::new(),
                    required_staff_ids: Vec::new(),
                    urgent: false,
                },
                None,
            )
            .map(|outcome| outcome.booking)
    }

    fn act(&self, id: BookingId, action: BookingAction) -> Result<BookingRecord, StoreError> {
        self.store.booking_action(&self.admin, id, action, None)
    }

    fn audit_actions(&self, entity_id: &str) -> Vec<String> {
        let page = self
            .store
            .list_audit(
                &self.admin,
                AuditQuery {
                    entity_id: Some(entity_id.into()),
                    per_page: Some(200),
                    ..Default::default()
                },
            )
            .unwrap();
        let mut actions: Vec<String> = page
            .items
            .into_iter()
            .map(|event| event.record.action)
            .collect();
        actions.reverse();
        actions
    }
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, StoreError>, code: &str, kind: ErrorKind) {
    let error = result.unwrap_err();
    assert_eq!(error.code(), code, "{error}");
    assert_eq!(error.kind(), kind, "{error}");
}

fn search(service: ServiceId, date: &str) -> SlotSearch {
    let date: NaiveDate = date.parse().unwrap();
    SlotSearch {
        service_id: service,
        from: date,
        to: None,
        staff_id: None,
        client_id: None,
        urgent: false,
        step_minutes: None,
        limit: None,
    }
}

#[test]
fn the_receptionist_flow_from_catalogue_to_completed_visit() {
    on_each_backend(|f| {
        let dentist = f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let ana = f.client(&f.main, "Ana Ortega");
        let bea = f.client(&f.main, "Bea Lopez");

        // Tuesday: 09:00–17:00, a 30-minute visit plus 10 minutes after, every 15 minutes.
        let slots = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-24"))
            .unwrap();
        assert_eq!(slots.time_zone, "Europe/Madrid");
        assert_eq!(
            slots.slots.first().unwrap().start(),
            madrid("2026-03-24", "09:00")
        );
        assert_eq!(
            slots.slots.last().unwrap().start(),
            madrid("2026-03-24", "16:15")
        );
        // Monday's lunch break is respected.
        let monday = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-23"))
            .unwrap();
        assert!(monday
            .slots
            .iter()
            .all(|slot| slot.start() < madrid("2026-03-23", "12:20")
                || slot.start() >= madrid("2026-03-23", "14:00")));

        let booked = f.book(service, ana, madrid("2026-03-24", "10:00")).unwrap();
        assert_eq!(booked.status, BookingStatus::Requested);
        assert_eq!(booked.staff[0].staff_id, dentist);
        assert_eq!(booked.local_start.to_rfc3339(), "2026-03-24T10:00:00+01:00");
        let reminders = f.store.booking_reminders(&f.admin, booked.id).unwrap();
        let due: Vec<_> = reminders
            .iter()
            .map(|r| (r.due_at, r.status.as_str()))
            .collect();
        assert_eq!(
            due,
            [
                (madrid("2026-03-23", "10:00"), "pending"),
                (madrid("2026-03-24", "08:00"), "pending")
            ]
        );

        // The dentist and chair are busy until 10:40, and nobody else can take 10:00.
        let after = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-24"))
            .unwrap();
        assert!(!after
            .slots
            .iter()
            .any(|slot| slot.start() >= madrid("2026-03-24", "09:35")
                && slot.start() < madrid("2026-03-24", "10:40")));
        assert_code(
            f.book(service, bea, madrid("2026-03-24", "10:00")),
            "booking.slot_taken",
            ErrorKind::Conflict,
        );

        // Bea waits for Tuesday; Ana moves to Wednesday, which frees 10:00 for Bea.
        let entry = f
            .store
            .join_waitlist(
                &f.admin,
                serde_json::from_value(json!({
                    "service_id": service, "client_id": bea, "from": "2026-03-24",
                }))
                .unwrap(),
            )
            .unwrap();
        let moved = f
            .store
            .reschedule_booking(&f.admin, booked.id, madrid("2026-03-25", "11:00"))
            .unwrap();
        assert_eq!(moved.start, madrid("2026-03-25", "11:00"));
        let reminders = f.store.booking_reminders(&f.admin, booked.id).unwrap();
        let pending: Vec<_> = reminders
            .iter()
            .filter(|r| r.status == "pending")
            .map(|r| r.due_at)
            .collect();
        assert_eq!(
            pending,
            [madrid("2026-03-24", "11:00"), madrid("2026-03-25", "09:00")]
        );
        assert_eq!(
            reminders.iter().filter(|r| r.status == "cancelled").count(),
            2
        );

        let waitlist = f.store.list_waitlist(&f.admin, None, Some(service));
        assert_code(waitlist, "validation.invalid_fields", ErrorKind::Invalid);
        let waitlist = f
            .store
            .list_waitlist(&f.admin, Some(f.main.id), Some(service))
            .unwrap();
        assert_eq!(waitlist[0].id, entry.id);
        let offer = waitlist[0].offer.clone().unwrap();
        assert_eq!(offer.start, madrid("2026-03-24", "10:00"));
        assert_eq!(offer.status, "open");
        let bea_booking = f.store.accept_waitlist_offer(&f.admin, entry.id).unwrap();
        assert_eq!(bea_booking.client_id, bea);
        assert_eq!(bea_booking.start, madrid("2026-03-24", "10:00"));
        assert_code(
            f.store.accept_waitlist_offer(&f.admin, entry.id),
            "waitlist.no_open_offer",
            ErrorKind::Conflict,
        );

        // Ana cancels a day ahead: not late; her time and reminders are freed.
        let cancelled = f.act(booked.id, BookingAction::Cancel).unwrap();
        assert_eq!(cancelled.status, BookingStatus::Cancelled);
        assert!(f
            .store
            .booking_reminders(&f.admin, booked.id)
            .unwrap()
            .iter()
            .all(|r| r.status == "cancelled"));
        let again = f.book(service, ana, madrid("2026-03-25", "11:00")).unwrap();

        // Bea's visit happens.
        f.clock
            .advance(TimeDelta::hours(25) + TimeDelta::minutes(55));
        for (action, status) in [
            (BookingAction::Confirm, BookingStatus::Confirmed),
            (BookingAction::Arrive, BookingStatus::Arrived),
            (BookingAction::StartService, BookingStatus::InService),
            (BookingAction::Complete, BookingStatus::Completed),
        ] {
            assert_eq!(f.act(bea_booking.id, action).unwrap().status, status);
        }
        assert_code(
            f.act(bea_booking.id, BookingAction::Cancel),
            "appointments.booking.illegal_transition",
            ErrorKind::Conflict,
        );

        // Ana does not come on Wednesday.
        assert_code(
            f.act(again.id, BookingAction::MarkNoShow),
            "appointments.booking.no_show_before_start",
            ErrorKind::Conflict,
        );
        f.clock.advance(TimeDelta::hours(26));
        assert_eq!(
            f.act(again.id, BookingAction::MarkNoShow).unwrap().status,
            BookingStatus::NoShow
        );
        let summary = f.store.client_no_shows(&f.admin, ana).unwrap();
        assert_eq!((summary.no_shows, summary.bookings), (1, 2));
        assert_eq!(f.store.client_no_shows(&f.admin, bea).unwrap().no_shows, 0);

        let listed = f
            .store
            .list_bookings(
                &f.admin,
                BookingQuery {
                    site_id: Some(f.main.id),
                    from: Some("2026-03-24".parse().unwrap()),
                    to: Some("2026-03-25".parse().unwrap()),
                    staff_id: Some(dentist),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(listed.len(), 3);

        let ics = f
            .store
            .staff_calendar(&f.admin, dentist, "2026-03-24".parse().unwrap())
            .unwrap();
        assert!(ics.contains("SUMMARY:Check-up"), "{ics}");
        assert!(ics.contains("DTSTART:20260324T090000Z"), "{ics}");

        assert_eq!(
            f.audit_actions(&booked.id.to_string()),
            [
                "booking.created",
                "booking.rescheduled",
                "booking.cancelled"
            ]
        );
        assert_eq!(
            f.audit_actions(&entry.id.to_string()),
            ["waitlist.joined", "waitlist.offered", "waitlist.accepted"]
        );
        f.store.verify_audit_chain().unwrap();
    });
}

#[test]
fn a_joint_four_role_visit_gets_four_distinct_people() {
    on_each_backend(|f| {
        let roles = ["expert", "operator", "consultant", "receptionist"];
        let people: Vec<StaffId> = roles
            .iter()
            .map(|role| f.staff(&f.main, &format!("Person {role}"), role))
            .collect();
        f.staff(&f.main, "Second expert", "expert");
        let service = f.service(
            &f.main,
            json!({
                "name": "Birth plan meeting", "price": {"minor_units": 0, "currency": "EUR"},
                "duration_minutes": 60,
                "staff_requirements": roles.iter().map(|role| json!({
                    "qualification": {"kind": "role", "key": role}, "count": 1,
                })).collect::<Vec<_>>(),
                "booking_horizon_days": 30,
            }),
        );
        let slots = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-24"))
            .unwrap();
        let first = &slots.slots[0];
        assert_eq!(first.staff.len(), 4);
        let client = f.client(&f.main, "Carla Diaz");
        let booked = f.book(service, client, first.start()).unwrap();
        let assigned: std::collections::BTreeSet<StaffId> =
            booked.staff.iter().map(|a| a.staff_id).collect();
        assert_eq!(assigned.len(), 4);
        // The operator is the only one of their role: the next joint visit cannot overlap.
        assert!(assigned.contains(&people[1]));
        let other = f.client(&f.main, "Dora Gil");
        assert_code(
            f.book(service, other, first.start() + TimeDelta::minutes(30)),
            "booking.slot_taken",
            ErrorKind::Conflict,
        );
    });
}

#[test]
fn bad_requests_are_refused_and_book_nothing() {
    on_each_backend(|f| {
        let dentist = f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let ana = f.client(&f.main, "Ana Ortega");
        let other_site = f
            .store
            .create_site(&f.admin, "North", "Europe/Madrid")
            .unwrap();
        let stranger = f.client(&other_site, "Eva Stranger");

        assert_code(
            f.book(ServiceId::new(), ana, madrid("2026-03-24", "10:00")),
            "service.not_found",
            ErrorKind::NotFound,
        );
        assert_code(
            f.book(service, ClientId::new(), madrid("2026-03-24", "10:00")),
            "client.not_found",
            ErrorKind::NotFound,
        );
        assert_code(
            f.book(service, stranger, madrid("2026-03-24", "10:00")),
            "client.not_found",
            ErrorKind::NotFound,
        );
        assert_code(
            f.book(service, ana, madrid("2026-03-24", "10:02")),
            "appointments.slot.misaligned_start",
            ErrorKind::Invalid,
        );
        assert_code(
            f.book(service, ana, madrid("2026-03-24", "18:00")),
            "appointments.slot.no_qualified_staff_free",
            ErrorKind::Invalid,
        );
        assert_code(
            f.book(service, ana, madrid("2026-03-20", "10:00")),
            "appointments.slot.start_in_past",
            ErrorKind::Invalid,
        );
        let unknown_staff = f.store.book(
            &f.admin,
            BookingRequest {
                service_id: service,
                client_id: ana,
                start: madrid("2026-03-24", "10:00"),
                preferred_staff_ids: Vec::new(),
                required_staff_ids: vec![StaffId::new()],
                urgent: false,
            },
            None,
        );
        assert_code(unknown_staff, "staff.not_found", ErrorKind::NotFound);

        // A manager of another site sees none of it.
        let north_manager = f.user("north@tend.local", Role::StoreManager, &other_site);
        assert_code(
            f.store.get_service(&north_manager, service),
            "service.not_found",
            ErrorKind::NotFound,
        );
        assert_code(
            f.store.get_staff_member(&north_manager, dentist),
            "staff.not_found",
            ErrorKind::NotFound,
        );
        let chef = f.user("chef@tend.local", Role::Chef, &f.main);
        assert_code(
            f.store.book(
                &chef,
                BookingRequest {
                    service_id: service,
                    client_id: ana,
                    start: madrid("2026-03-24", "10:00"),
                    preferred_staff_ids: Vec::new(),
                    required_staff_ids: Vec::new(),
                    urgent: false,
                },
                None,
            ),
            "access.forbidden",
            ErrorKind::Forbidden,
        );
        assert!(f
            .store
            .list_bookings(
                &f.admin,
                BookingQuery {
                    site_id: Some(f.main.id),
                    ..Default::default()
                }
            )
            .unwrap()
            .is_empty());

        // Overlapping reschedule.
        let first = f.book(service, ana, madrid("2026-03-24", "10:00")).unwrap();
        let bea = f.client(&f.main, "Bea Lopez");
        let second = f.book(service, bea, madrid("2026-03-24", "11:00")).unwrap();
        assert_code(
            f.store
                .reschedule_booking(&f.admin, second.id, madrid("2026-03-24", "10:15")),
            "booking.slot_taken",
            ErrorKind::Conflict,
        );
        // Moving a booking onto its own time (partly) is fine.
        let shifted = f
            .store
            .reschedule_booking(&f.admin, first.id, madrid("2026-03-24", "10:15"))
            .unwrap();
        assert_eq!(shifted.start, madrid("2026-03-24", "10:15"));
    });
}

#[test]
fn idempotent_bookings_replay_and_refuse_a_reused_key() {
    on_each_backend(|f| {
        f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let ana = f.client(&f.main, "Ana Ortega");
        let request = BookingRequest {
            service_id: service,
            client_id: ana,
            start: madrid("2026-03-24", "10:00"),
            preferred_staff_ids: Vec::new(),
            required_staff_ids: Vec::new(),
            urgent: false,
        };
        let first = f
            .store
            .book(&f.admin, request.clone(), Some("key-1"))
            .unwrap();
        assert!(!first.replayed);
        let retry = f
            .store
            .book(&f.admin, request.clone(), Some("key-1"))
            .unwrap();
        assert!(retry.replayed);
        assert_eq!(retry.booking, first.booking);
        let changed = BookingRequest {
            start: madrid("2026-03-24", "11:00"),
            ..request.clone()
        };
        assert_code(
            f.store.book(&f.admin, changed, Some("key-1")),
            "booking.idempotency_key_reused",
            ErrorKind::Invalid,
        );
        assert_code(
            f.store.book(&f.admin, request, Some(" ")),
            "booking.invalid_idempotency_key",
            ErrorKind::Invalid,
        );
        let all = f
            .store
            .list_bookings(
                &f.admin,
                BookingQuery {
                    site_id: Some(f.main.id),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(all.len(), 1);
    });
}

#[test]
fn concurrent_requests_for_one_slot_book_it_once() {
    on_each_backend(|f| {
        f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let clients: Vec<ClientId> = (0..16)
            .map(|index| f.client(&f.main, &format!("Client {index}")))
            .collect();
        let start = madrid("2026-03-24", "10:00");
        let results: Vec<Result<BookingRecord, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = clients
                .iter()
                .map(|client| scope.spawn(move || f.book(service, *client, start)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        for result in results.iter().filter(|r| r.is_err()) {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.code(), "booking.slot_taken", "{error}");
        }
        f.store.verify_audit_chain().unwrap();
    });
}

#[test]
fn a_weekly_series_across_the_clock_change_is_all_or_nothing() {
    on_each_backend(|f| {
        f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let ana = f.client(&f.main, "Ana Ortega");
        let series = |occurrences| SeriesRequest {
            service_id: service,
            client_id: ana,
            first_start: "2026-03-24T10:00:00".parse().unwrap(),
            interval_weeks: 1,
            occurrences,
            preferred_staff_ids: Vec::new(),
            required_staff_ids: Vec::new(),
            urgent: false,
        };
        // Block the third Tuesday for someone else first.
        let bea = f.client(&f.main, "Bea Lopez");
        f.book(service, bea, madrid("2026-04-07", "10:00")).unwrap();
        let error = f.store.book_series(&f.admin, series(4), None).unwrap_err();
        assert_eq!(error.code(), "booking.series_conflict");
        let details = error.details().unwrap();
        assert_eq!(details["occurrences"][0]["index"], 2);
        assert_eq!(
            f.store
                .list_bookings(
                    &f.admin,
                    BookingQuery {
                        client_id: Some(ana),
                        site_id: Some(f.main.id),
                        ..Default::default()
                    }
                )
                .unwrap()
                .len(),
            0
        );
        let outcome = f
            .store
            .book_series(&f.admin, series(2), Some("course-ana"))
            .unwrap();
        assert!(!outcome.replayed);
        // A retried request replays the series; the same key for another series is refused.
        let again = f
            .store
            .book_series(&f.admin, series(2), Some("course-ana"))
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.bookings, outcome.bookings);
        let other = f
            .store
            .book_series(&f.admin, series(3), Some("course-ana"))
            .unwrap_err();
        assert_eq!(other.code(), "booking.idempotency_key_reused");
        let booked = outcome.bookings;
        // 10:00 on the wall clock both weeks: UTC+1, then UTC+2.
        assert_eq!(
            booked[0].start,
            Utc.with_ymd_and_hms(2026, 3, 24, 9, 0, 0).unwrap()
        );
        assert_eq!(
            booked[1].start,
            Utc.with_ymd_and_hms(2026, 3, 31, 8, 0, 0).unwrap()
        );
        assert_eq!(booked[0].series_id, booked[1].series_id);
        assert!(booked[0].series_id.is_some());
    });
}

#[test]
fn a_lapsed_waitlist_offer_puts_the_client_back_in_the_queue() {
    on_each_backend(|f| {
        f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.check_up(&f.main);
        let (ana, bea, cora) = (
            f.client(&f.main, "Ana Ortega"),
            f.client(&f.main, "Bea Lopez"),
            f.client(&f.main, "Cora Ruiz"),
        );
        let ten = f.book(service, ana, madrid("2026-03-25", "10:00")).unwrap();
        let eleven = f
            .book(service, cora, madrid("2026-03-25", "11:00"))
            .unwrap();
        let entry = f
            .store
            .join_waitlist(
                &f.admin,
                serde_json::from_value(
                    json!({"service_id": service, "client_id": bea, "from": "2026-03-25"}),
                )
                .unwrap(),
            )
            .unwrap();
        f.act(ten.id, BookingAction::Cancel).unwrap();
        let listed = f
            .store
            .list_waitlist(&f.admin, Some(f.main.id), None)
            .unwrap();
        assert_eq!(
            listed[0].offer.as_ref().unwrap().start,
            madrid("2026-03-25", "10:00")
        );

        f.clock.advance(TimeDelta::hours(3));
        let listed = f
            .store
            .list_waitlist(&f.admin, Some(f.main.id), None)
            .unwrap();
        assert_eq!(listed[0].status, tend_appointments::WaitlistStatus::Waiting);
        assert_eq!(listed[0].offer.as_ref().unwrap().status, "lapsed");
        assert_code(
            f.store.accept_waitlist_offer(&f.admin, entry.id),
            "waitlist.no_open_offer",
            ErrorKind::Conflict,
        );

        f.act(eleven.id, BookingAction::Cancel).unwrap();
        let booked = f.store.accept_waitlist_offer(&f.admin, entry.id).unwrap();
        assert_eq!(booked.start, madrid("2026-03-25", "11:00"));
        assert_eq!(
            f.audit_actions(&entry.id.to_string()),
            [
                "waitlist.joined",
                "waitlist.offered",
                "waitlist.offered",
                "waitlist.accepted"
            ]
        );
    });
}

#[test]
fn a_published_roster_replaces_weekly_hours_on_the_dates_it_covers() {
    on_each_backend(|f| {
        let midwife = f.staff(&f.main, "Dr Ruiz", "expert");
        let service = f.service(
            &f.main,
            json!({
                "name": "Home visit", "price": {"minor_units": 6000, "currency": "EUR"},
                "duration_minutes": 30, "buffer_after_minutes": 10,
                "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
                "booking_horizon_days": 90,
            }),
        );
        let ana = f.client(&f.main, "Ana Ortega");
        // Rostered at the site: a profile, a late shift 14:00–22:00 on Tuesday 2026-03-24, and
        // nothing on Monday 2026-03-23; the published period covers both days.
        f.store
            .set_staff_rostering(
                &f.admin,
                midwife,
                serde_json::from_value(json!({
                    "skills": [{"skill": "nursing", "level": 3}],
                    "contract": {
                        "min_minutes_per_week": 0,
                        "max_minutes_per_week": 40 * 60,
                        "max_consecutive_days": 5,
                        "min_consecutive_days_off": 1,
                        "min_rest_minutes": 11 * 60,
                        "max_weekends_per_four_weeks": 4,
                    },
                }))
                .unwrap(),
            )
            .unwrap();
        f.store
            .create_shift_type(
                &f.admin,
                serde_json::from_value(
                    json!({"site_id": f.main.id, "key": "late", "start": "14:00:00", "end": "22:00:00"}),
                )
                .unwrap(),
            )
            .unwrap();
        let period = f
            .store
            .create_roster_period(
                &f.admin,
                serde_json::from_value(
                    json!({"site_id": f.main.id, "first_day": "2026-03-23", "last_day": "2026-03-24"}),
                )
                .unwrap(),
            )
            .unwrap()
            .id;
        f.store
            .edit_assignment(
                &f.admin,
                &period,
                tend_store::AssignmentEdit {
                    staff_id: midwife,
                    date: "2026-03-24".parse().unwrap(),
                    shift_type: Some("late".into()),
                    pinned: false,
                },
            )
            .unwrap();
        // A draft roster changes nothing yet.
        let draft = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-24"))
            .unwrap();
        assert_eq!(
            draft.slots.first().unwrap().start(),
            madrid("2026-03-24", "09:00")
        );
        f.store.publish_roster(&f.admin, &period).unwrap();

        // The rostered date: only starts inside the shift, 14:00 to 22:00 less 40 minutes.
        let tuesday = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-24"))
            .unwrap();
        assert_eq!(
            tuesday.slots.first().unwrap().start(),
            madrid("2026-03-24", "14:00")
        );
        assert_eq!(
            tuesday.slots.last().unwrap().start(),
            madrid("2026-03-24", "21:15")
        );
        assert!(tuesday
            .slots
            .iter()
            .all(|slot| slot.start() >= madrid("2026-03-24", "14:00")
                && slot.start() <= madrid("2026-03-24", "21:20")));
        // A covered date without a shift: not working, whatever the weekly hours say.
        let monday = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-23"))
            .unwrap();
        assert!(monday.slots.is_empty(), "{:?}", monday.slots);
        // The next date is outside the period: weekly hours 09:00–17:00.
        let wednesday = f
            .store
            .find_slots(&f.admin, search(service, "2026-03-25"))
            .unwrap();
        assert_eq!(
            wednesday.slots.first().unwrap().start(),
            madrid("2026-03-25", "09:00")
        );
        assert_eq!(
            wednesday.slots.last().unwrap().start(),
            madrid("2026-03-25", "16:15")
        );

        // Booking checks use the same calendar: 10:00 is outside the shift, 18:00 inside it.
        assert_code(
            f.book(service, ana, madrid("2026-03-24", "10:00")),
            "appointments.slot.no_qualified_staff_free",
            ErrorKind::Invalid,
        );
        let booked = f.book(service, ana, madrid("2026-03-24", "18:00")).unwrap();
        assert_eq!(booked.staff[0].staff_id, midwife);
        f.book(service, ana, madrid("2026-03-25", "10:00")).unwrap();
    });
}
