//! The solve strategy: a constructive start, a bound from the full model, and a large
//! neighbourhood search that re-solves parts of the roster with HiGHS, warm-started from the
//! incumbent. See docs/adr/0003-roster-solver-strategy.md for why.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::{check, evaluate_roster, Evaluation, PenaltyKind, Uncovered, Violation};
use crate::greedy;
use crate::local::{LocalSearch, Roster};
use crate::milp::{self, Limits, Neighbourhood};
use crate::model::{Compiled, Plan, Problem, ProblemError};

mod branch;

/// A flag another thread sets to stop a solve early; the solve then returns the best roster
/// found so far (it stops between HiGHS solves, so within about a second).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }
    /// Asks the solve to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl PartialEq for CancelFlag {
    fn eq(&self, other: &CancelFlag) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a running solve reports each time its incumbent or bound changes, and between phases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The phase running now (`construction`, `neighbourhood search`, ...).
    pub phase: String,
    /// Penalty of the best roster so far; `None` before the first complete roster.
    pub objective: Option<i64>,
    /// Best proven lower bound so far (0 when none).
    pub best_bound: i64,
    pub seconds: f64,
    pub iterations: u64,
}

/// A callback that receives [`Progress`]; called on the solving thread, so keep it quick.
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(&Progress) + Send + Sync>);

impl ProgressSink {
    pub fn new(callback: impl Fn(&Progress) + Send + Sync + 'static) -> ProgressSink {
        ProgressSink(Arc::new(callback))
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl PartialEq for ProgressSink {
    fn eq(&self, other: &ProgressSink) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

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
    /// Set it to stop early with the best roster so far.
    pub cancel: Option<CancelFlag>,
    /// Receives the incumbent objective and bound as they change.
    pub progress: Option<ProgressSink>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: Duration::from_secs(60),
            relative_gap: 0.0,
            threads: 1,
            seed: 0,
            iteration_limit: None,
            cancel: None,
            progress: None,
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
    /// Annealing runs and neighbourhood solves performed, and how many improved the roster.
    pub iterations: u64,
    pub improvements: u64,
    /// Staff members whose constructed schedule only satisfies their hard rules, because the
    /// construction's share of the time ran out before a better one was found.
    #[serde(default)]
    pub construction_fallbacks: u64,
    /// Moves tried by the annealing, over all workers.
    #[serde(default)]
    pub annealing_moves: u64,
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
pub(crate) struct Rng(pub(crate) u64);

/// SplitMix64's increment, also the spacing of `Rng::stream`'s streams.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// The `index`th stream of a run seeded with `seed` (a dive's variant, a mended node).
    pub(crate) fn stream(seed: u64, index: u64) -> Rng {
        Rng(seed ^ index.wrapping_mul(GOLDEN))
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Limits of each staff member's construction solve: a good schedule quickly, not a proof.
const CONSTRUCTION_NODES: i32 = 200;
const CONSTRUCTION_SOLUTIONS: i32 = 3;
/// Branch-and-bound nodes of the first look at the full model.
const FIRST_LOOK_NODES: i32 = 500;
/// Rosters up to this many (staff, day) cells get the thorough construction.
const THOROUGH_CONSTRUCTION_MAX_CELLS: usize = 1_200;
/// Length of the stretches in which long schedules are constructed.
const CONSTRUCTION_STRETCH: usize = 28;
/// Horizons longer than this start from hard-rules-only schedules (see `hard_rules_only_roster`).
const QUICK_START_MIN_DAYS: usize = 2 * CONSTRUCTION_STRETCH;
/// Share of the time limit for the construction's full-objective solves; staff members left when
/// it is spent get a schedule that only satisfies their own hard rules.
const CONSTRUCTION_SHARE: f64 = 0.6;
/// A staff member may take up to this many times their even share of the construction time left.
const CONSTRUCTION_SHARE_SLACK: f64 = 4.0;
/// Seconds below which a construction solve is not started.
const MIN_CONSTRUCTION_SOLVE: f64 = 0.05;
/// Least time limit of the fall-back solve (a roster needs every staff member's schedule).
const FALLBACK_MIN_SECONDS: f64 = 10.0;
/// HiGHS seeds the hard-rules-only model tries for `FALLBACK_QUICK_SECONDS` each before its
/// last try, which has the whole time limit (a node limit does not help: the slow solves
/// spend their time at the root).
const FALLBACK_QUICK_SEEDS: u64 = 3;
const FALLBACK_QUICK_SECONDS: f64 = 1.0;

/// Models above this many shift variables get no full-model solve at all: in a minute HiGHS
/// finds neither a better roster nor a bound on them (Instances 12, 20 and 22 reported 0).
const FULL_MODEL_MAX_COLUMNS: usize = 20_000;
/// Share of the time limit the search may use when the bound phase follows it (which gets the
/// rest): the bound is only reported, the roster is what counts.
const SEARCH_SHARE_WITH_BOUND: f64 = 0.95;
/// Share of the time limit the search may use when no bound phase follows it; the rest is the
/// margin for finishing (evaluation, the plan) within the limit.
const SEARCH_SHARE_WITHOUT_BOUND: f64 = 0.98;
/// Longest horizon whose schedules the one-staff programme prices whole (its window limit).
const MAX_PRICED_DAYS: usize = 63;
/// A staff member's cheapest schedule at some prices, with its scaled price.
type PricedSchedule = (i64, Vec<Option<usize>>);

/// How far column generation prices from the LP's prices towards the best prices so far.
const SMOOTHING: f64 = 0.5;
/// Most rounds of column generation after each fixing of a dive: in practice until the LP is
/// optimal again. Two rounds and fixing at 0.75 was quicker but left the search far more to do
/// (60 s, 2 threads: the dive alone gave 3 529 / 745 / 1 954 on Instances 16 / 9 / 6, against
/// 3 225 / 439 / 1 952 with 10 rounds and fixing at 0.9; Instance 10 then reached its optimum).
const DIVE_ROUNDS: usize = 50;
/// A dive fixes every staff member whose LP takes one schedule at least this much (with 50
/// rounds, 0.9 against 0.99: the dive gave Instances 9 / 7 439 / 1 059 against 544 / 1 059; with
/// 10 rounds and 0.9, Instance 7's gave 1 164).
const DIVE_FIX_VALUE: f64 = 0.9;
/// Dives after the first fix, when no staff member's value reaches `DIVE_FIX_VALUE`, one of
/// the staff with the `DIVE_CHOICES` largest values, at random.
const DIVE_CHOICES: usize = 3;
/// Dives are repeated until this many in a row improve nothing. Three rather than ten leaves
/// the annealing and its neighbourhoods time before the window dives, and branch and price a
/// better incumbent to prune by (Instance 7 reached its optimum 1 056 in 5 of 8 seeds, where
/// it had in 1 of 7 runs; after a single fruitless dive it ended at 1 068 once).
const DIVE_STALL: usize = 3;
/// Shares of the time limit for the dive, and for its root LP within it (a 30% share cut
/// Instance 10's dive short in two runs of three; with 40% it finishes in 21 s, optimal).
const DIVE_SHARE: f64 = 0.4;
const DIVE_ROOT_SHARE: f64 = 0.15;
/// A root whose LP is within this of the bound at the end of its share goes on, up to
/// `ROOT_EXTENDED_SHARE` of the time, and its dive then gets `DIVE_AFTER_EXTENDED_ROOT_SHARE`.
const ROOT_EXTEND_GAP: f64 = 0.05;
const ROOT_EXTENDED_SHARE: f64 = 0.35;
const DIVE_AFTER_EXTENDED_ROOT_SHARE: f64 = 0.3;
/// What a whole-number objective's bound or LP value may lie above it by rounding errors.
const ROUNDING: f64 = 1e-6;
/// Branch and price follows the window dives on horizons up to this long, when the incumbent
/// is within `BRANCH_MAX_GAP` of the bound.
const BRANCH_MAX_DAYS: usize = 28;
const BRANCH_MAX_GAP: f64 = 0.01;
/// Schedules each pricing offers beyond the cheapest: the cheapest the one-staff programme
/// ends with in other states (Instance 8's root: 47 rounds in 7.1 s with one, 34 in 4.9 s
/// with five).
const MORE_COLUMNS: usize = 4;
/// Window dives: days per window at first on horizons too long to price whole and on those
/// priced whole, and at least; seconds per window and the root's share of them.
const WINDOW_DAYS: usize = 28;
const PRICED_WINDOW_DAYS: usize = 14;
const MIN_WINDOW_DAYS: usize = 7;
/// Seconds per window of up to `WINDOW_DAYS` days; a longer one gets them in proportion
/// (Instance 18's 56-day windows: a root that converged in 3 s with one seed did not with
/// another, and the dives then stopped at 28 days, 4 884 against 4 597).
const WINDOW_SECONDS: f64 = 6.0;
const WINDOW_ROOT_SHARE: f64 = 0.5;
/// Days at least between two windows dived side by side (`Search::window_dives`), beyond
/// the first window's own, and the least horizon for pairs, in windows' lengths.
const PAIRED_WINDOW_GAP: usize = 7;
const PAIRED_MIN_WINDOWS: usize = 4;
/// Once windows have been too long for their time, the seconds of window dives after which
/// their length is chosen again by the objective each length gained a second.
const STINT_SECONDS: f64 = 3.0;
/// What a length's gain a second counts for, for each stint since it was measured.
const STALE_RATE_FACTOR: f64 = 0.7;
/// Shares of the time limit at which window dives begin, on long horizons and on horizons
/// whose root did not converge (the search improves the start before), and by which they end
/// on horizons priced whole (longer ones dive to the search's end).
const WINDOWS_FROM_LONG: f64 = 0.3;
const WINDOWS_FROM_PRICED: f64 = 0.4;
const WINDOWS_UNTIL: f64 = 0.9;

struct Search<'a> {
    problem: &'a Problem,
    compiled: &'a Compiled,
    options: &'a SolveOptions,
    started: Instant,
    deadline: Instant,
    best: Vec<Vec<Option<usize>>>,
    best_objective: i64,
    bound: f64,
    iterations: u64,
    improvements: u64,
    moves: u64,
    construction_fallbacks: u64,
    phases: Vec<Phase>,
    phase_started: Instant,
    /// Schedules the set partition's column generation priced, per staff member, for a later
    /// bound phase to go on from (empty when there are none).
    priced: Pools,
    /// The schedules of the whole horizon's converged root LP, for branch and price to start
    /// from (empty until there is one).
    root_pools: Pools,
    /// Threads a column generation's pricing runs on: the solve's, or one each while window
    /// dives run side by side.
    pricing_workers: usize,
}

/// Schedules per staff member, each a row of the roster.
type Pools = Vec<Vec<Vec<Option<usize>>>>;

/// How far a whole-horizon root near its optimum may go on (see `Search::dive`).
#[derive(Clone, Copy)]
struct Extension {
    root_until: Instant,
    /// The dive's least time after such a root.
    dive: Duration,
}

/// How a dive ended.
enum Dive {
    /// Everyone fixed: a roster that keeps every hard rule.
    Roster(Vec<Vec<Option<usize>>>),
    /// The root LP did not reach its optimum in time: the schedules priced so far.
    RootUnsolved(Pools),
    /// Cancelled, or nothing to dive for: the bound already proves the incumbent optimal.
    Cancelled,
}

/// The length of window dives on long horizons, chosen by what each length gains a second
/// (`Search::window_dives`): on Instance 22 a 14-day window took 2–6 s and a 7-day one about
/// 0.15 s on session 13's machine, and which gains more in the minute depends on the machine's
/// speed and on how far the roster has come (ADR 0003).
#[derive(Debug, Default)]
struct LengthChooser {
    /// The objective gained and the seconds spent at the length in use since the last choice.
    stint: (i64, f64),
    /// Each length's last gain a second, with the stint in which it was measured.
    rates: Vec<(usize, f64, u32)>,
    /// Stints ended.
    stints: u32,
}

impl LengthChooser {
    /// Starts a new stint (the length changed for another reason).
    fn restart(&mut self) {
        self.stint = (0, 0.0);
    }

    /// Records a window of `length` days that gained `gain` in `seconds`. At the end of a
    /// stint (`STINT_SECONDS`), returns the length the next windows should have when it is
    /// another: half the length while that has not been measured, else the length with the
    /// best gain a second, each counting `STALE_RATE_FACTOR` less for every stint since it was
    /// measured (the roster has improved since; a length that is the best again is measured
    /// again).
    fn record(&mut self, length: usize, gain: i64, seconds: f64) -> Option<usize> {
        self.stint.0 += gain;
        self.stint.1 += seconds;
        if self.stint.1 < STINT_SECONDS {
            return None;
        }
        let rate = self.stint.0 as f64 / self.stint.1;
        self.stint = (0, 0.0);
        self.stints += 1;
        let stints = self.stints;
        match self.rates.iter_mut().find(|(l, _, _)| *l == length) {
            Some(entry) => *entry = (length, rate, stints),
            None => self.rates.push((length, rate, stints)),
        }
        let half = (length / 2).max(MIN_WINDOW_DAYS);
        let target = if !self.rates.iter().any(|&(l, _, _)| l == half) {
            half
        } else {
            let discounted = |&(_, rate, at): &(usize, f64, u32)| {
                rate * STALE_RATE_FACTOR.powi((stints - at) as i32)
            };
            self.rates
                .iter()
                .max_by(|a, b| discounted(a).total_cmp(&discounted(b)))
                .map_or(length, |&(l, _, _)| l)
        };
        (target != length).then_some(target)
    }
}

/// Size of a built model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSize {
    pub columns: usize,
    pub rows: usize,
}

/// Builds the full MILP of a problem and loads it into HiGHS without solving: what the model-build
/// benchmark measures.
pub fn build_full_model(problem: &Problem) -> Result<ModelSize, SolveError> {
    let compiled = Compiled::new(problem)?;
    let roster = vec![vec![None; compiled.days]; compiled.staff.len()];
    let built = milp::build(
        &compiled,
        &roster,
        &Neighbourhood::everything(&compiled),
        false,
    );
    let size = ModelSize {
        columns: built.columns(),
        rows: built.rows(),
    };
    built
        .load()
        .map_err(|message| SolveError::Solver { message })?;
    Ok(size)
}

/// Solves a problem: validates it, then returns the best roster found within the limits.
pub fn solve(problem: &Problem, options: &SolveOptions) -> Result<Solution, SolveError> {
    let started = Instant::now();
    let compiled = Compiled::new(problem)?;
    let mut search = Search::new(problem, &compiled, options, started);
    search.report_progress("construction");
    search.construct()?;
    search.end_phase("construction");
    // A short look at the full model first solves small instances outright and gives a bound;
    // the search (annealing interleaved with HiGHS neighbourhoods) then takes most of the time;
    // the full model, warm-started from its roster, gets the rest to tighten the bound. Models too
    // large for the full model to prove anything in that time skip both and search to the end.
    let total = options.time_limit.as_secs_f64();
    let full_model_looks = !search.full_model_too_large();
    // Horizons the one-staff programme prices whole get the set partition's bound.
    let schedules_priced = search.compiled.days <= MAX_PRICED_DAYS;
    // Longer horizons skip the first look: on Instance 18 (84 days) its 500 nodes took 8% of
    // the time and gave neither a roster better than the construction's nor a bound, and the
    // 56-day window dives that time goes to gain about a hundred points each.
    if full_model_looks && schedules_priced && !search.cancelled() {
        search.full_model(0.08 * total, false, true)?;
        search.end_phase("full model (first look)");
    }
    // The set partition's LP, when its schedules can be priced, gives a bound and, by diving,
    // a roster to start the search from.
    let mut root_converged = false;
    if schedules_priced && !search.bound_reached() && !search.cancelled() {
        root_converged = search.price_and_dive(total)?;
        search.end_phase("dive");
    }
    if !search.bound_reached() && !search.cancelled() {
        let search_share = if full_model_looks || schedules_priced {
            SEARCH_SHARE_WITH_BOUND
        } else {
            SEARCH_SHARE_WITHOUT_BOUND
        };
        let search_end = started + Duration::from_secs_f64(search_share * total);
        // The search improves the start, then dives over windows of days until they stop
        // gaining (after a dive from the whole horizon's LP too: they mend a dive that ended a
        // cover short, as Instance 8's 1 412 → 1 306, which the annealing does not), then
        // searches again.
        let (from, length) = if schedules_priced {
            (WINDOWS_FROM_PRICED, PRICED_WINDOW_DAYS)
        } else {
            (WINDOWS_FROM_LONG, WINDOW_DAYS)
        };
        search.large_neighbourhood_search(started + Duration::from_secs_f64(from * total))?;
        search.end_phase("search");
        // On horizons longer than those priced whole, the search after the dives never
        // gained (Instances 18, 20 and 22): the dives go on to the search's end.
        let windows_until = if schedules_priced {
            WINDOWS_UNTIL
        } else {
            search_share
        };
        search.window_dives(
            started + Duration::from_secs_f64(windows_until * total),
            length,
        )?;
        search.end_phase("window dives");
        if search.branches() {
            // The root's schedules and the incumbent so far: a search that goes back from the
            // dives' fixings, where the annealing and its neighbourhoods rarely gain any more.
            let pools = std::mem::take(&mut search.root_pools);
            search.branch_and_price(pools, search_end)?;
            search.end_phase("branch and price");
        }
        search.large_neighbourhood_search(search_end)?;
        search.end_phase("search");
        if schedules_priced && !root_converged && !search.bound_reached() && !search.cancelled() {
            // It stops when no schedule improves its LP; the full model gets what is left.
            search.column_generation_bound(search.remaining().min(0.25 * total))?;
            search.end_phase("schedules' bound");
        }
        if full_model_looks && !search.bound_reached() && !search.cancelled() {
            // Without a bound from the first look, the LP relaxation gives one more surely.
            let relaxation = !search.bound.is_finite() || search.bound <= 0.0;
            search.full_model(search.remaining().min(0.25 * total), relaxation, false)?;
            search.end_phase("full model (bound)");
        }
    }
    Ok(search.finish())
}

impl<'a> Search<'a> {
    fn new(
        problem: &'a Problem,
        compiled: &'a Compiled,
        options: &'a SolveOptions,
        started: Instant,
    ) -> Search<'a> {
        Search {
            problem,
            compiled,
            options,
            started,
            deadline: started + options.time_limit,
            best: Vec::new(),
            best_objective: i64::MAX,
            bound: 0.0,
            iterations: 0,
            improvements: 0,
            moves: 0,
            construction_fallbacks: 0,
            phases: Vec::new(),
            phase_started: started,
            priced: Vec::new(),
            root_pools: Vec::new(),
            pricing_workers: options.threads.max(1) as usize,
        }
    }

    fn remaining(&self) -> f64 {
        self.deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    }

    fn objective(&self, roster: &[Vec<Option<usize>>]) -> i64 {
        evaluate_roster(self.problem, self.compiled, roster).objective
    }

    /// The solve's threads (at least one).
    fn threads(&self) -> usize {
        self.options.threads.max(1) as usize
    }

    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(CancelFlag::is_cancelled)
    }

