//! Roster model, MILP solver (HiGHS via good_lp) and independent plan checker.
//!
//! Plain data in ([`Problem`]), plain data out ([`Plan`] and a [`Report`]); good_lp never appears
//! in this API. [`check`] verifies a plan against every hard rule without the solver's model, and
//! [`evaluate`] recomputes its penalty. [`curtois`] reads the Curtois & Qu benchmark format.

mod check;
pub mod curtois;
mod greedy;
mod local;
mod milp;
mod model;
mod search;

pub use check::{
    check, evaluate, Evaluation, Penalty, PenaltyKind, Uncovered, UncoveredReason, Violation,
};
pub use model::{
    validate, Assignment, Contract, Contradiction, Demand, Fairness, FixedAssignment, Leave, Plan,
    Problem, ProblemError, ShiftRequest, ShiftType, StaffMember, MINUTES_PER_DAY,
};
pub use search::{
    build_full_model, solve, CancelFlag, ModelSize, Phase, Progress, ProgressSink, Report,
    Solution, SolveError, SolveOptions, SolveStatus,
};
