//! Half-open UTC time intervals `[start, end)` and sets of them.
//!
//! An [`IntervalSet`] is always canonical: sorted by start, pairwise disjoint and never touching
//! (touching intervals are merged). So two sets covering the same instants are equal, and lookups
//! are binary searches.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A non-empty half-open interval of UTC instants: `start` is inside, `end` is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawInterval")]
pub struct TimeInterval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("an interval must end after it starts (start {start}, end {end})")]
    EmptyOrReversed {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl IntervalError {
    pub fn code(&self) -> &'static str {
        match self {
            IntervalError::EmptyOrReversed { .. } => "appointments.interval_empty_or_reversed",
        }
    }
}

#[derive(Deserialize)]
struct RawInterval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawInterval> for TimeInterval {
    type Error = IntervalError;
    fn try_from(raw: RawInterval) -> Result<Self, Self::Error> {
        TimeInterval::new(raw.start, raw.end)
    }
}

impl TimeInterval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<TimeInterval, IntervalError> {
        if start < end {
            Ok(TimeInterval { start, end })
        } else {
            Err(IntervalError::EmptyOrReversed { start, end })
        }
    }

    /// The interval of `length` from `start`; `None` unless `length` is positive.
    pub fn starting_at(start: DateTime<Utc>, length: Duration) -> Option<TimeInterval> {
        TimeInterval::new(start, start + length).ok()
    }

    /// For lengths the crate has already checked to be positive (validated catalogue durations);
    /// a non-positive length is stretched to one nanosecond rather than making an empty interval.
    pub(crate) fn of_positive_length(start: DateTime<Utc>, length: Duration) -> TimeInterval {
        debug_assert!(length > Duration::zero());
        TimeInterval {
            start,
            end: start + length.max(Duration::nanoseconds(1)),
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn contains_instant(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// Whether every instant of `other` is in `self`.
    pub fn contains(&self, other: &TimeInterval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two share at least one instant (touching intervals do not overlap).
    pub fn overlaps(&self, other: &TimeInterval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn intersection(&self, other: &TimeInterval) -> Option<TimeInterval> {
        TimeInterval::new(self.start.max(other.start), self.end.min(other.end)).ok()
    }

    /// The interval moved by `offset` (negative moves it earlier).
    pub fn shifted(&self, offset: Duration) -> TimeInterval {
        TimeInterval {
            start: self.start + offset,
            end: self.end + offset,
        }
    }

    /// The interval widened by `before` at the start and `after` at the end (both ≥ 0).
    pub fn widened(&self, before: Duration, after: Duration) -> TimeInterval {
        TimeInterval {
            start: self.start - before.max(Duration::zero()),
            end: self.end + after.max(Duration::zero()),
        }
    }
}

/// A canonical set of UTC instants, stored as sorted, disjoint, non-touching intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<TimeInterval>", into = "Vec<TimeInterval>")]
pub struct IntervalSet {
    intervals: Vec<TimeInterval>,
}

impl From<Vec<TimeInterval>> for IntervalSet {
    fn from(intervals: Vec<TimeInterval>) -> Self {
        IntervalSet::from_intervals(intervals)
    }
}

impl From<IntervalSet> for Vec<TimeInterval> {
    fn from(set: IntervalSet) -> Self {
        set.intervals
    }
}

impl FromIterator<TimeInterval> for IntervalSet {
    fn from_iter<I: IntoIterator<Item = TimeInterval>>(iter: I) -> Self {
        IntervalSet::from_intervals(iter.into_iter().collect())
    }
}

impl IntervalSet {
    pub fn empty() -> IntervalSet {
        IntervalSet::default()
    }

    pub fn single(interval: TimeInterval) -> IntervalSet {
        IntervalSet {
            intervals: vec![interval],
        }
    }

    /// Sorts and merges any intervals (overlapping, touching, duplicated) into a canonical set.
    pub fn from_intervals(mut intervals: Vec<TimeInterval>) -> IntervalSet {
        intervals.sort_unstable();
        let mut merged: Vec<TimeInterval> = Vec::with_capacity(intervals.len());
        for interval in intervals {
            match merged.last_mut() {
                Some(last) if interval.start <= last.end => {
                    last.end = last.end.max(interval.end);
                }
                _ => merged.push(interval),
            }
        }
        IntervalSet { intervals: merged }
    }

    pub fn as_slice(&self) -> &[TimeInterval] {
        &self.intervals
    }

    pub fn iter(&self) -> impl Iterator<Item = &TimeInterval> {
        self.intervals.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    pub fn total_duration(&self) -> Duration {
        self.intervals
            .iter()
            .fold(Duration::zero(), |total, interval| {
                total + interval.duration()
            })
    }

    pub fn insert(&mut self, interval: TimeInterval) {
        *self = self.union(&IntervalSet::single(interval));
    }

    /// Every instant in `self` or in `other`.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all = Vec::with_capacity(self.len() + other.len());
        all.extend_from_slice(&self.intervals);
        all.extend_from_slice(&other.intervals);
        IntervalSet::from_intervals(all)
    }

    /// Every instant in both.
    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (mut i, mut j) = (0, 0);
        let mut result = Vec::new();
        while i < self.intervals.len() && j < other.intervals.len() {
            let a = self.intervals[i];
            let b = other.intervals[j];
            if let Some(common) = a.intersection(&b) {
                result.push(common);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        // Pieces of canonical sets are already sorted and disjoint; merging only joins touches.
        IntervalSet::from_intervals(result)
    }

    /// Every instant of `self` that is not in `other`.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut result = Vec::with_capacity(self.len());
        let mut j = 0;
        for interval in &self.intervals {
            let mut cursor = interval.start;
            while j < other.intervals.len() && other.intervals[j].end <= cursor {
                j += 1;
            }
            let mut k = j;
            while k < other.intervals.len() && other.intervals[k].start < interval.end {
                let hole = other.intervals[k];
                if hole.start > cursor {
                    result.push(TimeInterval {
                        start: cursor,
                        end: hole.start,
                    });
                }
                cursor = cursor.max(hole.end);
                k += 1;
            }
            if cursor < interval.end {
                result.push(TimeInterval {
                    start: cursor,
                    end: interval.end,
                });
            }
        }
        IntervalSet { intervals: result }
    }

    pub fn subtract_interval(&self, interval: &TimeInterval) -> IntervalSet {
        self.subtract(&IntervalSet::single(*interval))
    }

    /// The part of the set inside `window`.
    pub fn clip(&self, window: &TimeInterval) -> IntervalSet {
        self.intersect(&IntervalSet::single(*window))
    }

    pub fn contains_instant(&self, instant: DateTime<Utc>) -> bool {
        let index = self.intervals.partition_point(|iv| iv.start <= instant);
        index > 0 && self.intervals[index - 1].contains_instant(instant)
    }

    /// Whether every instant of `interval` is in the set (one binary search).
    pub fn contains(&self, interval: &TimeInterval) -> bool {
        let index = self
            .intervals
            .partition_point(|iv| iv.start <= interval.start);
        index > 0 && self.intervals[index - 1].contains(interval)
    }

    /// Whether some instant of `interval` is in the set (one binary search).
    pub fn overlaps(&self, interval: &TimeInterval) -> bool {
        let index = self
            .intervals
            .partition_point(|iv| iv.end <= interval.start);
        index < self.intervals.len() && self.intervals[index].start < interval.end
    }

    /// Whether the set is canonical. Always true for values built through this API; exposed so
    /// tests and callers holding deserialised data can check it cheaply.
    pub fn is_canonical(&self) -> bool {
        self.intervals.iter().all(|iv| iv.start < iv.end)
            && self
                .intervals
                .windows(2)
                .all(|pair| pair[0].end < pair[1].start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn span(from: i64, to: i64) -> TimeInterval {
        TimeInterval::new(at(from), at(to)).unwrap()
    }

    fn set(spans: &[(i64, i64)]) -> IntervalSet {
        spans.iter().map(|&(a, b)| span(a, b)).collect()
    }

    #[test]
    fn empty_and_reversed_intervals_are_refused() {
        let error = TimeInterval::new(at(5), at(5)).unwrap_err();
        assert_eq!(error.code(), "appointments.interval_empty_or_reversed");
        assert!(TimeInterval::new(at(6), at(5)).is_err());
        let json = r#"{"start":"2026-01-01T10:00:00Z","end":"2026-01-01T09:00:00Z"}"#;
        assert!(serde_json::from_str::<TimeInterval>(json).is_err());
    }

    #[test]
    fn sets_merge_touching_and_overlapping_pieces() {
        assert_eq!(
            set(&[(0, 10), (10, 20), (15, 30), (40, 50)]),
            set(&[(0, 30), (40, 50)])
        );
        assert_eq!(
            set(&[(0, 60)]).subtract(&set(&[(10, 20), (30, 40)])),
            set(&[(0, 10), (20, 30), (40, 60)])
        );
        assert_eq!(
            set(&[(0, 60)]).intersect(&set(&[(50, 70)])),
            set(&[(50, 60)])
        );
        assert!(set(&[(0, 30), (40, 50)]).contains(&span(40, 50)));
        assert!(!set(&[(0, 30), (40, 50)]).contains(&span(25, 45)));
        assert!(!set(&[(0, 30)]).overlaps(&span(30, 40)));
        assert!(set(&[(0, 30)]).overlaps(&span(29, 40)));
    }

    fn any_set() -> impl Strategy<Value = IntervalSet> {
        proptest::collection::vec((0i64..200, 1i64..40), 0..8).prop_map(|pieces| {
            pieces
                .into_iter()
                .map(|(start, length)| span(start, start + length))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_membership_and_stay_canonical(
            a in any_set(), b in any_set(), probe in 0i64..260
        ) {
            let union = a.union(&b);
            let intersection = a.intersect(&b);
            let difference = a.subtract(&b);
            for result in [&union, &intersection, &difference] {
                prop_assert!(result.is_canonical());
            }
            let t = at(probe);
            let (in_a, in_b) = (a.contains_instant(t), b.contains_instant(t));
            prop_assert_eq!(union.contains_instant(t), in_a || in_b);
            prop_assert_eq!(intersection.contains_instant(t), in_a && in_b);
            prop_assert_eq!(difference.contains_instant(t), in_a && !in_b);
        }

        #[test]
        fn set_algebra_laws_hold(a in any_set(), b in any_set(), c in any_set()) {
            prop_assert_eq!(a.union(&b), b.union(&a));
            prop_assert_eq!(a.intersect(&b), b.intersect(&a));
            prop_assert_eq!(a.union(&b).union(&c), a.union(&b.union(&c)));
            prop_assert_eq!(a.subtract(&b).union(&a.intersect(&b)), a.clone());
            prop_assert!(a.subtract(&b).intersect(&b).is_empty());
            prop_assert_eq!(
                a.intersect(&b.union(&c)),
                a.intersect(&b).union(&a.intersect(&c))
            );
        }

        #[test]
        fn interval_lookups_match_a_linear_scan(a in any_set(), start in 0i64..250, length in 1i64..30) {
            let probe = span(start, start + length);
            let contained = a.iter().any(|iv| iv.contains(&probe));
            let overlapping = a.iter().any(|iv| iv.overlaps(&probe));
            prop_assert_eq!(a.contains(&probe), contained);
            prop_assert_eq!(a.overlaps(&probe), overlapping);
        }
    }
}
