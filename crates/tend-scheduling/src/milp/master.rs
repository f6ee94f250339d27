//! The set-partitioning master, for a bound: each staff member takes one schedule from a pool
//! of schedules that keep their hard rules, with the cover's slacks.
//!
//! Its LP relaxation prices the cover (the duals of its rows). At any prices μ — under-cover
//! rows in `[0, weight]`, over-cover rows in `[−weight, 0]` — the Lagrangian
//! `Σ_r μ_r·level_r + Σ_e min over e's schedules of (requests − Σ_r μ_r·a_r)` is a lower bound
//! on every roster's requests and cover penalty, hence on the objective (fairness only adds).
//! The minimum over all of a staff member's schedules comes from the exact one-staff programme
//! (`LocalSearch::price`), which also gives the schedule to add to the pool (column generation).

use good_lp::{variable, Expression, ProblemVariables, SolverModel, Variable};

use super::Limits;
use crate::model::Compiled;

/// Prices are integers: the duals times this.
pub(crate) const PRICE_SCALE: f64 = 1000.0;

/// The cover's prices from the LP relaxation of the master.
#[derive(Debug)]
pub(crate) struct Prices {
    /// `per_choice[e][d * (shifts + 1) + c]`: the scaled cost of staff `e` taking choice `c`
    /// (a shift, or `shifts` for a day off) on day `d`: their requests minus the cover's prices.
    pub per_choice: Vec<Vec<i64>>,
    /// The scaled dual of each staff member's "one schedule" row: a schedule whose scaled price
    /// is below it improves the LP.
    pub per_staff: Vec<i64>,
    /// `Σ_r μ_r·level_r`, unscaled.
    pub constant: f64,
    /// `values[e][j]`: the LP value of staff `e` taking the `j`th schedule of their pool.
    pub values: Vec<Vec<f64>>,
    /// The scaled price of each cover row (see `cover_rows`), clamped to its sign and weight.
    pub rows: Vec<i64>,
}

/// The cover rows of the master, in order: `(cover item, level, under, weight)`.
fn cover_rows(compiled: &Compiled) -> Vec<(usize, i64, bool, i64)> {
    compiled
        .cover
        .iter()
        .enumerate()
        .flat_map(|(c, cover)| {
            cover
                .slack_levels()
                .map(move |(weight, level, under)| (c, level, under, weight))
        })
        .collect()
}

/// Each staff member's scaled cost of each choice at the cover rows' scaled prices `rows`
/// (`per_choice` of [`Prices`]), and `Σ_r μ_r·level_r`, unscaled.
pub(crate) fn at_row_prices(compiled: &Compiled, rows: &[i64]) -> (Vec<Vec<i64>>, f64) {
    let shifts = compiled.shifts;
    let choices = shifts + 1;
    let mut per_choice: Vec<Vec<i64>> = compiled
        .staff
        .iter()
        .map(|staff| {
            let mut costs = vec![0i64; compiled.days * choices];
            for d in 0..compiled.days {
                for c in 0..choices {
                    let choice = (c < shifts).then_some(c);
                    costs[d * choices + c] = staff.cost_of(shifts, d, choice) * PRICE_SCALE as i64;
                }
            }
            costs
        })
        .collect();
    let mut constant = 0.0;
    for (&(c, level, _, _), &scaled) in cover_rows(compiled).iter().zip(rows) {
        if scaled == 0 {
            continue;
        }
        // The bound uses the scaled price exactly as the schedules are priced.
        constant += scaled as f64 / PRICE_SCALE * level as f64;
        let cover = &compiled.cover[c];
        for (e, costs) in per_choice.iter_mut().enumerate() {
            if cover.eligible[e] {
                costs[cover.day * choices + cover.shift] -= scaled;
            }
        }
    }
    (per_choice, constant)
}

/// The scaled price of `schedule` at the costs `costs` of one staff member (a row of
/// `per_choice`).
pub(crate) fn price_of(costs: &[i64], schedule: &[Option<usize>], shifts: usize) -> i64 {
    schedule
        .iter()
        .enumerate()
        .map(|(d, choice)| costs[d * (shifts + 1) + choice.unwrap_or(shifts)])
        .sum()
}

/// The rows' prices `alpha·center + (1 − alpha)·rows`, rounded: within the same bounds as both.
pub(crate) fn smoothed_rows(center: &[i64], rows: &[i64], alpha: f64) -> Vec<i64> {
    center
        .iter()
        .zip(rows)
        .map(|(&c, &r)| (alpha * c as f64 + (1.0 - alpha) * r as f64).round() as i64)
        .collect()
}

