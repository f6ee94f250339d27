//! The MILP model of a roster (or of a neighbourhood of one), built with good_lp and solved by
//! HiGHS. Private to the crate: nothing of good_lp or of the highs crate leaves this module.
//!
//! A [`Neighbourhood`] frees a set of staff on a range of days; every other cell of the roster is
//! fixed to the incumbent and enters the model as a constant. Constraints are generated only where
//! they touch a free cell, so a small neighbourhood of a year-long roster is a small model. The full
//! model is the neighbourhood that frees everything.

use good_lp::{variable, Constraint, Expression, ProblemVariables, SolverModel, Variable};

use crate::model::Compiled;

/// Sets, on a HiGHS model taken out of good_lp (whose own options it does not carry), no
/// output, the time limit, the threads and the seed of `limits`; evaluates to the closure that
/// names a failed option, for further options.
macro_rules! set_quiet_limits {
    ($model:expr, $limits:expr) => {{
        let limits: &Limits = $limits;
        let option = |name: &'static str| move |e| format!("HiGHS option {name}: {e:?}");
        $model
            .try_set_option("output_flag", false)
            .map_err(option("output_flag"))?;
        $model
            .try_set_option("log_to_console", false)
            .map_err(option("log_to_console"))?;
        $model
            .try_set_option("time_limit", limits.time_limit.max(0.01))
            .map_err(option("time_limit"))?;
        $model
            .try_set_option("threads", limits.threads.max(1) as i32)
            .map_err(option("threads"))?;
        $model
            .try_set_option("random_seed", limits.seed)
            .map_err(option("random_seed"))?;
        option
    }};
}

pub(crate) mod master;

/// Staff (by index, sorted) freed on days `first_day..end_day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Neighbourhood {
    pub staff: Vec<usize>,
    pub first_day: usize,
    pub end_day: usize,
    /// Days from this one on are treated as beyond the horizon and the freed staff's horizon-wide
    /// limits (minutes, shifts per type, weekends) are pro-rated to the days before it. Used by the
    /// construction, which builds long schedules a stretch at a time. `None`: the real horizon.
    pub visible_days: Option<usize>,
}

impl Neighbourhood {
    pub fn everything(compiled: &Compiled) -> Neighbourhood {
        Neighbourhood {
            staff: (0..compiled.staff.len()).collect(),
            first_day: 0,
            end_day: compiled.days,
            visible_days: None,
        }
    }
}

/// HiGHS settings for one solve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub time_limit: f64,
    pub node_limit: Option<i32>,
    pub relative_gap: f64,
    pub threads: u32,
    pub seed: i32,
    /// Stop after this many improving solutions (for a quick feasible start).
    pub solution_limit: Option<i32>,
}

/// What a solve returned.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The neighbourhood's cells as solved, when HiGHS found a feasible point.
    pub roster: Option<Vec<Vec<Option<usize>>>>,
    /// Lower bound on the objective of the whole roster (with the fixed part as constant).
    pub bound: f64,
    /// HiGHS proved the sub-problem optimal (within the gap).
    pub finished: bool,
}

/// A built model, ready to hand to HiGHS.
pub(crate) struct Built {
    variables: ProblemVariables,
    objective: Expression,
    constant: f64,
    constraints: Vec<Constraint>,
    start: Vec<f64>,
    /// `x[(local staff * days + local day) * shifts + shift]`.
    /// Column index of each shift variable, laid out as in `Builder::x`.
    x_columns: Vec<Option<usize>>,
    neighbourhood: Neighbourhood,
    shifts: usize,
    relaxation: bool,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("columns", &self.start.len())
            .field("rows", &self.constraints.len())
            .finish()
    }
}

/// A linear expression together with the count of its variables, so constant rows are skipped.
struct Row {
    expr: Expression,
    vars: usize,
}

