//! The set-partitioning master, for a bound: each staff member takes one schedule from a pool
//! of schedules that keep their hard rules, with the cover's slacks.
//!
//! Its LP relaxation prices the cover (the duals of its rows). At any prices μ — under-cover
//! rows in `[0, weight]`, over-cover rows in `[−weight, 0]` — the Lagrangian
//! `Σ_r μ_r·level_r + Σ_e min over e's schedules of (requests − Σ_r μ_r·a_r)` is a lower bound
//! on every roster's requests and cover penalty, hence on the objective (fairness only adds).
//! The minimum over all of a staff member's schedules comes from the exact one-staff programme
//! (`LocalSearch::price`), which also gives the schedule to add to the pool (column generation).

use std::collections::HashMap;

use highs::{Col, ColProblem, Row, Sense};

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
    /// The LP's value (over a window, of the window's costs only).
    pub value: f64,
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

/// The LP relaxation of the master over the pools of one column generation, kept in HiGHS
/// between rounds: a schedule that joins a pool is added as a column, one that leaves it (a
/// fixing in a dive) is bounded to zero, so each solve starts from the last one's basis instead
/// of building and solving the LP anew. Schedules of one staff member may differ only on the
/// days of `window` (`(first, last)`); the LP has the cover rows of those days and the
/// schedules' costs on them, so the rows of other days have no price, and each staff member's
/// cost outside the window is added to their `per_staff` price.
pub(crate) struct Lp<'c> {
    compiled: &'c Compiled,
    window: (usize, usize),
    /// `None` only while HiGHS solves it (or after a solve failed).
    model: Option<highs::Model>,
    /// Row `e`: staff member `e` takes one schedule.
    staff_rows: Vec<Row>,
    /// The cover rows of each (day, shift) slot in the window, with the cover item's index.
    slot_rows: Vec<Vec<(usize, Row)>>,
    /// Each staff member's columns, and whether each is in the pool.
    columns: Vec<Vec<(Col, bool)>>,
    /// The position in `columns` of each schedule's column, by its days in the window.
    known: Vec<HashMap<Vec<Option<usize>>, usize>>,
    /// Wall time spent in HiGHS so far: its time limit counts every solve of the model.
    solving: f64,
}

