//! Time as an input. Domain code never reads the system clock; callers pass `now` or a `Clock`.

use chrono::{DateTime, SubsecRound, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, truncated to microseconds so it survives every database round trip.
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that always says the same instant: for tests and replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.trunc_subsecs(6)
    }
}
