//! Slot search latency through the store's use case (the code path `GET /services/{id}/slots`
//! takes), on a real SQLite store: a site with 20 staff, 6 rooms and 30 days of bookings.
//! Then fifty concurrent booking requests for one slot over HTTP.
//!
//! `cargo bench -p benches --bench slot_search --profile dev` (the shared dev profile; plain
//! `cargo bench` builds the release profile first). Prints a table; targets: p95 below 50 ms for a
//! single-role service and below 200 ms for a four-role joint visit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde_json::json;
use tend_appointments::ServiceId;
use tend_core::{Actor, ClientId, SiteTimeZone};
use tend_store::testing::{TestClock, TestDatabase};
use tend_store::{BookingRequest, Site, SlotSearch, Store};

const STAFF: [(&str, usize); 4] = [
    ("expert", 8),
    ("operator", 6),
    ("consultant", 3),
    ("receptionist", 3),
];
const ROOMS: usize = 6;
const DAYS: i64 = 30;
const CLIENTS: usize = 300;
const RUNS: usize = 40;

fn hours() -> serde_json::Value {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat"];
    json!({
        "weekly": days.iter().map(|d| json!({"weekday": d, "start": "08:00", "end": "20:00"})).collect::<Vec<_>>(),
        "breaks": days.iter().map(|d| json!({"weekday": d, "start": "13:00", "end": "14:00"})).collect::<Vec<_>>(),
    })
}

struct World {
    store: Store,
    admin: Actor,
    site: Site,
    check_up: ServiceId,
    joint: ServiceId,
    first_day: NaiveDate,
    bookings: usize,
}

fn build(database: &TestDatabase) -> World {
    // Monday 2026-03-02, 06:00 UTC: the 30 days ahead are all in standard time but for the
    // last week, which crosses the clock change.
    let clock = TestClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap());
    let store = database.open(clock);
    let bootstrap = store
        .bootstrap("Europe/Madrid", Some("benchmark password".into()))
        .unwrap()
        .unwrap();
    let admin = store
        .login("admin@tend.local", "benchmark password")
        .unwrap()
        .actor;
    let site = bootstrap.site;
    for (role, count) in STAFF {
        for index in 0..count {
            store
                .create_staff_member(
                    &admin,
                    serde_json::from_value(json!({
                        "site_id": site.id, "full_name": format!("{role} {index}"), "role": role,
                        "working_hours": hours(),
                    }))
                    .unwrap(),
                )
                .unwrap();
        }
    }
    for index in 0..ROOMS {
        store
            .create_resource(
                &admin,
                serde_json::from_value(json!({
                    "site_id": site.id, "name": format!("Room {index}"), "kind": "room",
                    "working_hours": {"weekly": hours()["weekly"]},
                }))
                .unwrap(),
            )
            .unwrap();
    }
    let service = |name: &str, minutes: u32, roles: &[&str]| {
        store
            .create_service(
                &admin,
                serde_json::from_value(json!({
                    "site_id": site.id, "name": name,
                    "price": {"minor_units": 5000, "currency": "EUR"},
                    "duration_minutes": minutes, "buffer_after_minutes": 10,
                    "staff_requirements": roles.iter().map(|role| json!({
                        "qualification": {"kind": "role", "key": role}, "count": 1,
                    })).collect::<Vec<_>>(),
                    "resource_requirements": [{"kind": "room", "count": 1}],
                    "booking_horizon_days": 120,
                }))
                .unwrap(),
            )
            .unwrap()
            .id()
    };
    let check_up = service("Check-up", 30, &["expert"]);
    let hygiene = service("Hygiene", 45, &["operator"]);
    let joint = service(
        "Care conference",
        60,
        &["expert", "operator", "consultant", "receptionist"],
    );
    let clients: Vec<ClientId> = (0..CLIENTS)
        .map(|index| {
            store
                .create_client(
                    &admin,
                    site.id,
                    serde_json::from_value(json!({"full_name": format!("Client {index}")}))
                        .unwrap(),
                )
                .unwrap()
                .client
                .client
                .id
        })
        .collect();
    // About two thirds of the rooms taken every hour, Monday to Saturday, for 30 days.
    let tz = SiteTimeZone::parse("Europe/Madrid").unwrap().tz();
    let first_day = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let mut bookings = 0;
    let mut next_client = 0;
    for offset in 0..DAYS {
        let day = first_day + Duration::days(offset);
        if day.weekday() == Weekday::Sun {
            continue;
        }
        for hour in [8, 9, 10, 11, 12, 14, 15, 16, 17, 18] {
            for (index, service) in [check_up, hygiene, check_up, hygiene]
                .into_iter()
                .enumerate()
            {
                let start = tz
                    .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
                    .earliest()
                    .unwrap()
                    .with_timezone(&Utc);
                let request = BookingRequest {
                    service_id: service,
                    client_id: clients[next_client % CLIENTS],
                    start: start + Duration::minutes(5 * index as i64),
                    preferred_staff_ids: Vec::new(),
                    required_staff_ids: Vec::new(),
                    urgent: false,
                };
                next_client += 1;
                if store.book(&admin, request, None).is_ok() {
                    bookings += 1;
                }
            }
        }
    }
    World {
        store,
        admin,
        site,
        check_up,
        joint,
        first_day,
        bookings,
    }
}