    /// Tells the progress sink, if any, where the solve stands.
    fn report_progress(&self, phase: &str) {
        self.report_progress_at(phase, self.bound);
    }

    /// As `report_progress`, with `bound` as the best bound (one not yet kept in `self`).
    fn report_progress_at(&self, phase: &str, bound: f64) {
        self.report_progress_of(phase, self.best_objective, bound);
    }

    /// As `report_progress`, with an incumbent's `objective` and a bound not yet kept in `self`.
    fn report_progress_of(&self, phase: &str, objective: i64, bound: f64) {
        if let Some(sink) = &self.options.progress {
            (sink.0)(&Progress {
                phase: phase.to_owned(),
                objective: (objective != i64::MAX).then_some(objective),
                best_bound: (bound - ROUNDING).ceil().max(0.0) as i64,
                seconds: self.started.elapsed().as_secs_f64(),
                iterations: self.iterations,
            });
        }
    }

    fn bound_reached(&self) -> bool {
        self.reaches(self.bound)
    }

    /// Whether `bound` proves the incumbent optimal (within the relative gap).
    fn reaches(&self, bound: f64) -> bool {
        let bound = (bound - ROUNDING).ceil().max(0.0) as i64;
        let objective = self.best_objective;
        objective <= bound
            || (objective > 0
                && (objective - bound) as f64 / objective as f64 <= self.options.relative_gap)
    }

    /// HiGHS settings for one solve of the master's LP: to optimality, on one thread.
    fn lp_limits(&self, time_limit: f64) -> Limits {
        Limits {
            time_limit,
            node_limit: None,
            relative_gap: 0.0,
            threads: 1,
            ..self.limits(time_limit, None)
        }
    }

    fn limits(&self, time_limit: f64, node_limit: Option<i32>) -> Limits {
        Limits {
            time_limit,
            node_limit,
            relative_gap: self.options.relative_gap,
            threads: self.options.threads,
            seed: (self.options.seed % (i32::MAX as u64)) as i32,
            solution_limit: None,
        }
    }

    fn end_phase(&mut self, name: &str) {
        self.report_progress(name);
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
    /// requests and the cover left by those before them, within a share of the time limit.
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
        if compiled.days > QUICK_START_MIN_DAYS && !compiled.staff.is_empty() {
            roster = self.hard_rules_only_roster(roster)?;
            self.best_objective = self.objective(&roster);
            self.best = roster;
            return Ok(());
        }
        let construction_end = self.started
            + Duration::from_secs_f64(CONSTRUCTION_SHARE * self.options.time_limit.as_secs_f64());
        let staff_count = compiled.staff.len();
        for e in 0..staff_count {
            // Each staff member may take a few times their even share of the construction time
            // left: enough for a hard one, never all of it.
            let left = construction_end
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            // A cancelled solve still needs a complete roster: the rest get the quick one.
            let budget = if self.cancelled() {
                0.0
            } else {
                (CONSTRUCTION_SHARE_SLACK * left / (staff_count - e) as f64).min(left)
            };
            roster = self.construct_staff_member(e, roster, budget)?;
        }
        self.best_objective = self.objective(&roster);
        self.best = roster;
        Ok(())
    }

