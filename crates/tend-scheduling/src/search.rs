//! The solve strategy: a constructive start, a bound from the full model, and a large
//! neighbourhood search that re-solves parts of the roster with HiGHS, warm-started from the
//! incumbent. See docs/adr/0003-roster-solver-strategy.md for why.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::{evaluate_roster, Evaluation, PenaltyKind, Uncovered};
use crate::milp::{self, Limits, Neighbourhood};
use crate::model::{Compiled, Plan, Problem, ProblemError};

/// How long and how hard to search.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveOptions {
    /// Wall-clock limit for the whole solve.
    pub time_limit: Duration,
    /// Stop once the gap to the bound is at most this (0.0: prove optimality).
    pub relative_gap: f64,
    /// HiGHS threads.
    pub threads: u32,
    /// Seed of the neighbourhood choice and of HiGHS.
    pub seed: u64,
    /// Stop after this many neighbourhood solves; with it the result does not depend on the
    /// machine's speed (as long as the time limit is not reached first).
    pub iteration_limit: Option<u64>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: Duration::from_secs(60),
            relative_gap: 0.0,
            threads: 1,
            seed: 0,
            iteration_limit: None,
        }
    }
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SolveStatus {
    /// The roster is optimal within the requested gap.
    Optimal,
    /// A roster that passes every hard rule; the limit was reached before optimality was proved.
    Feasible,
}

/// A roster and how it was found.
#[derive(Debug, Clone)]
pub struct Solution {
    pub plan: Plan,
    pub report: Report,
}

/// Figures of a solve and the penalty breakdown of its roster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub status: SolveStatus,
    pub objective: i64,
    /// A proven lower bound on the objective (0 when nothing better was proved).
    pub best_bound: i64,
    /// `(objective − bound) / objective`, 0 when both are 0.
    pub gap: f64,
    pub seconds: f64,
    /// Penalty per kind of soft rule.
    pub penalty_by_kind: Vec<(PenaltyKind, i64)>,
    /// Penalty attributed to each staff member (their requests), staff with none omitted.
    pub penalty_by_staff: Vec<(String, i64)>,
    /// Demand below its required head count, with the reason.
    pub uncovered: Vec<Uncovered>,
    /// Neighbourhood solves performed and how many improved the roster.
    pub iterations: u64,
    pub improvements: u64,
    /// Where the time went, phase by phase.
    pub phases: Vec<Phase>,
}

/// One phase of the search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub seconds: f64,
    pub objective: i64,
}

/// Why no roster could be returned.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Problem(#[from] ProblemError),
    /// The rules of one staff member admit no schedule at all (beyond what validation detects).
    #[error("staff member {staff:?} has no schedule that satisfies all their rules")]
    NoScheduleFor { staff: String },
    #[error("the solver failed: {message}")]
    Solver { message: String },
}

/// Small, seeded, deterministic random numbers (SplitMix64).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Models above this many shift variables get only their LP relaxation solved for the bound.
const FULL_MIP_MAX_COLUMNS: usize = 60_000;

struct Search<'a> {
    problem: &'a Problem,
    compiled: &'a Compiled,
    options: &'a SolveOptions,
    started: Instant,
    deadline: Instant,
    rng: Rng,
    best: Vec<Vec<Option<usize>>>,
    best_objective: i64,
    bound: f64,
    iterations: u64,
    improvements: u64,
    phases: Vec<Phase>,
    phase_started: Instant,
}

/// Solves a problem: validates it, then returns the best roster found within the limits.
pub fn solve(problem: &Problem, options: &SolveOptions) -> Result<Solution, SolveError> {
    let started = Instant::now();
    let compiled = Compiled::new(problem)?;
    let mut search = Search {
        problem,
        compiled: &compiled,
        options,
        started,
        deadline: started + options.time_limit,
        rng: Rng(options.seed ^ 0x5EED_0F_7E4D),
        best: Vec::new(),
        best_objective: i64::MAX,
        bound: 0.0,
        iterations: 0,
        improvements: 0,
        phases: Vec::new(),
        phase_started: started,
    };
    search.construct()?;
    search.end_phase("construction");
    search.full_model()?;
    search.end_phase("full model");
    search.large_neighbourhood_search()?;
    search.end_phase("neighbourhood search");
    Ok(search.finish())
}