impl Row {
    fn new() -> Row {
        Row {
            expr: Expression::with_capacity(8),
            vars: 0,
        }
    }
    fn add(&mut self, coefficient: f64, term: &Term) {
        match term {
            Term::Constant(c) => self.expr += coefficient * c,
            Term::Sum(vars) => {
                for &v in vars {
                    self.expr.add_mul(coefficient, v);
                }
                self.vars += vars.len();
            }
        }
    }
    fn add_constant(&mut self, c: f64) {
        self.expr += c;
    }
}

/// Whether a staff member works on a day: a constant (fixed cell) or a sum of shift variables.
enum Term {
    Constant(f64),
    Sum(Vec<Variable>),
}

struct Builder<'a> {
    compiled: &'a Compiled,
    incumbent: &'a [Vec<Option<usize>>],
    hood: &'a Neighbourhood,
    /// Local index of each staff member in the neighbourhood.
    local: Vec<Option<usize>>,
    variables: ProblemVariables,
    start: Vec<f64>,
    x: Vec<Option<Variable>>,
    constraints: Vec<Constraint>,
    objective: Expression,
    constant: f64,
    relaxation: bool,
    /// Whether the objective is built; without it the model only asks for a schedule that
    /// satisfies the hard rules (which HiGHS finds quickly even for a year-long one).
    with_objective: bool,
    /// Worked-weekend count expressions of staff with free weekends, for fairness.
    weekend_counts: Vec<(usize, Expression)>,
}