    /// Every staff member's schedule from their hard rules alone, blind to cover and requests,
    /// solved on all threads (each schedule is independent of the others). The quick start of
    /// long horizons, where the annealing repairs cover far sooner than the construction with its
    /// objective gets through the staff.
    fn hard_rules_only_roster(
        &mut self,
        mut roster: Vec<Vec<Option<usize>>>,
    ) -> Result<Vec<Vec<Option<usize>>>, SolveError> {
        let compiled = self.compiled;
        let staff_count = compiled.staff.len();
        // The greedy pass first; whoever it cannot schedule, or whose schedule the checker
        // rejects, gets the one-staff model.
        let mut missing = Vec::new();
        for (e, row) in roster.iter_mut().enumerate() {
            match greedy::schedule(compiled, e) {
                Some(scheduled) => *row = scheduled,
                None => missing.push(e),
            }
        }
        let plan = compiled.plan_of(self.problem, &roster);
        for violation in check(self.problem, &plan) {
            if let Some(e) = violation_staff(&violation)
                .and_then(|id| self.problem.staff.iter().position(|s| s.id == id))
            {
                if !missing.contains(&e) {
                    missing.push(e);
                }
            }
        }
        missing.sort_unstable();
        for &e in &missing {
            roster[e] = (0..compiled.days)
                .map(|d| compiled.staff[e].pinned.get(&d).copied().flatten())
                .collect();
        }
        let workers = self.threads().min(missing.len().max(1));
        let this = &*self;
        let base = &roster;
        let missing_ref = &missing;
        type Rows = Vec<(usize, Vec<Option<usize>>)>;
        let rows: Vec<Result<Rows, SolveError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    scope.spawn(move || {
                        missing_ref
                            .iter()
                            .skip(w)
                            .step_by(workers)
                            .map(|&e| Ok((e, this.hard_rules_only_schedule(e, base, 1)?)))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SolveError::Solver {
                            message: "a construction worker panicked".to_owned(),
                        })
                    })
                })
                .collect()
        });
        for result in rows {
            for (e, row) in result? {
                roster[e] = row;
            }
        }
        self.construction_fallbacks += staff_count as u64;
        Ok(roster)
    }

    /// Any schedule of staff member `e` that satisfies their hard rules (a one-staff model with a
    /// zero objective), with `threads` HiGHS threads.
    fn hard_rules_only_schedule(
        &self,
        e: usize,
        roster: &[Vec<Option<usize>>],
        threads: u32,
    ) -> Result<Vec<Option<usize>>, SolveError> {
        let hood = Neighbourhood {
            staff: vec![e],
            first_day: 0,
            end_day: self.compiled.days,
            visible_days: None,
        };
        // Finding a schedule is quick, and without one there is no roster at all: this solve
        // gets at least as long as the construction ever gave one staff member. How quick
        // hangs on HiGHS's random seed (Instance 22's staff member 8: 0.16 s with seeds 0 and
        // 2, 11.3 s with seed 1), so a few seeds get a short time first. Not in a run limited
        // by iterations, whose start must not hang on the clock.
        let seconds = self.remaining().max(FALLBACK_MIN_SECONDS);
        let quick_seeds = if self.options.iteration_limit.is_some() {
            0
        } else {
            FALLBACK_QUICK_SEEDS
        };
        for attempt in 0..=quick_seeds {
            let seconds = if attempt < quick_seeds {
                FALLBACK_QUICK_SECONDS.min(seconds)
            } else {
                seconds
            };
            let limits = Limits {
                solution_limit: Some(1),
                threads,
                seed: (self.options.seed.wrapping_add(attempt) % (i32::MAX as u64)) as i32,
                ..self.limits(seconds, None)
            };
            let solved = milp::build_feasibility(self.compiled, roster, &hood)
                .solve(roster, &limits)
                .map_err(|message| SolveError::Solver { message })?
                .roster;
            if let Some(mut solved) = solved {
                return Ok(std::mem::take(&mut solved[e]));
            }
        }
        Err(SolveError::NoScheduleFor {
            staff: self.problem.staff[e].id.clone(),
        })
    }

    /// One staff member's schedule within `budget` seconds: a stretch of days at a time on long
    /// horizons (each stretch sees the days before it and pro-rated limits), or in one piece when
    /// a stretch fails. When the budget runs out first, any schedule that satisfies their hard
    /// rules (the neighbourhood search improves it later).
    fn construct_staff_member(
        &mut self,
        e: usize,
        roster: Vec<Vec<Option<usize>>>,
        budget: f64,
    ) -> Result<Vec<Vec<Option<usize>>>, SolveError> {
        let deadline = Instant::now() + Duration::from_secs_f64(budget.max(0.0));
        if budget >= MIN_CONSTRUCTION_SOLVE {
            if let Some(constructed) = self.construct_with_objective(e, &roster, deadline)? {
                return Ok(constructed);
            }
        }
        self.construction_fallbacks += 1;
        let mut roster = roster;
        roster[e] = self.hard_rules_only_schedule(e, &roster, self.options.threads)?;
        Ok(roster)
    }

    /// The construction proper, each HiGHS solve limited to the time left before `deadline`;
    /// `None` when no schedule was found in time (or a stretch and the whole horizon failed).
    fn construct_with_objective(
        &self,
        e: usize,
        roster: &[Vec<Option<usize>>],
        deadline: Instant,
    ) -> Result<Option<Vec<Vec<Option<usize>>>>, SolveError> {
        let days = self.compiled.days;
        // Small rosters afford a thorough solve per staff member (a better start pays back in the
        // search); larger ones stop at the first few improving schedules.
        let cells = days * self.compiled.staff.len();
        let (nodes, solution_limit) = if cells > THOROUGH_CONSTRUCTION_MAX_CELLS {
            (CONSTRUCTION_NODES, Some(CONSTRUCTION_SOLUTIONS))
        } else {
            (10 * CONSTRUCTION_NODES, None)
        };
        let solve = |hood: &Neighbourhood, roster: &[Vec<Option<usize>>]| {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if left < MIN_CONSTRUCTION_SOLVE {
                return Ok(None);
            }
            let limits = Limits {
                solution_limit,
                ..self.limits(left, Some(nodes))
            };
            milp::build(self.compiled, roster, hood, false)
                .solve(roster, &limits)
                .map(|outcome| outcome.roster)
                .map_err(|message| SolveError::Solver { message })
        };
        if days > 2 * CONSTRUCTION_STRETCH {
            let mut stretched = roster.to_vec();
            let mut complete = true;
            for first_day in (0..days).step_by(CONSTRUCTION_STRETCH) {
                let end_day = (first_day + CONSTRUCTION_STRETCH).min(days);
                // The last stretch runs to the end of the horizon, with the real limits.
                let end_day = if days - end_day < CONSTRUCTION_STRETCH {
                    days
                } else {
                    end_day
                };
                let hood = Neighbourhood {
                    staff: vec![e],
                    first_day,
                    end_day,
                    visible_days: Some(end_day),
                };
                match solve(&hood, &stretched)? {
                    Some(next) => stretched = next,
                    None => {
                        // Re-plan this stretch together with the one before it.
                        let wider = Neighbourhood {
                            first_day: first_day.saturating_sub(CONSTRUCTION_STRETCH),
                            ..hood
                        };
                        match solve(&wider, &stretched)? {
                            Some(next) => stretched = next,
                            None => {
                                complete = false;
                                break;
                            }
                        }
                    }
                }
                if end_day == days {
                    break;
                }
            }
            if complete {
                return Ok(Some(stretched));
            }
        }
        let hood = Neighbourhood {
            staff: vec![e],
            first_day: 0,
            end_day: days,
            visible_days: None,
        };
        solve(&hood, roster)
    }

    /// Whether the full model is too large to be worth a solve.
    fn full_model_too_large(&self) -> bool {
        let columns = self.compiled.staff.len() * self.compiled.days * self.compiled.shifts;
        columns > FULL_MODEL_MAX_COLUMNS
    }

    /// `first_look`: node-limited, and its roster is kept; otherwise only the bound is kept, since
    /// where a time-limited solve stops (and which roster it holds then) depends on the machine.
    fn full_model(
        &mut self,
        seconds: f64,
        relaxation: bool,
        first_look: bool,
    ) -> Result<(), SolveError> {
        let hood = Neighbourhood::everything(self.compiled);
        let nodes = first_look.then_some(FIRST_LOOK_NODES);
        let limits = self.limits(seconds.min(self.remaining()), nodes);
        let built = milp::build(self.compiled, &self.best, &hood, relaxation);
        let outcome = built
            .solve(&self.best, &limits)
            .map_err(|message| SolveError::Solver { message })?;
        if outcome.bound.is_finite() {
            self.bound = self.bound.max(outcome.bound);
        }
        if let Some(roster) = outcome.roster.filter(|_| first_look) {
            self.offer(roster);
        }
        Ok(())
    }

    /// The search with `threads` workers. In each epoch every worker anneals the same roster for a
    /// fixed number of moves and then re-solves a fixed number of neighbourhoods with HiGHS; then
    /// all continue from the best roster of the epoch. Epochs end by count, not by time, so the
    /// result does not depend on thread timing.
    fn large_neighbourhood_search(&mut self, until: Instant) -> Result<(), SolveError> {
        let compiled = self.compiled;
        if compiled.staff.is_empty() || compiled.days == 0 {
            return Ok(());
        }
        let workers = self.threads();
        let mut states: Vec<Worker> = (0..workers)
            .map(|w| Worker::new(compiled, self.options.seed, w))
            .collect();
        let mut current = self.best.clone();
        let mut current_objective = self.best_objective;
        let anneal_moves = anneal_moves(compiled);
        let neighbourhoods = if self.full_model_too_large() {
            NEIGHBOURHOODS_PER_EPOCH_LARGE
        } else {
            NEIGHBOURHOODS_PER_EPOCH
        };
        while Instant::now() < until && !self.bound_reached() && !self.cancelled() {
            if self
                .options
                .iteration_limit
                .is_some_and(|limit| self.iterations >= limit)
            {
                break;
            }
            let context = WorkerContext {
                problem: self.problem,
                compiled,
                options: self.options,
                until,
                start: &current,
                start_objective: current_objective,
                neighbourhoods,
                anneal_moves,
                replans: replans(compiled),
            };
            let results: Vec<Result<EpochResult, SolveError>> = if workers == 1 {
                vec![states[0].run(&context)]
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = states
                        .iter_mut()
                        .map(|state| {
                            let context = &context;
                            scope.spawn(move || state.run(context))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(SolveError::Solver {
                                    message: "a search worker panicked".to_owned(),
                                })
                            })
                        })
                        .collect()
                })
            };
            let mut chosen: Option<EpochResult> = None;
            for result in results {
                let result = result?;
                self.iterations += result.iterations;
                self.improvements += result.improvements;
                self.moves += result.moves;
                if chosen
                    .as_ref()
                    .is_none_or(|c| result.objective < c.objective)
                {
                    chosen = Some(result);
                }
            }
            if let Some(chosen) = chosen {
                if chosen.objective <= current_objective {
                    current_objective = chosen.objective;
                    current = chosen.roster;
                    if current_objective < self.best_objective {
                        self.best_objective = current_objective;
                        self.best = current.clone();
                        self.report_progress("search");
                    }
                }
            }
        }
        Ok(())
    }

    /// The schedules' bound: column generation on the set partition over whole schedules,
    /// from the incumbent's schedules, for at most `seconds`.
    fn column_generation_bound(&mut self, seconds: f64) -> Result<(), SolveError> {
        let until = Instant::now() + Duration::from_secs_f64(seconds.max(0.0));
        let Some(local) = LocalSearch::new(self.compiled, &self.best) else {
            return Ok(());
        };
        // The schedules priced before, if any, and the incumbent's.
        let mut pools = std::mem::take(&mut self.priced);
        pools.resize(self.best.len(), Vec::new());
        for (pool, row) in pools.iter_mut().zip(&self.best) {
            if !pool.contains(row) {
                pool.push(row.clone());
            }
        }
        let fixed = vec![false; pools.len()];
        let mut slowest = Duration::ZERO;
        let whole = (0, self.compiled.days - 1);
        let mut lp = milp::master::Lp::new(self.compiled, whole)
            .map_err(|message| SolveError::Solver { message })?;
        let mut bound = self.bound;
        let generated = self.generate_columns(
            &mut lp,
            &local,
            whole,
            &mut pools,
            &fixed,
            until,
            usize::MAX,
            &mut slowest,
            &mut bound,
        );
        self.bound = bound;
        generated.map(|_| ())
    }

    /// Column generation on the master over `pools`: each round solves its LP and adds, for
    /// each staff member not `fixed`, their cheapest schedule when it improves the LP. The
    /// schedules are priced at smoothed prices (Wentges): `SMOOTHING` of the way from the LP's
    /// prices to the best prices met so far (those of the largest Lagrangian), which damps the
    /// oscillation of the LP's prices; a round whose smoothed prices give no improving schedule
    /// prices again at the LP's own. It stops when no schedule improves the LP, after `rounds`
    /// rounds, or before a pricing that would end past `until` (at the slowest pricing seen, kept
    /// in `slowest`). While no one is fixed, each round's Lagrangian is a bound. Returns the last
    /// LP's prices and values (schedules added after it come last in their pools), or `None`
    /// when none was solved, and whether the LP reached its optimum over all schedules. `bound`
    /// is the best bound known, raised by the rounds' Lagrangians (`self.bound` is left as it
    /// is, so that dives on disjoint windows can run side by side).
    #[allow(clippy::too_many_arguments)]
    fn generate_columns(
        &self,
        lp: &mut milp::master::Lp,
        local: &LocalSearch,
        window: (usize, usize),
        pools: &mut [Vec<Vec<Option<usize>>>],
        fixed: &[bool],
        until: Instant,
        rounds: usize,
        slowest: &mut Duration,
        bound: &mut f64,
    ) -> Result<(Option<milp::master::Prices>, bool), SolveError> {
        let compiled = self.compiled;
        // A Lagrangian bounds the problem only when everyone is free over the whole horizon.
        let bounds = window == (0, compiled.days - 1) && !fixed.contains(&true);
        let unfixed: Vec<usize> = (0..pools.len()).filter(|&e| !fixed[e]).collect();
        // The prices of the largest Lagrangian so far, and that Lagrangian (of the problem with
        // the fixed staff members' schedules as they are).
        let mut center: Option<(Vec<i64>, f64)> = None;
        let mut last = None;
        for _ in 0..rounds {
            if self.cancelled() || (bounds && self.reaches(*bound)) {
                break;
            }
            let remaining = until
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if remaining < 0.01 {
                break;
            }
            let limits = self.lp_limits(remaining);
            let prices = lp
                .prices(pools, &limits)
                .map_err(|message| SolveError::Solver { message })?;
            let Some(prices) = prices else { break };
            let mut alpha = if center.is_some() { SMOOTHING } else { 0.0 };
            let added = loop {
                let smoothed;
                let (rows, per_choice, constant) = match &center {
                    Some((center_rows, _)) if alpha > 0.0 => {
                        let rows = milp::master::smoothed_rows(center_rows, &prices.rows, alpha);
                        let (per_choice, constant) = milp::master::at_row_prices(compiled, &rows);
                        smoothed = (rows, per_choice);
                        (&smoothed.0, &smoothed.1, constant)
                    }
                    _ => (&prices.rows, &prices.per_choice, prices.constant),
                };
                let (priced, complete) =
                    self.price_all(local, window, per_choice, &unfixed, until, slowest);
                let mut least_total = 0i64;
                let mut added = 0;
                for (e, schedules) in priced {
                    least_total += schedules.first().map_or(0, |s| s.0);
                    for (_, schedule) in schedules {
                        // It improves the LP when its reduced cost at the LP's prices is
                        // negative.
                        let at_lp = milp::master::price_of(
                            &prices.per_choice[e],
                            &schedule,
                            compiled.shifts,
                        );
                        let pool = &mut pools[e];
                        if at_lp < prices.per_staff[e] && !pool.contains(&schedule) {
                            pool.push(schedule);
                            added += 1;
                        }
                    }
                }
                if !complete {
                    // A round cut short gives no bound and ends the generation.
                    return Ok((Some(prices), false));
                }
                let fixed_total: i64 = pools
                    .iter()
                    .enumerate()
                    .filter(|&(e, _)| fixed[e])
                    .map(|(e, pool)| {
                        milp::master::price_of(&per_choice[e], &pool[0], compiled.shifts)
                    })
                    .sum();
                let lagrangian =
                    constant + (least_total + fixed_total) as f64 / milp::master::PRICE_SCALE;
                if center.as_ref().is_none_or(|&(_, best)| lagrangian > best) {
                    center = Some((rows.clone(), lagrangian));
                }
                if bounds && lagrangian > *bound {
                    *bound = lagrangian;
                    self.report_progress_at("schedules' bound", *bound);
                }
                if added == 0 && alpha > 0.0 {
                    // Mispricing: the LP's own prices decide whether it is optimal.
                    alpha = 0.0;
                    continue;
                }
                break added;
            };
            // Over the whole horizon, an LP whose value rounds up to the bound's (objectives
            // are whole numbers) is as good as converged: the last rounds before no schedule
            // improves it (Instance 14: 1 278.0 against 1 277.4 at 24.8 s, no improving
            // schedule at 28.5 s) change nothing a dive would see, nor the bound.
            let close = bounds
                && bound.is_finite()
                && (prices.value - ROUNDING).ceil() <= (*bound - ROUNDING).ceil();
            last = Some(prices);
            if added == 0 || close {
                return Ok((last, true));
            }
        }
        Ok((last, false))
    }

    /// The cheapest schedule of each staff member of `staff` at the scaled costs `per_choice`
    /// (`LocalSearch::price`), with its cost, on all threads; each worker prices every
    /// `workers`-th staff member and stops before a pricing that would end past `until` (at the
    /// slowest pricing seen, kept in `slowest`). The second value is whether every one was
    /// priced: not when time ran out or the programme cannot price a staff member.
    #[allow(clippy::too_many_arguments)]
    fn price_all(
        &self,
        local: &LocalSearch,
        window: (usize, usize),
        per_choice: &[Vec<i64>],
        staff: &[usize],
        until: Instant,
        slowest: &mut Duration,
    ) -> (Vec<(usize, Vec<PricedSchedule>)>, bool) {
        let workers = self.pricing_workers.min(staff.len().max(1));
        type Priced = Vec<(usize, Option<Vec<PricedSchedule>>, Duration)>;
        let start_slowest = *slowest;
        let priced: Vec<Priced> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    scope.spawn(move || {
                        let mut slowest = start_slowest;
                        let mut out: Priced = Vec::new();
                        for &e in staff.iter().skip(w).step_by(workers) {
                            if Instant::now() + slowest >= until {
                                break;
                            }
                            let pricing = Instant::now();
                            let result =
                                local.price_window(e, &per_choice[e], window, MORE_COLUMNS);
                            let elapsed = pricing.elapsed();
                            slowest = slowest.max(elapsed);
                            let priced = result.is_some();
                            out.push((e, result, elapsed));
                            if !priced {
                                break;
                            }
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut priced: Priced = priced.into_iter().flatten().collect();
        priced.sort_unstable_by_key(|&(e, _, _)| e);
        let complete = priced.len() == staff.len() && priced.iter().all(|p| p.1.is_some());
        let priced = priced
            .into_iter()
            .filter_map(|(e, result, elapsed)| {
                *slowest = (*slowest).max(elapsed);
                result.map(|r| (e, r))
            })
            .collect();
        (priced, complete)
    }

    /// Dives over windows of days in turn, everyone else as in the incumbent, each roster
    /// offered as the incumbent, until `until` or until a whole sweep over the horizon gains
    /// nothing with windows doubled once (at most to the horizon). Windows of `length` days
    /// start `length / 2` apart (the last one ends on the horizon's last day); a window whose
    /// root does not converge or whose dive does not end in its time halves the length of the
    /// windows, down to `MIN_WINDOW_DAYS`.
    ///
    /// On horizons longer than those priced whole and `PAIRED_MIN_WINDOWS` windows at least,
    /// with two threads or more, the windows are dived two at a time, side by side, each from
    /// the same incumbent: a sweep takes them in the order first, middle, second, one after
    /// the middle, …, and each is paired with the next when they are at least
    /// `PAIRED_WINDOW_GAP` days apart. A window dive spends most of its time in HiGHS's LP,
    /// on one thread, so the second core was idle (Instance 22).
    fn window_dives(&mut self, until: Instant, length: usize) -> Result<(), SolveError> {
        let days = self.compiled.days;
        let threads = self.options.threads;
        let paired = |length: usize| {
            threads >= 2 && days > MAX_PRICED_DAYS && days >= PAIRED_MIN_WINDOWS * length
        };
        let starts_of = |length: usize| -> Vec<usize> {
            let mut starts: Vec<usize> = (0..days.saturating_sub(length) + 1)
                .step_by((length / 2).max(1))
                .collect();
            if starts.last().is_some_and(|&s| s + length < days) {
                starts.push(days - length);
            }
            if paired(length) {
                let (early, late) = starts.split_at(starts.len().div_ceil(2));
                let mut late = late.iter();
                starts = early
                    .iter()
                    .flat_map(|&s| std::iter::once(s).chain(late.next().copied()))
                    .collect();
            }
            starts
        };
        let mut length = length.min(days);
        let mut starts = starts_of(length);
        let mut next = 0;
        // The incumbent's objective when the sweep in progress began, and its windows left.
        let mut sweep = (self.best_objective, starts.len());
        let mut grown = false;
        // Sweeps begun: each draws its fractional fixings afresh (`dive`'s variants), so a
        // window dived again from an incumbent it did not change is not the same dive.
        let mut sweeps: u64 = 0;
        // Once windows have been too long for their time, on horizons longer than those
        // priced whole, the length is chosen by the objective each length gains a second.
        let mut chooser: Option<LengthChooser> = None;
        // The time that must be left to begin a window: twice the last window's, at most half
        // a window's allowance.
        let mut guard = WINDOW_SECONDS * 0.5;
        while !self.cancelled() && !self.bound_reached() {
            let now = Instant::now();
            if now + Duration::from_secs_f64(guard) >= until {
                break;
            }
            if sweep.1 == 0 {
                if self.best_objective >= sweep.0 {
                    // A fruitless sweep doubles the windows once before the dives stop: a
                    // cover short across two windows is inside one of them then (Instance
                    // 14's dive ended one cover short in half of the runs, and 14-day windows
                    // left it so in three of six; doubled, in one of five).
                    // Not in a run limited by iterations: a window that long may need all
                    // of its time, and where a dive stops is then the clock's.
                    if grown || length >= days || self.options.iteration_limit.is_some() {
                        break;
                    }
                    grown = true;
                    length = (length * 2).min(days);
                    starts = starts_of(length);
                    next = 0;
                }
                sweep = (self.best_objective, starts.len());
                sweeps += 1;
            }
            sweep.1 -= 1;
            let Some(local) = LocalSearch::new(self.compiled, &self.best) else {
                break;
            };
            let first = starts[next % starts.len()];
            next += 1;
            let mut windows = vec![(first, first + length - 1)];
            if paired(length) && sweep.1 > 0 {
                let second = starts[next % starts.len()];
                if second.abs_diff(first) >= length + PAIRED_WINDOW_GAP {
                    windows.push((second, second + length - 1));
                    next += 1;
                    sweep.1 -= 1;
                }
            }
            // After a doubling above, the length this window has.
            let seconds = WINDOW_SECONDS * (length as f64 / WINDOW_DAYS as f64).max(1.0);
            let window_until = (now + Duration::from_secs_f64(seconds)).min(until);
            let root_until = now + Duration::from_secs_f64(seconds * WINDOW_ROOT_SHARE);
            // Odd variants: fixings from the column generation's own LP, re-solved from its
            // last basis (the LP is most of a window dive's time on Instances 18 and 22).
            let outcomes = self.dive_windows(
                &local,
                &windows,
                root_until.min(window_until),
                window_until,
                1 + 2 * sweeps,
            )?;
            guard = (2.0 * now.elapsed().as_secs_f64()).min(WINDOW_SECONDS * 0.5);
            let before = self.best_objective;
            let mut in_time = Instant::now() < window_until;
            let mut rosters = Vec::new();
            for (&window, outcome) in windows.iter().zip(outcomes) {
                match outcome {
                    Dive::Roster(roster) => rosters.push((window, roster)),
                    Dive::RootUnsolved(_) => in_time = false,
                    Dive::Cancelled => return Ok(()),
                }
            }
            if let [(_, a), (window, b)] = &rosters[..] {
                let merged = merge_window(self.compiled, &self.best, a, b, *window);
                self.offer(merged);
            }
            for (_, roster) in rosters {
                self.offer(roster);
            }
            let mut switch_to = None;
            if !in_time && length > MIN_WINDOW_DAYS {
                switch_to = Some((length / 2).max(MIN_WINDOW_DAYS));
                // Not in a run limited by iterations: the choice is the clock's.
                if days > MAX_PRICED_DAYS && self.options.iteration_limit.is_none() {
                    chooser.get_or_insert_with(LengthChooser::default).restart();
                }
            } else if let Some(chooser) = &mut chooser {
                let seconds = now.elapsed().as_secs_f64();
                switch_to = chooser.record(length, before - self.best_objective, seconds);
            }
            if let Some(target) = switch_to {
                length = target;
                starts = starts_of(length);
                next = starts.iter().position(|&s| s >= first).unwrap_or(0);
                sweep = (self.best_objective, starts.len());
            }
        }
        Ok(())
    }

    /// Dives over each of `windows` (see `dive`) from `local`'s roster: one on this thread, or
    /// each on its own thread, side by side, the solve's threads shared among their pricings.
    fn dive_windows(
        &mut self,
        local: &LocalSearch,
        windows: &[(usize, usize)],
        root_until: Instant,
        until: Instant,
        variant: u64,
    ) -> Result<Vec<Dive>, SolveError> {
        // A window's Lagrangian bounds nothing: each dive's bound is a copy.
        let dive = |search: &Self, window| {
            let bound = &mut search.bound.clone();
            search.dive(local, window, root_until, until, None, variant, bound)
        };
        if let [window] = windows {
            return Ok(vec![dive(self, *window)?]);
        }
        self.side_by_side(windows.len(), |search, i| dive(search, windows[i]))
            .into_iter()
            .collect()
    }

    /// Runs `task` for each of `0..tasks` on a thread of its own, side by side, the solve's
    /// threads shared among their pricings; returns their results in order.
    fn side_by_side<T: Send>(
        &mut self,
        tasks: usize,
        task: impl Fn(&Self, usize) -> T + Sync,
    ) -> Vec<T> {
        self.pricing_workers = (self.threads() / tasks.max(1)).max(1);
        let (search, task) = (&*self, &task);
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..tasks)
                .map(|i| scope.spawn(move || task(search, i)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        self.pricing_workers = self.threads();
        results
    }

    /// Dives over the whole horizon (see `dive`), right after the first look, each roster
    /// offered as the incumbent: the first dive, then, from the incumbent, dives of further
    /// variants while the time left would fit the last one. A root that does not converge
    /// leaves its schedules to the bound phase. Returns whether the root LP reached its optimum
    /// (its bound is then the LP's value).
    fn price_and_dive(&mut self, total: f64) -> Result<bool, SolveError> {
        let (root_seconds, seconds) = (DIVE_ROOT_SHARE * total, DIVE_SHARE * total);
        let now = Instant::now();
        let until = now + Duration::from_secs_f64(seconds.max(0.0));
        // The first root may go on when it is near its optimum (see `dive`).
        let extension = Extension {
            root_until: now + Duration::from_secs_f64(ROOT_EXTENDED_SHARE * total),
            dive: Duration::from_secs_f64(DIVE_AFTER_EXTENDED_ROOT_SHARE * total),
        };
        let whole = (0, self.compiled.days - 1);
        // Dives again, from the incumbent, while the time left would fit the last dive and
        // the last `DIVE_STALL` dives did not all fail to improve it: which fixings a dive
        // makes hangs on which of the LP's optimal vertices HiGHS returns.
        let mut stalled = 0;
        for variant in 0.. {
            let started = Instant::now();
            let root_until =
                started + Duration::from_secs_f64(root_seconds.clamp(0.0, seconds.max(0.0)));
            let Some(local) = LocalSearch::new(self.compiled, &self.best) else {
                return Ok(variant > 0);
            };
            let mut root_pools = Vec::new();
            let mut bound = self.bound;
            let outcome = self.dive(
                &local,
                whole,
                root_until.min(until),
                until,
                (variant == 0).then_some((extension, &mut root_pools)),
                variant,
                &mut bound,
            );
            self.bound = bound;
            if !root_pools.is_empty() {
                self.root_pools = root_pools;
            }
            match outcome? {
                Dive::Roster(roster) => {
                    if self.offer(roster) {
                        stalled = 0;
                    } else {
                        stalled += 1;
                    }
                }
                Dive::Cancelled => return Ok(true),
                Dive::RootUnsolved(pools) => {
                    if variant > 0 {
                        return Ok(true);
                    }
                    // A root that did not converge in its time gives fractional values too
                    // far from a roster to dive from; the bound phase goes on from its
                    // schedules.
                    self.priced = pools;
                    return Ok(false);
                }
            }
            // A run limited by iterations dives once: repeats are paced by the clock.
            if self.options.iteration_limit.is_some()
                || stalled >= DIVE_STALL
                || Instant::now() + started.elapsed() > until
                || self.bound_reached()
                || self.cancelled()
            {
                break;
            }
        }
        Ok(true)
    }

    /// Whether branch and price applies: a horizon of at most `BRANCH_MAX_DAYS` and an
    /// incumbent within `BRANCH_MAX_GAP` of the bound (on longer horizons and further off, the
    /// annealing and its neighbourhoods gain more in the time: Instance 14, 42 days, ended at
    /// 1 382 and 1 280 with branch and price after the window dives, where the search after
    /// them reaches its optimum 1 278), a converged whole-horizon root to start from, no
    /// fairness term (the set partition prices every other penalty, so a node whose LP is whole
    /// is solved), and a run limited by time (where the search stops is the clock's).
    fn branches(&self) -> bool {
        let fairness = self.compiled.fairness;
        let bound = (self.bound - ROUNDING).ceil();
        let objective = self.best_objective as f64;
        !self.root_pools.is_empty()
            && self.compiled.days <= BRANCH_MAX_DAYS
            && objective - bound <= BRANCH_MAX_GAP * objective
            && fairness.weekend_weight == 0
            && fairness.night_weight == 0
            && self.options.iteration_limit.is_none()
            && !self.bound_reached()
            && !self.cancelled()
    }

    /// A roster from the set partition's LP by diving, everyone free on the days of `window`
    /// and as in `local`'s roster outside it: column generation towards the LP's optimum until
    /// `root_until` (over the whole horizon each round's Lagrangian is a bound), then,
    /// repeatedly, each staff member whose LP takes one schedule at `DIVE_FIX_VALUE` or more is
    /// fixed to it (or, when none is, the one with the largest value; in dives of a `variant`
    /// other than 0, one of the `DIVE_CHOICES` largest at random), with at most `DIVE_ROUNDS`
    /// rounds of column generation for the others after each fixing, within an even share of
    /// the time left over the staff still free. At `until`, everyone left takes their schedule
    /// of largest value. Even variants take the values they fix by from the LP solved from
    /// scratch, odd ones from the column generation's LP, re-solved from its last basis.
    /// `bound` is raised as in `generate_columns`; with an extension, a converged root's
    /// schedules are kept in `root_pools`.
    #[allow(clippy::too_many_arguments)]
    fn dive(
        &self,
        local: &LocalSearch,
        window: (usize, usize),
        root_until: Instant,
        until: Instant,
        extension: Option<(Extension, &mut Pools)>,
        variant: u64,
        bound: &mut f64,
    ) -> Result<Dive, SolveError> {
        if self.reaches(*bound) {
            return Ok(Dive::Cancelled);
        }
        let mut pools: Pools = local.roster().into_iter().map(|row| vec![row]).collect();
        let mut fixed = vec![false; pools.len()];
        let mut slowest = Duration::ZERO;
        let mut lp = milp::master::Lp::new(self.compiled, window)
            .map_err(|message| SolveError::Solver { message })?;
        let (mut root, mut converged) = self.generate_columns(
            &mut lp,
            local,
            window,
            &mut pools,
            &fixed,
            root_until,
            usize::MAX,
            &mut slowest,
            bound,
        )?;
        // A root within `ROOT_EXTEND_GAP` of the bound when its time is up goes on until the
        // extension's end, and the dive then gets at least the extension's share after it
        // (Instance 14: its root comes within 3% in 9 s and converges in about 20).
        let mut until = until;
        let (extension, root_pools) = extension.unzip();
        if let (false, Some(extension), Some(prices)) = (converged, extension, &root) {
            if prices.value - *bound <= ROOT_EXTEND_GAP * prices.value.abs() {
                (root, converged) = self.generate_columns(
                    &mut lp,
                    local,
                    window,
                    &mut pools,
                    &fixed,
                    extension.root_until,
                    usize::MAX,
                    &mut slowest,
                    bound,
                )?;
                until = until.max(Instant::now() + extension.dive);
            }
        }
        let root = match root {
            Some(root) if converged => root,
            _ => return Ok(Dive::RootUnsolved(pools)),
        };
        if let Some(root_pools) = root_pools {
            *root_pools = pools.clone();
        }
        let mut values: Vec<Vec<f64>> = root.values;
        let cold = variant.is_multiple_of(2);
        let mut rng = Rng::stream(self.options.seed, variant);
        if cold {
            if let Some(fresh) = self.values_from_scratch(&lp, &pools, until)? {
                values = fresh;
            }
        }
        loop {
            // Out of time, the last LP's values finish the dive.
            let out_of_time = Instant::now() >= until;
            // The staff not fixed at once, by their largest value: the first is fixed (in
            // dives after the first, one of the first `DIVE_CHOICES` at random).
            let mut fractional: Vec<(f64, usize, usize)> = Vec::new();
            let mut fixings = Vec::new();
            for (e, values) in values.iter().enumerate() {
                if fixed[e] {
                    continue;
                }
                let (j, value) = branch::largest(values);
                if out_of_time || value >= DIVE_FIX_VALUE {
                    fixings.push((e, j));
                } else {
                    fractional.push((value, e, j));
                }
            }
            if fixings.is_empty() && !fractional.is_empty() {
                fractional.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let pick = if variant == 0 {
                    0
                } else {
                    rng.below(fractional.len().min(DIVE_CHOICES))
                };
                let (_, e, j) = fractional[pick];
                fixings.push((e, j));
            }
            for (e, j) in fixings {
                let schedule = pools[e].swap_remove(j);
                pools[e] = vec![schedule];
                fixed[e] = true;
            }
            if !fixed.contains(&false) {
                break;
            }
            // Paced: each fixing's column generation gets an even share of the time left over
            // the staff still free (at worst one is fixed a step; time a step leaves unused
            // goes to the next), so the dive does not run out of time and round everyone
            // left at once.
            let free = fixed.iter().filter(|&&f| !f).count().max(1) as u32;
            let now = Instant::now();
            let step_until = now + until.saturating_duration_since(now) / free;
            let (prices, _) = self.generate_columns(
                &mut lp,
                local,
                window,
                &mut pools,
                &fixed,
                step_until,
                DIVE_ROUNDS,
                &mut slowest,
                bound,
            )?;
            if self.cancelled() {
                return Ok(Dive::Cancelled);
            }
            if let Some(prices) = prices {
                values = prices.values;
            }
            if cold {
                if let Some(fresh) = self.values_from_scratch(&lp, &pools, until)? {
                    values = fresh;
                }
            }
        }
        Ok(Dive::Roster(
            pools.into_iter().map(|mut p| p.remove(0)).collect(),
        ))
    }

    /// The values of the LP over `pools` solved from scratch (see
    /// `milp::master::Lp::values_from_scratch`), within the time left until `until`.
    fn values_from_scratch(
        &self,
        lp: &milp::master::Lp,
        pools: &[Vec<Vec<Option<usize>>>],
        until: Instant,
    ) -> Result<Option<Vec<Vec<f64>>>, SolveError> {
        let remaining = until
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        lp.values_from_scratch(pools, &self.lp_limits(remaining.max(0.01)))
            .map_err(|message| SolveError::Solver { message })
    }

    fn finish(self) -> Solution {
        let evaluation: Evaluation = evaluate_roster(self.problem, self.compiled, &self.best);
        let bound = ((self.bound - ROUNDING).ceil().max(0.0) as i64).min(evaluation.objective);
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
                construction_fallbacks: self.construction_fallbacks,
                annealing_moves: self.moves,
                phases: self.phases,
            },
        }
    }
}

/// HiGHS neighbourhood solves per worker and epoch, after its annealing: the annealing is far
/// quicker per improvement (Instances 8 and 14, 30 s: 3 solves per epoch and an annealing that
/// was 4 s per epoch gave 1393 and 1513, annealing alone 1380 and 1439), but it cannot make the
/// larger rearrangements a neighbourhood solve makes (Instance 16, 60 s: 1 solve per epoch 3656,
/// 3 solves 3649 and 3645). On models too large for the full-model phases a neighbourhood solve
/// takes seconds (Instance 20: 4 per epoch 8541, 1 per epoch 6329).
const NEIGHBOURHOODS_PER_EPOCH: u64 = 3;
const NEIGHBOURHOODS_PER_EPOCH_LARGE: u64 = 1;

/// Annealing moves per worker and epoch: about 20 000 per (staff, day) cell, within bounds (at
/// 3–5 million moves a second, an epoch takes 0.1 s on the smallest instances and most of a
/// minute on a year for 50 staff). The upper bound was 20 million, which cut the year-long
/// instances to about 1 100 moves per cell between re-heatings (60 s, 2 threads, seeds 0 and 1:
/// Instance 22 36 032 and 37 277 with 20 million, 35 247 and 35 828 with 60 million, 34 556 and
/// 34 887 with 100 million and the re-plans below, 34 438 with 200 million, where Instance 20 lost
/// its re-plans and ended at 5 617 against 5 500 and 5 493 with 100 million).
const ANNEAL_MOVES_PER_CELL: u64 = 20_000;
const MIN_ANNEAL_MOVES: u64 = 200_000;
const MAX_ANNEAL_MOVES: u64 = 100_000_000;

/// Days of an exact one-staff re-plan (`LocalSearch::replan_windows`): a fortnight re-plans a
/// weekend with the days off and runs around it, and costs 10 µs to 1 ms (longer windows grow
/// the states quickly: 28 days took 20–500 ms on Instances 8 and 22).
const REPLAN_DAYS: usize = 14;
/// Exact re-plans per worker and epoch: one per four (staff, day) cells.
const CELLS_PER_REPLAN: usize = 4;

fn replans(compiled: &Compiled) -> u64 {
    (compiled.staff.len() * compiled.days / CELLS_PER_REPLAN) as u64
}
/// An annealing that keeps finding nothing shrinks to 1/16 of its moves.
const MAX_ANNEAL_HALVINGS: u32 = 4;

/// Temperatures of each epoch's annealing, in penalty units: a move that costs 100 (one missing
/// staff member in the benchmark's weights) is taken with probability e^-5/3 at the start
/// (60 s, 2 threads, start 60 against 20: Instance 16 3656 against 3753, 22 36 956 against
/// 37 320–38 480; a start of 4 gave 53 066 on 22).
const START_TEMPERATURE: f64 = 60.0;
const END_TEMPERATURE: f64 = 0.5;

fn anneal_moves(compiled: &Compiled) -> u64 {
    let cells = (compiled.staff.len() * compiled.days) as u64;
    (cells * ANNEAL_MOVES_PER_CELL).clamp(MIN_ANNEAL_MOVES, MAX_ANNEAL_MOVES)
}

/// Free (staff, day) cells of a first neighbourhood; each kind then adapts its own size.
const INITIAL_TARGET_CELLS: f64 = 150.0;

/// The kinds of neighbourhood whose size adapts: a few staff over a long stretch, everyone over a
/// window, half the staff over a window. (The fourth, one staff member who could fill a short
/// slot over most of the horizon, has a fixed size: see `pick_one_staff`.)
const KINDS: usize = 3;

/// Longest stretch of the one-staff neighbourhood.
const ONE_STAFF_MAX_DAYS: usize = 84;

struct WorkerContext<'a> {
    problem: &'a Problem,
    compiled: &'a Compiled,
    options: &'a SolveOptions,
    until: Instant,
    start: &'a [Vec<Option<usize>>],
    start_objective: i64,
    /// HiGHS neighbourhood solves after the annealing.
    neighbourhoods: u64,
    anneal_moves: u64,
    /// Exact window re-plans after the annealing.
    replans: u64,
}

