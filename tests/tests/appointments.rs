//! Appointments over real HTTP, on SQLite and (with `TEND_TEST_POSTGRES_URL`) PostgreSQL: the
//! receptionist's day, idempotent retries, a daylight-saving week in Madrid, and fifty
//! concurrent requests for one slot.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde_json::{json, Value};
use tend_core::{Clock, SiteTimeZone};
use tests::{on_each_backend, Response, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

fn local(time_zone: &str, date: NaiveDate, time: &str) -> DateTime<Utc> {
    let tz = SiteTimeZone::parse(time_zone).unwrap().tz();
    let wall = date.and_time(time.parse().unwrap());
    tz.from_local_datetime(&wall)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn every_day(start: &str, end: &str) -> Value {
    json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|day| json!({"weekday": day, "start": start, "end": end}))
        .collect::<Vec<_>>())
}

struct Desk<'a> {
    app: &'a TestApp,
    site_id: String,
    token: String,
}

impl<'a> Desk<'a> {
    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }

    /// The same desk after a fresh login (sessions last 12 hours; tests move the clock).
    fn logged_in_again(self) -> Desk<'a> {
        Desk {
            token: self.app.login(ADMIN_EMAIL, ADMIN_PASSWORD),
            ..self
        }
    }

    fn post(&self, path: &str, body: Value) -> Response {
        self.app.post(path, self.token(), &body)
    }

    fn get(&self, path: &str) -> Response {
        self.app.get(path, self.token())
    }

    /// A site listing: the administrator names the site.
    fn list(&self, path: &str) -> Response {
        let separator = if path.contains('?') { '&' } else { '?' };
        self.get(&format!("{path}{separator}site_id={}", self.site_id))
    }

    fn staff(&self, name: &str, role: &str) -> String {
        let body = self
            .post(
                "/api/v1/staff",
                json!({
                    "site_id": self.site_id, "full_name": name, "role": role,
                    "working_hours": {"weekly": every_day("09:00", "17:00")},
                }),
            )
            .assert_status(201);
        body["id"].as_str().unwrap().to_owned()
    }

    fn service(&self, body: Value) -> String {
        let mut body = body;
        body["site_id"] = json!(self.site_id);
        let created = self.post("/api/v1/services", body).assert_status(201);
        created["id"].as_str().unwrap().to_owned()
    }

    fn check_up(&self) -> String {
        self.service(json!({
            "name": "Check-up", "price": {"minor_units": 4500, "currency": "EUR"},
            "duration_minutes": 30, "buffer_after_minutes": 10,
            "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
            "resource_requirements": [{"kind": "dental_chair", "count": 1}],
            "booking_horizon_days": 400,
        }))
    }

    fn client(&self, name: &str) -> String {
        let body = self
            .post(
                "/api/v1/clients",
                json!({"site_id": self.site_id, "full_name": name}),
            )
            .assert_status(201);
        body["client"]["id"].as_str().unwrap().to_owned()
    }

    fn book(&self, service: &str, client: &str, start: DateTime<Utc>) -> Response {
        self.post(
            "/api/v1/bookings",
            json!({"service_id": service, "client_id": client, "start": start}),
        )
    }
}

fn main_desk(app: &TestApp) -> Desk<'_> {
    Desk {
        app,
        site_id: app.main_site_id.clone(),
        token: app.admin_token.clone(),
    }
}

