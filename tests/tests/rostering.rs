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

    /// Polls a job until `done` holds for it, for at most `seconds`.
    fn poll(&self, job: &str, seconds: u64, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let body = self
                .get(&format!("/api/v1/solve-jobs/{job}"))
                .assert_status(200);
            if done(&body) {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(seconds),
                "gave up after {seconds} s: {body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn audit_actions(&self, entity: &str) -> Vec<String> {
        let audit = self
            .get(&format!("/api/v1/audit?entity_id={entity}&per_page=200"))
            .assert_status(200);
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    fn staff_member(&self, name: &str, profile: Value) -> String {
        let created = self
            .post(
                "/api/v1/staff",
                json!({"site_id": self.site_id, "full_name": name, "role": "operator"}),
            )
            .assert_status(201);
        let id = created["id"].as_str().unwrap().to_owned();
        self.put(&format!("/api/v1/staff/{id}/rostering"), profile)
            .assert_status(200);
        id
    }

    /// The rostering benchmark's site: 30 staff, 4 shift types, 6 skills; over 28 days its solve
    /// runs for many seconds.
    fn big_setup(&self) {
        for (key, start, end) in [
            ("early", "07:00:00", "15:00:00"),
            ("day", "09:00:00", "17:00:00"),
            ("late", "15:00:00", "23:00:00"),
            ("night", "23:00:00", "07:00:00"),
        ] {
            self.post(
                "/api/v1/shift-types",
                json!({"site_id": self.site_id, "key": key, "start": start, "end": end}),
            )
            .assert_status(201);
        }
        let groups: [(&str, usize, &[&str], &[&str]); 5] = [
            ("Nurse", 12, &["nursing", "newborn_care"], &[]),
            (
                "Carer",
                6,
                &["newborn_care", "postpartum_rehabilitation"],
                &[],
            ),
            (
                "Lactation",
                4,
                &["lactation", "newborn_care"],
                &["early", "day", "late"],
            ),
            ("Cook", 4, &["cooking"], &["early", "day", "late"]),
            ("Cleaner", 4, &["cleaning"], &["early", "day"]),
        ];
        for (group, count, skills, shifts) in groups {
            for i in 0..count {
                self.staff_member(
                    &format!("{group} {}", (b'A' + i as u8) as char),
                    json!({
                        "skills": skills.iter().map(|s| json!({"skill": s, "level": 3})).collect::<Vec<_>>(),
                        "contract": {
                            "min_minutes_per_week": 24 * 60, "max_minutes_per_week": 40 * 60,
                            "max_consecutive_days": 5, "min_consecutive_days_off": 2,
                            "min_rest_minutes": 11 * 60, "max_weekends_per_four_weeks": 3,
                        },
                        "shift_types": shifts,
                        "preferences": {
                            "unwanted_weekdays": if i % 4 == 1 { json!(["sun"]) } else { json!([]) },
                            "unwanted_shift_types": if i % 5 == 2 { json!(["night"]) } else { json!([]) },
                        },
                    }),
                );
            }
        }
        self.put(
            "/api/v1/demand",
            json!({
                "site_id": self.site_id,
                "rules": [
                    {"shift_type": "early", "skill": "nursing", "required": 2},
                    {"shift_type": "early", "skill": "newborn_care", "required": 3},
                    {"shift_type": "early", "skill": "cooking", "required": 1},
                    {"shift_type": "day", "skill": "lactation", "required": 1, "preferred": 2},
                    {"shift_type": "day", "skill": "cleaning", "required": 2},
                    {"shift_type": "day", "skill": "postpartum_rehabilitation", "required": 1},
                    {"shift_type": "late", "skill": "nursing", "required": 2},
                    {"shift_type": "late", "skill": "newborn_care", "required": 2},
                    {"shift_type": "late", "skill": "cooking", "required": 1},
                    {"shift_type": "night", "skill": "nursing", "required": 1},
                    {"shift_type": "night", "skill": "newborn_care", "required": 2},
                ],
            }),
        )
        .assert_status(200);
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
        // Recorded only (the automatic repair is tested below): the manager repairs by hand.
        let decided = manager
            .post(
                &format!("/api/v1/leave/{}/decision", leave["id"].as_str().unwrap()),
                json!({"status": "approved", "repair": false}),
            )
            .assert_status(200);
        assert_eq!(decided["leave"]["status"], "approved");
        assert_eq!(decided["repairs"], json!([]));
        let affected = decided["affected_shifts"].as_array().unwrap().len();
        if affected > 0 {
            assert_eq!(decided["periods_needing_repair"], json!([period]));
        }
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
        // The document names the fields of solve-job progress, leave repair and demand changes.
        let text = |path: &str, method: &str| openapi["paths"][path][method].to_string();
        let job = text("/api/v1/solve-jobs/{id}", "get");
        for field in [
            "phase",
            "objective",
            "best_bound",
            "elapsed_seconds",
            "heartbeat_at",
        ] {
            assert!(job.contains(field), "{field} in {job}");
        }
        let decision = text("/api/v1/leave/{id}/decision", "post");
        for field in ["repair", "max_changes", "repairs", "periods_needing_repair"] {
            assert!(decision.contains(field), "{field} in {decision}");
        }
        for path in ["/api/v1/demand", "/api/v1/clients/{id}/stay"] {
            let operation = text(path, "put");
            assert!(operation.contains("affected_periods"), "{operation}");
            assert!(operation.contains("needs_repair"), "{operation}");
        }
    });
}