impl Builder<'_> {
    fn len(&self) -> usize {
        self.hood.end_day - self.hood.first_day
    }

    fn is_free(&self, staff: usize, day: usize) -> bool {
        self.local[staff].is_some() && day >= self.hood.first_day && day < self.hood.end_day
    }

    fn x(&self, staff: usize, day: usize, shift: usize) -> Option<Variable> {
        let local = self.local[staff]?;
        if day < self.hood.first_day || day >= self.hood.end_day {
            return None;
        }
        let shifts = self.compiled.shifts;
        self.x[(local * self.len() + day - self.hood.first_day) * shifts + shift]
    }

    fn new_var(&mut self, definition: good_lp::VariableDefinition, start: f64) -> Variable {
        self.start.push(start);
        self.variables.add(definition)
    }

    /// A 0/1 variable, continuous in the LP relaxation.
    fn new_binary(&mut self, start: f64) -> Variable {
        let definition = if self.relaxation {
            variable().min(0.0).max(1.0)
        } else {
            variable().binary()
        };
        self.new_var(definition, start)
    }

    /// Works on `day` (free: sum of its shift variables; fixed: the incumbent).
    fn work(&self, staff: usize, day: usize) -> Term {
        if self.is_free(staff, day) {
            Term::Sum(
                (0..self.compiled.shifts)
                    .filter_map(|s| self.x(staff, day, s))
                    .collect(),
            )
        } else {
            Term::Constant(if self.incumbent[staff][day].is_some() {
                1.0
            } else {
                0.0
            })
        }
    }

    /// Works shift `shift` on `day`.
    fn works(&self, staff: usize, day: usize, shift: usize) -> Term {
        if self.is_free(staff, day) {
            Term::Sum(self.x(staff, day, shift).into_iter().collect())
        } else {
            Term::Constant(if self.incumbent[staff][day] == Some(shift) {
                1.0
            } else {
                0.0
            })
        }
    }

    fn push(&mut self, row: Row, build: impl FnOnce(Expression) -> Constraint) {
        if row.vars > 0 {
            self.constraints.push(build(row.expr));
        }
    }

    fn build_variables(&mut self) {
        let compiled = self.compiled;
        let shifts = compiled.shifts;
        let staff_list = self.hood.staff.clone();
        for &e in &staff_list {
            let staff = &compiled.staff[e];
            for d in self.hood.first_day..self.hood.end_day {
                let off_cost = staff.cost_of(shifts, d, None) as f64;
                self.constant += off_cost;
                for s in 0..shifts {
                    if !staff.may(shifts, d, s) {
                        self.x.push(None);
                        continue;
                    }
                    let start = if self.incumbent[e][d] == Some(s) {
                        1.0
                    } else {
                        0.0
                    };
                    // A pinned shift is worked, whatever its cost: the variable is fixed to 1
                    // (restricting the day to that shift alone would still allow a day off).
                    let v = if staff.pinned.get(&d) == Some(&Some(s)) {
                        self.new_var(variable().min(1.0).max(1.0), 1.0)
                    } else {
                        self.new_binary(start)
                    };
                    let cost = staff.cost_of(shifts, d, Some(s)) as f64 - off_cost;
                    if cost != 0.0 && self.with_objective {
                        self.objective.add_mul(cost, v);
                    }
                    self.x.push(Some(v));
                }
            }
        }
        // Request costs of fixed cells are constants.
        for (e, row) in self.incumbent.iter().enumerate() {
            for (d, &choice) in row.iter().enumerate() {
                if !self.is_free(e, d) {
                    self.constant += compiled.staff[e].cost_of(shifts, d, choice) as f64;
                }
            }
        }
    }

    fn build_staff_rules(&mut self, e: usize) {
        let compiled = self.compiled;
        let staff = &compiled.staff[e];
        let shifts = compiled.shifts;
        let days = self
            .hood
            .visible_days
            .unwrap_or(compiled.days)
            .min(compiled.days);
        // While the horizon is cut short (construction), upper limits apply to the days so far as
        // they are, and the minimum minutes become what the remaining days must leave: the minimum
        // less the most the days after the cut could still add. Both are necessary conditions, so
        // they never cut off a schedule that could be completed.
        let remaining_capacity = if days < compiled.days {
            let longest = (0..shifts)
                .filter(|&s| (days..compiled.days).any(|d| staff.may(shifts, d, s)))
                .map(|s| compiled.shift_minutes[s])
                .max()
                .unwrap_or(0);
            let period = staff.max_work + staff.min_off.max(1);
            let mut capacity = 0usize;
            let mut block = 0usize;
            for d in days..=compiled.days {
                if d < compiled.days && (0..shifts).any(|s| staff.may(shifts, d, s)) {
                    block += 1;
                } else {
                    capacity +=
                        (block / period) * staff.max_work + (block % period).min(staff.max_work);
                    block = 0;
                }
            }
            capacity as f64 * longest as f64
        } else {
            0.0
        };
        let scale_max = |limit: f64| -> f64 { limit };
        let weekend_limit = staff.max_weekends as f64;
        let scale_min = |limit: f64| -> f64 { (limit - remaining_capacity).max(0.0) };
        let (a, b) = (self.hood.first_day, self.hood.end_day);

        // At most one shift a day.
        for d in a..b {
            let vars: Vec<Variable> = (0..shifts).filter_map(|s| self.x(e, d, s)).collect();
            if vars.len() > 1 {
                let mut row = Row::new();
                row.add(1.0, &Term::Sum(vars));
                self.push(row, |x| x.leq(1.0));
            }
        }
        // Forbidden successions over pairs with a free day.
        for d in a.saturating_sub(1)..b.min(days - 1) {
            for s in 0..shifts {
                if !staff.forbidden[s].iter().any(|&f| f) {
                    continue;
                }
                let mut row = Row::new();
                row.add(1.0, &self.works(e, d, s));
                for t in 0..shifts {
                    if staff.forbidden[s][t] {
                        row.add(1.0, &self.works(e, d + 1, t));
                    }
                }
                self.push(row, |x| x.leq(1.0));
            }
        }
        // Shift type limits and total minutes over the horizon.
        for s in 0..shifts {
            if let Some(limit) = staff.max_per_shift[s] {
                let mut row = Row::new();
                for d in 0..days {
                    row.add(1.0, &self.works(e, d, s));
                }
                self.push(row, |x| x.leq(scale_max(f64::from(limit))));
            }
        }
        let mut minutes = Row::new();
        for d in 0..days {
            if self.is_free(e, d) {
                for s in 0..shifts {
                    if let Some(v) = self.x(e, d, s) {
                        minutes.add(compiled.shift_minutes[s] as f64, &Term::Sum(vec![v]));
                    }
                }
            } else if let Some(s) = self.incumbent[e][d] {
                minutes.add_constant(compiled.shift_minutes[s] as f64);
            }
        }
        if minutes.vars > 0 {
            let (min, max) = (
                scale_min(staff.min_minutes as f64),
                scale_max(staff.max_minutes as f64),
            );
            let expr = minutes.expr;
            self.constraints.push(expr.clone().geq(min));
            self.constraints.push(expr.leq(max));
        }
        // Maximum consecutive working days: every window of max + 1 days that touches a free day.
        let max = staff.max_work;
        if max < days {
            let first = a.saturating_sub(max);
            let last = (b - 1).min(days - max - 1);
            for i in first..=last {
                let mut row = Row::new();
                for d in i..=i + max {
                    row.add(1.0, &self.work(e, d));
                }
                self.push(row, |x| x.leq(max as f64));
            }
        }
        // Minimum runs of work and of days off, in the min-up/min-down form: a run that starts on
        // day i >= 1 covers days i+1 .. i+k-1 as far as the horizon goes (so runs touching an edge
        // are exempt). Tighter in the LP than forbidding each short pattern.
        for (minimum, working) in [(staff.min_work, true), (staff.min_off, false)] {
            if minimum < 2 {
                continue;
            }
            let first = a.saturating_sub(minimum).max(1);
            // Against the real horizon even when it is cut short: a run reaching the cut is not
            // at an edge, so the construction never leaves a run it cannot complete later.
            let horizon = compiled.days;
            let last = b.min(horizon - 1);
            for i in first..=last {
                for j in 1..minimum {
                    if i + j > horizon - 1 {
                        break;
                    }
                    // work:  w[i] - w[i-1] - w[i+j] <= 0
                    // off:   w[i-1] - w[i] + w[i+j] <= 1
                    let sign = if working { 1.0 } else { -1.0 };
                    let mut row = Row::new();
                    row.add(sign, &self.work(e, i));
                    row.add(-sign, &self.work(e, i - 1));
                    row.add(-sign, &self.work(e, i + j));
                    let rhs = if working { 0.0 } else { 1.0 };
                    self.push(row, |x| x.leq(rhs));
                }
            }
        }
        // Weekends: one indicator per weekend with a free day, the rest are constants.
        let mut weekend_days = vec![Vec::new(); compiled.weekends];
        for d in 0..days {
            if let Some(k) = compiled.weekend_of_day[d] {
                weekend_days[k].push(d);
            }
        }
        let mut count = Row::new();
        for day_list in &weekend_days {
            if day_list.iter().any(|&d| self.is_free(e, d)) {
                let worked = day_list.iter().any(|&d| self.incumbent[e][d].is_some());
                let y = self.new_binary(if worked { 1.0 } else { 0.0 });
                let mut upper = Row::new();
                upper.add(-1.0, &Term::Sum(vec![y]));
                for &d in day_list {
                    let mut row = Row::new();
                    row.add(1.0, &self.work(e, d));
                    row.add(-1.0, &Term::Sum(vec![y]));
                    self.push(row, |x| x.leq(0.0));
                    upper.add(1.0, &self.work(e, d));
                }
                if compiled.fairness.weekend_weight > 0 {
                    self.push(upper, |x| x.geq(0.0));
                }
                count.add(1.0, &Term::Sum(vec![y]));
            } else if day_list.iter().any(|&d| self.incumbent[e][d].is_some()) {
                count.add_constant(1.0);
            }
        }
        if count.vars > 0 {
            let expr = count.expr.clone();
            self.constraints.push(expr.leq(weekend_limit));
            self.weekend_counts.push((e, count.expr));
        }
    }
}

