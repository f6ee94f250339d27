//! Branch and price over the set partition, on horizons the one-staff programme prices whole.
//!
//! The set partition's LP is nearly tight on these horizons (Instances 5, 6 and 7: within two
//! points of their optima), but a dive fixes whole schedules without going back, and ends one
//! or two points above the optimum. Here the search goes back: a tree whose nodes force or
//! forbid one staff member's choice on one day (a shift, or a day off), each solved by
//! column generation with the forbidden choices priced out of the pricing programme, and pruned
//! once its Lagrangian bound, rounded up, reaches the incumbent. A node whose LP takes one
//! schedule per staff member whole is a roster, the best of that node. The search dives from
//! the open node of least bound; one that leaves no node open has proved the incumbent optimal.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Pools, Search, ROUNDING};
use crate::local::{LocalSearch, Roster};
use crate::milp;
use crate::search::{Rng, SolveError};

/// The scaled price of a choice a node forbids: above any schedule's whole price on a horizon
/// priced whole (at most 63 days of requests and cover prices, each scaled by 1 000).
const FORBIDDEN: i64 = 1 << 40;
/// The short annealing that mends a node's rounded roster: moves per (staff, day) cell and its
/// temperatures.
const MEND_MOVES_PER_CELL: u64 = 300;
const MEND_START_TEMPERATURE: f64 = 10.0;
const MEND_END_TEMPERATURE: f64 = 0.5;
/// Workers searching the tree side by side, at most (see `Search::branch_and_price`).
const TREE_WORKERS: usize = 2;
/// An LP value this close to 1 takes a schedule whole; this close to 0, not at all.
const INTEGRAL: f64 = 1e-6;

/// One branching decision: `staff` takes `choice` (a shift, or the number of shifts for a day
/// off) on `day` when `force`, and anything else when not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decision {
    staff: usize,
    day: usize,
    choice: usize,
    force: bool,
}

impl Decision {
    fn allows(&self, schedule: &[Option<usize>], shifts: usize) -> bool {
        let taken = schedule[self.day].unwrap_or(shifts) == self.choice;
        taken == self.force
    }
}

/// A node of the search: its decisions and a bound on every roster that keeps them.
#[derive(Debug, Clone)]
struct Node {
    decisions: Vec<Decision>,
    bound: f64,
}

/// How a node's column generation ended.
enum NodeEnd {
    /// Its LP is optimal: its value (or a better Lagrangian) bounds the node, and its values.
    Converged { bound: f64, values: Vec<Vec<f64>> },
    /// Its bound reached the incumbent, or no roster keeps its decisions.
    Pruned,
    /// Out of time, or a pricing the programme could not do.
    Unfinished,
}

/// What the tree's workers share: the open nodes, the incumbent, and how the search stands.
struct Shared {
    tree: Mutex<Tree>,
    /// The incumbent's objective, read by every node to prune (the roster is in `tree`).
    objective: AtomicI64,
    /// Rounded rosters mended so far: each mending draws from a stream of its own.
    mended: AtomicU64,
}

struct Tree {
    /// The nodes left open.
    open: Vec<Node>,
    /// Workers diving from a node they took (their children may yet be opened).
    active: usize,
    /// Whether a worker stopped with nodes unsolved (time, cancellation or an error).
    stopped: bool,
    /// The least bound of the nodes left unsolved without being open.
    unsolved: f64,
    /// The best roster found, when better than the incumbent the tree began with.
    best: Option<Roster>,
}

impl Shared {
    /// Offers `roster` of `objective`; returns whether it is the new incumbent.
    fn offer(&self, roster: Roster, objective: i64) -> bool {
        let mut tree = lock(&self.tree);
        if objective < self.objective.load(Ordering::SeqCst) {
            self.objective.store(objective, Ordering::SeqCst);
            tree.best = Some(roster);
            true
        } else {
            false
        }
    }

    /// A worker's dive ended (its last node pruned, solved or left unbranched).
    fn end_dive(&self) {
        lock(&self.tree).active -= 1;
    }

    /// A worker's dive ended at a node of `bound` whose values are too close to whole to
    /// branch on: the node is left unsolved.
    fn leave_unsolved(&self, bound: f64) {
        let mut tree = lock(&self.tree);
        tree.unsolved = tree.unsolved.min(bound);
        tree.active -= 1;
    }

    /// A worker stops at `node`, left open, and the search with it (time, cancellation or an
    /// error).
    fn stop_at(&self, node: Node) {
        let mut tree = lock(&self.tree);
        tree.open.push(node);
        tree.stopped = true;
        tree.active -= 1;
    }

    /// Whether a node bounded by `bound` can hold no roster better than the incumbent.
    fn prunes(&self, bound: f64) -> bool {
        (bound - ROUNDING).ceil() >= self.objective.load(Ordering::SeqCst) as f64
    }
}