struct EpochResult {
    roster: Vec<Vec<Option<usize>>>,
    objective: i64,
    iterations: u64,
    improvements: u64,
    moves: u64,
}

/// One search worker: its random stream and its neighbourhood sizes, kept across epochs.
struct Worker {
    rng: Rng,
    /// Target count of free (staff, day) cells per kind of neighbourhood.
    targets: [f64; KINDS],
    /// The annealing makes `anneal_moves >> anneal_halvings` moves: halved after an epoch in
    /// which it found nothing better, doubled back after one in which it did, so that the
    /// neighbourhood solves get the time where they are the better search.
    anneal_halvings: u32,
}

impl Worker {
    fn new(compiled: &Compiled, seed: u64, index: usize) -> Worker {
        let cells = (compiled.staff.len() * compiled.days) as f64;
        let start = INITIAL_TARGET_CELLS.min(cells);
        Worker {
            rng: Rng(seed ^ 0x005E_ED0F_7E4D ^ (index as u64).wrapping_mul(0x9E37_79B9)),
            targets: [start; KINDS],
            anneal_halvings: 0,
        }
    }

    fn run(&mut self, context: &WorkerContext<'_>) -> Result<EpochResult, SolveError> {
        let (problem, compiled) = (context.problem, context.compiled);
        let all_cells = (compiled.staff.len() * compiled.days) as f64;
        let min_cells = (compiled.days.min(8) as f64).min(all_cells);
        let mut current = context.start.to_vec();
        let mut objective = context.start_objective;
        let mut iterations = 0;
        let mut improvements = 0;
        let cancelled = || {
            context
                .options
                .cancel
                .as_ref()
                .is_some_and(CancelFlag::is_cancelled)
        };
        let mut moves = 0;
        if let Some(mut local) = LocalSearch::new(compiled, &current) {
            let stop = || Instant::now() >= context.until || cancelled();
            let (best, stats) = local.anneal(
                &mut self.rng,
                context.anneal_moves >> self.anneal_halvings,
                START_TEMPERATURE,
                END_TEMPERATURE,
                &stop,
            );
            iterations += 1;
            moves = stats.moves;
            let improved = keep_if_better(problem, compiled, best, &mut current, &mut objective);
            improvements += u64::from(improved);
            self.anneal_halvings = if improved {
                self.anneal_halvings.saturating_sub(1)
            } else {
                (self.anneal_halvings + 1).min(MAX_ANNEAL_HALVINGS)
            };
            // Then exact re-plans of one staff member over a fortnight, from the best roster
            // of the annealing.
            if context.replans > 0 {
                local.load(&current);
                let best = local.replan_windows(&mut self.rng, context.replans, REPLAN_DAYS, &stop);
                let improved =
                    keep_if_better(problem, compiled, best, &mut current, &mut objective);
                improvements += u64::from(improved);
            }
        }
        let mut solves = 0;
        while solves < context.neighbourhoods {
            let remaining = context
                .until
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if remaining <= 0.01 || cancelled() {
                break;
            }
            // A quarter of the solves re-plan one staff member who could fill a short slot,
            // when there is one; the rest (and those when nothing is short) the other kinds.
            let one_staff = if self.rng.below(4) == 0 {
                self.pick_one_staff(compiled, &current)
            } else {
                None
            };
            // `kind`: the sized kind picked, whose target size adapts to the outcome (the
            // one-staff neighbourhood has a fixed size).
            let (hood, kind) = match one_staff {
                Some(hood) => (hood, None),
                None => {
                    let kind = self.pick_kind();
                    let short_days = short_days(context.problem, compiled, &current);
                    (self.pick(compiled, kind, &short_days), Some(kind))
                }
            };
            let limits = Limits {
                time_limit: remaining.min(SUB_TIME_LIMIT),
                node_limit: Some(SUB_NODE_LIMIT),
                relative_gap: 0.0,
                threads: 1,
                seed: (context.options.seed % (i32::MAX as u64)) as i32,
                solution_limit: None,
            };
            let outcome = milp::build(compiled, &current, &hood, false)
                .solve(&current, &limits)
                .map_err(|message| SolveError::Solver { message })?;
            iterations += 1;
            solves += 1;
            if let Some(kind) = kind {
                let target = &mut self.targets[kind];
                *target = if outcome.finished {
                    (*target * 1.1).min(all_cells)
                } else {
                    (*target * 0.8).max(min_cells)
                };
            }
            if let Some(roster) = outcome.roster {
                let candidate = evaluate_roster(context.problem, compiled, &roster).objective;
                // Equal rosters are accepted to drift across plateaus.
                if candidate <= objective {
                    if candidate < objective {
                        improvements += 1;
                    }
                    objective = candidate;
                    current = roster;
                }
            }
        }
        Ok(EpochResult {
            roster: current,
            objective,
            iterations,
            improvements,
            moves,
        })
    }