#[test]
fn a_cancelled_solve_stops_its_solver_stores_nothing_and_frees_the_site() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        manager.big_setup();
        let period = manager.period("2027-01-04", "2027-01-31");
        let job = manager.start_solve(&period, 120).assert_status(202);
        let job_id = job["id"].as_str().unwrap();
        assert_eq!(job["phase"], "starting");
        assert!(job["heartbeat_at"].is_string(), "{job}");

        // While it runs, the job shows the engine's phase, then the incumbent and the bound.
        let running = manager.poll(job_id, 90, |job| {
            assert_eq!(job["status"], "running", "{job}");
            job["objective"].is_i64()
        });
        assert!(running["phase"].is_string(), "{running}");
        assert_ne!(running["phase"], "starting", "{running}");
        assert!(running["best_bound"].is_i64(), "{running}");
        assert!(running["gap"].is_f64(), "{running}");
        assert!(
            running["solver_seconds"].as_f64().unwrap() > 0.0,
            "{running}"
        );
        assert!(running["elapsed_seconds"].is_f64(), "{running}");
        assert!(running["progress"].as_f64().unwrap() < 1.0, "{running}");

        // Cancelling stops the solver within seconds, not at the time limit.
        let asked = Instant::now();
        let cancelled = manager
            .delete(&format!("/api/v1/solve-jobs/{job_id}"))
            .assert_status(200);
        assert_eq!(cancelled["status"], "cancelled");
        let stopped = manager.poll(job_id, 20, |job| job["phase"] == "stopped");
        assert_eq!(stopped["status"], "cancelled");
        assert!(asked.elapsed() < Duration::from_secs(20));

        // Nothing the solver found is stored; the period is a draft again and audited so.
        let roster = manager.roster(&period);
        assert_eq!(roster["period"]["status"], "draft");
        assert_eq!(roster["assignments"], json!([]));
        assert_eq!(roster["explanation"], Value::Null);
        let actions = manager.audit_actions(&period);
        assert!(
            actions.contains(&"roster.solve_cancelled".to_owned()),
            "{actions:?}"
        );
        assert!(
            !actions.contains(&"roster.proposed".to_owned()),
            "{actions:?}"
        );

        // The site takes a new solve at once.
        let next = manager.start_solve(&period, 120).assert_status(202);
        let next_id = next["id"].as_str().unwrap();
        assert_ne!(next_id, job_id);
        manager
            .delete(&format!("/api/v1/solve-jobs/{next_id}"))
            .assert_status(200);
        manager.poll(next_id, 20, |job| job["phase"] == "stopped");
    });
}

