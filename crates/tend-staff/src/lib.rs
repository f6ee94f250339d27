//! Staff members, their skills, contracts and leave, and the rostering vocabulary of a site
//! (shift types, demand, preferences, the roster period lifecycle, swaps, conflict severity):
//! the facts the roster engine plans with.
//!
//! This crate holds the rules; the staff service (REST, store) builds on it. No IO here.

pub mod contract;
pub mod leave;
pub mod roster;
pub mod skill;

pub use contract::{Contract, ContractError};
pub use leave::{LeaveError, LeaveRequest, LeaveStatus};
pub use roster::{
    check_demand, period_days, skill_keys, skill_requirement_key, Availability, CareRatio,
    DemandOverride, DemandRule, RosterRule, RosterRuleError, RosterStatus, Severity,
    ShiftPreferences, ShiftTypeDefinition, SwapStatus, MAX_PERIOD_DAYS,
};
pub use skill::{Skill, SkillError, SkillLevel};
