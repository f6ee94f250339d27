//! Leave requests: asked for by a staff member, decided by a manager.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tend_core::StaffId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveStatus {
    Requested,
    Approved,
    Rejected,
    Cancelled,
}

impl LeaveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveStatus::Requested => "requested",
            LeaveStatus::Approved => "approved",
            LeaveStatus::Rejected => "rejected",
            LeaveStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<LeaveStatus> {
        Some(match text {
            "requested" => LeaveStatus::Requested,
            "approved" => LeaveStatus::Approved,
            "rejected" => LeaveStatus::Rejected,
            "cancelled" => LeaveStatus::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaveError {
    #[error("leave must end on or after its first day ({first} .. {last})")]
    EndsBeforeStart { first: NaiveDate, last: NaiveDate },
    #[error("leave that is {from:?} cannot become {to:?}")]
    IllegalDecision { from: LeaveStatus, to: LeaveStatus },
}

/// Leave over whole local days, first and last day included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveRequest {
    pub staff_id: StaffId,
    first_day: NaiveDate,
    last_day: NaiveDate,
    pub status: LeaveStatus,
    pub reason: Option<String>,
}

impl LeaveError {
    pub fn code(&self) -> &'static str {
        match self {
            LeaveError::EndsBeforeStart { .. } => "leave.ends_before_start",
            LeaveError::IllegalDecision { .. } => "leave.illegal_decision",
        }
    }
}

impl LeaveRequest {
    /// A stored request, with the status it has reached.
    pub fn restore(
        staff_id: StaffId,
        first_day: NaiveDate,
        last_day: NaiveDate,
        status: LeaveStatus,
        reason: Option<String>,
    ) -> Result<LeaveRequest, LeaveError> {
        let mut request = LeaveRequest::new(staff_id, first_day, last_day, reason)?;
        request.status = status;
        Ok(request)
    }

    pub fn new(
        staff_id: StaffId,
        first_day: NaiveDate,
        last_day: NaiveDate,
        reason: Option<String>,
    ) -> Result<LeaveRequest, LeaveError> {
        if last_day < first_day {
            return Err(LeaveError::EndsBeforeStart {
                first: first_day,
                last: last_day,
            });
        }
        Ok(LeaveRequest {
            staff_id,
            first_day,
            last_day,
            status: LeaveStatus::Requested,
            reason,
        })
    }

    pub fn first_day(&self) -> NaiveDate {
        self.first_day
    }

    pub fn last_day(&self) -> NaiveDate {
        self.last_day
    }

    /// Approved leave keeps the staff member off the roster on these days.
    pub fn blocks(&self, day: NaiveDate) -> bool {
        self.status == LeaveStatus::Approved && (self.first_day..=self.last_day).contains(&day)
    }

    /// A manager approves or rejects a request; the staff member may cancel it until then, and
    /// may cancel approved leave too (the roster then gets the days back).
    pub fn decide(&mut self, to: LeaveStatus) -> Result<(), LeaveError> {
        use LeaveStatus::*;
        let legal = matches!(
            (self.status, to),
            (Requested, Approved | Rejected | Cancelled) | (Approved, Cancelled)
        );
        if !legal {
            return Err(LeaveError::IllegalDecision {
                from: self.status,
                to,
            });
        }
        self.status = to;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn approved_leave_blocks_its_days_only() {
        let mut leave =
            LeaveRequest::new(StaffId::new(), day(3), day(5), Some("sick".into())).unwrap();
        assert!(
            !leave.blocks(day(4)),
            "a request does not block until approved"
        );
        leave.decide(LeaveStatus::Approved).unwrap();
        assert!(leave.blocks(day(3)) && leave.blocks(day(5)));
        assert!(!leave.blocks(day(6)));
    }

    #[test]
    fn decisions_follow_the_rules() {
        assert!(LeaveRequest::new(StaffId::new(), day(5), day(3), None).is_err());
        let mut leave = LeaveRequest::new(StaffId::new(), day(3), day(3), None).unwrap();
        leave.decide(LeaveStatus::Rejected).unwrap();
        assert_eq!(
            leave.decide(LeaveStatus::Approved),
            Err(LeaveError::IllegalDecision {
                from: LeaveStatus::Rejected,
                to: LeaveStatus::Approved
            })
        );
    }
}