#[test]
fn the_receptionist_day_over_http() {
    on_each_backend(|app| {
        let desk = main_desk(app);
        let tz = "Asia/Shanghai";
        let day = app
            .clock
            .now()
            .with_timezone(&SiteTimeZone::parse(tz).unwrap().tz())
            .date_naive()
            + Duration::days(3);
        let roles = ["expert", "operator", "consultant", "receptionist"];
        let people: Vec<String> = roles
            .iter()
            .map(|role| desk.staff(&format!("Person {role}"), role))
            .collect();
        desk.post(
            "/api/v1/resources",
            json!({"site_id": desk.site_id, "name": "Chair 1", "kind": "dental_chair", "tags": ["xray"]}),
        )
        .assert_status(201);
        let resources = desk.list("/api/v1/resources").assert_status(200);
        assert_eq!(resources[0]["kind"], "dental_chair");
        assert_eq!(
            desk.list("/api/v1/staff")
                .assert_status(200)
                .as_array()
                .unwrap()
                .len(),
            4
        );
        let check_up = desk.check_up();
        let joint = desk.service(json!({
            "name": "Family planning", "price": {"minor_units": 0, "currency": "CNY"},
            "duration_minutes": 60,
            "staff_requirements": roles.iter().map(|role| json!({
                "qualification": {"kind": "role", "key": role}, "count": 1,
            })).collect::<Vec<_>>(),
            "booking_horizon_days": 60,
        }));
        assert_eq!(
            desk.get(&format!("/api/v1/services/{check_up}"))
                .assert_status(200)["name"],
            "Check-up"
        );

        // Slot search, including the joint four-role visit.
        let slots = desk
            .get(&format!("/api/v1/services/{joint}/slots?from={day}"))
            .assert_status(200);
        let first = &slots["slots"][0];
        assert_eq!(first["visit"]["start"], json!(local(tz, day, "09:00")));
        let mut assigned: Vec<&str> = first["staff"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["staff_id"].as_str().unwrap())
            .collect();
        assigned.sort_unstable();
        let mut expected: Vec<&str> = people.iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(assigned, expected);

        let ana = desk.client("Ana Ortega");
        let bea = desk.client("Bea Lopez");
        let joint_booking = desk
            .book(&joint, &ana, local(tz, day, "09:00"))
            .assert_status(201);
        assert_eq!(joint_booking["staff"].as_array().unwrap().len(), 4);
        // The expert is in the joint visit until 10:00.
        let check_slots = desk
            .get(&format!(
                "/api/v1/services/{check_up}/slots?from={day}&staff_id={}",
                people[0]
            ))
            .assert_status(200);
        assert_eq!(
            check_slots["slots"][0]["visit"]["start"],
            json!(local(tz, day, "10:00"))
        );

        // Book with an idempotency key; the retry replays, a changed body is refused.
        let body =
            json!({"service_id": check_up, "client_id": bea, "start": local(tz, day, "10:00")});
        let key = [("Idempotency-Key", "desk-42")];
        let first = app.json_request_with("POST", "/api/v1/bookings", desk.token(), &body, &key);
        let booked = first.assert_status(201);
        let retry = app.json_request_with("POST", "/api/v1/bookings", desk.token(), &body, &key);
        assert_eq!(retry.assert_status(201), booked);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        let mut changed = body.clone();
        changed["start"] = json!(local(tz, day, "11:00"));
        app.json_request_with("POST", "/api/v1/bookings", desk.token(), &changed, &key)
            .assert_error(422, "booking.idempotency_key_reused");
        let id = booked["id"].as_str().unwrap();
        assert_eq!(
            desk.list(&format!("/api/v1/bookings?date={day}&client_id={bea}"))
                .assert_status(200)
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Someone else wants 10:00; Bea moves to 14:00 and the waitlist gets the offer.
        let carla = desk.client("Carla Diaz");
        desk.book(&check_up, &carla, local(tz, day, "10:00"))
            .assert_error(409, "booking.slot_taken");
        let entry = desk
            .post(
                "/api/v1/waitlist",
                json!({"service_id": check_up, "client_id": carla, "from": day}),
            )
            .assert_status(201);
        let moved = desk
            .post(
                &format!("/api/v1/bookings/{id}/reschedule"),
                json!({"start": local(tz, day, "14:00")}),
            )
            .assert_status(200);
        assert_eq!(moved["start"], json!(local(tz, day, "14:00")));
        let reminders = desk
            .get(&format!("/api/v1/bookings/{id}/reminders"))
            .assert_status(200);
        let pending: Vec<&Value> = reminders
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "pending")
            .map(|r| &r["due_at"])
            .collect();
        assert_eq!(
            pending,
            [
                &json!(local(tz, day, "14:00") - Duration::hours(24)),
                &json!(local(tz, day, "12:00"))
            ]
        );
        let waitlist = desk
            .list(&format!("/api/v1/waitlist?service_id={check_up}"))
            .assert_status(200);
        assert_eq!(waitlist[0]["status"], "offered");
        assert_eq!(
            waitlist[0]["offer"]["start"],
            json!(local(tz, day, "10:00"))
        );
        let entry_id = entry["id"].as_str().unwrap();
        let carla_booking = desk
            .post(&format!("/api/v1/waitlist/{entry_id}/accept"), json!({}))
            .assert_status(201);
        assert_eq!(carla_booking["start"], json!(local(tz, day, "10:00")));
        let carla_id = carla_booking["id"].as_str().unwrap();

        // Bad input: clear 4xx, nothing booked.
        desk.book(
            "0190b1d2-0000-7000-8000-000000000000",
            &ana,
            local(tz, day, "15:00"),
        )
        .assert_error(404, "service.not_found");
        desk.book(
            &check_up,
            "0190b1d2-0000-7000-8000-000000000000",
            local(tz, day, "15:00"),
        )
        .assert_error(404, "client.not_found");
        desk.book(&check_up, &ana, local(tz, day, "15:03"))
            .assert_error(422, "appointments.slot.misaligned_start");
        desk.book(&check_up, &ana, local(tz, day, "20:00"))
            .assert_error(422, "appointments.slot.no_qualified_staff_free");
        desk.book(&check_up, &ana, local(tz, day - Duration::days(4), "10:00"))
            .assert_error(422, "appointments.slot.start_in_past");
        desk.post(
            "/api/v1/bookings",
            json!({"service_id": check_up, "client_id": ana, "start": local(tz, day, "15:00"),
                   "required_staff_ids": ["0190b1d2-0000-7000-8000-000000000000"]}),
        )
        .assert_error(404, "staff.not_found");
        desk.get(&format!("/api/v1/services/{check_up}/slots"))
            .assert_error(422, "value.required");
        desk.get("/api/v1/bookings/not-an-id")
            .assert_error(422, "value.invalid_id");
        desk.post(
            &format!("/api/v1/bookings/{carla_id}/reschedule"),
            json!({"start": local(tz, day, "14:15")}),
        )
        .assert_error(409, "booking.slot_taken");
        desk.post(
            &format!("/api/v1/bookings/{carla_id}/actions"),
            json!({"action": "dance"}),
        )
        .assert_error(422, "validation.invalid_fields");

        // The day goes by: Carla comes, Bea does not.
        app.clock.advance(local(tz, day, "09:55") - app.clock.now());
        let desk = desk.logged_in_again();
        for action in ["confirm", "arrive", "start", "complete"] {
            desk.post(
                &format!("/api/v1/bookings/{carla_id}/actions"),
                json!({"action": action}),
            )
            .assert_status(200);
        }
        desk.post(
            &format!("/api/v1/bookings/{id}/actions"),
            json!({"action": "no_show"}),
        )
        .assert_error(409, "appointments.booking.no_show_before_start");
        app.clock.advance(Duration::hours(5));
        let no_show = desk
            .post(
                &format!("/api/v1/bookings/{id}/actions"),
                json!({"action": "no_show", "reason": "did not answer the phone"}),
            )
            .assert_status(200);
        assert_eq!(no_show["status"], "no_show");
        assert_eq!(no_show["status_reason"], "did not answer the phone");
        let counts = desk
            .get(&format!("/api/v1/clients/{bea}/no-shows"))
            .assert_status(200);
        assert_eq!(counts["no_shows"], 1);
        assert_eq!(
            desk.get(&format!("/api/v1/bookings/{carla_id}"))
                .assert_status(200)["status"],
            "completed"
        );

        // Calendars.
        let ics = desk.get(&format!(
            "/api/v1/staff/{}/calendar.ics?date={day}",
            people[0]
        ));
        assert_eq!(ics.status, 200);
        assert!(ics
            .header("content-type")
            .unwrap()
            .starts_with("text/calendar"));
        let text = String::from_utf8(ics.body.clone()).unwrap();
        assert!(text.contains("SUMMARY:Family planning"), "{text}");
        assert!(text.contains("SUMMARY:Check-up"), "{text}");
        let chair = resources[0]["id"].as_str().unwrap();
        let chair_ics = desk.get(&format!(
            "/api/v1/resources/{chair}/calendar.ics?date={day}"
        ));
        assert_eq!(chair_ics.status, 200);

        // The audit trail has the whole story.
        let audit = desk
            .get(&format!("/api/v1/audit?entity_id={id}"))
            .assert_status(200);
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|event| event["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["booking.created", "booking.rescheduled", "booking.no_show"]
        );
    });
}

