//! Rostering vocabulary of a site: shift types in local time, demand rules and date overrides,
//! shift preferences, the roster period lifecycle, shift swaps, and how a broken rule found in a
//! manual edit is classified (refused or accepted with a warning).
//!
//! The roster engine itself (`tend-scheduling`) is a sibling crate; the store maps these facts
//! into its `Problem`.

use chrono::{NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

use crate::skill::Skill;

/// Minutes in a day.
const MINUTES_PER_DAY: u32 = 24 * 60;

/// A kind of shift at a site (`early`, `late`, `night`) with local wall-clock start and end; an
/// end not after the start runs past midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftTypeDefinition {
    key: String,
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterRuleError {
    #[error(
        "`{0}` is not a shift type key: use 1 to 32 lower-case letters, digits and underscores"
    )]
    InvalidShiftKey(String),
    #[error("shift times must be whole minutes")]
    ShiftTimeNotWholeMinutes,
    #[error("demand for {shift_type:?}: preferred {preferred} is below required {required}")]
    PreferredBelowRequired {
        shift_type: String,
        required: u32,
        preferred: u32,
    },
    #[error("a care ratio needs at least one client per staff member")]
    ZeroCareRatio,
    #[error(
        "a roster period runs from its first to its last day ({first} .. {last}), at most 92 days"
    )]
    InvalidPeriod { first: NaiveDate, last: NaiveDate },
    #[error("a roster period that is {from:?} cannot become {to:?}")]
    IllegalPeriodTransition {
        from: RosterStatus,
        to: RosterStatus,
    },
    #[error("a swap request that is {from:?} cannot become {to:?}")]
    IllegalSwapDecision { from: SwapStatus, to: SwapStatus },
}

impl RosterRuleError {
    pub fn code(&self) -> &'static str {
        match self {
            RosterRuleError::InvalidShiftKey(_) => "roster.invalid_shift_type",
            RosterRuleError::ShiftTimeNotWholeMinutes => "roster.invalid_shift_time",
            RosterRuleError::PreferredBelowRequired { .. } => "roster.invalid_demand",
            RosterRuleError::ZeroCareRatio => "roster.invalid_care_ratio",
            RosterRuleError::InvalidPeriod { .. } => "roster.invalid_period",
            RosterRuleError::IllegalPeriodTransition { .. } => "roster.illegal_transition",
            RosterRuleError::IllegalSwapDecision { .. } => "swap.illegal_decision",
        }
    }
}

impl ShiftTypeDefinition {
    pub fn new(key: &str, start: NaiveTime, end: NaiveTime) -> Result<Self, RosterRuleError> {
        let key = key.trim();
        let valid = !key.is_empty()
            && key.len() <= 32
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(RosterRuleError::InvalidShiftKey(key.to_owned()));
        }
        if start.second() != 0 || end.second() != 0 || start.nanosecond() != 0 {
            return Err(RosterRuleError::ShiftTimeNotWholeMinutes);
        }
        Ok(ShiftTypeDefinition {
            key: key.to_owned(),
            start,
            end,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// Minutes after local midnight at which the shift starts.
    pub fn start_minute(&self) -> u32 {
        self.start.hour() * 60 + self.start.minute()
    }

    /// Length in minutes; an end not after the start runs into the next day.
    pub fn length_minutes(&self) -> u32 {
        let start = self.start_minute();
        let end = self.end.hour() * 60 + self.end.minute();
        if end > start {
            end - start
        } else {
            end + MINUTES_PER_DAY - start
        }
    }
}

/// Head count a shift needs on the given weekdays (every day when empty), optionally of staff
/// with a skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandRule {
    #[serde(default)]
    pub weekdays: Vec<Weekday>,
    pub shift_type: String,
    #[serde(default)]
    pub skill: Option<Skill>,
    /// Only staff with `skill` at this level or above count (1 to 5; default 1).
    #[serde(default)]
    pub min_level: Option<u8>,
    pub required: u32,
    /// Defaults to `required`.
    #[serde(default)]
    pub preferred: Option<u32>,
}

/// Replaces the rules for one date, shift and skill (holidays, peaks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandOverride {
    pub date: NaiveDate,
    pub shift_type: String,
    #[serde(default)]
    pub skill: Option<Skill>,
    #[serde(default)]
    pub min_level: Option<u8>,
    pub required: u32,
    #[serde(default)]
    pub preferred: Option<u32>,
}