#[test]
fn a_solve_left_running_by_a_stopped_server_is_recovered() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        manager.setup();
        let period = manager.period("2026-12-07", "2026-12-13");
        // What a server killed mid-solve leaves: the period solving, its job running, and a
        // heartbeat that stopped ten minutes ago.
        let orphan = app
            .store
            .plant_orphaned_solve_job(&period, chrono::TimeDelta::minutes(10))
            .unwrap();
        // Another server's job that is alive (its heartbeat two seconds old) at another site.
        let north = app.create_site("North");
        let north_period = manager
            .post(
                "/api/v1/roster-periods",
                json!({"site_id": north, "first_day": "2026-12-07", "last_day": "2026-12-13"}),
            )
            .assert_status(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let live = app
            .store
            .plant_orphaned_solve_job(&north_period, chrono::TimeDelta::seconds(2))
            .unwrap();
        assert_eq!(manager.roster(&period)["period"]["status"], "solving");

        // A server starting on the database recovers the dead job and leaves the live one.
        let restarted = app.database.open(app.clock.clone());
        drop(restarted);
        let job = manager
            .get(&format!("/api/v1/solve-jobs/{orphan}"))
            .assert_status(200);
        assert_eq!(job["status"], "failed", "{job}");
        assert_eq!(job["error"], "interrupted: the server stopped");
        assert_eq!(job["phase"], "interrupted");
        assert!(job["finished_at"].is_string());
        assert_eq!(manager.roster(&period)["period"]["status"], "draft");
        let actions = manager.audit_actions(&period);
        assert!(
            actions.contains(&"roster.solve_interrupted".to_owned()),
            "{actions:?}"
        );
        let job = manager
            .get(&format!("/api/v1/solve-jobs/{live}"))
            .assert_status(200);
        assert_eq!(job["status"], "running", "{job}");

        // The site is free: a new solve runs and succeeds.
        let next = manager.start_solve(&period, 2).assert_status(202);
        assert_eq!(
            manager.wait(next["id"].as_str().unwrap())["status"],
            "succeeded"
        );

        // A live job of another server blocks the site until its heartbeat is 30 s old; then
        // starting a solve recovers it.
        let second = manager.period("2026-12-14", "2026-12-20");
        let blocking = app
            .store
            .plant_orphaned_solve_job(&second, chrono::TimeDelta::seconds(2))
            .unwrap();
        manager
            .start_solve(&period, 2)
            .assert_error(409, "roster.solve_running");
        app.clock.advance(chrono::TimeDelta::seconds(40));
        let next = manager.start_solve(&period, 2).assert_status(202);
        assert_eq!(
            manager.wait(next["id"].as_str().unwrap())["status"],
            "succeeded"
        );
        let job = manager
            .get(&format!("/api/v1/solve-jobs/{blocking}"))
            .assert_status(200);
        assert_eq!(job["status"], "failed", "{job}");
        assert_eq!(manager.roster(&second)["period"]["status"], "draft");

        // Reading a job whose server stopped reports it interrupted.
        let job = manager
            .get(&format!("/api/v1/solve-jobs/{live}"))
            .assert_status(200);
        assert_eq!(job["status"], "failed", "{job}");
        assert_eq!(job["error"], "interrupted: the server stopped");
        assert_eq!(manager.roster(&north_period)["period"]["status"], "draft");
    });
}