#[test]
fn typed_blocks_hold_time_for_one_kind_of_work_and_plain_blocks_take_it_away() {
    on_each_backend(|app| {
        let desk = main_desk(app);
        let tz = "Asia/Shanghai";
        let day = app
            .clock
            .now()
            .with_timezone(&SiteTimeZone::parse(tz).unwrap().tz())
            .date_naive()
            + Duration::days(3);
        let dentist = desk.staff("Dr Wen", "expert");
        let chair = desk
            .post(
                "/api/v1/resources",
                json!({"site_id": desk.site_id, "name": "Chair 1", "kind": "dental_chair"}),
            )
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let check_up = desk.check_up();
        let new_patient = desk.service(json!({
            "name": "New patient exam", "price": {"minor_units": 9000, "currency": "EUR"},
            "duration_minutes": 30,
            "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
            "resource_requirements": [{"kind": "dental_chair", "count": 1}],
            "work_kind": "new_patient",
            "booking_horizon_days": 400,
        }));
        let first_slot = |service: &str| {
            desk.get(&format!("/api/v1/services/{service}/slots?from={day}"))
                .assert_status(200)["slots"][0]["visit"]["start"]
                .clone()
        };
        assert_eq!(first_slot(&check_up), json!(local(tz, day, "09:00")));

        // The dentist's mornings are held for new patients.
        let held = desk
            .post(
                &format!("/api/v1/staff/{dentist}/time-off"),
                json!({"start": local(tz, day, "09:00"), "end": local(tz, day, "12:00"),
                       "reason": "new patients only",
                       "held_for": {"kind": "work", "work_kind": "new_patient"}}),
            )
            .assert_status(201);
        assert_eq!(held["held_for"]["work_kind"], "new_patient");
        assert_eq!(first_slot(&new_patient), json!(local(tz, day, "09:00")));
        assert_eq!(first_slot(&check_up), json!(local(tz, day, "12:00")));
        let client = desk.client("Lin Qiao");
        desk.book(&check_up, &client, local(tz, day, "09:00"))
            .assert_error(422, "appointments.slot.no_qualified_staff_free");
        desk.book(&new_patient, &client, local(tz, day, "09:00"))
            .assert_status(201);

        // The chair is cleaned from 12:00 to 13:00: nobody may use it, whatever the service.
        let cleaning = desk
            .post(
                &format!("/api/v1/resources/{chair}/time-off"),
                json!({"start": local(tz, day, "12:00"), "end": local(tz, day, "13:00"),
                       "reason": "deep cleaning"}),
            )
            .assert_status(201);
        assert_eq!(cleaning["held_for"], Value::Null);
        assert_eq!(first_slot(&check_up), json!(local(tz, day, "13:00")));
        let new_patient_slots = desk
            .get(&format!("/api/v1/services/{new_patient}/slots?from={day}"))
            .assert_status(200);
        let starts: Vec<&Value> = new_patient_slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| &slot["visit"]["start"])
            .collect();
        assert!(!starts.contains(&&json!(local(tz, day, "12:00"))));
        assert!(!starts.contains(&&json!(local(tz, day, "09:00"))), "booked");

        // Both blocks are in the audit trail; bad input writes nothing.
        let actions = |entity_type: &str, id: &str| -> Vec<String> {
            desk.get(&format!(
                "/api/v1/audit?entity_type={entity_type}&entity_id={id}"
            ))
            .assert_status(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| event["action"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(actions("staff_member", &dentist).contains(&"staff.time_blocked".to_owned()));
        assert!(actions("resource", &chair).contains(&"resource.time_blocked".to_owned()));
        desk.post(
            "/api/v1/resources/0190b1d2-0000-7000-8000-000000000000/time-off",
            json!({"start": local(tz, day, "12:00"), "end": local(tz, day, "13:00")}),
        )
        .assert_error(404, "resource.not_found");
        let malformed = desk.post(
            &format!("/api/v1/staff/{dentist}/time-off"),
            json!({"start": local(tz, day, "14:00"), "end": local(tz, day, "15:00"),
                   "held_for": {"kind": "vacation"}}),
        );
        assert!(
            (400..500).contains(&malformed.status),
            "{}",
            malformed.status
        );
        assert_eq!(first_slot(&check_up), json!(local(tz, day, "13:00")));
    });
}

#[test]
fn the_catalogue_can_be_changed_and_retired_without_touching_bookings() {
    on_each_backend(|app| {
        let desk = main_desk(app);
        let tz = "Asia/Shanghai";
        let day = app
            .clock
            .now()
            .with_timezone(&SiteTimeZone::parse(tz).unwrap().tz())
            .date_naive()
            + Duration::days(3);
        desk.staff("Dr Wen", "expert");
        let chair = desk
            .post(
                "/api/v1/resources",
                json!({"site_id": desk.site_id, "name": "Chair 1", "kind": "dental_chair"}),
            )
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let check_up = desk.check_up();
        let client = desk.client("Lin Qiao");
        let booking = desk
            .book(&check_up, &client, local(tz, day, "09:00"))
            .assert_status(201);
        let booking_id = booking["id"].as_str().unwrap().to_owned();

        // A longer check-up from now on: 60 minutes plus its 10-minute buffer.
        let longer = json!({
            "name": "Check-up", "price": {"minor_units": 5500, "currency": "EUR"},
            "duration_minutes": 60, "buffer_after_minutes": 10,
            "staff_requirements": [{"qualification": {"kind": "role", "key": "expert"}, "count": 1}],
            "resource_requirements": [{"kind": "dental_chair", "count": 1}],
            "booking_horizon_days": 400,
        });
        let updated = app
            .json_request(
                "PUT",
                &format!("/api/v1/services/{check_up}"),
                desk.token(),
                &longer,
            )
            .assert_status(200);
        assert_eq!(updated["duration_minutes"], 60);
        let slots = desk
            .get(&format!("/api/v1/services/{check_up}/slots?from={day}"))
            .assert_status(200);
        let first = &slots["slots"][0]["visit"];
        // The 09:00 booking holds the dentist and the chair until 09:40; starts are on the
        // quarter hour.
        assert_eq!(first["start"], json!(local(tz, day, "09:45")));
        assert_eq!(first["end"], json!(local(tz, day, "10:45")));
        let mut invalid = longer.clone();
        invalid["duration_minutes"] = json!(0);
        let refused = app.json_request(
            "PUT",
            &format!("/api/v1/services/{check_up}"),
            desk.token(),
            &invalid,
        );
        assert_eq!(refused.status, 422);
        assert_eq!(
            desk.get(&format!("/api/v1/services/{check_up}"))
                .assert_status(200)["duration_minutes"],
            60
        );

        // Without its only chair nothing can be booked; the booking made before stays.
        app.json_request(
            "DELETE",
            &format!("/api/v1/resources/{chair}"),
            desk.token(),
            &Value::Null,
        )
        .assert_status(204);
        app.json_request(
            "DELETE",
            &format!("/api/v1/resources/{chair}"),
            desk.token(),
            &Value::Null,
        )
        .assert_error(404, "resource.not_found");
        let slots = desk
            .get(&format!("/api/v1/services/{check_up}/slots?from={day}"))
            .assert_status(200);
        assert_eq!(slots["slots"], json!([]));

        // A retired service is gone from the catalogue, its bookings are not.
        app.json_request(
            "DELETE",
            &format!("/api/v1/services/{check_up}"),
            desk.token(),
            &Value::Null,
        )
        .assert_status(204);
        desk.get(&format!("/api/v1/services/{check_up}"))
            .assert_error(404, "service.not_found");
        assert_eq!(desk.list("/api/v1/services").assert_status(200), json!([]));
        desk.book(&check_up, &client, local(tz, day, "11:00"))
            .assert_error(404, "service.not_found");
        assert_eq!(
            desk.get(&format!("/api/v1/bookings/{booking_id}"))
                .assert_status(200)["status"],
            booking["status"]
        );
    });
}

/// The last Sunday of March after `now`: when Madrid's clocks go forward.
fn next_spring_forward(now: DateTime<Utc>) -> NaiveDate {
    let mut year = now.year();
    loop {
        let mut day = NaiveDate::from_ymd_opt(year, 3, 31).unwrap();
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        if local("Europe/Madrid", day, "00:00") > now + Duration::days(2) {
            return day;
        }
        year += 1;
    }
}

#[test]
fn a_daylight_saving_week_in_madrid() {
    on_each_backend(|app| {
        let site_id = app.create_site("Madrid Centro");
        let desk = Desk {
            app,
            site_id,
            token: app.admin_token.clone(),
        };
        let tz = "Europe/Madrid";
        desk.staff("Dr Ruiz", "expert");
        desk.post(
            "/api/v1/resources",
            json!({"site_id": desk.site_id, "name": "Chair 1", "kind": "dental_chair"}),
        )
        .assert_status(201);
        let service = desk.check_up();
        let sunday = next_spring_forward(app.clock.now());
        let saturday = sunday.pred_opt().unwrap();
        let monday = sunday.succ_opt().unwrap();
        let slots = desk
            .get(&format!(
                "/api/v1/services/{service}/slots?from={saturday}&to={monday}&step_minutes=60"
            ))
            .assert_status(200);
        let starts: Vec<&str> = slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| slot["local_start"].as_str().unwrap())
            .filter(|start| start.contains("T09:00"))
            .collect();
        assert_eq!(
            starts,
            [
                format!("{saturday}T09:00:00+01:00"),
                format!("{sunday}T09:00:00+02:00"),
                format!("{monday}T09:00:00+02:00"),
            ]
        );
        // Every day has eight hourly starts, 09:00 to 16:00 on the wall clock.
        assert_eq!(slots["slots"].as_array().unwrap().len(), 24);

        // A weekly series at 10:00 keeps its wall-clock time across the change.
        let client = desk.client("Ana Ortega");
        let series = desk
            .post(
                "/api/v1/bookings/series",
                json!({
                    "service_id": service, "client_id": client,
                    "first_start": format!("{}T10:00:00", saturday - Duration::days(7)),
                    "occurrences": 3,
                }),
            )
            .assert_status(201);
        let local_starts: Vec<&str> = series
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["local_start"].as_str().unwrap())
            .collect();
        assert_eq!(
            local_starts,
            [
                format!("{}T10:00:00+01:00", saturday - Duration::days(7)),
                format!("{saturday}T10:00:00+01:00"),
                format!("{}T10:00:00+02:00", saturday + Duration::days(7)),
            ]
        );
        assert_eq!(
            series[1]["start"],
            json!(Utc.from_utc_datetime(&saturday.and_hms_opt(9, 0, 0).unwrap()))
        );
        // The same series again collides everywhere: all or nothing, every conflict named.
        let conflict = desk
            .post(
                "/api/v1/bookings/series",
                json!({
                    "service_id": service, "client_id": desk.client("Bea Lopez"),
                    "first_start": format!("{}T10:00:00", saturday - Duration::days(7)),
                    "occurrences": 3,
                }),
            )
            .assert_error(409, "booking.series_conflict");
        assert_eq!(
            conflict["details"]["occurrences"].as_array().unwrap().len(),
            3
        );
        // A booking on Sunday at 10:00 local is 08:00 UTC.
        let sunday_booking = desk
            .book(&service, &client, local(tz, sunday, "10:00"))
            .assert_status(201);
        assert_eq!(
            sunday_booking["start"],
            json!(Utc.from_utc_datetime(&sunday.and_hms_opt(8, 0, 0).unwrap()))
        );
    });
}