/// Demand derived from occupancy: one staff member with `skill` per `clients_per_staff` clients
/// staying that day, on the given shift type (rounded up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareRatio {
    pub shift_type: String,
    pub skill: Skill,
    pub clients_per_staff: u32,
}

impl CareRatio {
    /// Staff needed for `clients` clients.
    pub fn staff_for(&self, clients: u32) -> u32 {
        clients.div_ceil(self.clients_per_staff.max(1))
    }
}

/// Wanted and unwanted days and shifts of one staff member; each miss is a soft penalty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftPreferences {
    #[serde(default)]
    pub unwanted_weekdays: Vec<Weekday>,
    #[serde(default)]
    pub unwanted_shift_types: Vec<String>,
    /// Working any other shift type counts as a missed preference.
    #[serde(default)]
    pub wanted_shift_types: Vec<String>,
    #[serde(default)]
    pub unwanted_dates: Vec<NaiveDate>,
}

/// When a staff member can never work: weekdays and single dates (hard, unlike preferences).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    #[serde(default)]
    pub unavailable_weekdays: Vec<Weekday>,
    #[serde(default)]
    pub unavailable_dates: Vec<NaiveDate>,
}

impl Availability {
    pub fn blocks(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        self.unavailable_weekdays.contains(&date.weekday())
            || self.unavailable_dates.contains(&date)
    }
}

/// The key under which demand for `skill` at `min_level` is matched: the skill itself for level
/// 1, `skill@level` above (a staff member at level L holds the keys for levels 1 to L).
pub fn skill_requirement_key(skill: &Skill, min_level: Option<u8>) -> String {
    match min_level {
        Some(level) if level > 1 => format!("{}@{level}", skill.as_str()),
        _ => skill.as_str().to_owned(),
    }
}

/// Every requirement key a staff member's skills satisfy.
pub fn skill_keys(levels: &[crate::skill::SkillLevel]) -> Vec<String> {
    let mut keys = Vec::new();
    for level in levels {
        keys.push(level.skill.as_str().to_owned());
        for l in 2..=level.level() {
            keys.push(format!("{}@{l}", level.skill.as_str()));
        }
    }
    keys
}

/// Checks a demand's head counts.
pub fn check_demand(
    shift_type: &str,
    required: u32,
    preferred: Option<u32>,
) -> Result<u32, RosterRuleError> {
    let preferred = preferred.unwrap_or(required);
    if preferred < required {
        return Err(RosterRuleError::PreferredBelowRequired {
            shift_type: shift_type.to_owned(),
            required,
            preferred,
        });
    }
    Ok(preferred)
}

/// The longest roster period, so a solve stays within minutes.
pub const MAX_PERIOD_DAYS: i64 = 92;

/// Checks a period's date range and returns its length in days.
pub fn period_days(first: NaiveDate, last: NaiveDate) -> Result<usize, RosterRuleError> {
    let days = (last - first).num_days() + 1;
    if !(1..=MAX_PERIOD_DAYS).contains(&days) {
        return Err(RosterRuleError::InvalidPeriod { first, last });
    }
    Ok(days as usize)
}

/// The lifecycle of a roster period: draft → solving → proposed → published. A solve that is
/// cancelled or fails goes back to the status it started from; a published roster may be solved
/// again only as a repair, which keeps it published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterStatus {
    Draft,
    Solving,
    Proposed,
    Published,
}