#[test]
fn approving_sick_leave_repairs_the_published_roster_all_or_nothing() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        let staff = manager.setup();
        let period = manager.period("2026-12-07", "2026-12-20");
        let job = manager.start_solve(&period, 3).assert_status(202);
        assert_eq!(
            manager.wait(job["id"].as_str().unwrap())["status"],
            "succeeded"
        );
        manager
            .post(
                &format!("/api/v1/roster-periods/{period}/publish"),
                json!({}),
            )
            .assert_status(200);
        let published = manager.roster(&period);
        let sick_days = ["2026-12-10", "2026-12-11", "2026-12-12"];
        let shifts_on_sick_days = |id: &str| {
            sick_days
                .iter()
                .filter(|d| shift_of(&published, id, d).is_some())
                .count()
        };
        let mut by_shifts = staff.clone();
        by_shifts.sort_by_key(|id| std::cmp::Reverse(shifts_on_sick_days(id)));
        let (sick, other) = (&by_shifts[0], &by_shifts[1]);
        assert!(shifts_on_sick_days(sick) > 0);
        let ask_leave = |id: &str| {
            manager
                .post(
                    &format!("/api/v1/staff/{id}/leave"),
                    json!({"first_day": sick_days[0], "last_day": sick_days[2], "reason": "sick"}),
                )
                .assert_status(201)["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let leave = ask_leave(sick);
        let decide = |leave: &str, body: Value| {
            manager.post(&format!("/api/v1/leave/{leave}/decision"), body)
        };

        // A repair beyond its bound refuses the approval: nothing is written.
        decide(
            &leave,
            json!({"status": "approved", "max_changes": 0, "time_limit_seconds": 2}),
        )
        .assert_error(409, "roster.repair_too_many_changes");
        let listed = manager
            .get(&format!("/api/v1/staff/{sick}/leave"))
            .assert_status(200);
        assert_eq!(listed[0]["status"], "requested");
        assert_eq!(
            manager.roster(&period)["assignments"],
            published["assignments"]
        );

        // Approval repairs the period in the same transaction.
        let decided = decide(
            &leave,
            json!({"status": "approved", "time_limit_seconds": 3}),
        )
        .assert_status(200);
        assert_eq!(decided["leave"]["status"], "approved");
        assert_eq!(
            decided["affected_shifts"].as_array().unwrap().len(),
            shifts_on_sick_days(sick)
        );
        assert_eq!(decided["periods_needing_repair"], json!([]));
        let repairs = decided["repairs"].as_array().unwrap();
        assert_eq!(repairs.len(), 1, "{decided}");
        let repair = &repairs[0];
        assert_eq!(repair["period_id"], period.as_str());
        assert_eq!(repair["from"], sick_days[0]);
        assert_eq!(repair["hard_violations"], json!([]));
        assert!(repair["explanation"]["staff"].is_array());
        let changes = repair["changes"].as_array().unwrap();
        for day in sick_days {
            if shift_of(&published, sick, day).is_some() {
                assert!(
                    changes.iter().any(|c| c["staff_id"] == sick.as_str()
                        && c["date"] == day
                        && c["after"].is_null()),
                    "{repair}"
                );
            }
        }
        for change in changes {
            assert!(change["date"].as_str().unwrap() >= sick_days[0], "{change}");
        }
        for uncovered in repair["uncovered"].as_array().unwrap() {
            assert!(uncovered["candidates"].is_array(), "{uncovered}");
        }
        let roster = manager.roster(&period);
        for day in sick_days {
            assert_eq!(shift_of(&roster, sick, day), None);
        }
        // Shifts before the leave are as published.
        for day in ["2026-12-07", "2026-12-08", "2026-12-09"] {
            for id in &staff {
                assert_eq!(shift_of(&roster, id, day), shift_of(&published, id, day));
            }
        }
        let actions = manager.audit_actions(&period);
        assert!(
            actions.contains(&"roster.repaired".to_owned()),
            "{actions:?}"
        );
        assert!(manager
            .audit_actions(&leave)
            .contains(&"leave.decided".to_owned()));

        // Opting out records the leave and says which period needs a repair.
        let before = manager.roster(&period);
        let other_on_leave_days = sick_days
            .iter()
            .filter(|d| shift_of(&before, other, d).is_some())
            .count();
        let leave = ask_leave(other);
        let decided =
            decide(&leave, json!({"status": "approved", "repair": false})).assert_status(200);
        assert_eq!(decided["repairs"], json!([]));
        if other_on_leave_days > 0 {
            assert_eq!(decided["periods_needing_repair"], json!([period]));
        } else {
            assert_eq!(decided["periods_needing_repair"], json!([]));
        }
        assert_eq!(
            manager.roster(&period)["assignments"],
            before["assignments"]
        );

        // Bad input: an unknown field and another site's leave are 4xx.
        let third = ask_leave(&by_shifts[2]);
        decide(&third, json!({"status": "approved", "repair": "yes"}))
            .assert_error(422, "request.invalid_body");
        let north = app.create_site("North");
        let outsider = app.user("north.manager@tend.local", "store_manager", &north);
        app.post(
            &format!("/api/v1/leave/{third}/decision"),
            Some(&outsider),
            &json!({"status": "approved"}),
        )
        .assert_error(404, "leave.not_found");
    });
}