fn lock(tree: &Mutex<Tree>) -> std::sync::MutexGuard<'_, Tree> {
    tree.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Search<'_> {
    /// Branch and price from the schedules of `pools` (and the incumbent's) until `until`.
    /// Raises the bound to the least bound of the nodes left, or to the incumbent when none is,
    /// and returns whether none is (the incumbent is then proved optimal).
    /// Only for problems without a fairness term (whose LP prices every penalty) on horizons the
    /// one-staff programme prices whole, with an incumbent.
    ///
    /// With two threads or more, two workers search the same tree side by side, each diving
    /// from the open node of least bound when its last dive ended, with an LP of its own and
    /// half of the threads for its pricing: a node's time is mostly HiGHS's LP, on one thread,
    /// so with one worker the second core was idle (Instance 7: 1.06 cores in use).
    pub(super) fn branch_and_price(
        &mut self,
        pools: Pools,
        until: Instant,
    ) -> Result<bool, SolveError> {
        let compiled = self.compiled;
        let Some(local) = LocalSearch::new(compiled, &self.best) else {
            return Ok(false);
        };
        // Every schedule met, per staff member: each node's pools are those that keep its
        // decisions.
        let mut known: Pools = pools;
        known.resize(compiled.staff.len(), Vec::new());
        for (pool, schedule) in known.iter_mut().zip(local.roster()) {
            if !pool.contains(&schedule) {
                pool.push(schedule);
            }
        }
        let shared = Shared {
            tree: Mutex::new(Tree {
                open: vec![Node {
                    decisions: Vec::new(),
                    bound: self.bound,
                }],
                active: 0,
                stopped: false,
                unsolved: f64::INFINITY,
                best: None,
            }),
            objective: AtomicI64::new(self.best_objective),
            mended: AtomicU64::new(0),
        };
        let workers = self.threads().min(TREE_WORKERS);
        let ends = self.side_by_side(workers, |search, _| {
            let end = search.tree_worker(&shared, &local, known.clone(), until);
            if end.is_err() {
                lock(&shared.tree).stopped = true;
            }
            end
        });
        let tree = shared
            .tree
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(best) = tree.best {
            self.offer(best);
        }
        ends.into_iter().collect::<Result<(), SolveError>>()?;
        let proved = !tree.stopped && tree.open.is_empty() && tree.unsolved.is_infinite();
        if !proved {
            let least = tree
                .open
                .iter()
                .map(|node| node.bound)
                .fold(tree.unsolved, f64::min);
            if least.is_finite() && least > self.bound {
                self.bound = least.min(self.best_objective as f64);
            }
        } else {
            self.bound = self.bound.max(self.best_objective as f64);
        }
        self.report_progress("branch and price");
        Ok(proved)
    }

    /// One worker of the tree (see `branch_and_price`): takes the open node of least bound and
    /// dives from it depth first, the forced choice first, the other branch left open, until a
    /// node is pruned or solved; then takes another, until no node is open and no worker could
    /// open one, or until `until`. `known` is the schedules it has met.
    fn tree_worker(
        &self,
        shared: &Shared,
        local: &LocalSearch,
        mut known: Pools,
        until: Instant,
    ) -> Result<(), SolveError> {
        let compiled = self.compiled;
        let shifts = compiled.shifts;
        let whole = (0, compiled.days - 1);
        let mut lp = milp::master::Lp::new(compiled, whole)
            .map_err(|message| SolveError::Solver { message })?;
        let mut slowest = Duration::ZERO;
        // The annealing that mends rounded rosters, loaded with each in turn.
        let mut mender = LocalSearch::new(compiled, &local.roster());
        // The node to solve next when the last one branched.
        let mut next: Option<Node> = None;
        loop {
            let node = match next.take() {
                Some(node) => node,
                None => {
                    let mut tree = lock(&shared.tree);
                    if tree.stopped {
                        return Ok(());
                    }
                    match take_least(&mut tree.open) {
                        Some(node) => {
                            tree.active += 1;
                            node
                        }
                        None if tree.active == 0 => return Ok(()),
                        None => {
                            // Another worker's dive may yet open nodes.
                            drop(tree);
                            std::thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                    }
                }
            };
            // The dive from `node` goes on only through `next`.
            if shared.prunes(node.bound) {
                shared.end_dive();
                continue;
            }
            if Instant::now() >= until || self.cancelled() || lock(&shared.tree).stopped {
                shared.stop_at(node);
                return Ok(());
            }
            let mut pools: Pools = known
                .iter()
                .enumerate()
                .map(|(e, pool)| {
                    pool.iter()
                        .filter(|s| keeps(&node.decisions, e, s, shifts))
                        .cloned()
                        .collect()
                })
                .collect();
            let end = self.node_columns(
                shared,
                &mut lp,
                local,
                &node.decisions,
                &mut pools,
                &mut known,
                until,
                &mut slowest,
            );
            let (bound, values) = match end {
                Ok(NodeEnd::Pruned) => {
                    shared.end_dive();
                    continue;
                }
                Ok(NodeEnd::Unfinished) | Err(_) => {
                    shared.stop_at(node);
                    return end.map(|_| ());
                }
                Ok(NodeEnd::Converged { bound, values }) => (bound, values),
            };
            // Each staff member's schedule of largest value: a roster that keeps every hard
            // rule, and the node's best when every value is whole.
            let mut whole_schedules = true;
            let roster: Vec<Vec<Option<usize>>> = values
                .iter()
                .zip(&pools)
                .map(|(values, pool)| {
                    let (j, value) = largest(values);
                    whole_schedules &= value >= 1.0 - INTEGRAL;
                    pool[j].clone()
                })
                .collect();
            // Not whole, the rounded roster is mended by a short annealing from it: the LP's
            // schedules together are near a roster of about the node's bound.
            let mended = if whole_schedules {
                None
            } else {
                mender.as_mut().and_then(|rounded| {
                    rounded.load(&roster);
                    let stream = shared.mended.fetch_add(1, Ordering::SeqCst) + 1;
                    let mut rng = Rng::stream(self.options.seed, stream);
                    let cells = (compiled.staff.len() * compiled.days) as u64;
                    let stop = || Instant::now() >= until;
                    rounded
                        .anneal(
                            &mut rng,
                            MEND_MOVES_PER_CELL * cells,
                            MEND_START_TEMPERATURE,
                            MEND_END_TEMPERATURE,
                            &stop,
                        )
                        .0
                })
            };
            for roster in std::iter::once(roster).chain(mended.map(|(mended, _)| mended)) {
                let objective = self.objective(&roster);
                if shared.offer(roster, objective) {
                    self.report_progress_of("branch and price", objective, self.bound);
                }
            }
            if whole_schedules || shared.prunes(bound) {
                shared.end_dive();
                continue;
            }
            let Some((staff, day, choice)) = branching_choice(&values, &pools, shifts) else {
                shared.leave_unsolved(bound);
                continue;
            };
            // The dive goes on with the choice forced; the other branch waits.
            for force in [false, true] {
                let mut decisions = node.decisions.clone();
                decisions.push(Decision {
                    staff,
                    day,
                    choice,
                    force,
                });
                let child = Node { decisions, bound };
                if force {
                    next = Some(child);
                } else {
                    lock(&shared.tree).open.push(child);
                }
            }
        }
    }

    /// Column generation for one node until its LP is optimal (see `NodeEnd`): every schedule
    /// priced joins `known`, and `pools` when it keeps the node's decisions and improves its LP.
    #[allow(clippy::too_many_arguments)]
    fn node_columns(
        &self,
        shared: &Shared,
        lp: &mut milp::master::Lp,
        local: &LocalSearch,
        decisions: &[Decision],
        pools: &mut [Vec<Vec<Option<usize>>>],
        known: &mut [Vec<Vec<Option<usize>>>],
        until: Instant,
        slowest: &mut Duration,
    ) -> Result<NodeEnd, SolveError> {
        let compiled = self.compiled;
        let shifts = compiled.shifts;
        let whole = (0, compiled.days - 1);
        let everyone: Vec<usize> = (0..pools.len()).collect();
        // A staff member none of whose schedules keeps the decisions gets the cheapest that
        // does, at no cover prices (the LP needs a schedule for everyone).
        let empty: Vec<usize> = everyone
            .iter()
            .copied()
            .filter(|&e| pools[e].is_empty())
            .collect();
        if !empty.is_empty() {
            let (costs, _) = milp::master::at_row_prices(compiled, &[]);
            let costs = with_decisions(costs, decisions, shifts);
            let (priced, complete) = self.price_all(local, whole, &costs, &empty, until, slowest);
            if !complete {
                return Ok(NodeEnd::Unfinished);
            }
            for (e, schedules) in priced {
                match schedules
                    .into_iter()
                    .find(|(price, _)| *price < FORBIDDEN / 2)
                {
                    Some((_, schedule)) => {
                        remember(&mut known[e], &schedule);
                        pools[e].push(schedule);
                    }
                    None => return Ok(NodeEnd::Pruned),
                }
            }
        }
        let mut lagrangian = f64::MIN;
        loop {
            let remaining = until
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if remaining < 0.01 || self.cancelled() {
                return Ok(NodeEnd::Unfinished);
            }
            let prices = lp
                .prices(pools, &self.lp_limits(remaining))
                .map_err(|message| SolveError::Solver { message })?;
            let Some(prices) = prices else {
                return Ok(NodeEnd::Unfinished);
            };
            let costs = with_decisions(prices.per_choice.clone(), decisions, shifts);
            let (priced, complete) =
                self.price_all(local, whole, &costs, &everyone, until, slowest);
            if !complete {
                return Ok(NodeEnd::Unfinished);
            }
            let mut least_total = 0i64;
            let mut added = 0;
            for (e, schedules) in priced {
                let Some(&(least, _)) = schedules.first() else {
                    return Ok(NodeEnd::Unfinished);
                };
                if least >= FORBIDDEN / 2 {
                    // No schedule of this staff member keeps the node's decisions.
                    return Ok(NodeEnd::Pruned);
                }
                least_total += least;
                for (price, schedule) in schedules {
                    if price >= FORBIDDEN / 2 {
                        continue;
                    }
                    remember(&mut known[e], &schedule);
                    if price < prices.per_staff[e] && !pools[e].contains(&schedule) {
                        pools[e].push(schedule);
                        added += 1;
                    }
                }
            }
            // The Lagrangian of the node's problem: its decisions only remove schedules.
            lagrangian =
                lagrangian.max(prices.constant + least_total as f64 / milp::master::PRICE_SCALE);
            if shared.prunes(lagrangian) {
                return Ok(NodeEnd::Pruned);
            }
            if added == 0 {
                let bound = lagrangian.max(prices.value);
                if shared.prunes(bound) {
                    return Ok(NodeEnd::Pruned);
                }
                return Ok(NodeEnd::Converged {
                    bound,
                    values: prices.values,
                });
            }
        }
    }
}