/// Solves the LP relaxation of the master over `pools` (every pool non-empty) and returns its
/// prices, or `None` when HiGHS did not solve it to optimality. Schedules of one staff member
/// may differ only on the days of `window` (`(first, last)`); the LP has the cover rows of
/// those days and the schedules' costs on them, so the rows of other days have no price, and
/// each staff member's cost outside the window is added to their `per_staff` price.
pub(crate) fn prices(
    compiled: &Compiled,
    pools: &[Vec<Vec<Option<usize>>>],
    (first, last): (usize, usize),
    limits: &Limits,
) -> Result<Option<Prices>, String> {
    let shifts = compiled.shifts;
    let inside = |d: usize| (first..=last).contains(&d);
    let mut variables = ProblemVariables::new();
    let mut objective = Expression::with_capacity(1024);
    let mut constraints = Vec::new();
    let mut by_slot: Vec<Vec<(usize, Variable)>> = vec![Vec::new(); compiled.days * shifts];
    for (e, pool) in pools.iter().enumerate() {
        let staff = &compiled.staff[e];
        let mut one = Expression::with_capacity(pool.len());
        for schedule in pool {
            let v = variables.add(variable().min(0.0));
            let cost: i64 = (first..=last)
                .map(|d| staff.cost_of(shifts, d, schedule[d]))
                .sum();
            objective.add_mul(cost as f64, v);
            one.add_mul(1.0, v);
            for d in first..=last {
                if let Some(s) = schedule[d] {
                    by_slot[d * shifts + s].push((e, v));
                }
            }
        }
        // Row e: staff member e takes one schedule.
        constraints.push(one.eq(1.0));
    }
    // The cover rows, after the staff rows, in the order of `cover_rows`.
    for cover in compiled.cover.iter().filter(|cover| inside(cover.day)) {
        let mut assigned = Expression::with_capacity(8);
        for &(e, v) in &by_slot[cover.day * shifts + cover.shift] {
            if cover.eligible[e] {
                assigned.add_mul(1.0, v);
            }
        }
        for (weight, level, under) in cover.slack_levels() {
            let slack = variables.add(variable().min(0.0));
            objective.add_mul(weight as f64, slack);
            let mut expr = assigned.clone();
            if under {
                expr.add_mul(1.0, slack);
                constraints.push(expr.geq(level as f64));
            } else {
                expr.add_mul(-1.0, slack);
                constraints.push(expr.leq(level as f64));
            }
        }
    }
    let mut problem = variables.minimise(objective).using(good_lp::highs);
    for constraint in constraints {
        problem.add_constraint(constraint);
    }
    let mut model = problem.try_into_inner().map_err(|e| e.to_string())?;
    let _option = set_quiet_limits!(model, limits);
    let solved = model
        .try_solve()
        .map_err(|e| format!("HiGHS solve: {e:?}"))?;
    let optimal = solved
        .int_info_value(c"primal_solution_status")
        .is_ok_and(|v| v == 2)
        && solved
            .int_info_value(c"dual_solution_status")
            .is_ok_and(|v| v == 2);
    if !optimal {
        return Ok(None);
    }
    let solution = solved.get_solution();
    let duals = solution.dual_rows();
    let staff_count = pools.len();
    // The schedules' columns come first, pool by pool, in the order they were added.
    let mut columns = solution.columns().iter().copied();
    let values = pools
        .iter()
        .map(|pool| columns.by_ref().take(pool.len()).collect())
        .collect();
    // Prices of the right sign and within the slack's weight keep the Lagrangian a bound.
    let mut row = staff_count;
    let rows: Vec<i64> = cover_rows(compiled)
        .iter()
        .map(|&(c, _, under, weight)| {
            if !inside(compiled.cover[c].day) {
                return 0;
            }
            let dual = duals[row];
            row += 1;
            let price = if under {
                dual.clamp(0.0, weight as f64)
            } else {
                dual.clamp(-(weight as f64), 0.0)
            };
            (price * PRICE_SCALE).round() as i64
        })
        .collect();
    let (per_choice, constant) = at_row_prices(compiled, &rows);
    let per_staff = duals[..staff_count]
        .iter()
        .zip(pools.iter().zip(&per_choice))
        .map(|(&dual, (pool, costs))| {
            // The same in every schedule of the pool.
            let outside: i64 = (0..first)
                .chain(last + 1..compiled.days)
                .map(|d| costs[d * (shifts + 1) + pool[0][d].unwrap_or(shifts)])
                .sum();
            (dual * PRICE_SCALE).round() as i64 + outside
        })
        .collect();
    Ok(Some(Prices {
        per_choice,
        per_staff,
        constant,
        values,
        rows,
    }))
}