#[test]
fn fifty_concurrent_requests_for_one_slot_book_it_once() {
    on_each_backend(|app| {
        let desk = main_desk(app);
        desk.staff("Dr Ruiz", "expert");
        desk.post(
            "/api/v1/resources",
            json!({"site_id": desk.site_id, "name": "Chair 1", "kind": "dental_chair"}),
        )
        .assert_status(201);
        let service = desk.check_up();
        let tz = "Asia/Shanghai";
        let day = app
            .clock
            .now()
            .with_timezone(&SiteTimeZone::parse(tz).unwrap().tz())
            .date_naive()
            + Duration::days(2);
        let start = local(tz, day, "11:00");
        let clients: Vec<String> = (0..50)
            .map(|index| desk.client(&format!("Client {index}")))
            .collect();
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = clients
                .iter()
                .map(|client| {
                    let desk = &desk;
                    let service = &service;
                    scope.spawn(move || {
                        let response = desk.book(service, client, start);
                        if response.status == 409 {
                            response.assert_error(409, "booking.slot_taken");
                        }
                        response.status
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            49,
            "{statuses:?}"
        );
        let booked = desk
            .list(&format!("/api/v1/bookings?date={day}"))
            .assert_status(200);
        assert_eq!(booked.as_array().unwrap().len(), 1);
    });
}
