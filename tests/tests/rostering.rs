//! The rostering loop over real HTTP, on SQLite and (with `TEND_TEST_POSTGRES_URL`) PostgreSQL:
//! staff and demand in, solve in the background, inspect, edit, publish, sick leave, repair,
//! export; and one solve per site at a time.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{on_each_backend, Response, TestApp};

struct Manager<'a> {
    app: &'a TestApp,
    site_id: String,
}

impl Manager<'_> {
    fn token(&self) -> Option<&str> {
        Some(&self.app.admin_token)
    }

    fn post(&self, path: &str, body: Value) -> Response {
        self.app.post(path, self.token(), &body)
    }

    fn put(&self, path: &str, body: Value) -> Response {
        self.app.json_request("PUT", path, self.token(), &body)
    }

    fn delete(&self, path: &str) -> Response {
        self.app
            .json_request("DELETE", path, self.token(), &Value::Null)
    }

    fn get(&self, path: &str) -> Response {
        self.app.get(path, self.token())
    }

    fn setup(&self) -> Vec<String> {
        for (key, start, end) in [
            ("early", "07:00:00", "15:00:00"),
            ("late", "15:00:00", "23:00:00"),
            ("night", "23:00:00", "07:00:00"),
        ] {
            self.post(
                "/api/v1/shift-types",
                json!({"site_id": self.site_id, "key": key, "start": start, "end": end}),
            )
            .assert_status(201);
        }
        let mut staff = Vec::new();
        for (i, name) in [
            "Ana Ruiz",
            "Bea Gil",
            "Carla Sanz",
            "Dora Vidal",
            "Eva Moreno",
            "Flor Ortega",
            "Gema Ramos",
            "Hugo Diaz",
        ]
        .iter()
        .enumerate()
        {
            let created = self
                .post(
                    "/api/v1/staff",
                    json!({"site_id": self.site_id, "full_name": name, "role": "operator"}),
                )
                .assert_status(201);
            let id = created["id"].as_str().unwrap().to_owned();
            let skills = if i < 5 {
                json!([{"skill": "nursing", "level": 3}, {"skill": "newborn_care", "level": 2}])
            } else {
                json!([{"skill": "newborn_care", "level": 4}])
            };
            self.put(
                &format!("/api/v1/staff/{id}/rostering"),
                json!({
                    "skills": skills,
                    "contract": {
                        "min_minutes_per_week": 960, "max_minutes_per_week": 2400,
                        "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                        "min_rest_minutes": 660, "max_weekends_per_four_weeks": 4,
                    },
                    "preferences": {"unwanted_weekdays": if i == 2 { json!(["sun"]) } else { json!([]) }},
                }),
            )
            .assert_status(200);
            staff.push(id);
        }
        self.put(
            "/api/v1/demand",
            json!({
                "site_id": self.site_id,
                "rules": [
                    {"shift_type": "early", "skill": "nursing", "required": 1},
                    {"shift_type": "early", "required": 2},
                    {"shift_type": "late", "required": 1, "preferred": 2},
                    {"shift_type": "night", "skill": "nursing", "required": 1},
                ],
                "overrides": [{"date": "2026-12-25", "shift_type": "early", "required": 1}],
            }),
        )
        .assert_status(200);
        staff
    }

    fn period(&self, first: &str, last: &str) -> String {
        let body = self
            .post(
                "/api/v1/roster-periods",
                json!({"site_id": self.site_id, "first_day": first, "last_day": last}),
            )
            .assert_status(201);
        assert_eq!(body["status"], "draft");
        body["id"].as_str().unwrap().to_owned()
    }

    fn start_solve(&self, period: &str, seconds: u32) -> Response {
        self.post(
            &format!("/api/v1/roster-periods/{period}/solve-jobs"),
            json!({"time_limit_seconds": seconds}),
        )
    }

    /// Polls a job until it ends (the solve has a time limit of a few seconds).
    fn wait(&self, job: &str) -> Value {
        let started = Instant::now();
        loop {
            let body = self
                .get(&format!("/api/v1/solve-jobs/{job}"))
                .assert_status(200);
            if body["status"] != "running" {
                return body;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn roster(&self, period: &str) -> Value {
        self.get(&format!("/api/v1/roster-periods/{period}"))
            .assert_status(200)
    }

    fn edit(&self, period: &str, staff: &str, date: &str, shift: Value, pinned: bool) -> Response {
        self.put(
            &format!("/api/v1/roster-periods/{period}/assignments"),
            json!({"staff_id": staff, "date": date, "shift_type": shift, "pinned": pinned}),
        )
    }
}

fn shift_of(roster: &Value, staff: &str, date: &str) -> Option<String> {
    roster["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["staff_id"] == staff && a["date"] == date)
        .map(|a| a["shift_type"].as_str().unwrap().to_owned())
}

#[test]
fn the_manager_rosters_publishes_and_repairs_over_http() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        let staff = manager.setup();
        let period = manager.period("2026-12-07", "2026-12-20");

        // Solve in the background and poll.
        let started = manager.start_solve(&period, 3);
        let job = started.assert_status(202);
        assert_eq!(job["status"], "running");
        assert!(started
            .header("Location")
            .unwrap()
            .ends_with(job["id"].as_str().unwrap()));
        let done = manager.wait(job["id"].as_str().unwrap());
        assert_eq!(done["status"], "succeeded", "{done}");
        assert!(done["objective"].is_i64());
        assert_eq!(done["progress"], 1.0);

        // Inspect: the proposal explains itself.
        let roster = manager.roster(&period);
        assert_eq!(roster["period"]["status"], "proposed");
        let explanation = &roster["explanation"];
        assert_eq!(explanation["uncovered"], json!([]));
        assert_eq!(explanation["staff"].as_array().unwrap().len(), 8);
        assert!(explanation["fairness"]["weekends_max"].is_u64());
        assert!(explanation["staff"][0]["preferences_met"].is_u64());

        // Edit: a hard conflict is refused with its violations, a soft one is a warning.
        let ana = &staff[0];
        let hugo = &staff[7];
        let refused = manager.edit(&period, hugo, "2026-12-08", json!("night"), false);
        let error = refused.assert_error(409, "roster.edit_conflict");
        assert_eq!(
            error["details"]["violations"][0]["code"],
            "roster.skill_mismatch"
        );
        assert_eq!(error["details"]["violations"][0]["severity"], "hard");
        let day_off = manager.edit(&period, ana, "2026-12-07", Value::Null, false);
        let outcome = day_off.assert_status(200);
        assert!(outcome["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["severity"] == "soft"));
        manager
            .edit(&period, ana, "2026-12-07", json!("early"), true)
            .assert_status(200);
        manager
            .edit(&period, ana, "2026-12-07", json!("brunch"), false)
            .assert_error(422, "roster.unknown_shift_type");

        // Publish.
        let published = manager
            .post(
                &format!("/api/v1/roster-periods/{period}/publish"),
                json!({}),
            )
            .assert_status(200);
        assert_eq!(published["period"]["status"], "published");
        manager
            .post(
                "/api/v1/roster-periods",
                json!({"site_id": manager.site_id, "first_day": "2026-12-14", "last_day": "2026-12-27"}),
            )
            .assert_error(409, "roster.overlaps_published");

        // Bea calls in sick for three days.
        let bea = &staff[1];
        let leave = manager
            .post(
                &format!("/api/v1/staff/{bea}/leave"),
                json!({"first_day": "2026-12-10", "last_day": "2026-12-12", "reason": "sick"}),
            )
            .assert_status(201);
        assert_eq!(leave["status"], "requested");
        let decided = manager
            .post(
                &format!("/api/v1/leave/{}/decision", leave["id"].as_str().unwrap()),
                json!({"status": "approved"}),
            )
            .assert_status(200);
        assert_eq!(decided["leave"]["status"], "approved");
        let affected = decided["affected_shifts"].as_array().unwrap().len();
        // Leave over Ana's pinned shift is refused.
        let pinned_leave = manager
            .post(
                &format!("/api/v1/staff/{ana}/leave"),
                json!({"first_day": "2026-12-07", "last_day": "2026-12-07"}),
            )
            .assert_status(201);
        manager
            .post(
                &format!(
                    "/api/v1/leave/{}/decision",
                    pinned_leave["id"].as_str().unwrap()
                ),
                json!({"status": "approved"}),
            )
            .assert_error(409, "leave.contradicts_pinned");

        // Repair from the 9th with a bound on changes.
        let repaired = manager
            .post(
                &format!("/api/v1/roster-periods/{period}/repair"),
                json!({"from": "2026-12-09", "max_changes": affected + 8, "time_limit_seconds": 3}),
            )
            .assert_status(200);
        assert_eq!(repaired["hard_violations"], json!([]));
        let roster = manager.roster(&period);
        for date in ["2026-12-10", "2026-12-11", "2026-12-12"] {
            assert_eq!(shift_of(&roster, bea, date), None);
        }
        assert_eq!(
            shift_of(&roster, ana, "2026-12-07").as_deref(),
            Some("early"),
            "{repaired}"
        );
        for change in repaired["changes"].as_array().unwrap() {
            assert!(change["date"].as_str().unwrap() >= "2026-12-09", "{change}");
        }

        // Export: CSV grid and one person's calendar.
        let csv = manager.get(&format!("/api/v1/roster-periods/{period}/roster.csv"));
        assert_eq!(csv.status, 200);
        assert!(csv.header("Content-Type").unwrap().starts_with("text/csv"));
        let text = String::from_utf8(csv.body.clone()).unwrap();
        assert_eq!(text.lines().count(), 9);
        assert!(text.starts_with("staff_id,full_name,2026-12-07,"));
        let ics = manager.get(&format!(
            "/api/v1/roster-periods/{period}/staff/{ana}/roster.ics"
        ));
        assert_eq!(ics.status, 200);
        let text = String::from_utf8(ics.body.clone()).unwrap();
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        let shifts = roster["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["staff_id"] == ana.as_str())
            .count();
        assert_eq!(text.matches("BEGIN:VEVENT").count(), shifts);
        // Ana's pinned early shift on Monday 7 December, 07:00 in Shanghai, is 23:00 UTC the day before.
        assert!(text.contains("DTSTART:20261206T230000Z"), "{text}");

        // The audit trail has every step.
        let audit = manager
            .get(&format!("/api/v1/audit?entity_id={period}&per_page=200"))
            .assert_status(200);
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in [
            "roster.period_created",
            "roster.solve_started",
            "roster.proposed",
            "roster.assignment_edited",
            "roster.published",
            "roster.repaired",
        ] {
            assert!(
                actions.contains(&action),
                "{action} missing from {actions:?}"
            );
        }
    });
}

#[test]
fn a_site_runs_one_solve_at_a_time_and_jobs_can_be_cancelled() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        let staff = manager.setup();
        let first = manager.period("2026-12-07", "2026-12-20");
        let second = manager.period("2026-12-21", "2027-01-03");
        // Keep the solve from finishing while the test probes it.
        let hold = tend_store::hold_solves(tend_core::SiteId::parse(&manager.site_id).unwrap());
        let job = manager.start_solve(&first, 2).assert_status(202);
        let job_id = job["id"].as_str().unwrap();
        manager
            .start_solve(&second, 2)
            .assert_error(409, "roster.solve_running");
        manager
            .edit(&first, &staff[0], "2026-12-07", json!("early"), false)
            .assert_error(409, "roster.period_being_solved");
        let cancelled = manager
            .delete(&format!("/api/v1/solve-jobs/{job_id}"))
            .assert_status(200);
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(manager.roster(&first)["period"]["status"], "draft");
        drop(hold);
        manager
            .delete(&format!("/api/v1/solve-jobs/{job_id}"))
            .assert_error(409, "roster.job_ended");
        manager
            .get("/api/v1/solve-jobs/no-such-job")
            .assert_error(404, "roster.job_not_found");
        // The site is free again.
        let job = manager.start_solve(&second, 2).assert_status(202);
        let done = manager.wait(job["id"].as_str().unwrap());
        assert_eq!(done["status"], "succeeded");
        // Unknown staff and skills are clear 4xx errors.
        manager
            .put(
                &format!("/api/v1/staff/{}/rostering", tend_core::StaffId::new()),
                json!({"skills": [], "contract": {
                    "min_minutes_per_week": 0, "max_minutes_per_week": 600,
                    "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                    "min_rest_minutes": 0, "max_weekends_per_four_weeks": 1}}),
            )
            .assert_error(404, "staff.not_found");
        manager
            .put(
                &format!("/api/v1/staff/{}/rostering", staff[0]),
                json!({"skills": [{"skill": "juggling", "level": 1}], "contract": {
                    "min_minutes_per_week": 0, "max_minutes_per_week": 600,
                    "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                    "min_rest_minutes": 0, "max_weekends_per_four_weeks": 1}}),
            )
            .assert_error(422, "staff.unknown_skill");
    });
}

#[test]
fn occupancy_swaps_and_listings_over_http() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        let staff = manager.setup();
        // One newborn-care person per three babies on the early shift.
        manager
            .put(
                "/api/v1/demand",
                json!({
                    "site_id": manager.site_id,
                    "rules": [{"shift_type": "early", "required": 1}],
                    "care_ratios": [{"shift_type": "early", "skill": "newborn_care", "clients_per_staff": 3}],
                }),
            )
            .assert_status(200);
        let demand = manager
            .get(&format!("/api/v1/demand?site_id={}", manager.site_id))
            .assert_status(200);
        assert_eq!(demand["care_ratios"][0]["clients_per_staff"], 3);
        for i in 0..7 {
            let client = app.client(json!({
                "site_id": manager.site_id, "full_name": format!("Mother {i} Test"),
            }));
            manager
                .post(
                    &format!("/api/v1/clients/{client}/transitions"),
                    json!({"to": "contracted"}),
                )
                .assert_status(201);
            manager
                .put(
                    &format!("/api/v1/clients/{client}/stay"),
                    json!({"check_in": "2026-12-08", "check_out": "2026-12-09"}),
                )
                .assert_status(200);
        }
        manager
            .put(
                "/api/v1/clients/not-a-client/stay",
                json!({"check_in": "2026-12-08", "check_out": "2026-12-09"}),
            )
            .assert_status(422);
        let period = manager.period("2026-12-07", "2026-12-13");
        let job = manager.start_solve(&period, 3).assert_status(202);
        assert_eq!(
            manager.wait(job["id"].as_str().unwrap())["status"],
            "succeeded"
        );
        let roster = manager.roster(&period);
        let early = |date: &str| {
            roster["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["date"] == date && a["shift_type"] == "early")
                .count()
        };
        // Seven babies need three newborn-care staff on the 8th and 9th.
        assert!(early("2026-12-08") >= 3, "{roster}");
        assert!(early("2026-12-09") >= 3, "{roster}");

        // A swap onto someone who has no shift that day.
        let assignment = roster["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["date"] == "2026-12-10")
            .unwrap()
            .clone();
        let owner = assignment["staff_id"].as_str().unwrap();
        let taker = staff
            .iter()
            .find(|s| {
                s.as_str() != owner
                    && shift_of(&roster, s, "2026-12-09").is_none()
                    && shift_of(&roster, s, "2026-12-10").is_none()
                    && shift_of(&roster, s, "2026-12-11").is_none()
            })
            .cloned();
        if let Some(taker) = taker {
            let swap = manager.post(
                &format!("/api/v1/roster-periods/{period}/swaps"),
                json!({"staff_id": owner, "date": "2026-12-10", "other_staff_id": taker}),
            );
            if swap.status == 201 {
                let swap = swap.json();
                let decided = manager
                    .post(
                        &format!("/api/v1/swaps/{}/decision", swap["id"].as_str().unwrap()),
                        json!({"status": "approved"}),
                    )
                    .assert_status(200);
                assert_eq!(decided["status"], "approved");
                let after = manager.roster(&period);
                assert_eq!(shift_of(&after, owner, "2026-12-10"), None);
                assert_eq!(
                    shift_of(&after, &taker, "2026-12-10").as_deref(),
                    assignment["shift_type"].as_str()
                );
            } else {
                swap.assert_error(409, "roster.edit_conflict");
            }
        }
        manager
            .post("/api/v1/swaps/nope/decision", json!({"status": "approved"}))
            .assert_error(404, "swap.not_found");

        // Listings and the OpenAPI document.
        let shifts = manager
            .get(&format!("/api/v1/shift-types?site_id={}", manager.site_id))
            .assert_status(200);
        assert_eq!(shifts.as_array().unwrap().len(), 3);
        let periods = manager
            .get(&format!(
                "/api/v1/roster-periods?site_id={}",
                manager.site_id
            ))
            .assert_status(200);
        assert_eq!(periods.as_array().unwrap().len(), 1);
        let leave = manager
            .get(&format!("/api/v1/staff/{}/leave", staff[0]))
            .assert_status(200);
        assert_eq!(leave, json!([]));
        let openapi = app.get("/openapi.json", None).assert_status(200);
        for path in [
            "/api/v1/roster-periods/{id}/solve-jobs",
            "/api/v1/solve-jobs/{id}",
            "/api/v1/roster-periods/{id}/repair",
            "/api/v1/staff/{id}/rostering",
        ] {
            assert!(openapi["paths"][path].is_object(), "{path}");
        }
    });
}