/// Removes and returns the open node of least bound (the deepest of equals, then the last).
fn take_least(open: &mut Vec<Node>) -> Option<Node> {
    let position = open
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| {
            a.bound
                .total_cmp(&b.bound)
                .then(b.decisions.len().cmp(&a.decisions.len()))
                .then(j.cmp(i))
        })
        .map(|(i, _)| i)?;
    Some(open.swap_remove(position))
}

/// Whether staff member `e`'s `schedule` keeps every decision of a node.
fn keeps(decisions: &[Decision], e: usize, schedule: &[Option<usize>], shifts: usize) -> bool {
    decisions
        .iter()
        .filter(|d| d.staff == e)
        .all(|d| d.allows(schedule, shifts))
}

/// `costs` (scaled, per staff member and choice) with every choice a decision rules out
/// priced at `FORBIDDEN`.
fn with_decisions(
    mut costs: Vec<Vec<i64>>,
    decisions: &[Decision],
    shifts: usize,
) -> Vec<Vec<i64>> {
    let choices = shifts + 1;
    for decision in decisions {
        let row = &mut costs[decision.staff][decision.day * choices..(decision.day + 1) * choices];
        for (c, cost) in row.iter_mut().enumerate() {
            if (c == decision.choice) != decision.force {
                *cost = cost.saturating_add(FORBIDDEN);
            }
        }
    }
    costs
}

