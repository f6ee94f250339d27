//! In-memory local search: simulated annealing over small moves of the roster, with incremental
//! evaluation.
//!
//! HiGHS re-solves a neighbourhood well but slowly (a few hundred per minute); this phase makes
//! millions of small moves per minute instead. Every move keeps every hard rule: a move is applied,
//! the staff members it touches are re-checked on the affected days and on their counters
//! (minutes, shifts per type, weekends), and it is undone when a rule breaks. So every roster this
//! module holds is feasible, and its objective is tracked by deltas (requests and cover exactly;
//! fairness, when weighted, from per-staff counters).
//!
//! Effort is counted in moves, never in time, so the same seed gives the same roster; the stop
//! callback (time limit, cancellation) is polled every few thousand moves.

use crate::model::Compiled;
use crate::search::Rng;

mod replan;

/// `roster[staff][day]`: the shift worked, `None` on a day off.
pub(crate) type Roster = Vec<Vec<Option<usize>>>;

/// The value of a day off in the flat roster.
const OFF: u16 = u16::MAX;

/// Moves between two polls of the stop callback.
const POLL_EVERY: u64 = 2048;

/// Longest block of days exchanged between two staff members.
const MAX_BLOCK: usize = 7;

/// One move in this many is a cover repair (see `LocalSearch::repair`), as many complete or
/// empty a half-worked weekend (`LocalSearch::complete_weekend`), and as many bring a shift from
/// another week (`LocalSearch::swap_weeks`).
const REPAIR_ONE_IN: usize = 7;
/// Days in a week: blocks exchanged by `LocalSearch::swap_weeks` are a whole number of weeks
/// apart, so they hold the same weekdays (and weekend days).
const WEEK: usize = 7;
/// Draws of a staff member for a repair before giving up.
const REPAIR_STAFF_DRAWS: usize = 8;

/// Farthest apart two days of one staff member may be when their cells are exchanged.
const MAX_SHIFT_DISTANCE: usize = 7;

/// A roster in flat form with the counters that make a move's delta and feasibility cheap.
pub(crate) struct LocalSearch<'a> {
    compiled: &'a Compiled,
    days: usize,
    shifts: usize,
    weekends: usize,
    /// `cells[e * days + d]`: the shift worked, or `OFF`.
    cells: Vec<u16>,
    /// Cells no move may change (pinned days).
    fixed: Vec<bool>,
    minutes: Vec<i64>,
    /// `per_type[e * shifts + s]`.
    per_type: Vec<u32>,
    /// `weekend_days[e * weekends + k]`: days of weekend `k` worked.
    weekend_days: Vec<u8>,
    weekends_worked: Vec<usize>,
    nights: Vec<i64>,
    /// Eligible staff assigned, per cover item.
    cover_count: Vec<i64>,
    /// Cover items that can be below their preferred level (the ones a repair move aims at).
    coverable: Vec<usize>,
    /// First day of each weekend.
    weekend_starts: Vec<usize>,
    fairness: bool,
    objective: i64,
    /// Scratch space of the move in progress: `(staff, day, value before)`.
    undo: Vec<(usize, usize, u16)>,
    touched: Vec<(usize, usize, usize)>,
}

/// Counts of what happened in one annealing run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AnnealStats {
    pub moves: u64,
    pub accepted: u64,
    pub improvements: u64,
}