impl<'c> Lp<'c> {
    pub(crate) fn new(compiled: &'c Compiled, window: (usize, usize)) -> Result<Lp<'c>, String> {
        let (first, last) = window;
        let inside = |d: usize| (first..=last).contains(&d);
        let shifts = compiled.shifts;
        let mut problem = ColProblem::default();
        let staff_rows: Vec<Row> = (0..compiled.staff.len())
            .map(|_| problem.add_row(1.0..=1.0))
            .collect();
        // The cover rows, after the staff rows, in the order of `cover_rows`, each with its slack.
        let mut slot_rows: Vec<Vec<(usize, Row)>> = vec![Vec::new(); compiled.days * shifts];
        let mut slacks = Vec::new();
        for (c, cover) in compiled.cover.iter().enumerate() {
            if !inside(cover.day) {
                continue;
            }
            for (weight, level, under) in cover.slack_levels() {
                let row = if under {
                    problem.add_row(level as f64..)
                } else {
                    problem.add_row(..=level as f64)
                };
                slot_rows[cover.day * shifts + cover.shift].push((c, row));
                slacks.push((weight, row, if under { 1.0 } else { -1.0 }));
            }
        }
        for (weight, row, factor) in slacks {
            problem.add_column(weight as f64, 0.0.., [(row, factor)]);
        }
        let model = problem
            .try_optimise(Sense::Minimise)
            .map_err(|e| format!("HiGHS model: {e:?}"))?;
        Ok(Lp {
            compiled,
            window,
            model: Some(model),
            staff_rows,
            slot_rows,
            columns: vec![Vec::new(); compiled.staff.len()],
            known: vec![HashMap::new(); compiled.staff.len()],
            solving: 0.0,
        })
    }

    /// The LP's values over `pools`, solved from scratch in a model of its own, or `None` when
    /// HiGHS did not solve it to optimality. A dive takes its fixings from these: an LP
    /// re-solved from the last basis after a fixing tends to stay as fractional as the last
    /// one (Instance 5, seeds 0–3: dives of 1 240–1 255 for three of four, against 1 147–1 152
    /// from scratch).
    pub(crate) fn values_from_scratch(
        &self,
        pools: &[Vec<Vec<Option<usize>>>],
        limits: &Limits,
    ) -> Result<Option<Vec<Vec<f64>>>, String> {
        let mut fresh = Lp::new(self.compiled, self.window)?;
        Ok(fresh.prices(pools, limits)?.map(|prices| prices.values))
    }

    /// Makes the LP's columns those of `pools`: adds the schedules it has not seen, bounds to
    /// zero those no longer in their pool and frees again those back in it. Returns each
    /// pool's schedules' column indices.
    fn sync(&mut self, pools: &[Vec<Vec<Option<usize>>>]) -> Result<Vec<Vec<usize>>, String> {
        let compiled = self.compiled;
        let shifts = compiled.shifts;
        let (first, last) = self.window;
        let model = self
            .model
            .as_mut()
            .ok_or("HiGHS model lost to a failed solve")?;
        let mut indices = Vec::with_capacity(pools.len());
        for (e, pool) in pools.iter().enumerate() {
            let columns = &mut self.columns[e];
            let known = &mut self.known[e];
            let mut in_pool = vec![false; columns.len()];
            let mut pool_indices = Vec::with_capacity(pool.len());
            for schedule in pool {
                let position = match known.get(&schedule[first..=last]) {
                    Some(&position) => position,
                    None => {
                        let staff = &compiled.staff[e];
                        let cost: i64 = (first..=last)
                            .map(|d| staff.cost_of(shifts, d, schedule[d]))
                            .sum();
                        let mut factors = vec![(self.staff_rows[e], 1.0)];
                        for (d, choice) in schedule.iter().enumerate().take(last + 1).skip(first) {
                            if let Some(s) = *choice {
                                factors.extend(
                                    self.slot_rows[d * shifts + s]
                                        .iter()
                                        .filter(|&&(c, _)| compiled.cover[c].eligible[e])
                                        .map(|&(_, row)| (row, 1.0)),
                                );
                            }
                        }
                        let col = model
                            .try_add_column(cost as f64, 0.0.., factors)
                            .map_err(|e| format!("HiGHS column: {e:?}"))?;
                        columns.push((col, true));
                        known.insert(schedule[first..=last].to_vec(), columns.len() - 1);
                        in_pool.push(false);
                        columns.len() - 1
                    }
                };
                in_pool[position] = true;
                pool_indices.push(columns[position].0.index());
            }
            for (position, &now_in) in in_pool.iter().enumerate() {
                let (col, active) = &mut columns[position];
                if *active != now_in {
                    *active = now_in;
                    if now_in {
                        model.change_column_bounds(*col, 0.0..);
                    } else {
                        model.change_column_bounds(*col, 0.0..=0.0);
                    }
                }
            }
            indices.push(pool_indices);
        }
        Ok(indices)
    }

    /// Solves the LP over `pools` (every pool non-empty) and returns its prices, or `None` when
    /// HiGHS did not solve it to optimality.
    pub(crate) fn prices(
        &mut self,
        pools: &[Vec<Vec<Option<usize>>>],
        limits: &Limits,
    ) -> Result<Option<Prices>, String> {
        let compiled = self.compiled;
        let shifts = compiled.shifts;
        let (first, last) = self.window;
        let inside = |d: usize| (first..=last).contains(&d);
        let indices = self.sync(pools)?;
        let mut model = self
            .model
            .take()
            .ok_or("HiGHS model lost to a failed solve")?;
        let limits = Limits {
            time_limit: self.solving + limits.time_limit,
            ..*limits
        };
        let _option = set_quiet_limits!(model, &limits);
        let started = std::time::Instant::now();
        let solved = model
            .try_solve()
            .map_err(|e| format!("HiGHS solve: {e:?}"))?;
        self.solving += started.elapsed().as_secs_f64();
        let optimal = solved
            .int_info_value(c"primal_solution_status")
            .is_ok_and(|v| v == 2)
            && solved
                .int_info_value(c"dual_solution_status")
                .is_ok_and(|v| v == 2);
        let result = optimal.then(|| {
            let value = solved.objective_value();
            let solution = solved.get_solution();
            let duals = solution.dual_rows();
            let columns = solution.columns();
            let values = indices
                .iter()
                .map(|pool| pool.iter().map(|&i| columns[i]).collect())
                .collect();
            let staff_count = pools.len();
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
            Prices {
                per_choice,
                per_staff,
                constant,
                values,
                rows,
                value,
            }
        });
        self.model = Some(highs::Model::from(solved));
        Ok(result)
    }
}