impl Builder<'_> {
    fn build_cover(&mut self) {
        let compiled = self.compiled;
        let (a, b) = (self.hood.first_day, self.hood.end_day);
        for d in a..b {
            for s in 0..compiled.shifts {
                for &c in &compiled.cover_by_slot[d * compiled.shifts + s] {
                    let cover = &compiled.cover[c];
                    let mut row = Row::new();
                    let mut assigned_start = 0i64;
                    for (e, eligible) in cover.eligible.iter().enumerate() {
                        if !eligible {
                            continue;
                        }
                        if self.incumbent[e][d] == Some(s) {
                            assigned_start += 1;
                        }
                        row.add(1.0, &self.works(e, d, s));
                    }
                    if row.vars == 0 {
                        self.constant += cover.penalty(assigned_start) as f64;
                        continue;
                    }
                    let simple = cover.required == cover.preferred || cover.preferred_weight == 0;
                    if simple && cover.required == cover.preferred {
                        let target = cover.preferred as f64;
                        let mut expr = row.expr;
                        if cover.under_weight > 0 {
                            let start = (cover.required - assigned_start).max(0) as f64;
                            let u = self.new_var(variable().min(0.0), start);
                            self.objective.add_mul(cover.under_weight as f64, u);
                            expr.add_mul(1.0, u);
                        }
                        if cover.over_weight > 0 {
                            let start = (assigned_start - cover.preferred).max(0) as f64;
                            let o = self.new_var(variable().min(0.0), start);
                            self.objective.add_mul(cover.over_weight as f64, o);
                            expr.add_mul(-1.0, o);
                        }
                        match (cover.under_weight > 0, cover.over_weight > 0) {
                            (true, true) => self.constraints.push(expr.eq(target)),
                            (true, false) => self.constraints.push(expr.geq(target)),
                            (false, true) => self.constraints.push(expr.leq(target)),
                            (false, false) => {}
                        }
                        continue;
                    }
                    for (weight, level, under) in cover.slack_levels() {
                        let gap = if under {
                            level - assigned_start
                        } else {
                            assigned_start - level
                        };
                        let slack = self.new_var(variable().min(0.0), gap.max(0) as f64);
                        self.objective.add_mul(weight as f64, slack);
                        let mut expr = row.expr.clone();
                        if under {
                            // assigned + slack >= level
                            expr.add_mul(1.0, slack);
                            self.constraints.push(expr.geq(level as f64));
                        } else {
                            // assigned - slack <= level
                            expr.add_mul(-1.0, slack);
                            self.constraints.push(expr.leq(level as f64));
                        }
                    }
                }
            }
        }
        // Cover items outside the free days are constants.
        for cover in &compiled.cover {
            if cover.day >= a && cover.day < b {
                continue;
            }
            let assigned = (0..compiled.staff.len())
                .filter(|&e| cover.eligible[e] && self.incumbent[e][cover.day] == Some(cover.shift))
                .count() as i64;
            self.constant += cover.penalty(assigned) as f64;
        }
    }

    fn build_fairness(&mut self) {
        let compiled = self.compiled;
        let fairness = compiled.fairness;
        let staff_count = compiled.staff.len();
        if fairness.weekend_weight > 0 && staff_count > 0 {
            let mut counts: Vec<Row> = (0..staff_count)
                .map(|e| {
                    let mut row = Row::new();
                    let worked = crate::check::worked_weekend_count(compiled, &self.incumbent[e]);
                    row.add_constant(worked as f64);
                    row
                })
                .collect();
            for (e, expr) in std::mem::take(&mut self.weekend_counts) {
                counts[e] = Row { expr, vars: 1 };
            }
            let values: Vec<i64> = (0..staff_count)
                .map(|e| crate::check::worked_weekend_count(compiled, &self.incumbent[e]) as i64)
                .collect();
            self.spread(counts, &values, fairness.weekend_weight);
        }
        if fairness.night_weight > 0 {
            let night_staff: Vec<usize> = (0..staff_count)
                .filter(|&e| compiled.staff[e].may_work_night)
                .collect();
            let mut counts = Vec::new();
            let mut values = Vec::new();
            for &e in &night_staff {
                let mut row = Row::new();
                let mut value = 0;
                for d in 0..compiled.days {
                    for s in (0..compiled.shifts).filter(|&s| compiled.night[s]) {
                        row.add(1.0, &self.works(e, d, s));
                        if self.incumbent[e][d] == Some(s) {
                            value += 1;
                        }
                    }
                }
                counts.push(row);
                values.push(value);
            }
            if !counts.is_empty() {
                self.spread(counts, &values, fairness.night_weight);
            }
        }
    }

    /// weight · (max − min) of the counts, with `values` the incumbent's counts.
    fn spread(&mut self, counts: Vec<Row>, values: &[i64], weight: u32) {
        let max_start = values.iter().copied().max().unwrap_or(0) as f64;
        let min_start = values.iter().copied().min().unwrap_or(0) as f64;
        let high = self.new_var(variable().min(0.0), max_start);
        let low = self.new_var(variable().min(0.0), min_start);
        self.objective.add_mul(f64::from(weight), high);
        self.objective.add_mul(-f64::from(weight), low);
        for count in counts {
            let mut above = count.expr.clone();
            above.add_mul(-1.0, high);
            self.constraints.push(above.leq(0.0));
            let mut below = count.expr;
            below.add_mul(-1.0, low);
            self.constraints.push(below.geq(0.0));
        }
    }
}