struct Figures {
    p50: StdDuration,
    p95: StdDuration,
    max: StdDuration,
    slots: usize,
}

fn measure(world: &World, service: ServiceId, days: i64) -> Figures {
    let mut times = Vec::with_capacity(RUNS);
    let mut slots = 0;
    for run in 0..RUNS {
        let from = world.first_day + Duration::days((run as i64 * 3) % (DAYS - days));
        let started = Instant::now();
        let found = world
            .store
            .find_slots(
                &world.admin,
                SlotSearch {
                    service_id: service,
                    from,
                    to: Some(from + Duration::days(days - 1)),
                    staff_id: None,
                    client_id: None,
                    urgent: false,
                    step_minutes: None,
                    limit: None,
                },
            )
            .unwrap();
        times.push(started.elapsed());
        slots += found.slots.len();
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        p50: at(0.5),
        p95: at(0.95),
        max: at(1.0),
        slots: slots / RUNS,
    }
}

fn concurrent_bookings_over_http() -> (usize, usize, usize, StdDuration, StdDuration) {
    let app = tests::TestApp::spawn(TestDatabase::sqlite());
    let token = app.admin_token.clone();
    let site = app.main_site_id.clone();
    let post = |path: &str, body: serde_json::Value| {
        app.post(path, Some(&token), &body).assert_status(201)
    };
    post(
        "/api/v1/staff",
        json!({"site_id": site, "full_name": "Dr Ruiz", "role": "expert",
               "working_hours": {"weekly": [{"weekday": "mon", "start": "00:00", "end": "23:55"},
                   {"weekday": "tue", "start": "00:00", "end": "23:55"}, {"weekday": "wed", "start": "00:00", "end": "23:55"},
                   {"weekday": "thu", "start": "00:00", "end": "23:55"}, {"weekday": "fri", "start": "00:00", "end": "23:55"},
                   {"weekday": "sat", "start": "00:00", "end": "23:55"}, {"weekday": "sun", "start": "00:00", "end": "23:55"}]}}),
    );
    let service = post(
        "/api/v1/services",
        json!({"site_id": site, "name": "Check-up", "price": {"minor_units": 1, "currency": "EUR"},
               "duration_minutes": 30,
               "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
               "booking_horizon_days": 30}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients: Vec<String> = (0..50)
        .map(|index| {
            post(
                "/api/v1/clients",
                json!({"site_id": site, "full_name": format!("Client {index}")}),
            )["client"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let now = tend_core::Clock::now(&*app.clock);
    let start = Utc.from_utc_datetime(
        &(now + Duration::days(2))
            .date_naive()
            .and_hms_opt(4, 0, 0)
            .unwrap(),
    );
    let started = Instant::now();
    let results: Vec<(u16, StdDuration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .map(|client| {
                let (app, token, service) = (&app, &token, &service);
                scope.spawn(move || {
                    let sent = Instant::now();
                    let response = app.post(
                        "/api/v1/bookings",
                        Some(token),
                        &json!({"service_id": service, "client_id": client, "start": start}),
                    );
                    (response.status, sent.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all = started.elapsed();
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let conflicts = results.iter().filter(|(s, _)| *s == 409).count();
    let server_errors = results.iter().filter(|(s, _)| *s >= 500).count();
    let slowest = results.iter().map(|(_, t)| *t).max().unwrap_or_default();
    (created, conflicts, server_errors, slowest, all)
}

fn ms(duration: StdDuration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let database = TestDatabase::sqlite();
    let seeding = Instant::now();
    let world = build(&database);
    println!(
        "site {}: 20 staff, {ROOMS} rooms, {} bookings over {DAYS} days (seeded through the booking use case in {:.1} s)",
        world.site.name,
        world.bookings,
        seeding.elapsed().as_secs_f64()
    );
    println!();
    println!("| slot search ({RUNS} runs each) | days | p50 ms | p95 ms | max ms | slots found | target p95 |");
    println!("|---|---|---|---|---|---|---|");
    for (name, service, days, target) in [
        ("single-role (expert + room)", world.check_up, 1, "< 50 ms"),
        ("single-role (expert + room)", world.check_up, 7, "< 50 ms"),
        ("joint four-role + room", world.joint, 1, "< 200 ms"),
        ("joint four-role + room", world.joint, 7, "< 200 ms"),
    ] {
        let figures = measure(&world, service, days);
        println!(
            "| {name} | {days} | {} | {} | {} | {} | {target} |",
            ms(figures.p50),
            ms(figures.p95),
            ms(figures.max),
            figures.slots
        );
    }
    println!();
    let (created, conflicts, server_errors, slowest, all) = concurrent_bookings_over_http();
    println!("| 50 concurrent POST /bookings, one slot (HTTP, SQLite) | 201 | 409 | 5xx | slowest ms | all done ms |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| | {created} | {conflicts} | {server_errors} | {} | {} |",
        ms(slowest),
        ms(all)
    );
}
