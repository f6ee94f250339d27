//! Exact re-planning of one staff member over a window of days, everyone else as they are.
//!
//! A dynamic programme over the window's days. A state holds what the hard rules need to know
//! of the days before: the last choice, the length of the run (of work or of days off) in
//! progress and whether it began at the horizon's start (such runs are exempt from the minimum
//! lengths), the minutes worked in the window, the weekends it adds to the staff member's count
//! and the shifts of each *binding* type (one whose limit, less what is worked outside the
//! window, could be reached inside it). Each choice costs its request penalty and its change of
//! cover penalty with everyone else's cells as they are; states equal in all of the above keep
//! the cheapest way to reach them, so the best schedule found is the best there is for the
//! window (fairness aside: the move's delta, fairness included, is computed exactly by
//! `try_move` afterwards).
//!
//! The annealing's moves change one to three cells and must keep every rule after each; this
//! re-plans a whole stretch at once, such as completing a weekend together with the days off it
//! pushes along and the shift it displaces.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{LocalSearch, OFF};

/// Most shift types with a binding limit that a state can count.
const MAX_LIMITED: usize = 4;
/// Longest window (binding shift-type counts are held in 6 bits).
pub(super) const MAX_LENGTH: usize = 63;
/// The "previous choice" of a window that starts on the horizon's first day.
const START: u16 = OFF - 1;

/// A multiplicative hash for the packed state keys (the standard hasher is several times slower
/// here, and the keys come from this module alone).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u128(&mut self, value: u128) {
        self.write_u64(value as u64);
        self.write_u64((value >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Copy)]
struct Label {
    cost: i64,
    minutes: i64,
    /// Index of the label of the day before (unused on the first day).
    prev: u32,
    choice: u16,
    run: u8,
    exempt: bool,
    /// The weekend of this day is already counted among `added`.
    counted: bool,
    added: u8,
    limited: [u8; MAX_LIMITED],
}

impl Label {
    /// Every field but the cost and the way back, packed: equal keys are equal states.
    fn key(&self) -> u128 {
        let choice = match self.choice {
            OFF => 0x7e,
            START => 0x7f,
            v => u128::from(v),
        };
        let mut key = choice;
        key = (key << 8) | u128::from(self.run);
        key = (key << 1) | u128::from(self.exempt);
        key = (key << 1) | u128::from(self.counted);
        key = (key << 6) | u128::from(self.added);
        for &n in &self.limited {
            key = (key << 6) | u128::from(n);
        }
        (key << 40) | u128::from(self.minutes.clamp(0, (1 << 40) - 1) as u64)
    }
}

