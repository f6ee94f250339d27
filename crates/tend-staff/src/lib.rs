//! Staff members, their skills, contracts and leave: the facts the roster engine plans with.
//!
//! This crate holds the rules; the staff service (REST, store) builds on it. No IO here.

pub mod contract;
pub mod leave;
pub mod skill;

pub use contract::{Contract, ContractError};
pub use leave::{LeaveError, LeaveRequest, LeaveStatus};
pub use skill::{Skill, SkillError, SkillLevel};
