//! A quick schedule per staff member from their hard rules alone, without a solver: runs of work
//! of the longest allowed length separated by at least the shortest allowed rest, one shift type
//! per run, paced to reach their minimum minutes at the end of the horizon. Blind to cover and requests (the annealing repairs
//! those); the start of long horizons, where even a one-staff HiGHS model takes a noticeable
//! share of the time limit for each of 50 staff members.
//!
//! It does not handle every contract: staff with pinned shifts, or for whom the pass falls short
//! of the minimum minutes, get `None` and the caller falls back to the one-staff model. Every
//! schedule it returns is re-checked by the caller.

use crate::model::Compiled;

/// Paces tried in turn: how far ahead of an even spread of the minimum minutes the pass keeps.
/// The last is no pacing at all.
const PACES: [f64; 6] = [1.0, 1.02, 1.05, 1.1, 1.2, 2.0];

/// A schedule for staff member `e` that satisfies their hard rules, or `None`.
pub(crate) fn schedule(compiled: &Compiled, e: usize) -> Option<Vec<Option<usize>>> {
    PACES
        .iter()
        .find_map(|&pace| paced_schedule(compiled, e, pace))
}

fn paced_schedule(compiled: &Compiled, e: usize, pace: f64) -> Option<Vec<Option<usize>>> {
    let staff = &compiled.staff[e];
    if staff.pinned.values().any(Option::is_some) {
        return None;
    }
    let days = compiled.days;
    let shifts = compiled.shifts;
    let mut row = vec![None; days];
    let mut minutes = 0i64;
    let mut per_type = vec![0u32; shifts];
    let mut weekend_worked = vec![false; compiled.weekends];
    let mut weekends = 0usize;
    let mut d = 0;
    let min_work = staff.min_work.max(1);
    let longest_shift = compiled.shift_minutes.iter().copied().max().unwrap_or(0);
    while d < days && minutes < staff.min_minutes {
        // Keep pace with the minimum minutes spread evenly over the horizon (work bunched at
        // the start would leave the end of a long horizon uncovered).
        let due = pace * staff.min_minutes as f64 * d as f64 / days as f64;
        if minutes as f64 >= due + (staff.max_work as i64 * longest_shift) as f64 {
            d += 1;
            continue;
        }
        // The longest run from day `d` of one shift type: every day allowed, within the type's
        // limit, the minutes and the weekend limit.
        let mut chosen: Option<(usize, usize)> = None;
        for (s, &used) in per_type.iter().enumerate() {
            // A type that may not follow itself makes runs of one day.
            let longest = if staff.forbidden[s][s] {
                1
            } else {
                staff.max_work
            };
            let left_of_type = staff.max_per_shift[s]
                .map_or(usize::MAX, |limit| limit.saturating_sub(used) as usize);
            let mut length = 0;
            let mut run_minutes = minutes;
            let mut new_weekends = Vec::new();
            while length < longest && length < left_of_type && d + length < days {
                let day = d + length;
                if !staff.may(shifts, day, s)
                    || run_minutes + compiled.shift_minutes[s] > staff.max_minutes
                {
                    break;
                }
                if let Some(k) = compiled.weekend_of_day[day] {
                    if !weekend_worked[k] && !new_weekends.contains(&k) {
                        // Weekends are paced too, or the limit runs out half-way.
                        let paced = staff.max_weekends * (day + 1) / days + 1;
                        let used = weekends + new_weekends.len();
                        if used >= staff.max_weekends || used >= paced {
                            break;
                        }
                        new_weekends.push(k);
                    }
                }
                run_minutes += compiled.shift_minutes[s];
                length += 1;
                if run_minutes >= staff.min_minutes && length >= min_work {
                    break;
                }
            }
            // Shorter runs are allowed only where they touch the end of the horizon.
            let long_enough = length >= min_work || (length > 0 && d + length == days);
            if long_enough && chosen.is_none_or(|(_, best)| length > best) {
                chosen = Some((s, length));
            }
        }
        let Some((s, length)) = chosen else {
            d += 1;
            continue;
        };
        // A run must not follow a day off that is too short a rest (unless it is the start).
        let rest = (0..d).rev().take_while(|&p| row[p].is_none()).count();
        if d > 0 && rest < staff.min_off && rest < d {
            d += 1;
            continue;
        }
        for (day, cell) in row.iter_mut().enumerate().skip(d).take(length) {
            *cell = Some(s);
            per_type[s] += 1;
            minutes += compiled.shift_minutes[s];
            if let Some(k) = compiled.weekend_of_day[day] {
                if !weekend_worked[k] {
                    weekend_worked[k] = true;
                    weekends += 1;
                }
            }
        }
        d += length + staff.min_off.max(1);
    }
    (minutes >= staff.min_minutes).then_some(row)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::check::{check, Violation};
    use crate::curtois;

    #[test]
    fn greedy_schedules_keep_every_hard_rule() {
        let days = 91;
        let text = format!(
            "SECTION_HORIZON\n{days}\n\nSECTION_SHIFTS\nE,480,\nL,480,E\nN,600,E|L\n\n\
             SECTION_STAFF\nA,E={days}|L={days}|N=5,28800,26400,5,2,2,6\n\
             B,E=0|L=20|N={days},30000,24000,4,3,3,13\nC,E={days}|L=0|N=0,20000,19000,6,1,1,0\n\
             D,E={days}|L={days}|N={days},40000,40000,5,2,2,3\n\n\
             SECTION_DAYS_OFF\nA,3,4,50\nB,6\nC,10,11,12,13\n\n\
             SECTION_SHIFT_ON_REQUESTS\n\nSECTION_SHIFT_OFF_REQUESTS\n\nSECTION_COVER\n0,E,1,100,1\n"
        );
        let problem = curtois::parse(&text).unwrap();
        let compiled = Compiled::new(&problem).unwrap();
        let mut scheduled = 0;
        for e in 0..compiled.staff.len() {
            let Some(row) = schedule(&compiled, e) else {
                continue;
            };
            scheduled += 1;
            let mut roster = vec![vec![None; days]; compiled.staff.len()];
            roster[e] = row;
            let id = &problem.staff[e].id;
            let own: Vec<Violation> = check(&problem, &compiled.plan_of(&problem, &roster))
                .into_iter()
                .filter(|v| format!("{v:?}").contains(&format!("staff: {id:?}")))
                .collect();
            assert_eq!(own, vec![], "staff member {id}");
        }
        assert!(scheduled >= 3, "only {scheduled} schedules");
    }
}