/// Builds the model of `hood` around `incumbent` (which must satisfy every hard rule outside the
/// neighbourhood; inside it only gives the warm start).
pub(crate) fn build(
    compiled: &Compiled,
    incumbent: &[Vec<Option<usize>>],
    hood: &Neighbourhood,
    relaxation: bool,
) -> Built {
    build_model(compiled, incumbent, hood, relaxation, true)
}

/// The hard rules of `hood`'s staff with a zero objective: any schedule that satisfies them. The
/// construction's fall-back when its time is up; the reported bound means nothing.
pub(crate) fn build_feasibility(
    compiled: &Compiled,
    incumbent: &[Vec<Option<usize>>],
    hood: &Neighbourhood,
) -> Built {
    build_model(compiled, incumbent, hood, false, false)
}

fn build_model(
    compiled: &Compiled,
    incumbent: &[Vec<Option<usize>>],
    hood: &Neighbourhood,
    relaxation: bool,
    with_objective: bool,
) -> Built {
    let mut local = vec![None; compiled.staff.len()];
    for (i, &e) in hood.staff.iter().enumerate() {
        local[e] = Some(i);
    }
    let mut builder = Builder {
        compiled,
        incumbent,
        hood,
        local,
        variables: ProblemVariables::new(),
        start: Vec::new(),
        x: Vec::with_capacity(hood.staff.len() * (hood.end_day - hood.first_day) * compiled.shifts),
        constraints: Vec::new(),
        objective: Expression::with_capacity(1024),
        constant: 0.0,
        relaxation,
        with_objective,
        weekend_counts: Vec::new(),
    };
    builder.build_variables();
    for &e in &hood.staff {
        builder.build_staff_rules(e);
    }
    if with_objective {
        builder.build_cover();
        builder.build_fairness();
    }
    Built {
        variables: builder.variables,
        objective: builder.objective,
        constant: builder.constant,
        constraints: builder.constraints,
        start: builder.start,
        x_columns: {
            let mut next = 0usize;
            let mut columns = Vec::with_capacity(builder.x.len());
            // Shift variables are created first, in the order of `x`.
            for v in &builder.x {
                columns.push(v.map(|_| {
                    next += 1;
                    next - 1
                }));
            }
            columns
        },
        neighbourhood: hood.clone(),
        shifts: compiled.shifts,
        relaxation,
    }
}

