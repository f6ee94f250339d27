//! Employment contract limits that every roster must respect.

use serde::{Deserialize, Serialize};

/// Working-time limits of one staff member's contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub min_minutes_per_week: u32,
    pub max_minutes_per_week: u32,
    pub max_consecutive_days: u8,
    pub min_consecutive_days_off: u8,
    /// Minimum rest between the end of one shift and the start of the next.
    pub min_rest_minutes: u32,
    /// Weekends (Saturday or Sunday worked) allowed in four weeks.
    pub max_weekends_per_four_weeks: u8,
    /// Hours agreed per roster period instead of per week: when set, they replace the weekly
    /// figures scaled to the period.
    #[serde(default)]
    pub min_minutes_per_period: Option<u32>,
    #[serde(default)]
    pub max_minutes_per_period: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("minimum weekly minutes {min} exceed the maximum {max}")]
    MinutesContradict { min: u32, max: u32 },
    #[error("a week has 10080 minutes; {0} per week is impossible")]
    MinutesImpossible(u32),
    #[error("at most {max_days} consecutive days cannot fit {min_minutes} minutes a week with shifts of at most 16 hours")]
    DaysCannotFitMinutes { max_days: u8, min_minutes: u32 },
    #[error("at least one working day in a row must be allowed")]
    NoWorkingDays,
    #[error("at most 4 weekends in four weeks (got {0})")]
    TooManyWeekends(u8),
    #[error("minimum minutes per period {min} exceed the maximum {max}")]
    PeriodMinutesContradict { min: u32, max: u32 },
}

impl ContractError {
    pub fn code(&self) -> &'static str {
        "staff.contract_contradiction"
    }
}

impl Contract {
    /// Checks that the limits can all hold at once, so a roster can exist.
    pub fn validate(&self) -> Result<(), ContractError> {
        if self.max_minutes_per_week > 7 * 24 * 60 {
            return Err(ContractError::MinutesImpossible(self.max_minutes_per_week));
        }
        if self.min_minutes_per_week > self.max_minutes_per_week {
            return Err(ContractError::MinutesContradict {
                min: self.min_minutes_per_week,
                max: self.max_minutes_per_week,
            });
        }
        if self.max_consecutive_days == 0 {
            return Err(ContractError::NoWorkingDays);
        }
        let workable_days = u32::from(self.max_consecutive_days.min(7));
        if workable_days * 16 * 60 < self.min_minutes_per_week {
            return Err(ContractError::DaysCannotFitMinutes {
                max_days: self.max_consecutive_days,
                min_minutes: self.min_minutes_per_week,
            });
        }
        if let (Some(min), Some(max)) = (self.min_minutes_per_period, self.max_minutes_per_period) {
            if min > max {
                return Err(ContractError::PeriodMinutesContradict { min, max });
            }
        }
        if self.max_weekends_per_four_weeks > 4 {
            return Err(ContractError::TooManyWeekends(
                self.max_weekends_per_four_weeks,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_time() -> Contract {
        Contract {
            min_minutes_per_week: 36 * 60,
            max_minutes_per_week: 40 * 60,
            max_consecutive_days: 5,
            min_consecutive_days_off: 2,
            min_rest_minutes: 11 * 60,
            max_weekends_per_four_weeks: 2,
            min_minutes_per_period: None,
            max_minutes_per_period: None,
        }
    }

    #[test]
    fn a_full_time_contract_is_consistent() {
        assert_eq!(full_time().validate(), Ok(()));
    }

    #[test]
    fn contradictions_are_named() {
        let inverted = Contract {
            min_minutes_per_week: 50 * 60,
            ..full_time()
        };
        assert!(matches!(
            inverted.validate(),
            Err(ContractError::MinutesContradict { .. })
        ));
        let one_day = Contract {
            max_consecutive_days: 1,
            min_minutes_per_week: 20 * 60,
            ..full_time()
        };
        assert!(matches!(
            one_day.validate(),
            Err(ContractError::DaysCannotFitMinutes { .. })
        ));
        let weekends = Contract {
            max_weekends_per_four_weeks: 5,
            ..full_time()
        };
        assert_eq!(weekends.validate(), Err(ContractError::TooManyWeekends(5)));
        let period = Contract {
            min_minutes_per_period: Some(100 * 60),
            max_minutes_per_period: Some(80 * 60),
            ..full_time()
        };
        assert!(matches!(
            period.validate(),
            Err(ContractError::PeriodMinutesContradict { .. })
        ));
    }
}