impl RosterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RosterStatus::Draft => "draft",
            RosterStatus::Solving => "solving",
            RosterStatus::Proposed => "proposed",
            RosterStatus::Published => "published",
        }
    }

    pub fn parse(text: &str) -> Option<RosterStatus> {
        Some(match text {
            "draft" => RosterStatus::Draft,
            "solving" => RosterStatus::Solving,
            "proposed" => RosterStatus::Proposed,
            "published" => RosterStatus::Published,
            _ => return None,
        })
    }

    /// Whether a period may move from this status to `to`.
    pub fn transition(self, to: RosterStatus) -> Result<RosterStatus, RosterRuleError> {
        use RosterStatus::*;
        let legal = matches!(
            (self, to),
            (Draft | Proposed, Solving)
                | (Solving, Proposed | Draft)
                | (Draft | Proposed, Published)
                | (Proposed, Draft)
        );
        if legal {
            Ok(to)
        } else {
            Err(RosterRuleError::IllegalPeriodTransition { from: self, to })
        }
    }

    /// Manual edits are refused while a solve runs.
    pub fn editable(self) -> bool {
        self != RosterStatus::Solving
    }
}

/// A shift swap between two staff members, decided by a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapStatus {
    Requested,
    Approved,
    Rejected,
    Cancelled,
}

impl SwapStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SwapStatus::Requested => "requested",
            SwapStatus::Approved => "approved",
            SwapStatus::Rejected => "rejected",
            SwapStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<SwapStatus> {
        Some(match text {
            "requested" => SwapStatus::Requested,
            "approved" => SwapStatus::Approved,
            "rejected" => SwapStatus::Rejected,
            "cancelled" => SwapStatus::Cancelled,
            _ => return None,
        })
    }

    pub fn decide(self, to: SwapStatus) -> Result<SwapStatus, RosterRuleError> {
        if self == SwapStatus::Requested && to != SwapStatus::Requested {
            Ok(to)
        } else {
            Err(RosterRuleError::IllegalSwapDecision { from: self, to })
        }
    }
}

/// A rule a roster can break, as met by a manual edit or a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterRule {
    DoubleAssignment,
    OnLeave,
    /// A day the staff member's availability rules out.
    Unavailable,
    /// Not one of the shift types this staff member may work.
    ShiftTypeNotAllowed,
    /// The staff member has none of the skills the shift's demand asks for.
    SkillMismatch,
    /// Too little rest, or a forbidden succession of shift types.
    Rest,
    ShiftTypeLimit,
    AboveContractHours,
    BelowContractHours,
    TooManyConsecutiveDays,
    TooFewConsecutiveDays,
    TooFewConsecutiveDaysOff,
    TooManyWeekends,
    UnderCover,
    PinnedChanged,
}

/// Hard conflicts are refused; soft ones are accepted with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Hard,
    Soft,
}

impl RosterRule {
    /// Rules that protect people (double work, leave, rest, qualification, maximum hours and
    /// days) are hard; shortfalls a manager may knowingly accept (minimum hours, short runs,
    /// weekends, cover) are soft.
    pub fn severity(self) -> Severity {
        use RosterRule::*;
        match self {
            DoubleAssignment
            | OnLeave
            | Unavailable
            | ShiftTypeNotAllowed
            | SkillMismatch
            | Rest
            | ShiftTypeLimit
            | AboveContractHours
            | TooManyConsecutiveDays
            | PinnedChanged => Severity::Hard,
            BelowContractHours
            | TooFewConsecutiveDays
            | TooFewConsecutiveDaysOff
            | TooManyWeekends
            | UnderCover => Severity::Soft,
        }
    }