#[test]
fn demand_changes_over_a_published_roster_list_the_periods_to_repair() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        manager.setup();
        let period = manager.period("2026-12-07", "2026-12-13");
        let job = manager.start_solve(&period, 3).assert_status(202);
        assert_eq!(
            manager.wait(job["id"].as_str().unwrap())["status"],
            "succeeded"
        );
        manager
            .post(
                &format!("/api/v1/roster-periods/{period}/publish"),
                json!({}),
            )
            .assert_status(200);
        let published = manager.roster(&period);
        let demand = |overrides: Value, care_ratios: Value| {
            manager.put(
                "/api/v1/demand",
                json!({
                    "site_id": manager.site_id,
                    "rules": [
                        {"shift_type": "early", "skill": "nursing", "required": 1},
                        {"shift_type": "early", "required": 2},
                        {"shift_type": "late", "required": 1, "preferred": 2},
                        {"shift_type": "night", "skill": "nursing", "required": 1},
                    ],
                    "overrides": overrides,
                    "care_ratios": care_ratios,
                }),
            )
        };

        // A peak on the 9th: the published roster is not rewritten, the answer says it needs a
        // repair and what is uncovered.
        let changed = demand(
            json!([{"date": "2026-12-09", "shift_type": "early", "required": 7}]),
            json!([]),
        )
        .assert_status(200);
        assert_eq!(changed["rules"].as_array().unwrap().len(), 4);
        let affected = changed["affected_periods"].as_array().unwrap();
        assert_eq!(affected.len(), 1, "{changed}");
        assert_eq!(affected[0]["period_id"], period.as_str());
        assert_eq!(affected[0]["dates"], json!(["2026-12-09"]));
        assert_eq!(affected[0]["needs_repair"], true);
        assert!(affected[0]["uncovered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["date"] == "2026-12-09" && u["shift_type"] == "early"));
        assert_eq!(
            manager.roster(&period)["assignments"],
            published["assignments"]
        );

        // Demand outside published dates touches no published roster.
        let changed = demand(
            json!([{"date": "2026-12-30", "shift_type": "early", "required": 7}]),
            json!([]),
        )
        .assert_status(200);
        assert_eq!(changed["affected_periods"].as_array().unwrap().len(), 1);
        assert_eq!(
            changed["affected_periods"][0]["dates"],
            json!(["2026-12-09"])
        );
        let unchanged = demand(
            json!([{"date": "2026-12-30", "shift_type": "early", "required": 7}]),
            json!([]),
        )
        .assert_status(200);
        assert_eq!(unchanged["affected_periods"], json!([]));

        // A client checking in early raises occupancy demand over published dates.
        demand(
            json!([{"date": "2026-12-30", "shift_type": "early", "required": 7}]),
            json!([{"shift_type": "night", "skill": "newborn_care", "clients_per_staff": 1}]),
        )
        .assert_status(200);
        let client = app.client(json!({"full_name": "Mother Early Test"}));
        manager
            .post(
                &format!("/api/v1/clients/{client}/transitions"),
                json!({"to": "contracted"}),
            )
            .assert_status(201);
        let stay = manager
            .put(
                &format!("/api/v1/clients/{client}/stay"),
                json!({"check_in": "2026-12-12", "check_out": "2026-12-20"}),
            )
            .assert_status(200);
        assert_eq!(stay["check_in"], "2026-12-12");
        let affected = stay["affected_periods"].as_array().unwrap();
        assert_eq!(affected.len(), 1, "{stay}");
        assert_eq!(affected[0]["dates"], json!(["2026-12-12", "2026-12-13"]));
        assert_eq!(
            manager.roster(&period)["assignments"],
            published["assignments"]
        );
        let actions = manager.audit_actions(&period);
        assert!(
            !actions.contains(&"roster.repaired".to_owned()),
            "{actions:?}"
        );
    });
}