impl Built {
    pub fn columns(&self) -> usize {
        self.start.len()
    }

    pub fn rows(&self) -> usize {
        self.constraints.len()
    }

    /// Solves with HiGHS and writes the neighbourhood's cells into a copy of `incumbent`.
    pub fn solve(
        self,
        incumbent: &[Vec<Option<usize>>],
        limits: &Limits,
    ) -> Result<Outcome, String> {
        if self.columns() == 0 {
            return Ok(Outcome {
                roster: Some(incumbent.to_vec()),
                bound: self.constant,
                finished: true,
            });
        }
        let mut problem = self
            .variables
            .minimise(self.objective)
            .using(good_lp::highs);
        for constraint in self.constraints {
            problem.add_constraint(constraint);
        }
        let mut model = problem.try_into_inner().map_err(|e| e.to_string())?;
        let option = set_quiet_limits!(model, limits);
        model
            .try_set_option("mip_rel_gap", limits.relative_gap)
            .map_err(option("mip_rel_gap"))?;
        if let Some(solutions) = limits.solution_limit {
            model
                .try_set_option("mip_max_improving_sols", solutions)
                .map_err(option("mip_max_improving_sols"))?;
        }
        if let Some(nodes) = limits.node_limit {
            model
                .try_set_option("mip_max_nodes", nodes)
                .map_err(option("mip_max_nodes"))?;
        }
        if limits.node_limit.is_some_and(|nodes| nodes <= 100) {
            // With few nodes to spend, reliability branching's strong-branching LPs dominate.
            model
                .try_set_option("mip_pscost_minreliable", 0)
                .map_err(option("mip_pscost_minreliable"))?;
            model
                .try_set_option("mip_allow_restart", false)
                .map_err(option("mip_allow_restart"))?;
        }
        if !self.relaxation {
            model
                .try_set_solution(Some(&self.start), None, None, None)
                .map_err(|e| format!("HiGHS start solution: {e:?}"))?;
        }
        let solved = model
            .try_solve()
            .map_err(|e| format!("HiGHS solve: {e:?}"))?;
        let has_solution = solved
            .int_info_value(c"primal_solution_status")
            .is_ok_and(|v| v == 2);
        let bound = if self.relaxation {
            // Only an optimal LP (primal and dual feasible) bounds the MILP.
            let dual_feasible = solved
                .int_info_value(c"dual_solution_status")
                .is_ok_and(|v| v == 2);
            if has_solution && dual_feasible {
                solved.objective_value()
            } else {
                f64::NEG_INFINITY
            }
        } else {
            solved
                .double_info_value(c"mip_dual_bound")
                .unwrap_or(f64::NEG_INFINITY)
        } + self.constant;
        // Finished: the neighbourhood is solved to the requested gap (HiGHS reports an infinite
        // gap when it has no solution).
        let finished = has_solution && solved.mip_gap() <= limits.relative_gap + 1e-9;
        let roster = if has_solution && !self.relaxation {
            let values = solved.get_solution();
            let values = values.columns();
            let mut roster = incumbent.to_vec();
            let hood = &self.neighbourhood;
            let len = hood.end_day - hood.first_day;
            for (local, &e) in hood.staff.iter().enumerate() {
                let cells = &mut roster[e][hood.first_day..hood.end_day];
                for (offset, cell) in cells.iter_mut().enumerate() {
                    *cell = None;
                    for s in 0..self.shifts {
                        let index = (local * len + offset) * self.shifts + s;
                        if let Some(column) = self.x_columns[index] {
                            if values[column] > 0.5 {
                                *cell = Some(s);
                            }
                        }
                    }
                }
            }
            Some(roster)
        } else {
            None
        };
        Ok(Outcome {
            roster,
            bound,
            finished,
        })
    }
}

impl Built {
    /// Hands the model to HiGHS without solving it (for the model-build benchmark).
    pub fn load(self) -> Result<(), String> {
        let mut problem = self
            .variables
            .minimise(self.objective)
            .using(good_lp::highs);
        for constraint in self.constraints {
            problem.add_constraint(constraint);
        }
        problem
            .try_into_inner()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
