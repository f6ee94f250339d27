//! The client lifecycle: inquiry → contracted → checked in → checked out → in follow-up → closed,
//! with the exits lost (an inquiry that did not sign) and cancelled (a contract that was withdrawn).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientStatus {
    Inquiry,
    Contracted,
    CheckedIn,
    CheckedOut,
    InFollowUp,
    Closed,
    Lost,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown client status `{0}`; expected one of: inquiry, contracted, checked_in, checked_out, in_follow_up, closed, lost, cancelled")]
pub struct UnknownStatus(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a client cannot go from {from} to {to}")]
    IllegalTransition {
        from: ClientStatus,
        to: ClientStatus,
    },
    #[error("moving a client to {to} needs a reason")]
    ReasonRequired { to: ClientStatus },
}

impl LifecycleError {
    pub fn code(&self) -> &'static str {
        match self {
            LifecycleError::IllegalTransition { .. } => "client.illegal_transition",
            LifecycleError::ReasonRequired { .. } => "client.reason_required",
        }
    }
}

impl ClientStatus {
    pub const ALL: [ClientStatus; 8] = [
        ClientStatus::Inquiry,
        ClientStatus::Contracted,
        ClientStatus::CheckedIn,
        ClientStatus::CheckedOut,
        ClientStatus::InFollowUp,
        ClientStatus::Closed,
        ClientStatus::Lost,
        ClientStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Inquiry => "inquiry",
            ClientStatus::Contracted => "contracted",
            ClientStatus::CheckedIn => "checked_in",
            ClientStatus::CheckedOut => "checked_out",
            ClientStatus::InFollowUp => "in_follow_up",
            ClientStatus::Closed => "closed",
            ClientStatus::Lost => "lost",
            ClientStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<ClientStatus, UnknownStatus> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ClientStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == wanted)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }

    /// The statuses a client may move to from this one.
    pub fn next(self) -> &'static [ClientStatus] {
        use ClientStatus::*;
        match self {
            Inquiry => &[Contracted, Lost],
            Contracted => &[CheckedIn, Cancelled],
            CheckedIn => &[CheckedOut],
            CheckedOut => &[InFollowUp, Closed],
            InFollowUp => &[Closed],
            Closed | Lost | Cancelled => &[],
        }
    }

    pub fn is_terminal(self) -> bool {
        self.next().is_empty()
    }

    /// Leaving the happy path (losing an inquiry, cancelling a contract) must be explained.
    pub fn needs_reason(self) -> bool {
        matches!(self, ClientStatus::Lost | ClientStatus::Cancelled)
    }

    /// A client is in the center's care while checked in.
    pub fn is_staying(self) -> bool {
        self == ClientStatus::CheckedIn
    }
}

impl fmt::Display for ClientStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientStatus {
    type Err = UnknownStatus;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ClientStatus::parse(text)
    }
}

/// Decides whether a client may move from `from` to `to`, given the reason offered.
pub fn transition(
    from: ClientStatus,
    to: ClientStatus,
    reason: Option<&str>,
) -> Result<(), LifecycleError> {
    if !from.next().contains(&to) {
        return Err(LifecycleError::IllegalTransition { from, to });
    }
    if to.needs_reason() && reason.is_none_or(|reason| reason.trim().is_empty()) {
        return Err(LifecycleError::ReasonRequired { to });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ClientStatus::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_is_legal() {
        let path = [
            Inquiry, Contracted, CheckedIn, CheckedOut, InFollowUp, Closed,
        ];
        for pair in path.windows(2) {
            assert_eq!(
                transition(pair[0], pair[1], None),
                Ok(()),
                "{} -> {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn skipping_steps_and_leaving_terminal_states_is_illegal() {
        assert_eq!(
            transition(Inquiry, CheckedIn, None),
            Err(LifecycleError::IllegalTransition {
                from: Inquiry,
                to: CheckedIn
            })
        );
        assert!(transition(CheckedIn, Lost, Some("moved away")).is_err());
        for terminal in [Closed, Lost, Cancelled] {
            for to in ClientStatus::ALL {
                assert!(transition(terminal, to, Some("x")).is_err());
            }
        }
        assert!(transition(Contracted, Contracted, None).is_err());
    }

    #[test]
    fn exits_need_a_reason() {
        assert_eq!(
            transition(Inquiry, Lost, None),
            Err(LifecycleError::ReasonRequired { to: Lost })
        );
        assert_eq!(
            transition(Contracted, Cancelled, Some("  ")),
            Err(LifecycleError::ReasonRequired { to: Cancelled })
        );
        assert_eq!(
            transition(Contracted, Cancelled, Some("family moved")),
            Ok(())
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for status in ClientStatus::ALL {
            assert_eq!(ClientStatus::parse(status.as_str()), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!(ClientStatus::parse("sleeping").is_err());
    }

    fn any_status() -> impl Strategy<Value = ClientStatus> {
        proptest::sample::select(ClientStatus::ALL.to_vec())
    }

    proptest! {
        /// Drive a client with arbitrary requested transitions: only legal ones take effect, the
        /// client never reaches a state unreachable from inquiry, and terminal states are final.
        #[test]
        fn a_lifecycle_never_reaches_an_illegal_state(
            requests in proptest::collection::vec((any_status(), proptest::option::of("[a-z ]{0,8}")), 0..40)
        ) {
            let mut status = Inquiry;
            let mut history = vec![status];
            for (to, reason) in requests {
                let before = status;
                match transition(status, to, reason.as_deref()) {
                    Ok(()) => {
                        prop_assert!(before.next().contains(&to));
                        prop_assert!(!before.is_terminal());
                        status = to;
                        history.push(status);
                    }
                    Err(_) => prop_assert_eq!(status, before),
                }
            }
            // The walk follows the lifecycle's order: no status is ever revisited.
            let mut seen = std::collections::BTreeSet::new();
            for step in &history {
                prop_assert!(seen.insert(*step), "revisited {}", step);
            }
        }
    }
}