#[test]
fn each_staff_member_is_held_to_their_own_minimum_rest() {
    on_each_backend(|app| {
        let manager = Manager {
            app,
            site_id: app.main_site_id.clone(),
        };
        for (key, start, end) in [
            ("early", "07:00:00", "15:00:00"),
            ("late", "15:00:00", "23:00:00"),
        ] {
            manager
                .post(
                    "/api/v1/shift-types",
                    json!({"site_id": manager.site_id, "key": key, "start": start, "end": end}),
                )
                .assert_status(201);
        }
        // Late (ends 23:00) then early (starts 07:00) leaves 8 hours' rest.
        let profile = |rest_minutes: u32| {
            json!({
                "skills": [{"skill": "nursing", "level": 2}],
                "contract": {
                    "min_minutes_per_week": 0, "max_minutes_per_week": 3360,
                    "max_consecutive_days": 7, "min_consecutive_days_off": 1,
                    "min_rest_minutes": rest_minutes, "max_weekends_per_four_weeks": 4,
                },
            })
        };
        let nora = manager.staff_member("Nora Eleven", profile(11 * 60));
        let otto = manager.staff_member("Otto Eight", profile(8 * 60));
        manager
            .put(
                "/api/v1/demand",
                json!({
                    "site_id": manager.site_id,
                    "rules": [
                        {"shift_type": "early", "required": 1},
                        {"shift_type": "late", "required": 1},
                    ],
                }),
            )
            .assert_status(200);
        let period = manager.period("2026-12-07", "2026-12-13");

        // The live check: Late→Early is fine for Otto, a rest violation for Nora.
        manager
            .edit(&period, &otto, "2026-12-07", json!("late"), true)
            .assert_status(200);
        manager
            .edit(&period, &otto, "2026-12-08", json!("early"), true)
            .assert_status(200);
        manager
            .edit(&period, &nora, "2026-12-10", json!("late"), false)
            .assert_status(200);
        let refused = manager
            .edit(&period, &nora, "2026-12-11", json!("early"), false)
            .assert_error(409, "roster.edit_conflict");
        assert!(refused["details"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "roster.rest" && v["staff_id"] == nora.as_str()));

        // The solver keeps Otto's pinned Late→Early and never gives Nora one.
        let job = manager.start_solve(&period, 3).assert_status(202);
        assert_eq!(
            manager.wait(job["id"].as_str().unwrap())["status"],
            "succeeded"
        );
        let roster = manager.roster(&period);
        assert_eq!(
            shift_of(&roster, &otto, "2026-12-07").as_deref(),
            Some("late")
        );
        assert_eq!(
            shift_of(&roster, &otto, "2026-12-08").as_deref(),
            Some("early")
        );
        let days = [
            "2026-12-07",
            "2026-12-08",
            "2026-12-09",
            "2026-12-10",
            "2026-12-11",
            "2026-12-12",
            "2026-12-13",
        ];
        for pair in days.windows(2) {
            let succession = (
                shift_of(&roster, &nora, pair[0]),
                shift_of(&roster, &nora, pair[1]),
            );
            assert_ne!(
                succession,
                (Some("late".to_owned()), Some("early".to_owned())),
                "Nora has Late→Early on {}: {roster}",
                pair[0]
            );
        }
        // Both shifts are covered every day: the two of them work every day between them.
        assert_eq!(roster["explanation"]["uncovered"], json!([]), "{roster}");
    });
}