impl Search<'_> {
    fn remaining(&self) -> f64 {
        self.deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    }

    fn objective(&self, roster: &[Vec<Option<usize>>]) -> i64 {
        evaluate_roster(self.problem, self.compiled, roster).objective
    }

    fn bound_reached(&self) -> bool {
        let bound = (self.bound - 1e-6).ceil().max(0.0) as i64;
        let objective = self.best_objective;
        objective <= bound
            || (objective > 0
                && (objective - bound) as f64 / objective as f64 <= self.options.relative_gap)
    }

    fn limits(&self, time_limit: f64, node_limit: Option<i32>) -> Limits {
        Limits {
            time_limit,
            node_limit,
            relative_gap: self.options.relative_gap,
            threads: self.options.threads,
            seed: (self.options.seed % (i32::MAX as u64)) as i32,
        }
    }

    fn end_phase(&mut self, name: &str) {
        let now = Instant::now();
        self.phases.push(Phase {
            name: name.to_owned(),
            seconds: (now - self.phase_started).as_secs_f64(),
            objective: self.best_objective,
        });
        self.phase_started = now;
    }

    fn offer(&mut self, roster: Vec<Vec<Option<usize>>>) -> bool {
        let objective = self.objective(&roster);
        if objective < self.best_objective {
            self.best_objective = objective;
            self.best = roster;
            true
        } else {
            false
        }
    }

    /// One staff member at a time, each given the schedule that best fits their own rules and
    /// requests and the cover left by those before them.
    fn construct(&mut self) -> Result<(), SolveError> {
        let compiled = self.compiled;
        let mut roster: Vec<Vec<Option<usize>>> = compiled
            .staff
            .iter()
            .map(|staff| {
                (0..compiled.days)
                    .map(|d| staff.pinned.get(&d).copied().flatten())
                    .collect()
            })
            .collect();
        for e in 0..compiled.staff.len() {
            let hood = Neighbourhood {
                staff: vec![e],
                first_day: 0,
                end_day: compiled.days,
            };
            // A staff member's own rules are all inside this model, so it is feasible unless
            // their rules contradict; a generous time limit keeps that the only failure.
            let limits = self.limits(self.remaining().max(10.0), Some(2_000));
            let outcome = milp::build(compiled, &roster, &hood, false)
                .solve(&roster, &limits)
                .map_err(|message| SolveError::Solver { message })?;
            match outcome.roster {
                Some(next) => roster = next,
                None => {
                    return Err(SolveError::NoScheduleFor {
                        staff: self.problem.staff[e].id.clone(),
                    })
                }
            }
        }
        self.best_objective = self.objective(&roster);
        self.best = roster;
        Ok(())
    }

    /// Solves the full model, warm-started from the incumbent, for a share of the time: small
    /// instances are solved to optimality here, larger ones get their bound.
    fn full_model(&mut self) -> Result<(), SolveError> {
        let hood = Neighbourhood::everything(self.compiled);
        let columns = self.compiled.staff.len() * self.compiled.days * self.compiled.shifts;
        let relaxation = columns > FULL_MIP_MAX_COLUMNS;
        let share = if relaxation { 0.5 } else { 0.3 };
        let limits = self.limits(self.remaining() * share, None);
        let built = milp::build(self.compiled, &self.best, &hood, relaxation);
        let outcome = built
            .solve(&self.best, &limits)
            .map_err(|message| SolveError::Solver { message })?;
        if outcome.bound.is_finite() {
            self.bound = self.bound.max(outcome.bound);
        }
        if let Some(roster) = outcome.roster {
            self.offer(roster);
        }
        Ok(())
    }

    fn large_neighbourhood_search(&mut self) -> Result<(), SolveError> {
        let compiled = self.compiled;
        let staff_count = compiled.staff.len();
        let days = compiled.days;
        if staff_count == 0 {
            return Ok(());
        }
        let all_cells = (staff_count * days) as f64;
        // Target count of free (staff, day) cells; adapted to how the sub-solves go.
        let mut target = (all_cells / 4.0).clamp(2.0 * days.min(56) as f64, 600.0);
        let mut current = self.best.clone();
        let mut current_objective = self.best_objective;
        while self.remaining() > 0.05 && !self.bound_reached() {
            if self
                .options
                .iteration_limit
                .is_some_and(|limit| self.iterations >= limit)
            {
                break;
            }
            let hood = self.pick(target);
            let limits = self.limits(self.remaining().min(10.0), Some(500));
            let outcome = milp::build(compiled, &current, &hood, false)
                .solve(&current, &limits)
                .map_err(|message| SolveError::Solver { message })?;
            self.iterations += 1;
            if outcome.finished {
                target = (target * 1.08).min(all_cells);
            } else {
                target = (target * 0.8).max(days.min(8) as f64);
            }
            if let Some(roster) = outcome.roster {
                let objective = self.objective(&roster);
                // Equal rosters are accepted to drift across plateaus; the best is kept apart.
                if objective <= current_objective {
                    current_objective = objective;
                    current = roster;
                    if current_objective < self.best_objective {
                        self.best_objective = current_objective;
                        self.best = current.clone();
                        self.improvements += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Chooses the next neighbourhood of about `target` free cells: some staff over a stretch of
    /// days, all staff over a window of days, or a mix.
    fn pick(&mut self, target: f64) -> Neighbourhood {
        let compiled = self.compiled;
        let staff_count = compiled.staff.len();
        let days = compiled.days;
        let kind = self.rng.below(3);
        let (staff_wanted, length) = match kind {
            // Whole staff members (over the full horizon when it fits).
            0 => {
                let k = ((target / days as f64).round() as usize).clamp(2, staff_count);
                let length = ((target / k as f64).round() as usize).clamp(7.min(days), days);
                (k, length)
            }
            // A window of days for everyone.
            1 => {
                let length = ((target / staff_count as f64).round() as usize).clamp(2.min(days), days);
                (staff_count, length)
            }
            // Half the staff over a longer window.
            _ => {
                let k = (staff_count / 2).max(2).min(staff_count);
                let length = ((target / k as f64).round() as usize).clamp(3.min(days), days);
                (k, length)
            }
        };
        let first_day = self.rng.below(days - length + 1);
        let mut staff: Vec<usize> = (0..staff_count).collect();
        // Partial Fisher–Yates: the first `staff_wanted` entries are a uniform sample.
        for i in 0..staff_wanted.min(staff_count) {
            let j = i + self.rng.below(staff_count - i);
            staff.swap(i, j);
        }
        staff.truncate(staff_wanted);
        staff.sort_unstable();
        let _ = self.rng.unit();
        Neighbourhood {
            staff,
            first_day,
            end_day: first_day + length,
        }
    }

    fn finish(self) -> Solution {
        let evaluation: Evaluation = evaluate_roster(self.problem, self.compiled, &self.best);
        let bound = ((self.bound - 1e-6).ceil().max(0.0) as i64).min(evaluation.objective);
        let objective = evaluation.objective;
        let gap = if objective == 0 {
            0.0
        } else {
            (objective - bound) as f64 / objective as f64
        };
        let status = if gap <= self.options.relative_gap {
            SolveStatus::Optimal
        } else {
            SolveStatus::Feasible
        };
        Solution {
            plan: self.compiled.plan_of(self.problem, &self.best),
            report: Report {
                status,
                objective,
                best_bound: bound,
                gap,
                seconds: self.started.elapsed().as_secs_f64(),
                penalty_by_kind: evaluation.by_kind().into_iter().collect(),
                penalty_by_staff: evaluation.by_staff().into_iter().collect(),
                uncovered: evaluation.uncovered,
                iterations: self.iterations,
                improvements: self.improvements,
                phases: self.phases,
            },
        }
    }
}