impl LocalSearch<'_> {
    /// The best schedule of staff `e` on days `first..=last` with everyone else's cells as they
    /// are, as the cells to change (pushed onto `changes`, which is cleared first). `false` when
    /// the window cannot be planned this way (too many binding shift-type limits, a window too
    /// long for the state) or no schedule keeps the rules. With `prices`
    /// (`prices[d * (shifts + 1) + c]`, `c == shifts` a day off), each day's choice costs its
    /// price instead of its requests and change of cover penalty.
    pub(super) fn replan(
        &self,
        e: usize,
        first: usize,
        last: usize,
        prices: Option<&[i64]>,
        changes: &mut Vec<(usize, usize, u16)>,
    ) -> bool {
        changes.clear();
        let compiled = self.compiled;
        let staff = &compiled.staff[e];
        let days = self.days;
        let shifts = self.shifts;
        if last >= days || first > last || last - first + 1 > MAX_LENGTH || shifts >= 0x7e {
            return false;
        }
        let row = &self.cells[e * days..(e + 1) * days];
        let window = first..=last;
        let works = |d: usize| row[d] != OFF;
        let minutes_of = |v: u16| {
            if v == OFF {
                0
            } else {
                compiled.shift_minutes[usize::from(v)]
            }
        };

        // What lies outside the window.
        let window_minutes: i64 = window.clone().map(|d| minutes_of(row[d])).sum();
        let outside_minutes = self.minutes[e] - window_minutes;
        let min_minutes = staff.min_minutes - outside_minutes;
        let max_minutes = staff.max_minutes - outside_minutes;
        // Binding shift-type limits: the room left by the days outside the window, for types
        // that could exceed it inside.
        let mut limited_of = vec![usize::MAX; shifts];
        let mut limited_room: Vec<u8> = Vec::new();
        for (s, limit) in staff.max_per_shift.iter().enumerate() {
            let Some(limit) = *limit else { continue };
            let inside = window.clone().filter(|&d| row[d] == s as u16).count() as u32;
            let outside = self.per_type[e * shifts + s] - inside;
            let room = limit.saturating_sub(outside);
            let possible = window.clone().filter(|&d| staff.may(shifts, d, s)).count() as u32;
            if room < possible {
                if limited_room.len() == MAX_LIMITED {
                    return false;
                }
                limited_of[s] = limited_room.len();
                limited_room.push(room as u8);
            }
        }
        // Weekends: those worked outside the window count already; a weekend the window touches
        // and that is not worked outside adds one when the window works a day of it.
        let weekend_worked_outside = |d: usize| -> bool {
            let Some(k) = compiled.weekend_of_day[d] else {
                return false;
            };
            let same = |o: usize| compiled.weekend_of_day[o] == Some(k);
            let mut o = d;
            while o > 0 && same(o - 1) {
                o -= 1;
                if o < first && works(o) {
                    return true;
                }
            }
            let mut o = d;
            while o + 1 < days && same(o + 1) {
                o += 1;
                if o > last && works(o) {
                    return true;
                }
            }
            false
        };
        let outside_worked: Vec<bool> = window.clone().map(weekend_worked_outside).collect();
        let mut added_now = 0usize;
        let mut previous_weekend = None;
        for d in window.clone() {
            let k = compiled.weekend_of_day[d];
            if k.is_some() && k != previous_weekend && !outside_worked[d - first] {
                // Count each such weekend once, when the window works any day of it.
                let worked_inside = window
                    .clone()
                    .filter(|&o| compiled.weekend_of_day[o] == k)
                    .any(works);
                added_now += usize::from(worked_inside);
            }
            previous_weekend = k;
        }
        let weekend_room = (staff.max_weekends + added_now).saturating_sub(self.weekends_worked[e]);
        let weekend_room = weekend_room.min(63) as u8;

        // Costs of each choice, relative to the staff member being absent that day.
        let choices = shifts + 1;
        let length = last - first + 1;
        let mut cost = vec![i64::MAX; length * choices];
        let mut max_rest = vec![0i64; length + 1];
        for d in window.clone() {
            let i = d - first;
            let fixed = self.fixed[e * days + d];
            let mut most = 0;
            for c in 0..choices {
                let value = if c == shifts { OFF } else { c as u16 };
                if fixed && value != row[d] {
                    continue;
                }
                let choice = (value != OFF).then_some(usize::from(value));
                if let Some(s) = choice {
                    if !staff.may(shifts, d, s) {
                        continue;
                    }
                }
                if let Some(prices) = prices {
                    cost[i * choices + c] = prices[d * choices + c];
                    if let Some(s) = choice {
                        most = most.max(compiled.shift_minutes[s]);
                    }
                    continue;
                }
                let mut total = staff.cost_of(shifts, d, choice);
                if let Some(s) = choice {
                    for &item in &compiled.cover_by_slot[d * shifts + s] {
                        let cover = &compiled.cover[item];
                        if cover.eligible[e] {
                            let n = self.cover_count[item] - i64::from(row[d] == value);
                            total += cover.penalty(n + 1) - cover.penalty(n);
                        }
                    }
                    most = most.max(compiled.shift_minutes[s]);
                }
                cost[i * choices + c] = total;
            }
            max_rest[i] = most;
        }
        for i in (0..length).rev() {
            max_rest[i] += max_rest[i + 1];
        }

        // Run lengths are tracked up to `cap`: exact up to the longest run of work allowed,
        // and far enough for every minimum.
        let cap = staff
            .max_work
            .max(staff.min_work)
            .max(staff.min_off)
            .clamp(1, 120);
        let (start_choice, start_run, start_exempt) = if first == 0 {
            (START, 0, true)
        } else {
            let working = works(first - 1);
            let mut run = 0;
            let mut d = first;
            while d > 0 && works(d - 1) == working && run < cap {
                d -= 1;
                run += 1;
            }
            let exempt = d == 0 || (run == cap && (0..d).all(|o| works(o) == working));
            (row[first - 1], run, exempt)
        };
        // The run after the window, of the status of day `last + 1`.
        let (after_run, after_exempt) = if last + 1 < days {
            let working = works(last + 1);
            let mut d = last + 1;
            while d < days && works(d) == working && d - last <= cap + 1 {
                d += 1;
            }
            let exempt = d == days || (d < days && (d..days).all(|o| works(o) == working));
            (d - last - 1, exempt)
        } else {
            (0, true)
        };

        let mut layers: Vec<Vec<Label>> = Vec::with_capacity(length);
        let mut index: HashMap<u128, usize, BuildHasherDefault<KeyHasher>> = HashMap::default();
        let initial = Label {
            cost: 0,
            minutes: 0,
            prev: 0,
            choice: start_choice,
            run: start_run as u8,
            exempt: start_exempt,
            counted: false,
            added: 0,
            limited: [0; MAX_LIMITED],
        };
        for i in 0..length {
            let d = first + i;
            let weekend = compiled.weekend_of_day[d];
            let same_weekend =
                d > 0 && weekend.is_some() && compiled.weekend_of_day[d - 1] == weekend;
            let mut next: Vec<Label> = Vec::new();
            index.clear();
            let previous: &[Label] = if i == 0 {
                std::slice::from_ref(&initial)
            } else {
                &layers[i - 1]
            };
            for (p, label) in previous.iter().enumerate() {
                for c in 0..choices {
                    let step = cost[i * choices + c];
                    if step == i64::MAX {
                        continue;
                    }
                    let value = if c == shifts { OFF } else { c as u16 };
                    let working = value != OFF;
                    let mut run = 1;
                    let mut exempt = false;
                    if label.choice != START {
                        let was_working = label.choice != OFF;
                        if was_working && working && staff.forbidden[usize::from(label.choice)][c] {
                            continue;
                        }
                        if was_working == working {
                            run = (usize::from(label.run) + 1).min(cap);
                            if working && usize::from(label.run) + 1 > staff.max_work {
                                continue;
                            }
                            exempt = label.exempt;
                        } else if !label.exempt {
                            let minimum = if was_working {
                                staff.min_work
                            } else {
                                staff.min_off
                            };
                            if usize::from(label.run) < minimum {
                                continue;
                            }
                        }
                    } else {
                        exempt = true;
                    }
                    let mut minutes = label.minutes + minutes_of(value);
                    if minutes > max_minutes || minutes + max_rest[i + 1] < min_minutes {
                        continue;
                    }
                    if minutes >= min_minutes && minutes + max_rest[i + 1] <= max_minutes {
                        // Neither limit can bind any more: every such count of minutes has
                        // the same futures, so they are one state.
                        minutes = min_minutes.max(0);
                    }
                    let mut limited = label.limited;
                    if working && limited_of[c] != usize::MAX {
                        let slot = limited_of[c];
                        limited[slot] += 1;
                        if limited[slot] > limited_room[slot] {
                            continue;
                        }
                    }
                    let mut counted = same_weekend && label.counted;
                    let mut added = label.added;
                    if working && weekend.is_some() && !counted && !outside_worked[i] {
                        added += 1;
                        if added > weekend_room {
                            continue;
                        }
                        counted = true;
                    }
                    let candidate = Label {
                        cost: label.cost + step,
                        minutes,
                        prev: p as u32,
                        choice: value,
                        run: run as u8,
                        exempt,
                        counted,
                        added,
                        limited,
                    };
                    match index.entry(candidate.key()) {
                        std::collections::hash_map::Entry::Occupied(slot) => {
                            let kept = &mut next[*slot.get()];
                            if candidate.cost < kept.cost {
                                *kept = candidate;
                            }
                        }
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            slot.insert(next.len());
                            next.push(candidate);
                        }
                    }
                }
            }
            if next.is_empty() {
                return false;
            }
            layers.push(next);
        }

        // The end of the window meets the days after it.
        let fits_end = |label: &Label| -> bool {
            if label.minutes < min_minutes {
                return false;
            }
            if last + 1 >= days {
                return true;
            }
            let working = label.choice != OFF;
            let after = row[last + 1];
            let after_working = after != OFF;
            if working
                && after_working
                && staff.forbidden[usize::from(label.choice)][usize::from(after)]
            {
                return false;
            }
            let run = usize::from(label.run);
            if working == after_working {
                let merged = run + after_run;
                if working && merged > staff.max_work {
                    return false;
                }
                let minimum = if working {
                    staff.min_work
                } else {
                    staff.min_off
                };
                label.exempt || after_exempt || merged >= minimum
            } else {
                let (ending, starting) = if working {
                    (staff.min_work, staff.min_off)
                } else {
                    (staff.min_off, staff.min_work)
                };
                (label.exempt || run >= ending) && (after_exempt || after_run >= starting)
            }
        };
        let Some(best) = layers[length - 1]
            .iter()
            .enumerate()
            .filter(|(_, label)| fits_end(label))
            .min_by_key(|(_, label)| label.cost)
            .map(|(i, _)| i)
        else {
            return false;
        };
        let mut at = best;
        for i in (0..length).rev() {
            let label = layers[i][at];
            let d = first + i;
            if label.choice != row[d] {
                changes.push((e, d, label.choice));
            }
            at = label.prev as usize;
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{arbitrary_problem, fairness_off_from_an_empty_roster};
    use super::*;
    use crate::check::evaluate_roster;
    use crate::search::Rng;

    /// Every schedule of staff `e` on the window, by enumeration: the least delta that keeps the
    /// rules (0 for the schedule held).
    fn best_delta_by_enumeration(
        search: &mut LocalSearch<'_>,
        e: usize,
        first: usize,
        last: usize,
    ) -> i64 {
        let choices = search.shifts + 1;
        let length = last - first + 1;
        let mut best = 0;
        let mut changes = Vec::new();
        for code in 0..choices.pow(length as u32) {
            changes.clear();
            let mut rest = code;
            for d in first..=last {
                let c = rest % choices;
                rest /= choices;
                let value = if c == search.shifts { OFF } else { c as u16 };
                if value != search.cells[e * search.days + d] {
                    if !search.may(e, d, value) {
                        changes.clear();
                        break;
                    }
                    changes.push((e, d, value));
                }
            }
            if changes.is_empty() {
                continue;
            }
            if let Some(delta) = search.delta_of(&changes) {
                best = best.min(delta);
            }
        }
        best
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        /// The re-plan keeps every rule and finds the best schedule of the window: no schedule
        /// found by trying them all is better (fairness off, which the re-plan leaves to the
        /// move's exact delta), also with minimum minutes that bind.
        #[test]
        fn a_window_replan_is_feasible_and_optimal(
            problem in arbitrary_problem(),
            seed in 0u64..1000,
        ) {
            let start = fairness_off_from_an_empty_roster(problem);
            proptest::prop_assume!(start.is_some());
            let (problem, compiled) = start.unwrap();
            let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
            let mut search = LocalSearch::new(&compiled, &empty).unwrap();
            let mut rng = Rng(seed);
            search.anneal(&mut rng, 3_000, 20.0, 0.5, &|| false);
            let roster = search.roster();
            // Minimum minutes a shift below what each staff member works, so that they bind.
            let mut tight = compiled.clone();
            for (member, row) in tight.staff.iter_mut().zip(&roster) {
                let minutes: i64 = row.iter().flatten().map(|&s| compiled.shift_minutes[s]).sum();
                member.min_minutes = (minutes - 480).max(0);
            }
            let mut search = LocalSearch::new(&tight, &roster).unwrap();
            let mut changes = Vec::new();
            for _ in 0..6 {
                let e = rng.below(tight.staff.len());
                let length = 1 + rng.below(4.min(tight.days));
                let first = rng.below(tight.days - length + 1);
                let last = first + length - 1;
                proptest::prop_assert!(search.replan(e, first, last, None, &mut changes));
                let found = if changes.is_empty() {
                    0
                } else {
                    let delta = search.delta_of(&changes);
                    proptest::prop_assert!(delta.is_some(), "re-plan broke a rule: {:?}", changes);
                    delta.unwrap()
                };
                let best = best_delta_by_enumeration(&mut search, e, first, last);
                proptest::prop_assert_eq!(found, best);
                if !changes.is_empty() {
                    let changes = changes.clone();
                    search.try_move(&changes, &mut |_| true).unwrap();
                    let held = search.roster();
                    proptest::prop_assert_eq!(
                        search.objective(),
                        evaluate_roster(&problem, &tight, &held).objective
                    );
                }
            }
        }
    }
}