impl<'a> LocalSearch<'a> {
    /// `None` when the problem has too many shift types for the flat form.
    pub fn new(compiled: &'a Compiled, roster: &[Vec<Option<usize>>]) -> Option<LocalSearch<'a>> {
        if compiled.shifts >= usize::from(OFF) {
            return None;
        }
        let days = compiled.days;
        let staff = compiled.staff.len();
        let mut fixed = vec![false; staff * days];
        for (e, member) in compiled.staff.iter().enumerate() {
            for &d in member.pinned.keys() {
                fixed[e * days + d] = true;
            }
        }
        let coverable = (0..compiled.cover.len())
            .filter(|&c| compiled.cover[c].preferred > 0)
            .collect();
        let mut search = LocalSearch {
            compiled,
            days,
            shifts: compiled.shifts,
            weekends: compiled.weekends,
            cells: vec![OFF; staff * days],
            fixed,
            minutes: vec![0; staff],
            per_type: vec![0; staff * compiled.shifts],
            weekend_days: vec![0; staff * compiled.weekends],
            weekends_worked: vec![0; staff],
            nights: vec![0; staff],
            cover_count: vec![0; compiled.cover.len()],
            coverable,
            weekend_starts: (0..days)
                .filter(|&d| {
                    compiled.weekend_of_day[d].is_some()
                        && (d == 0 || compiled.weekend_of_day[d - 1] != compiled.weekend_of_day[d])
                })
                .collect(),
            fairness: compiled.fairness.weekend_weight > 0 || compiled.fairness.night_weight > 0,
            objective: 0,
            undo: Vec::new(),
            touched: Vec::new(),
        };
        search.load(roster);
        Some(search)
    }

    /// Replaces the roster held (the counters are rebuilt).
    pub fn load(&mut self, roster: &[Vec<Option<usize>>]) {
        let compiled = self.compiled;
        self.cells.fill(OFF);
        self.minutes.fill(0);
        self.per_type.fill(0);
        self.weekend_days.fill(0);
        self.weekends_worked.fill(0);
        self.nights.fill(0);
        self.cover_count.fill(0);
        let mut requests = 0;
        for (e, row) in roster.iter().enumerate() {
            for (d, choice) in row.iter().enumerate() {
                requests += compiled.staff[e].cost_of(self.shifts, d, *choice);
                if let Some(s) = *choice {
                    self.cells[e * self.days + d] = s as u16;
                    self.count(e, d, s, 1);
                    self.weekend_count(e, d, 1);
                }
            }
        }
        let cover: i64 = compiled
            .cover
            .iter()
            .zip(&self.cover_count)
            .map(|(c, &n)| c.penalty(n))
            .sum();
        self.objective = requests + cover + self.fairness_penalty();
    }

    /// The penalty of the roster held (equal to the checker's evaluation).
    #[cfg(test)]
    pub fn objective(&self) -> i64 {
        self.objective
    }

    pub fn roster(&self) -> Vec<Vec<Option<usize>>> {
        Self::roster_of(&self.cells, self.days)
    }

    fn roster_of(cells: &[u16], days: usize) -> Vec<Vec<Option<usize>>> {
        cells
            .chunks(days.max(1))
            .map(|row| {
                row.iter()
                    .map(|&v| (v != OFF).then_some(usize::from(v)))
                    .collect()
            })
            .collect()
    }

    /// Counter updates for staff `e` starting (`sign` 1) or stopping (−1) shift `s` on day `d`;
    /// returns the change in cover penalty.
    fn count(&mut self, e: usize, d: usize, s: usize, sign: i64) -> i64 {
        let compiled = self.compiled;
        self.minutes[e] += sign * compiled.shift_minutes[s];
        let per_type = &mut self.per_type[e * self.shifts + s];
        *per_type = if sign > 0 {
            *per_type + 1
        } else {
            *per_type - 1
        };
        if compiled.night[s] {
            self.nights[e] += sign;
        }
        let mut delta = 0;
        for &c in &compiled.cover_by_slot[d * self.shifts + s] {
            let cover = &compiled.cover[c];
            if cover.eligible[e] {
                let n = self.cover_count[c];
                delta += cover.penalty(n + sign) - cover.penalty(n);
                self.cover_count[c] = n + sign;
            }
        }
        delta
    }

    fn weekend_count(&mut self, e: usize, d: usize, sign: i64) {
        if let Some(k) = self.compiled.weekend_of_day[d] {
            let days = &mut self.weekend_days[e * self.weekends + k];
            if sign > 0 {
                *days += 1;
                if *days == 1 {
                    self.weekends_worked[e] += 1;
                }
            } else {
                *days -= 1;
                if *days == 0 {
                    self.weekends_worked[e] -= 1;
                }
            }
        }
    }

    /// Sets one cell, updating every counter; returns the objective delta without fairness.
    fn set(&mut self, e: usize, d: usize, value: u16) -> i64 {
        let index = e * self.days + d;
        let old = self.cells[index];
        if old == value {
            return 0;
        }
        let staff = &self.compiled.staff[e];
        let old_choice = (old != OFF).then_some(usize::from(old));
        let new_choice = (value != OFF).then_some(usize::from(value));
        let mut delta =
            staff.cost_of(self.shifts, d, new_choice) - staff.cost_of(self.shifts, d, old_choice);
        if let Some(s) = old_choice {
            delta += self.count(e, d, s, -1);
        }
        if let Some(s) = new_choice {
            delta += self.count(e, d, s, 1);
        }
        match (old_choice, new_choice) {
            (None, Some(_)) => self.weekend_count(e, d, 1),
            (Some(_), None) => self.weekend_count(e, d, -1),
            _ => {}
        }
        self.cells[index] = value;
        delta
    }

    fn fairness_penalty(&self) -> i64 {
        if !self.fairness {
            return 0;
        }
        let compiled = self.compiled;
        let spread = |values: &mut dyn Iterator<Item = i64>| -> i64 {
            let (mut low, mut high) = (i64::MAX, i64::MIN);
            for v in values {
                low = low.min(v);
                high = high.max(v);
            }
            if low > high {
                0
            } else {
                high - low
            }
        };
        let weekends = spread(&mut self.weekends_worked.iter().map(|&w| w as i64));
        let nights = spread(
            &mut self
                .nights
                .iter()
                .zip(&compiled.staff)
                .filter(|(_, staff)| staff.may_work_night)
                .map(|(&n, _)| n),
        );
        i64::from(compiled.fairness.weekend_weight) * weekends
            + i64::from(compiled.fairness.night_weight) * nights
    }

    /// Whether `value` may be given to staff `e` on day `d` at all (pins, qualification, days off).
    fn may(&self, e: usize, d: usize, value: u16) -> bool {
        !self.fixed[e * self.days + d]
            && (value == OFF || self.compiled.staff[e].may(self.shifts, d, usize::from(value)))
    }

    /// Whether staff `e`'s schedule keeps every hard rule over the whole horizon.
    pub fn keeps_rules(&self, e: usize) -> bool {
        self.feasible(e, 0, self.days - 1)
    }

    /// Every hard rule of staff `e`, checked on days `first..=last` (and the runs through them)
    /// and on their counters; the rest of their schedule is unchanged and was feasible.
    fn feasible(&self, e: usize, first: usize, last: usize) -> bool {
        let compiled = self.compiled;
        let staff = &compiled.staff[e];
        if self.minutes[e] < staff.min_minutes
            || self.minutes[e] > staff.max_minutes
            || self.weekends_worked[e] > staff.max_weekends
        {
            return false;
        }
        for (s, limit) in staff.max_per_shift.iter().enumerate() {
            if limit.is_some_and(|limit| self.per_type[e * self.shifts + s] > limit) {
                return false;
            }
        }
        let days = self.days;
        let row = &self.cells[e * days..(e + 1) * days];
        for d in first.saturating_sub(1)..(last + 1).min(days - 1) {
            let (a, b) = (row[d], row[d + 1]);
            if a != OFF && b != OFF && staff.forbidden[usize::from(a)][usize::from(b)] {
                return false;
            }
        }
        let works = |d: usize| row[d] != OFF;
        let mut start = first.saturating_sub(1);
        while start > 0 && works(start - 1) == works(start) {
            start -= 1;
        }
        let mut end = (last + 1).min(days - 1);
        while end + 1 < days && works(end + 1) == works(end) {
            end += 1;
        }
        let mut d = start;
        while d <= end {
            let working = works(d);
            let run_start = d;
            while d <= end && works(d) == working {
                d += 1;
            }
            let length = d - run_start;
            let inner = run_start > 0 && d < days;
            if working {
                if length > staff.max_work || (inner && length < staff.min_work) {
                    return false;
                }
            } else if inner && length < staff.min_off {
                return false;
            }
        }
        true
    }

    /// Applies a move given as cells to set, checks it, and keeps it when `accept(delta)` says so;
    /// returns the delta when kept.
    fn try_move(
        &mut self,
        changes: &[(usize, usize, u16)],
        accept: &mut dyn FnMut(i64) -> bool,
    ) -> Option<i64> {
        self.undo.clear();
        self.touched.clear();
        let fairness_before = self.fairness_penalty();
        let mut delta = 0;
        for &(e, d, value) in changes {
            self.undo.push((e, d, self.cells[e * self.days + d]));
            delta += self.set(e, d, value);
            match self.touched.iter_mut().find(|t| t.0 == e) {
                Some(t) => {
                    t.1 = t.1.min(d);
                    t.2 = t.2.max(d);
                }
                None => self.touched.push((e, d, d)),
            }
        }
        delta += self.fairness_penalty() - fairness_before;
        let feasible = self
            .touched
            .iter()
            .all(|&(e, first, last)| self.feasible(e, first, last));
        if feasible && accept(delta) {
            self.objective += delta;
            Some(delta)
        } else {
            for i in (0..self.undo.len()).rev() {
                let (e, d, value) = self.undo[i];
                self.set(e, d, value);
            }
            None
        }
    }

    /// The objective delta of a move when it keeps every hard rule; the roster is left as it was.
    fn delta_of(&mut self, changes: &[(usize, usize, u16)]) -> Option<i64> {
        let mut seen = None;
        self.try_move(changes, &mut |delta| {
            seen = Some(delta);
            false
        });
        seen
    }

    /// A random move as cells to set, or `None` when the draw gave nothing to try.
    fn propose(&self, rng: &mut Rng, changes: &mut Vec<(usize, usize, u16)>) -> bool {
        changes.clear();
        let staff = self.compiled.staff.len();
        let days = self.days;
        match rng.below(8) {
            // One cell to another shift or off.
            0 | 1 => {
                let e = rng.below(staff);
                let d = rng.below(days);
                let value = self.random_value(rng, e, d);
                if value == self.cells[e * days + d] || !self.may(e, d, value) {
                    return false;
                }
                changes.push((e, d, value));
            }
            // Two staff exchange their cells on one day.
            2 | 3 => {
                if staff < 2 {
                    return false;
                }
                let (a, b) = self.two_staff(rng);
                let d = rng.below(days);
                let (va, vb) = (self.cells[a * days + d], self.cells[b * days + d]);
                if va == vb || !self.may(a, d, vb) || !self.may(b, d, va) {
                    return false;
                }
                changes.push((a, d, vb));
                changes.push((b, d, va));
            }
            // Two staff exchange a block of days.
            4 | 5 => {
                if staff < 2 || days < 2 {
                    return false;
                }
                let (a, b) = self.two_staff(rng);
                let (first, length) = if !self.weekend_starts.is_empty() && rng.below(2) == 0 {
                    // A weekend, sometimes with the Friday or the Monday: weekends are what
                    // the weekend limits make scarce.
                    let saturday = self.weekend_starts[rng.below(self.weekend_starts.len())];
                    let first = saturday.saturating_sub(rng.below(2));
                    (first, (2 + rng.below(2)).min(days - first))
                } else {
                    let length = 2 + rng.below(MAX_BLOCK.min(days) - 1);
                    (rng.below(days - length + 1), length)
                };
                for d in first..first + length {
                    let (va, vb) = (self.cells[a * days + d], self.cells[b * days + d]);
                    if va == vb {
                        continue;
                    }
                    if !self.may(a, d, vb) || !self.may(b, d, va) {
                        return false;
                    }
                    changes.push((a, d, vb));
                    changes.push((b, d, va));
                }
            }
            // One staff member exchanges two of their days (moves a shift, slides a run).
            6 | 7 => {
                if days < 2 {
                    return false;
                }
                let e = rng.below(staff);
                let d = rng.below(days);
                let distance = 1 + rng.below(MAX_SHIFT_DISTANCE.min(days - 1));
                let other = if rng.below(2) == 0 {
                    d.checked_sub(distance)
                } else {
                    Some(d + distance).filter(|&o| o < days)
                };
                let Some(other) = other else { return false };
                let (v, w) = (self.cells[e * days + d], self.cells[e * days + other]);
                if v == w || !self.may(e, d, w) || !self.may(e, other, v) {
                    return false;
                }
                changes.push((e, d, w));
                changes.push((e, other, v));
            }
            _ => return false,
        }
        !changes.is_empty()
    }

    /// The cells that set staff `e`'s run of work through day `d` to `value`: the whole run
    /// (`part` 0), its days up to `d` (1) or from `d` on (2). Nothing when a day of it may not
    /// take `value`.
    fn retype(
        &self,
        e: usize,
        d: usize,
        value: u16,
        part: usize,
        changes: &mut Vec<(usize, usize, u16)>,
    ) {
        let days = self.days;
        let row = &self.cells[e * days..(e + 1) * days];
        let mut first = d;
        let mut last = d;
        if part != 2 {
            while first > 0 && row[first - 1] != OFF && d - first < MAX_BLOCK {
                first -= 1;
            }
        }
        if part != 1 {
            while last + 1 < days && row[last + 1] != OFF && last - d < MAX_BLOCK {
                last += 1;
            }
        }
        changes.clear();
        for (day, &current) in row.iter().enumerate().take(last + 1).skip(first) {
            if current == value {
                continue;
            }
            if !self.may(e, day, value) {
                changes.clear();
                return;
            }
            changes.push((e, day, value));
        }
    }

    /// One draw of a cover item that can be short: the item when it is below its preferred
    /// level (what the repairs aim at), `None` otherwise.
    fn short_cover(&self, rng: &mut Rng) -> Option<usize> {
        if self.coverable.is_empty() {
            return None;
        }
        let c = self.coverable[rng.below(self.coverable.len())];
        (self.cover_count[c] < self.compiled.cover[c].preferred).then_some(c)
    }

    /// Cover below its preferred level gets a random eligible staff member (moved from another
    /// shift that day, or from a day off); the best of giving up nothing or one of their working
    /// days nearby (which keeps their minutes) is then offered to `accept` as one move.
    fn repair(&mut self, rng: &mut Rng, accept: &mut dyn FnMut(i64) -> bool) -> Option<i64> {
        let compiled = self.compiled;
        let cover = &compiled.cover[self.short_cover(rng)?];
        let days = self.days;
        let d = cover.day;
        let value = cover.shift as u16;
        // A few draws for a staff member who may take the shift, weekend limit included.
        let weekend = compiled.weekend_of_day[d];
        let e = (0..REPAIR_STAFF_DRAWS)
            .map(|_| rng.below(compiled.staff.len()))
            .find(|&e| {
                cover.eligible[e]
                    && self.cells[e * days + d] != value
                    && self.may(e, d, value)
                    && weekend.is_none_or(|k| {
                        self.weekend_days[e * self.weekends + k] > 0
                            || self.weekends_worked[e] < compiled.staff[e].max_weekends
                    })
            })?;
        if self.cells[e * days + d] != OFF {
            // Already at work that day on another shift: the run around it changes type too.
            let mut best: Option<(i64, usize)> = None;
            let mut changes = Vec::with_capacity(2 * MAX_BLOCK);
            for part in 0..3 {
                self.retype(e, d, value, part, &mut changes);
                if changes.is_empty() {
                    continue;
                }
                if let Some(delta) = self.delta_of(&changes) {
                    if best.is_none_or(|(b, _)| delta < b) {
                        best = Some((delta, part));
                    }
                }
            }
            if let Some((_, part)) = best {
                self.retype(e, d, value, part, &mut changes);
                return self.try_move(&changes, accept);
            }
        }
        self.with_best_partner(rng, e, d, value, accept)
    }

    /// Cover below its preferred level gets an eligible staff member who works its shift on the
    /// same weekday of another week: their days around it are exchanged with the same days of
    /// that week (the best of a block of each length up to a week), which keeps their minutes
    /// and shift counts, and their weekends worked when the blocks hold the weekends whole. Only
    /// the runs at the blocks' edges can break. This moves a weekend's work across the horizon,
    /// where the weekend limits bind, a change that no window and no nearby move makes.
    fn swap_weeks(&mut self, rng: &mut Rng, accept: &mut dyn FnMut(i64) -> bool) -> Option<i64> {
        let days = self.days;
        if days < 2 * WEEK {
            return None;
        }
        let compiled = self.compiled;
        let cover = &compiled.cover[self.short_cover(rng)?];
        let d = cover.day;
        let value = cover.shift as u16;
        let e = (0..REPAIR_STAFF_DRAWS)
            .map(|_| rng.below(compiled.staff.len()))
            .find(|&e| {
                cover.eligible[e] && self.cells[e * days + d] != value && self.may(e, d, value)
            })?;
        // The same weekday of the other weeks on which they work the shift.
        let (cells, fixed) = (&self.cells, &self.fixed);
        let sources = || {
            (d % WEEK..days)
                .step_by(WEEK)
                .filter(move |&o| o != d && cells[e * days + o] == value && !fixed[e * days + o])
        };
        let count = sources().count();
        if count == 0 {
            return None;
        }
        let source = sources().nth(rng.below(count))?;
        let mut best: Option<(i64, usize, usize)> = None;
        let mut changes = Vec::with_capacity(4 * WEEK);
        for length in 1..=WEEK {
            let back = rng.below(length);
            let (Some(first), Some(other)) = (d.checked_sub(back), source.checked_sub(back)) else {
                continue;
            };
            if first.max(other) + length > days {
                continue;
            }
            if !self.exchange(e, first, other, length, &mut changes) {
                continue;
            }
            if let Some(delta) = self.delta_of(&changes) {
                if best.is_none_or(|(b, _, _)| delta < b) {
                    best = Some((delta, first, length));
                }
            }
        }
        let (_, first, length) = best?;
        let other = source - (d - first);
        self.exchange(e, first, other, length, &mut changes);
        self.try_move(&changes, accept)
    }

    /// The cells that exchange staff `e`'s days `first..first + length` with
    /// `other..other + length`; false when a day may not take the other's value.
    fn exchange(
        &self,
        e: usize,
        first: usize,
        other: usize,
        length: usize,
        changes: &mut Vec<(usize, usize, u16)>,
    ) -> bool {
        changes.clear();
        let days = self.days;
        for i in 0..length {
            let (a, b) = (first + i, other + i);
            let (va, vb) = (self.cells[e * days + a], self.cells[e * days + b]);
            if va == vb {
                continue;
            }
            if !self.may(e, a, vb) || !self.may(e, b, va) {
                return false;
            }
            changes.push((e, a, vb));
            changes.push((e, b, va));
        }
        !changes.is_empty()
    }

    /// A weekend worked on one day only gets its other day worked too, or stops being worked,
    /// each with the best partner change nearby: the weekend limit makes half-worked weekends
    /// a waste when weekend cover is short.
    fn complete_weekend(
        &mut self,
        rng: &mut Rng,
        accept: &mut dyn FnMut(i64) -> bool,
    ) -> Option<i64> {
        if self.weekend_starts.is_empty() {
            return None;
        }
        let e = rng.below(self.compiled.staff.len());
        let saturday = self.weekend_starts[rng.below(self.weekend_starts.len())];
        let sunday = saturday + 1;
        let days = self.days;
        if sunday >= days || self.compiled.weekend_of_day[sunday].is_none() {
            return None;
        }
        let worked = |d: usize| self.cells[e * days + d] != OFF;
        let (day, value) = match (worked(saturday), worked(sunday)) {
            (true, false) | (false, true) => {
                let (on, off) = if worked(saturday) {
                    (saturday, sunday)
                } else {
                    (sunday, saturday)
                };
                if rng.below(2) == 0 {
                    (on, OFF)
                } else {
                    (off, self.random_value(rng, e, off))
                }
            }
            _ => return None,
        };
        if self.cells[e * days + day] == value || !self.may(e, day, value) {
            return None;
        }
        self.with_best_partner(rng, e, day, value, accept)
    }

    /// Sets staff `e`'s day `d` to `value` together with the best of no other change or one
    /// change of theirs within a week (a working day given up when `value` adds work, a day off
    /// worked otherwise), which keeps their minutes; the best is offered to `accept`.
    fn with_best_partner(
        &mut self,
        rng: &mut Rng,
        e: usize,
        d: usize,
        value: u16,
        accept: &mut dyn FnMut(i64) -> bool,
    ) -> Option<i64> {
        let days = self.days;
        let adds_work = value != OFF;
        let first = d.saturating_sub(MAX_SHIFT_DISTANCE);
        let last = (d + MAX_SHIFT_DISTANCE).min(days - 1);
        let mut best: Option<(i64, Option<(usize, u16)>)> = None;
        let mut changes = Vec::with_capacity(2);
        for other in std::iter::once(None).chain((first..=last).map(Some)) {
            changes.clear();
            changes.push((e, d, value));
            let partner = match other {
                None => None,
                Some(o) if o == d => continue,
                Some(o) => {
                    let current = self.cells[e * days + o];
                    let partner_value = if adds_work {
                        OFF
                    } else {
                        self.random_value(rng, e, o)
                    };
                    if (current == OFF) == adds_work
                        || partner_value == current
                        || !self.may(e, o, partner_value)
                    {
                        continue;
                    }
                    Some((o, partner_value))
                }
            };
            if let Some((o, partner_value)) = partner {
                changes.push((e, o, partner_value));
            }
            if let Some(delta) = self.delta_of(&changes) {
                if best.is_none_or(|(b, _)| delta < b) {
                    best = Some((delta, partner));
                }
            }
        }
        let (_, partner) = best?;
        changes.clear();
        changes.push((e, d, value));
        if let Some((o, partner_value)) = partner {
            changes.push((e, o, partner_value));
        }
        self.try_move(&changes, accept)
    }

    fn two_staff(&self, rng: &mut Rng) -> (usize, usize) {
        let staff = self.compiled.staff.len();
        let a = rng.below(staff);
        let b = (a + 1 + rng.below(staff - 1)) % staff;
        (a, b)
    }

    /// A random choice for a cell: off or one of the shift types (not checked against the rules).
    fn random_value(&self, rng: &mut Rng, e: usize, d: usize) -> u16 {
        let staff = &self.compiled.staff[e];
        for _ in 0..4 {
            let r = rng.below(self.shifts + 1);
            if r == self.shifts {
                return OFF;
            }
            if staff.may(self.shifts, d, r) {
                return r as u16;
            }
        }
        OFF
    }

    /// `count` exact re-plans of one staff member over `length` days (see `replan`), each kept
    /// when it is no worse: half of them for someone who may fill a cover below its preferred
    /// level and does not, around that day; the rest anywhere. Returns the roster held when it
    /// is better than the one at the start.
    pub fn replan_windows(
        &mut self,
        rng: &mut Rng,
        count: u64,
        length: usize,
        stop: &dyn Fn() -> bool,
    ) -> Option<(Roster, i64)> {
        let start_objective = self.objective;
        let days = self.days;
        let staff = self.compiled.staff.len();
        let length = length.min(days).min(replan::MAX_LENGTH);
        if staff == 0 || length == 0 {
            return None;
        }
        let mut changes = Vec::with_capacity(length);
        for step in 0..count {
            if step % 16 == 0 && stop() {
                break;
            }
            let aimed = (rng.below(2) == 0)
                .then(|| self.short_slot_taker(rng))
                .flatten();
            let (e, first) = match aimed {
                Some((e, d)) => {
                    let earliest = (d + 1).saturating_sub(length);
                    let latest = d.min(days - length);
                    (e, earliest + rng.below(latest - earliest + 1))
                }
                None => (rng.below(staff), rng.below(days - length + 1)),
            };
            if !self.replan(e, first, first + length - 1, None, &mut changes) || changes.is_empty()
            {
                continue;
            }
            self.try_move(&changes, &mut |delta| delta <= 0);
        }
        (self.objective < start_objective).then(|| (self.roster(), self.objective))
    }

    /// Staff member `e`'s schedule of least total price (see `replan`) that differs from the
    /// roster held only on days `first..=last`, with that price (over the whole horizon), then
    /// up to `more` further schedules that keep the rules, the cheapest the programme ends with
    /// in other states, cheapest first; `None` when the window is too long for the programme
    /// or nothing keeps the rules.
    pub fn price_window(
        &self,
        e: usize,
        prices: &[i64],
        (first, last): (usize, usize),
        more: usize,
    ) -> Option<Vec<(i64, Vec<Option<usize>>)>> {
        let mut changes = Vec::new();
        let mut others = Vec::new();
        if !self.replan_cheapest(
            e,
            first,
            last,
            Some(prices),
            &mut changes,
            &mut others,
            more,
        ) {
            return None;
        }
        let days = self.days;
        let held = Self::roster_of(&self.cells[e * days..(e + 1) * days], days).pop()?;
        let priced = std::iter::once(&changes)
            .chain(&others)
            .map(|changes| {
                let mut schedule = held.clone();
                for &(_, d, value) in changes {
                    schedule[d] = (value != OFF).then_some(usize::from(value));
                }
                let total = crate::milp::master::price_of(prices, &schedule, self.shifts);
                (total, schedule)
            })
            .collect();
        Some(priced)
    }

    /// A cover item below its preferred level and an eligible staff member who may work it and
    /// does not: `(staff, day)`, after a few draws.
    fn short_slot_taker(&self, rng: &mut Rng) -> Option<(usize, usize)> {
        if self.coverable.is_empty() {
            return None;
        }
        let compiled = self.compiled;
        for _ in 0..REPAIR_STAFF_DRAWS {
            let Some(c) = self.short_cover(rng) else {
                continue;
            };
            let cover = &compiled.cover[c];
            let e = rng.below(compiled.staff.len());
            let d = cover.day;
            if cover.eligible[e]
                && self.cells[e * self.days + d] != cover.shift as u16
                && compiled.staff[e].may(self.shifts, d, cover.shift)
            {
                return Some((e, d));
            }
        }
        None
    }

    /// Simulated annealing for `moves` moves, the temperature falling geometrically from
    /// `start_temperature` to `end_temperature`; returns the best roster met when it is better
    /// than the one held at the start (the roster held afterwards is the last one, not the best).
    /// `stop` is polled every few thousand moves.
    pub fn anneal(
        &mut self,
        rng: &mut Rng,
        moves: u64,
        start_temperature: f64,
        end_temperature: f64,
        stop: &dyn Fn() -> bool,
    ) -> (Option<(Roster, i64)>, AnnealStats) {
        let mut stats = AnnealStats::default();
        let start_objective = self.objective;
        let mut best_objective = self.objective;
        let mut best_cells: Option<Vec<u16>> = None;
        // The roster held is the best one but not yet copied.
        let mut at_best = false;
        let mut changes = Vec::with_capacity(2 * MAX_BLOCK);
        let ratio = (end_temperature / start_temperature).max(1e-9);
        let mut temperature = start_temperature;
        for step in 0..moves {
            if step % POLL_EVERY == 0 {
                if stop() {
                    break;
                }
                let progress = step as f64 / moves as f64;
                temperature = start_temperature * ratio.powf(progress);
            }
            stats.moves += 1;
            // Metropolis: a worsening by `delta` is kept with probability e^(−delta/T), that is
            // when delta ≤ −T·ln(u) for a uniform u drawn beforehand.
            let u = ((rng.next() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
            let limit = -temperature * u.ln();
            let mut accept = |delta: i64| delta <= 0 || (delta as f64) <= limit;
            let draw = rng.below(REPAIR_ONE_IN);
            let kept = if draw == 0 {
                self.repair(rng, &mut accept)
            } else if draw == 1 {
                self.complete_weekend(rng, &mut accept)
            } else if draw == 2 {
                self.swap_weeks(rng, &mut accept)
            } else if self.propose(rng, &mut changes) {
                self.try_move(&changes, &mut accept)
            } else {
                None
            };
            let Some(delta) = kept else {
                continue;
            };
            stats.accepted += 1;
            if delta > 0 && at_best {
                // Leaving the best roster: keep a copy of it (the cells before this move).
                let mut copy = self.cells.clone();
                for &(e, d, value) in self.undo.iter().rev() {
                    copy[e * self.days + d] = value;
                }
                best_cells = Some(copy);
                at_best = false;
            }
            if self.objective < best_objective {
                best_objective = self.objective;
                at_best = true;
                stats.improvements += 1;
            }
        }
        if at_best {
            best_cells = Some(self.cells.clone());
        }
        let best = best_cells
            .filter(|_| best_objective < start_objective)
            .map(|cells| (Self::roster_of(&cells, self.days), best_objective));
        (best, stats)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::check::{check, evaluate_roster};
    use crate::curtois;

    const SMALL: &str = "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nD,480,\nL,480,D\nN,600,D|L\n\n\
SECTION_STAFF\nA,D=14|L=14|N=3,4800,2400,5,2,2,1\nB,D=14|L=0|N=3,4800,2400,4,2,1,2\n\
C,D=14|L=14|N=0,4800,2880,5,1,2,2\n\nSECTION_DAYS_OFF\nA,0\nB,6\n\n\
SECTION_SHIFT_ON_REQUESTS\nA,2,D,2\nC,9,L,3\n\nSECTION_SHIFT_OFF_REQUESTS\nB,3,D,1\n\n\
SECTION_COVER\n0,D,1,100,1\n1,D,2,100,1\n2,L,1,100,1\n3,N,1,100,1\n7,D,2,100,1\n9,L,1,100,1\n";

    #[test]
    fn annealing_keeps_the_roster_feasible_and_the_objective_exact() {
        let problem = curtois::parse(SMALL).unwrap();
        let compiled = Compiled::new(&problem).unwrap();
        // A feasible start: everyone works days 1..=4 and 8..=11 as D.
        let roster: Vec<Vec<Option<usize>>> = (0..compiled.staff.len())
            .map(|_| {
                (0..14)
                    .map(|d| ((1..=4).contains(&d) || (8..=11).contains(&d)).then_some(0))
                    .collect()
            })
            .collect();
        let plan = compiled.plan_of(&problem, &roster);
        assert_eq!(check(&problem, &plan), vec![]);
        let mut search = LocalSearch::new(&compiled, &roster).unwrap();
        let start = search.objective();
        assert_eq!(
            start,
            evaluate_roster(&problem, &compiled, &roster).objective
        );
        let mut rng = Rng(7);
        for _ in 0..20 {
            let (best, _) = search.anneal(&mut rng, 5_000, 3.0, 0.1, &|| false);
            let held = search.roster();
            assert_eq!(check(&problem, &compiled.plan_of(&problem, &held)), vec![]);
            assert_eq!(
                search.objective(),
                evaluate_roster(&problem, &compiled, &held).objective
            );
            if let Some((roster, objective)) = best {
                assert_eq!(
                    check(&problem, &compiled.plan_of(&problem, &roster)),
                    vec![]
                );
                assert_eq!(
                    objective,
                    evaluate_roster(&problem, &compiled, &roster).objective
                );
                assert!(objective < start);
            }
        }
    }

    /// A weekend whose cover is short gets the staff member whose one allowed weekend is worked
    /// where nothing needs them: every nearby move breaks their weekend limit or their exact
    /// minutes, and only an exchange with the same days of another week moves the weekend.
    #[test]
    fn a_weekend_moves_to_the_week_whose_cover_is_short() {
        let text = "SECTION_HORIZON\n21\n\nSECTION_SHIFTS\nD,480,\n\n\
SECTION_STAFF\nA,D=21,2400,2400,5,1,1,1\n\nSECTION_DAYS_OFF\nA,0\n\n\
SECTION_SHIFT_ON_REQUESTS\n\nSECTION_SHIFT_OFF_REQUESTS\n\n\
SECTION_COVER\n12,D,1,100,1\n13,D,1,100,1\n";
        let problem = curtois::parse(text).unwrap();
        let compiled = Compiled::new(&problem).unwrap();
        // Wednesday to Sunday of the first week: exactly the five shifts the minutes allow.
        let roster = vec![(0..21).map(|d| (2..=6).contains(&d).then_some(0)).collect()];
        assert_eq!(
            check(&problem, &compiled.plan_of(&problem, &roster)),
            vec![]
        );
        let mut search = LocalSearch::new(&compiled, &roster).unwrap();
        assert_eq!(search.objective(), 200);
        let mut rng = Rng(3);
        for _ in 0..50 {
            search.swap_weeks(&mut rng, &mut |delta| delta < 0);
        }
        let held = search.roster();
        assert_eq!(check(&problem, &compiled.plan_of(&problem, &held)), vec![]);
        assert_eq!(search.objective(), 0);
        assert_eq!(evaluate_roster(&problem, &compiled, &held).objective, 0);
        assert!(held[0][12].is_some() && held[0][13].is_some());
        assert_eq!(held[0].iter().flatten().count(), 5);
    }

    /// `problem` with fairness off (which the re-plans leave to the exact delta), compiled,
    /// when its empty roster keeps every hard rule (the start the annealing needs).
    pub(crate) fn fairness_off_from_an_empty_roster(
        problem: crate::model::Problem,
    ) -> Option<(crate::model::Problem, Compiled)> {
        let mut problem = problem;
        problem.fairness = None;
        let compiled = Compiled::new(&problem).unwrap();
        let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
        check(&problem, &compiled.plan_of(&problem, &empty))
            .is_empty()
            .then_some((problem, compiled))
    }

    /// The annealing's roster after `moves` moves from the empty roster (which must keep the
    /// rules, as `fairness_off_from_an_empty_roster` ensures).
    pub(crate) fn annealed_from_empty<'a>(
        compiled: &'a Compiled,
        rng: &mut Rng,
        moves: u64,
    ) -> LocalSearch<'a> {
        let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
        let mut search = LocalSearch::new(compiled, &empty).unwrap();
        search.anneal(rng, moves, 20.0, 0.5, &|| false);
        search
    }

    /// A random problem whose all-off roster is feasible (no minimum minutes, no pinned shifts),
    /// so the annealing can start from it.
    pub(crate) fn arbitrary_problem(
    ) -> impl proptest::strategy::Strategy<Value = crate::model::Problem> {
        use proptest::prelude::*;
        let staff_member = (1usize..=3, 2usize..=6, 1usize..=3, 0u32..=3, 1u32..=12);
        (
            5usize..=21,
            prop::collection::vec(staff_member, 1..=5),
            prop::collection::vec((0usize..21, 0usize..3, 0u32..=3, 0u32..=3), 0..30),
            prop::collection::vec((0usize..21, 0usize..5, 0usize..3, any::<bool>()), 0..12),
            0u32..=2,
        )
            .prop_map(|(days, staff, cover, requests, fairness)| {
                let mut text = format!(
                    "SECTION_HORIZON\n{days}\n\nSECTION_SHIFTS\nE,480,\nL,480,E\nN,600,E|L\n\n\
                     SECTION_STAFF\n"
                );
                for (i, &(min_work, max_work, min_off, weekends, max_shifts)) in
                    staff.iter().enumerate()
                {
                    let max_work = max_work.max(min_work);
                    text += &format!(
                        "S{i},E={max_shifts}|L={days}|N={},{},0,{max_work},{min_work},{min_off},{weekends}\n",
                        i % 3,
                        480 * (days / 2) + 120 * (i % 2),
                    );
                }
                text += "\nSECTION_DAYS_OFF\n";
                for i in 0..staff.len() {
                    text += &format!("S{i},{}\n", (i * 5) % days);
                }
                let shift = |s: usize| ["E", "L", "N"][s % 3];
                let mut on = String::new();
                let mut off = String::new();
                for &(day, who, s, is_off) in &requests {
                    let line = format!(
                        "S{},{},{},{}\n",
                        who % staff.len(),
                        day % days,
                        shift(s),
                        1 + who % 3
                    );
                    if is_off {
                        off += &line;
                    } else {
                        on += &line;
                    }
                }
                text += &format!(
                    "\nSECTION_SHIFT_ON_REQUESTS\n{on}\nSECTION_SHIFT_OFF_REQUESTS\n{off}\nSECTION_COVER\n"
                );
                for &(day, s, required, over) in &cover {
                    text += &format!("{},{},{required},100,{over}\n", day % days, shift(s));
                }
                let mut problem = curtois::parse(&text).unwrap();
                problem.fairness = (fairness > 0).then_some(crate::model::Fairness {
                    weekend_weight: fairness,
                    night_weight: fairness,
                });
                problem
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        #[test]
        fn every_roster_of_the_annealing_passes_the_checker(
            problem in arbitrary_problem(),
            seed in 0u64..1000,
        ) {
            let compiled = Compiled::new(&problem).unwrap();
            let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
            proptest::prop_assume!(check(&problem, &compiled.plan_of(&problem, &empty)).is_empty());
            let mut search = LocalSearch::new(&compiled, &empty).unwrap();
            let mut rng = Rng(seed);
            for _ in 0..5 {
                let (best, _) = search.anneal(&mut rng, 3_000, 20.0, 0.5, &|| false);
                let held = search.roster();
                proptest::prop_assert_eq!(check(&problem, &compiled.plan_of(&problem, &held)), vec![]);
                proptest::prop_assert_eq!(
                    search.objective(),
                    evaluate_roster(&problem, &compiled, &held).objective
                );
                if let Some((roster, objective)) = best {
                    proptest::prop_assert_eq!(check(&problem, &compiled.plan_of(&problem, &roster)), vec![]);
                    proptest::prop_assert_eq!(
                        objective,
                        evaluate_roster(&problem, &compiled, &roster).objective
                    );
                }
            }
        }
    }
}