    pub fn code(self) -> &'static str {
        use RosterRule::*;
        match self {
            DoubleAssignment => "roster.double_assignment",
            OnLeave => "roster.on_leave",
            Unavailable => "roster.unavailable",
            ShiftTypeNotAllowed => "roster.shift_type_not_allowed",
            SkillMismatch => "roster.skill_mismatch",
            Rest => "roster.rest",
            ShiftTypeLimit => "roster.shift_type_limit",
            AboveContractHours => "roster.above_contract_hours",
            BelowContractHours => "roster.below_contract_hours",
            TooManyConsecutiveDays => "roster.too_many_consecutive_days",
            TooFewConsecutiveDays => "roster.too_few_consecutive_days",
            TooFewConsecutiveDaysOff => "roster.too_few_consecutive_days_off",
            TooManyWeekends => "roster.too_many_weekends",
            UnderCover => "roster.under_cover",
            PinnedChanged => "roster.pinned_changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn shift_lengths_cross_midnight() {
        let night = ShiftTypeDefinition::new("night", time(22, 0), time(7, 0)).unwrap();
        assert_eq!(night.start_minute(), 22 * 60);
        assert_eq!(night.length_minutes(), 9 * 60);
        let early = ShiftTypeDefinition::new("early", time(7, 0), time(15, 30)).unwrap();
        assert_eq!(early.length_minutes(), 8 * 60 + 30);
        assert!(ShiftTypeDefinition::new("Early!", time(7, 0), time(15, 0)).is_err());
    }

    #[test]
    fn the_period_lifecycle_is_enforced() {
        use RosterStatus::*;
        assert_eq!(Draft.transition(Solving), Ok(Solving));
        assert_eq!(Solving.transition(Proposed), Ok(Proposed));
        assert_eq!(Proposed.transition(Published), Ok(Published));
        assert!(Published.transition(Draft).is_err());
        assert!(Published.transition(Solving).is_err());
        assert!(!Solving.editable());
        assert_eq!(RosterStatus::parse("proposed"), Some(Proposed));
    }

    #[test]
    fn care_ratios_round_up_and_demand_checks_counts() {
        let ratio = CareRatio {
            shift_type: "day".into(),
            skill: Skill::parse("newborn_care").unwrap(),
            clients_per_staff: 3,
        };
        assert_eq!(ratio.staff_for(0), 0);
        assert_eq!(ratio.staff_for(3), 1);
        assert_eq!(ratio.staff_for(4), 2);
        assert_eq!(check_demand("day", 2, None), Ok(2));
        assert!(check_demand("day", 2, Some(1)).is_err());
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(period_days(first, first), Ok(1));
        assert!(period_days(first, first.pred_opt().unwrap()).is_err());
    }

    #[test]
    fn skill_levels_satisfy_requirements_at_or_below_them() {
        let nursing = Skill::parse("nursing").unwrap();
        let keys = skill_keys(&[crate::skill::SkillLevel::new(nursing.clone(), 3).unwrap()]);
        assert!(keys.contains(&skill_requirement_key(&nursing, Some(3))));
        assert!(keys.contains(&skill_requirement_key(&nursing, None)));
        assert!(!keys.contains(&skill_requirement_key(&nursing, Some(4))));
    }

    #[test]
    fn people_protecting_rules_are_hard() {
        assert_eq!(RosterRule::OnLeave.severity(), Severity::Hard);
        assert_eq!(RosterRule::Unavailable.severity(), Severity::Hard);
        let availability = Availability {
            unavailable_weekdays: vec![Weekday::Wed],
            unavailable_dates: vec![NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()],
        };
        assert!(availability.blocks(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()));
        assert!(availability.blocks(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()));
        assert!(!availability.blocks(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()));
        assert_eq!(RosterRule::Rest.severity(), Severity::Hard);
        assert_eq!(RosterRule::UnderCover.severity(), Severity::Soft);
        assert_eq!(RosterRule::BelowContractHours.severity(), Severity::Soft);
        let decided = SwapStatus::Requested.decide(SwapStatus::Approved).unwrap();
        assert!(decided.decide(SwapStatus::Rejected).is_err());
    }
}