    fn pick_kind(&mut self) -> usize {
        // 35% a few staff over a long stretch, 40% everyone over a window, 25% half the staff.
        match self.rng.below(20) {
            0..7 => 0,
            7..15 => 1,
            _ => 2,
        }
    }

    /// One staff member over the whole horizon (or a stretch of it around a short day): someone
    /// who may work a shift whose cover is below its required level and does not work it. Such a
    /// schedule is re-planned exactly, weekends and minutes included, which the annealing's moves
    /// of a few cells cannot do when every change must keep a tight minutes range. `None` when
    /// no cover is below its required level (or nobody could fill it).
    fn pick_one_staff(
        &mut self,
        compiled: &Compiled,
        roster: &[Vec<Option<usize>>],
    ) -> Option<Neighbourhood> {
        let days = compiled.days;
        let length = days.min(ONE_STAFF_MAX_DAYS);
        let short: Vec<usize> = (0..compiled.cover.len())
            .filter(|&c| {
                let cover = &compiled.cover[c];
                let n = roster
                    .iter()
                    .enumerate()
                    .filter(|(e, row)| cover.eligible[*e] && row[cover.day] == Some(cover.shift))
                    .count() as i64;
                n < cover.required
            })
            .collect();
        if short.is_empty() {
            return None;
        }
        let cover = &compiled.cover[short[self.rng.below(short.len())]];
        let candidates: Vec<usize> = (0..compiled.staff.len())
            .filter(|&e| {
                cover.eligible[e]
                    && roster[e][cover.day] != Some(cover.shift)
                    && compiled.staff[e].may(compiled.shifts, cover.day, cover.shift)
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let e = candidates[self.rng.below(candidates.len())];
        let earliest = (cover.day + 1).saturating_sub(length);
        let latest = cover.day.min(days - length);
        let first_day = earliest + self.rng.below(latest - earliest + 1);
        Some(Neighbourhood {
            staff: vec![e],
            first_day,
            end_day: first_day + length,
            visible_days: None,
        })
    }

    /// The next neighbourhood of the given kind, of about the kind's target size in free cells:
    /// a few staff over a long stretch of days, everyone over a window of days, or half the staff
    /// over a window.
    ///
    /// Half the windows are placed over a day whose cover is below what is required, if any:
    /// what the annealing cannot repair there needs several staff re-planned at once.
    fn pick(&mut self, compiled: &Compiled, kind: usize, short_days: &[usize]) -> Neighbourhood {
        let staff_count = compiled.staff.len();
        let days = compiled.days;
        let target = self.targets[kind];
        let (staff_wanted, length) = match kind {
            0 => {
                let k = (2 + self.rng.below(3)).min(staff_count);
                let length = ((target / k as f64).round() as usize).clamp(14.min(days), days);
                (k, length)
            }
            1 => {
                let length =
                    ((target / staff_count as f64).round() as usize).clamp(2.min(days), days);
                (staff_count, length)
            }
            _ => {
                let k = (staff_count / 2).max(2).min(staff_count);
                let length = ((target / k as f64).round() as usize).clamp(3.min(days), days);
                (k, length)
            }
        };
        let first_day = if kind != 0 && !short_days.is_empty() && self.rng.below(2) == 0 {
            let day = short_days[self.rng.below(short_days.len())];
            let earliest = (day + 1).saturating_sub(length);
            let latest = day.min(days - length);
            earliest + self.rng.below(latest - earliest + 1)
        } else {
            self.rng.below(days - length + 1)
        };
        let mut staff: Vec<usize> = (0..staff_count).collect();
        // Partial Fisher–Yates: the first `staff_wanted` entries are a uniform sample.
        for i in 0..staff_wanted {
            let j = i + self.rng.below(staff_count - i);
            staff.swap(i, j);
        }
        staff.truncate(staff_wanted);
        staff.sort_unstable();
        Neighbourhood {
            staff,
            first_day,
            end_day: first_day + length,
            visible_days: None,
        }
    }
}

/// Takes `best` (a roster and the objective its search tracked) as the worker's current roster
/// when the checker's evaluation of it (which decides, as for every roster) is better; whether
/// it did.
fn keep_if_better(
    problem: &Problem,
    compiled: &Compiled,
    best: Option<(Vec<Vec<Option<usize>>>, i64)>,
    current: &mut Vec<Vec<Option<usize>>>,
    objective: &mut i64,
) -> bool {
    let Some((roster, _)) = best else {
        return false;
    };
    let candidate = evaluate_roster(problem, compiled, &roster).objective;
    if candidate < *objective {
        *objective = candidate;
        *current = roster;
        true
    } else {
        false
    }
}

/// The roster of two window dives from the same `incumbent`: `a`, with `b`'s cells on the
/// days of `b`'s `window` (which `a`'s window does not overlap). Hard rules bind each staff
/// member alone, and the only ones two distant windows share are the horizon's counts
/// (minutes, shifts of a type, weekends): a staff member both dives changed who breaks one
/// in the merge keeps `a`'s schedule, which kept every rule.
fn merge_window(
    compiled: &Compiled,
    incumbent: &[Vec<Option<usize>>],
    a: &[Vec<Option<usize>>],
    b: &[Vec<Option<usize>>],
    window: (usize, usize),
) -> Roster {
    let mut merged = a.to_vec();
    for (row, from) in merged.iter_mut().zip(b) {
        row[window.0..=window.1].copy_from_slice(&from[window.0..=window.1]);
    }
    let Some(local) = LocalSearch::new(compiled, &merged) else {
        return a.to_vec();
    };
    for e in 0..merged.len() {
        if a[e] != incumbent[e] && b[e] != incumbent[e] && !local.keeps_rules(e) {
            merged[e].clone_from(&a[e]);
        }
    }
    merged
}

/// The staff member a violation is about, if any.
fn violation_staff(violation: &Violation) -> Option<&str> {
    match violation {
        Violation::InvalidProblem { .. } | Violation::UnknownShiftType { .. } => None,
        Violation::UnknownStaff { staff }
        | Violation::DayOutOfRange { staff, .. }
        | Violation::DoubleBooked { staff, .. }
        | Violation::NotAllowed { staff, .. }
        | Violation::PinnedNotKept { staff, .. }
        | Violation::ForbiddenSuccession { staff, .. }
        | Violation::ShiftTypeLimit { staff, .. }
        | Violation::MinutesBelowMinimum { staff, .. }
        | Violation::MinutesAboveMaximum { staff, .. }
        | Violation::WorkRunTooLong { staff, .. }
        | Violation::WorkRunTooShort { staff, .. }
        | Violation::DaysOffRunTooShort { staff, .. }
        | Violation::TooManyWeekends { staff, .. } => Some(staff),
    }
}

/// Days with some cover below its required level, in order.
fn short_days(problem: &Problem, compiled: &Compiled, roster: &[Vec<Option<usize>>]) -> Vec<usize> {
    let mut days: Vec<usize> = evaluate_roster(problem, compiled, roster)
        .uncovered
        .iter()
        .map(|u| u.day)
        .collect();
    days.dedup();
    days
}

/// HiGHS limits of one neighbourhood solve: the node limit is the deterministic one; the time
/// limit only guards against a pathological root node.
const SUB_NODE_LIMIT: i32 = 20;
const SUB_TIME_LIMIT: f64 = 10.0;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::local::tests::{
        annealed_from_empty, arbitrary_problem, fairness_off_from_an_empty_roster,
    };

    fn options() -> SolveOptions {
        SolveOptions {
            time_limit: Duration::from_secs(20),
            ..SolveOptions::default()
        }
    }

    /// Two window dives' rosters merge into one with both windows' changes, except for a staff
    /// member both changed whose horizon counts the merge would break (S0 may work one shift
    /// in the fortnight: the first window gives it day 1, the second day 12).
    #[test]
    fn a_merge_of_two_windows_keeps_each_staff_members_counts() {
        let problem = crate::curtois::parse(
            "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nE,480,\n\nSECTION_STAFF\n\
             S0,E=14,480,0,14,1,1,2\nS1,E=14,480,0,14,1,1,2\n\nSECTION_DAYS_OFF\nS0,5\nS1,6\n\n\
             SECTION_SHIFT_ON_REQUESTS\n\nSECTION_SHIFT_OFF_REQUESTS\n\nSECTION_COVER\n\
             1,E,1,100,1\n12,E,2,100,1\n",
        )
        .unwrap();
        let compiled = Compiled::new(&problem).unwrap();
        let incumbent = vec![vec![None; 14]; 2];
        let mut a = incumbent.clone();
        a[0][1] = Some(0);
        let mut b = incumbent.clone();
        b[0][12] = Some(0);
        b[1][12] = Some(0);
        let merged = merge_window(&compiled, &incumbent, &a, &b, (11, 13));
        assert_eq!(merged[0], a[0], "S0 keeps the first window's schedule");
        assert_eq!(merged[1], b[1], "S1 takes the second window's");
        assert!(check(&problem, &compiled.plan_of(&problem, &merged)).is_empty());
        let naive: Vec<Vec<Option<usize>>> = vec![
            (0..14).map(|d| (d == 1 || d == 12).then_some(0)).collect(),
            b[1].clone(),
        ];
        assert!(!check(&problem, &compiled.plan_of(&problem, &naive)).is_empty());
    }

    #[test]
    fn window_lengths_are_chosen_by_their_gain_a_second() {
        let mut chooser = LengthChooser::default();
        // A stint is at least `STINT_SECONDS`: one short window decides nothing.
        assert_eq!(chooser.record(14, 300, 1.0), None);
        // 300 in 4 s at 14 days; half the length has not been measured: it is tried.
        assert_eq!(chooser.record(14, 0, 3.0), Some(7));
        // Three windows of 7 days end the next stint: 100 a second against 75, they stay.
        for _ in 0..3 {
            assert_eq!(chooser.record(7, 100, 1.0), None);
        }
        // 60 a second: 14 days' 75, two stints old, counts 75 × 0.7² = 36.75.
        assert_eq!(chooser.record(7, 180, 3.0), None);
        // 7 days slow down to 10 a second; 14 days' 75 counts 75 × 0.7³ = 25.7.
        assert_eq!(chooser.record(7, 30, 3.0), Some(14));
        // Measured again, 14 days gain 20 a second: 7 days' 10, one stint old, counts 7;
        // 14 stays.
        assert_eq!(chooser.record(14, 60, 3.0), None);
        // 14 days gain nothing now; 7 days' 10, two stints old, counts 4.9 and wins.
        assert_eq!(chooser.record(14, 0, 3.0), Some(7));
        // At the shortest length, half of it is itself: the best measured decides.
        let mut shortest = LengthChooser::default();
        assert_eq!(shortest.record(MIN_WINDOW_DAYS, 10, 3.0), None);
        // A restart forgets the stint in progress.
        let mut restarted = LengthChooser::default();
        assert_eq!(restarted.record(28, 500, 2.0), None);
        restarted.restart();
        assert_eq!(restarted.record(28, 0, 2.0), None);
        assert_eq!(restarted.record(28, 0, 1.0), Some(14));
        assert_eq!(restarted.rates, vec![(28, 0.0, 1)]);
    }

    /// For a problem whose empty roster keeps every hard rule and whose optimum the solve
    /// proves: the compiled problem and that optimum.
    fn with_proved_optimum(problem: &Problem) -> Option<(Compiled, i64)> {
        let compiled = Compiled::new(problem).unwrap();
        let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
        if !check(problem, &compiled.plan_of(problem, &empty)).is_empty() {
            return None;
        }
        let optimum = solve(problem, &options()).unwrap();
        (optimum.report.status == SolveStatus::Optimal)
            .then_some((compiled, optimum.report.objective))
    }

    /// A fortnight's problem whose set partition is often fractional: staff who must work exactly
    /// `shifts` shifts in runs of two to four, two shift types, one weekend each at most, and
    /// cover of one to three a slot with requests against it.
    fn tight_problem() -> impl proptest::strategy::Strategy<Value = Problem> {
        use proptest::prelude::*;
        (
            prop::collection::vec(5usize..=8, 5..=7),
            prop::collection::vec(0i64..=2, 28),
            prop::collection::vec((0usize..14, 0usize..8, 0usize..2, any::<bool>()), 0..40),
        )
            .prop_map(|(staff, cover, requests)| {
                let mut text =
                    "SECTION_HORIZON\n14\n\nSECTION_SHIFTS\nE,480,\nL,480,E\n\nSECTION_STAFF\n"
                        .to_owned();
                for (i, &shifts) in staff.iter().enumerate() {
                    let minutes = 480 * shifts;
                    text += &format!("S{i},E=14|L=14,{minutes},{minutes},4,2,2,1\n");
                }
                text += "\nSECTION_DAYS_OFF\n\nSECTION_SHIFT_ON_REQUESTS\n";
                let mut off = String::new();
                for &(day, who, s, is_off) in &requests {
                    let line = format!("S{},{day},{},2\n", who % staff.len(), ["E", "L"][s]);
                    if is_off {
                        off += &line;
                    } else {
                        text += &line;
                    }
                }
                text += &format!("\nSECTION_SHIFT_OFF_REQUESTS\n{off}\nSECTION_COVER\n");
                for (slot, &required) in cover.iter().enumerate() {
                    let (day, shift) = (slot / 2, ["E", "L"][slot % 2]);
                    text += &format!("{day},{shift},{},100,1\n", required + 1);
                }
                crate::curtois::parse(&text).unwrap()
            })
    }

    proptest::proptest! {
        // Each case also solves the full model to optimality, so fewer cases than below.
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, ..Default::default() })]

        /// Branch and price, from a roster that keeps the rules and with time to finish, proves
        /// the optimum the full model proves, and its roster keeps every hard rule, with one
        /// worker in the tree or two side by side.
        #[test]
        fn branch_and_price_proves_the_optimum(problem in tight_problem(), threads in 1u32..=2) {
            let compiled = Compiled::new(&problem);
            proptest::prop_assume!(compiled.is_ok());
            let compiled = compiled.unwrap();
            let options = SolveOptions { threads, ..options() };
            let mut search = Search::new(&problem, &compiled, &options, Instant::now());
            // The optimum by the full model alone, independently of the search.
            let empty = vec![vec![None; compiled.days]; compiled.staff.len()];
            let solved = milp::build(&compiled, &empty, &Neighbourhood::everything(&compiled), false)
                .solve(&empty, &Limits { threads: 1, ..search.limits(20.0, None) })
                .unwrap();
            let Some(start) = solved.roster.clone() else {
                return Err(proptest::test_runner::TestCaseError::reject("no roster keeps the rules"));
            };
            let optimum = search.objective(&start);
            proptest::prop_assume!((solved.bound - 1e-6).ceil() as i64 >= optimum);
            // A worse start: the full model's roster after a hot annealing (every move keeps
            // the rules; the roster held at its end is not the best it met).
            let mut local = LocalSearch::new(&compiled, &start).unwrap();
            local.anneal(&mut Rng(optimum as u64), 300, 1000.0, 1000.0, &|| false);
            search.offer(local.roster());
            let pools = search.best.iter().map(|schedule| vec![schedule.clone()]).collect();
            let until = Instant::now() + Duration::from_secs(20);
            let proved = search.branch_and_price(pools, until).unwrap();
            // A tree searched to its end proves the optimum. Some seven-staff fortnights' trees
            // do not end in time: the case saved in proptest-regressions/search.txt has a root
            // LP of 252.5 against an optimum of 303 (about half a missing shift apart),
            // a gap single-cell branching closes only slowly (not in 90 s; the search branches
            // only within 1% of its bound). Those must still hold a bound no higher than the
            // optimum and a roster no better than it.
            let bound = (search.bound - 1e-6).ceil() as i64;
            if proved {
                proptest::prop_assert_eq!(search.best_objective, optimum);
                proptest::prop_assert_eq!(bound, optimum);
            } else {
                proptest::prop_assert!(bound <= optimum, "bound {} above {}", bound, optimum);
                proptest::prop_assert!(search.best_objective >= optimum);
            }
            let violations = check(&problem, &compiled.plan_of(&problem, &search.best));
            proptest::prop_assert!(violations.is_empty(), "{:?}", violations);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

        /// The set partition's bound never exceeds the optimum (proved by the full model), from
        /// whichever feasible roster its columns start.
        #[test]
        fn the_schedules_bound_is_at_most_the_optimum(problem in arbitrary_problem()) {
            let proved = with_proved_optimum(&problem);
            proptest::prop_assume!(proved.is_some());
            let (compiled, optimum) = proved.unwrap();
            let options = options();
            let mut search = Search::new(&problem, &compiled, &options, Instant::now());
            search.best = vec![vec![None; compiled.days]; compiled.staff.len()];
            search.column_generation_bound(10.0).unwrap();
            let bound = (search.bound - 1e-6).ceil() as i64;
            proptest::prop_assert!(
                bound <= optimum,
                "bound {} above the optimum {}", search.bound, optimum
            );
        }

        /// A dive from the set partition's LP leaves a roster that keeps every hard rule (and is
        /// no better than the optimum), and its root's bound never exceeds the optimum.
        #[test]
        fn a_dive_gives_a_roster_that_keeps_the_rules(problem in arbitrary_problem()) {
            let proved = with_proved_optimum(&problem);
            proptest::prop_assume!(proved.is_some());
            let (compiled, optimum) = proved.unwrap();
            let options = options();
            let mut search = Search::new(&problem, &compiled, &options, Instant::now());
            search.offer(vec![vec![None; compiled.days]; compiled.staff.len()]);
            let converged = search.price_and_dive(60.0).unwrap();
            proptest::prop_assert!(converged, "the root LP of a small problem converges");
            let plan = compiled.plan_of(&problem, &search.best);
            let violations = check(&problem, &plan);
            proptest::prop_assert!(violations.is_empty(), "{:?}", violations);
            proptest::prop_assert!(search.best_objective >= optimum);
            let bound = (search.bound - 1e-6).ceil() as i64;
            proptest::prop_assert!(bound <= optimum);
        }

        /// A dive over a window of days, from a roster the annealing left, keeps every hard
        /// rule and the days outside the window as they were, and gives no bound.
        #[test]
        fn a_window_dive_keeps_the_rules_and_the_days_outside(
            problem in arbitrary_problem(),
            seed in 0u64..1000,
            first in 0usize..4,
            length in 1usize..5,
        ) {
            let start = fairness_off_from_an_empty_roster(problem);
            proptest::prop_assume!(start.is_some());
            let (problem, compiled) = start.unwrap();
            let local = annealed_from_empty(&compiled, &mut Rng(seed), 2_000);
            let start = local.roster();
            let first = first.min(compiled.days - 1);
            let last = (first + length - 1).min(compiled.days - 1);
            let options = options();
            let search = Search::new(&problem, &compiled, &options, Instant::now());
            let until = Instant::now() + Duration::from_secs(10);
            let bound = &mut search.bound.clone();
            let dive = search.dive(&local, (first, last), until, until, None, 0, bound).unwrap();
            let Dive::Roster(roster) = dive else {
                return Err(proptest::test_runner::TestCaseError::fail("a small window's root converges"));
            };
            let violations = check(&problem, &compiled.plan_of(&problem, &roster));
            proptest::prop_assert!(violations.is_empty(), "{:?}", violations);
            for (row, held) in roster.iter().zip(&start) {
                for d in (0..first).chain(last + 1..compiled.days) {
                    proptest::prop_assert_eq!(row[d], held[d]);
                }
            }
            proptest::prop_assert_eq!(search.bound, 0.0);
        }

        /// Two windows dived side by side from the same roster, and their merge, keep every
        /// hard rule; the merge keeps the days outside both windows as they were.
        #[test]
        fn paired_window_dives_merge_into_a_roster_that_keeps_the_rules(
            problem in arbitrary_problem(),
            seed in 0u64..1000,
            length in 1usize..4,
        ) {
            let start = fairness_off_from_an_empty_roster(problem);
            proptest::prop_assume!(start.is_some());
            let (problem, compiled) = start.unwrap();
            let days = compiled.days;
            proptest::prop_assume!(2 * length <= days);
            let local = annealed_from_empty(&compiled, &mut Rng(seed), 2_000);
            let start = local.roster();
            let options = SolveOptions { threads: 2, ..options() };
            let mut search = Search::new(&problem, &compiled, &options, Instant::now());
            let until = Instant::now() + Duration::from_secs(10);
            let windows = [(0, length - 1), (days - length, days - 1)];
            let mut rosters = Vec::new();
            for dive in search.dive_windows(&local, &windows, until, until, 1).unwrap() {
                let Dive::Roster(roster) = dive else {
                    return Err(proptest::test_runner::TestCaseError::fail("a small window's root converges"));
                };
                rosters.push(roster);
            }
            proptest::prop_assert_eq!(search.pricing_workers, 2);
            let merged = merge_window(&compiled, &start, &rosters[0], &rosters[1], windows[1]);
            for roster in rosters.iter().chain([&merged]) {
                let violations = check(&problem, &compiled.plan_of(&problem, roster));
                proptest::prop_assert!(violations.is_empty(), "{:?}", violations);
            }
            for (row, held) in merged.iter().zip(&start) {
                proptest::prop_assert_eq!(&row[length..days - length], &held[length..days - length]);
            }
        }
    }
}
