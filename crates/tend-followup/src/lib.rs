//! After-care: plans that turn a client's checkout into dated follow-up tasks, the tasks' own
//! small lifecycle, and satisfaction scores. No IO here.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use tend_core::{ClientId, UserId};

/// One step of an after-care plan: what to do, how many days after checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub days_after_checkout: u16,
    pub title: String,
}

/// A named sequence of follow-up steps, e.g. calls on days 3, 14 and 42 after a postpartum stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterCarePlan {
    pub name: String,
    steps: Vec<PlanStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpError {
    #[error("an after-care plan needs at least one step")]
    EmptyPlan,
    #[error("step {index} has no title")]
    UntitledStep { index: usize },
    #[error("a follow-up task that is {from:?} cannot become {to:?}")]
    IllegalTaskChange { from: TaskStatus, to: TaskStatus },
    #[error("a satisfaction score is 1 to 5 (got {0})")]
    ScoreOutOfRange(u8),
}

impl AfterCarePlan {
    /// A plan with its steps ordered by day.
    pub fn new(name: &str, mut steps: Vec<PlanStep>) -> Result<AfterCarePlan, FollowUpError> {
        if steps.is_empty() {
            return Err(FollowUpError::EmptyPlan);
        }
        if let Some(index) = steps.iter().position(|step| step.title.trim().is_empty()) {
            return Err(FollowUpError::UntitledStep { index });
        }
        steps.sort_by_key(|step| step.days_after_checkout);
        Ok(AfterCarePlan {
            name: name.trim().to_owned(),
            steps,
        })
    }

    pub fn steps(&self) -> &[PlanStep] {
        &self.steps
    }

    /// The tasks this plan gives a client who checked out on `checkout`, owned by `owner`.
    pub fn schedule(
        &self,
        client_id: ClientId,
        owner: Option<UserId>,
        checkout: NaiveDate,
    ) -> Vec<FollowUpTask> {
        self.steps
            .iter()
            .map(|step| FollowUpTask {
                client_id,
                owner,
                title: step.title.clone(),
                due_on: checkout + Days::new(u64::from(step.days_after_checkout)),
                status: TaskStatus::Open,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Skipped,
}

/// Something a consultant or nurse must do for a client by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpTask {
    pub client_id: ClientId,
    pub owner: Option<UserId>,
    pub title: String,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
}

impl FollowUpTask {
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status == TaskStatus::Open && self.due_on < today
    }

    /// Open tasks are done or skipped; a closed task stays closed.
    pub fn close(&mut self, to: TaskStatus) -> Result<(), FollowUpError> {
        if self.status != TaskStatus::Open || to == TaskStatus::Open {
            return Err(FollowUpError::IllegalTaskChange {
                from: self.status,
                to,
            });
        }
        self.status = to;
        Ok(())
    }
}

/// A client's satisfaction, 1 (very unhappy) to 5 (very happy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SatisfactionScore(u8);

impl SatisfactionScore {
    pub fn new(score: u8) -> Result<SatisfactionScore, FollowUpError> {
        if (1..=5).contains(&score) {
            Ok(SatisfactionScore(score))
        } else {
            Err(FollowUpError::ScoreOutOfRange(score))
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }

    /// Scores of 2 or less open a complaint for the store manager.
    pub fn needs_attention(self) -> bool {
        self.0 <= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> AfterCarePlan {
        AfterCarePlan::new(
            "postpartum",
            vec![
                PlanStep {
                    days_after_checkout: 14,
                    title: "Two-week call".into(),
                },
                PlanStep {
                    days_after_checkout: 3,
                    title: "Lactation check".into(),
                },
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_plan_schedules_dated_tasks_in_order() {
        let checkout = NaiveDate::from_ymd_opt(2026, 12, 30).unwrap();
        let tasks = plan().schedule(ClientId::new(), None, checkout);
        assert_eq!(tasks[0].title, "Lactation check");
        assert_eq!(
            tasks[0].due_on,
            NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()
        );
        assert_eq!(
            tasks[1].due_on,
            NaiveDate::from_ymd_opt(2027, 1, 13).unwrap()
        );
        assert!(tasks[0].is_overdue(NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()));
    }

    #[test]
    fn empty_plans_and_untitled_steps_are_refused() {
        assert_eq!(
            AfterCarePlan::new("x", vec![]),
            Err(FollowUpError::EmptyPlan)
        );
        let untitled = vec![PlanStep {
            days_after_checkout: 1,
            title: " ".into(),
        }];
        assert_eq!(
            AfterCarePlan::new("x", untitled),
            Err(FollowUpError::UntitledStep { index: 0 })
        );
    }

    #[test]
    fn tasks_close_once() {
        let mut task = plan()
            .schedule(
                ClientId::new(),
                None,
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )
            .remove(0);
        task.close(TaskStatus::Done).unwrap();
        assert!(task.close(TaskStatus::Skipped).is_err());
        assert!(!task.is_overdue(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()));
    }

    #[test]
    fn scores_are_one_to_five() {
        assert!(SatisfactionScore::new(0).is_err());
        assert!(SatisfactionScore::new(6).is_err());
        assert!(SatisfactionScore::new(2).unwrap().needs_attention());
        assert!(!SatisfactionScore::new(4).unwrap().needs_attention());
    }
}