fn remember(known: &mut Vec<Vec<Option<usize>>>, schedule: &[Option<usize>]) {
    if !known.iter().any(|s| s == schedule) {
        known.push(schedule.to_vec());
    }
}

/// The index and value of the largest of `values` (the first of equals).
pub(super) fn largest(values: &[f64]) -> (usize, f64) {
    values
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a })
}

/// The choice to branch on: of the staff members whose LP takes no schedule whole, the day
/// and choice whose value (summed over their schedules) is the most fractional, nearest to a
/// half, the first of equals in staff, day and choice order; `None` when every value is whole.
/// Both branches then move the bound (Instance 5 proved optimal in 44 s; branching on the
/// largest fractional value found its optimum in three runs of four and never proved it).
fn branching_choice(
    values: &[Vec<f64>],
    pools: &[Vec<Vec<Option<usize>>>],
    shifts: usize,
) -> Option<(usize, usize, usize)> {
    let choices = shifts + 1;
    let mut best: Option<(f64, usize, usize, usize)> = None;
    for (e, (values, pool)) in values.iter().zip(pools).enumerate() {
        if largest(values).1 >= 1.0 - INTEGRAL {
            continue;
        }
        let days = pool.first().map_or(0, Vec::len);
        let mut taken = vec![0.0; days * choices];
        for (value, schedule) in values.iter().zip(pool) {
            for (d, choice) in schedule.iter().enumerate() {
                taken[d * choices + choice.unwrap_or(shifts)] += value;
            }
        }
        for (i, &value) in taken.iter().enumerate() {
            if value > INTEGRAL
                && value < 1.0 - INTEGRAL
                && best.is_none_or(|(most, ..)| (value - 0.5).abs() < (most - 0.5).abs() - INTEGRAL)
            {
                best = Some((value, e, i / choices, i % choices));
            }
        }
    }
    best.map(|(_, e, d, c)| (e, d, c))
}
