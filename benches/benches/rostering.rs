//! The rostering service's targets, end to end through the store on SQLite: a site with 30 staff,
//! 4 shift types and 6 skills over 28 days gets a proposal (target: within 1% of the model's
//! bound in under 30 s on two cores); then, in the published roster, one nurse is sick for three
//! days and the roster is repaired (target: no hard violation, at most that nurse's shifts plus
//! 4 others changed). Prints the figures: `cargo bench -p benches --bench rostering`, or, in the
//! shared dev profile that already optimises the solver (ADR 0002, no second HiGHS build),
//! `cargo test -p benches --bench rostering`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use tend_store::testing::{TestClock, TestDatabase};
use tend_store::{SolveRequest, Store};

const PASSWORD: &str = "benchmark administrator password";

fn main() {
    let database = TestDatabase::sqlite();
    let clock = TestClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
    let store: Store = database.open(clock);
    let site = store
        .bootstrap("Europe/Madrid", Some(PASSWORD.into()))
        .unwrap()
        .unwrap()
        .site;
    let admin = store.login("admin@tend.local", PASSWORD).unwrap().actor;

    for (key, start, end) in [
        ("early", "07:00:00", "15:00:00"),
        ("day", "09:00:00", "17:00:00"),
        ("late", "15:00:00", "23:00:00"),
        ("night", "23:00:00", "07:00:00"),
    ] {
        store
            .create_shift_type(
                &admin,
                serde_json::from_value(
                    json!({"site_id": site.id, "key": key, "start": start, "end": end}),
                )
                .unwrap(),
            )
            .unwrap();
    }

    // 30 staff: 12 nurses, 6 newborn carers, 4 lactation consultants, 4 cooks, 4 cleaners.
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
    let mut nurses = Vec::new();
    for (group, count, skills, shifts) in groups {
        for i in 0..count {
            let id = store
                .create_staff_member(
                    &admin,
                    serde_json::from_value(json!({
                        "site_id": site.id,
                        "full_name": format!("{group} {}", (b'A' + i as u8) as char),
                        "role": "operator",
                    }))
                    .unwrap(),
                )
                .unwrap()
                .id;
            store
                .set_staff_rostering(
                    &admin,
                    id,
                    serde_json::from_value(json!({
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
                    }))
                    .unwrap(),
                )
                .unwrap();
            if group == "Nurse" {
                nurses.push(id);
            }
        }
    }
    store
        .set_demand(
            &admin,
            serde_json::from_value(json!({
                "site_id": site.id,
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
            }))
            .unwrap(),
        )
        .unwrap();

    let first = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let last = first + chrono::Days::new(27);
    let period = store
        .create_roster_period(
            &admin,
            serde_json::from_value(
                json!({"site_id": site.id, "first_day": first, "last_day": last}),
            )
            .unwrap(),
        )
        .unwrap()
        .id;

    println!("rostering: 30 staff, 4 shift types, 6 skills, 28 days (SQLite store, end to end)");
    let started = Instant::now();
    let job = store
        .solve_roster_period(
            &admin,
            &period,
            SolveRequest {
                time_limit_seconds: Some(30),
            },
        )
        .unwrap();
    let solve_seconds = started.elapsed().as_secs_f64();
    let roster = store.get_roster(&admin, &period).unwrap();
    let explanation = roster.explanation.clone().unwrap();
    let objective = job.objective.unwrap_or_default();
    let bound = job.best_bound.unwrap_or_default();
    let gap = if objective == 0 {
        0.0
    } else {
        (objective - bound) as f64 / objective as f64
    };
    println!(
        "proposal: status {:?}, objective {objective}, bound {bound}, gap {:.2}% (target <= 1%), \
         {solve_seconds:.1} s wall (target < 30 s), {} assignments, {} uncovered slots",
        explanation.status,
        gap * 100.0,
        roster.assignments.len(),
        explanation.uncovered.len(),
    );
    println!("  penalties: {:?}", explanation.penalties);
    println!(
        "  fairness: weekends {}..{}, nights {}..{}, minutes {}..{}",
        explanation.fairness.weekends_min,
        explanation.fairness.weekends_max,
        explanation.fairness.nights_min,
        explanation.fairness.nights_max,
        explanation.fairness.minutes_min,
        explanation.fairness.minutes_max,
    );

    store.publish_roster(&admin, &period).unwrap();

    // The nurse with the most shifts on days 10 to 12 calls in sick for those days.
    let sick_first = first + chrono::Days::new(10);
    let sick_last = first + chrono::Days::new(12);
    let roster = store.get_roster(&admin, &period).unwrap();
    let nurse = *nurses
        .iter()
        .max_by_key(|id| {
            roster
                .assignments
                .iter()
                .filter(|a| {
                    a.staff_id == id.to_string() && a.date >= sick_first && a.date <= sick_last
                })
                .count()
        })
        .unwrap();
    let leave = store
        .request_leave(
            &admin,
            nurse,
            serde_json::from_value(
                json!({"first_day": sick_first, "last_day": sick_last, "reason": "sick"}),
            )
            .unwrap(),
        )
        .unwrap();
    // Approving the sick leave repairs the published roster in the same transaction.
    let started = Instant::now();
    let decided = store
        .decide_leave(
            &admin,
            &leave.id,
            serde_json::from_value(json!({"status": "approved", "time_limit_seconds": 20}))
                .unwrap(),
        )
        .unwrap();
    let repaired = decided
        .repairs
        .first()
        .expect("the published period is repaired");
    let repaired = &repaired.outcome;
    let repair_seconds = started.elapsed().as_secs_f64();
    let others: BTreeSet<&str> = repaired
        .changes
        .iter()
        .filter(|c| c.staff_id != nurse.to_string())
        .map(|c| c.staff_id.as_str())
        .collect();
    let other_shifts = repaired
        .changes
        .iter()
        .filter(|c| c.staff_id != nurse.to_string())
        .count();
    println!(
        "repair on leave approval: sick nurse had {} published shifts on the 3 leave days; {} changed assignments in \
         all, {} of other staff across {} people (target <= 4), {} hard violations (target 0), \
         {} uncovered slots left, {repair_seconds:.1} s",
        decided.affected_shifts.len(),
        repaired.changes.len(),
        other_shifts,
        others.len(),
        repaired.hard_violations.len(),
        repaired.uncovered.len(),
    );
}
