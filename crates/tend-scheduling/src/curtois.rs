//! Reader for the Curtois & Qu shift scheduling benchmark format (schedulingbenchmarks.org),
//! mapped onto the general [`Problem`].
//!
//! The mapping: day 0 is a Monday (the horizon starts on 2024-01-01); a shift type with a limit of
//! 0 for an employee is a missing qualification; a cover row becomes a demand whose required and
//! preferred head counts are equal; shift start times are not part of the format and are set to
//! midnight, so no shift counts as a night shift.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use crate::model::{Contract, Demand, Problem, ShiftRequest, ShiftType, StaffMember};

/// A malformed benchmark file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurtoisError {
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: LineProblem },
    #[error("the file ends before section {section}")]
    MissingSection { section: &'static str },
}

/// What is wrong on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("expected section {expected}, found {found:?}")]
    UnexpectedSection {
        expected: &'static str,
        found: String,
    },
    #[error("data before the first section")]
    DataOutsideSection,
    #[error("section {section} expects {expected} fields, found {found}")]
    FieldCount {
        section: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{field} is not a non-negative integer: {value:?}")]
    NotANumber { field: &'static str, value: String },
    #[error("the horizon is given twice")]
    SecondHorizon,
    #[error("the horizon must be at least one day")]
    EmptyHorizon,
    #[error("unknown shift type {id:?}")]
    UnknownShiftType { id: String },
    #[error("unknown employee {id:?}")]
    UnknownEmployee { id: String },
    #[error("{what} {id:?} is defined twice")]
    Duplicate { what: &'static str, id: String },
    #[error("shift limit {value:?} is not of the form ShiftID=limit")]
    BadShiftLimit { value: String },
    #[error("day {day} is outside the horizon of {days} days")]
    DayOutOfRange { day: usize, days: usize },
    #[error("an empty identifier")]
    EmptyId,
}

const SECTIONS: [&str; 7] = [
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
];

/// The first day of every benchmark horizon: a Monday.
pub fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
}

struct Reader {
    line: usize,
}

impl Reader {
    fn err(&self, problem: LineProblem) -> CurtoisError {
        CurtoisError::Line {
            line: self.line,
            problem,
        }
    }

    fn number(&self, field: &'static str, value: &str) -> Result<u32, CurtoisError> {
        value.trim().parse().map_err(|_| {
            self.err(LineProblem::NotANumber {
                field,
                value: value.trim().to_owned(),
            })
        })
    }

    fn fields<'a>(
        &self,
        line: &'a str,
        section: &'static str,
        expected: usize,
    ) -> Result<Vec<&'a str>, CurtoisError> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != expected {
            return Err(self.err(LineProblem::FieldCount {
                section,
                expected,
                found: fields.len(),
            }));
        }
        Ok(fields)
    }

    fn id(&self, value: &str) -> Result<String, CurtoisError> {
        if value.is_empty() {
            return Err(self.err(LineProblem::EmptyId));
        }
        Ok(value.to_owned())
    }

    fn day(&self, value: &str, days: usize) -> Result<usize, CurtoisError> {
        let day = self.number("day", value)? as usize;
        if day >= days {
            return Err(self.err(LineProblem::DayOutOfRange { day, days }));
        }
        Ok(day)
    }
}

/// Parses a benchmark file into a [`Problem`].
pub fn parse(text: &str) -> Result<Problem, CurtoisError> {
    let mut reader = Reader { line: 0 };
    let mut section: Option<usize> = None;
    let mut days: Option<usize> = None;
    let mut shift_types: Vec<ShiftType> = Vec::new();
    let mut staff: Vec<StaffMember> = Vec::new();
    let mut on_requests = Vec::new();
    let mut off_requests = Vec::new();
    let mut demand = Vec::new();
    // Forbidden successions are checked once every shift type is known.
    let mut successions: Vec<(usize, usize, String)> = Vec::new();

    for (i, raw) in text.lines().enumerate() {
        reader.line = i + 1;
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("SECTION_") {
            let next = section.map_or(0, |s| s + 1);
            match SECTIONS.get(next) {
                Some(&expected) if expected == line => section = Some(next),
                Some(&expected) => {
                    return Err(reader.err(LineProblem::UnexpectedSection {
                        expected,
                        found: line.to_owned(),
                    }))
                }
                None => {
                    return Err(reader.err(LineProblem::UnexpectedSection {
                        expected: "end of file",
                        found: line.to_owned(),
                    }))
                }
            }
            if next == 1 && days.is_none() {
                return Err(reader.err(LineProblem::EmptyHorizon));
            }
            continue;
        }
        let Some(current) = section else {
            return Err(reader.err(LineProblem::DataOutsideSection));
        };
        let name = SECTIONS[current];
        let horizon = days.unwrap_or(0);
        let shift_index = |reader: &Reader, id: &str| {
            shift_types
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| reader.err(LineProblem::UnknownShiftType { id: id.to_owned() }))
        };
        let staff_index = |reader: &Reader, id: &str| {
            staff
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| reader.err(LineProblem::UnknownEmployee { id: id.to_owned() }))
        };
        match current {
            0 => {
                if days.is_some() {
                    return Err(reader.err(LineProblem::SecondHorizon));
                }
                let fields = reader.fields(line, name, 1)?;
                let h = reader.number("horizon", fields[0])? as usize;
                if h == 0 {
                    return Err(reader.err(LineProblem::EmptyHorizon));
                }
                days = Some(h);
            }
            1 => {
                let fields = reader.fields(line, name, 3)?;
                let id = reader.id(fields[0])?;
                if shift_types.iter().any(|s| s.id == id) {
                    return Err(reader.err(LineProblem::Duplicate {
                        what: "shift type",
                        id,
                    }));
                }
                let length_minutes = reader.number("shift length", fields[1])?;
                for next in fields[2]
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    successions.push((reader.line, shift_types.len(), next.to_owned()));
                }
                shift_types.push(ShiftType {
                    id,
                    start_minute: 0,
                    length_minutes,
                    forbidden_next: Vec::new(),
                });
            }
            2 => {
                if shift_types.is_empty() {
                    return Err(reader.err(LineProblem::UnexpectedSection {
                        expected: "SECTION_SHIFTS with at least one shift",
                        found: name.to_owned(),
                    }));
                }
                let fields = reader.fields(line, name, 8)?;
                let id = reader.id(fields[0])?;
                if staff.iter().any(|s| s.id == id) {
                    return Err(reader.err(LineProblem::Duplicate {
                        what: "employee",
                        id,
                    }));
                }
                let mut limits = BTreeMap::new();
                for item in fields[1]
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    let Some((shift, limit)) = item.split_once('=') else {
                        return Err(reader.err(LineProblem::BadShiftLimit {
                            value: item.to_owned(),
                        }));
                    };
                    let s = shift_index(&reader, shift.trim())?;
                    limits.insert(
                        shift_types[s].id.clone(),
                        reader.number("shift limit", limit)?,
                    );
                }
                let shift_ids = shift_types
                    .iter()
                    .filter(|s| limits.get(&s.id) != Some(&0))
                    .map(|s| s.id.clone())
                    .collect();
                let contract = Contract {
                    max_total_minutes: reader.number("MaxTotalMinutes", fields[2])?,
                    min_total_minutes: reader.number("MinTotalMinutes", fields[3])?,
                    max_consecutive_working_days: reader
                        .number("MaxConsecutiveShifts", fields[4])?,
                    min_consecutive_working_days: reader
                        .number("MinConsecutiveShifts", fields[5])?,
                    min_consecutive_days_off: reader.number("MinConsecutiveDaysOff", fields[6])?,
                    max_working_weekends: reader.number("MaxWeekends", fields[7])?,
                    max_shifts_per_type: limits,
                    minimum_rest_minutes: None,
                };
                staff.push(StaffMember {
                    id,
                    skills: Vec::new(),
                    shift_types: shift_ids,
                    contract,
                    days_off: Vec::new(),
                    leave: Vec::new(),
                    fixed: Vec::new(),
                });
            }
            3 => {
                let fields: Vec<&str> = line.split(',').map(str::trim).collect();
                let e = staff_index(&reader, fields[0])?;
                for value in fields[1..].iter().filter(|v| !v.is_empty()) {
                    let day = reader.day(value, horizon)?;
                    staff[e].days_off.push(day);
                }
            }
            4 | 5 => {
                let fields = reader.fields(line, name, 4)?;
                let e = staff_index(&reader, fields[0])?;
                let day = reader.day(fields[1], horizon)?;
                let s = shift_index(&reader, fields[2])?;
                let request = ShiftRequest {
                    staff: staff[e].id.clone(),
                    day,
                    shift_type: shift_types[s].id.clone(),
                    weight: reader.number("weight", fields[3])?,
                };
                if current == 4 {
                    on_requests.push(request);
                } else {
                    off_requests.push(request);
                }
            }
            _ => {
                let fields = reader.fields(line, name, 5)?;
                let day = reader.day(fields[0], horizon)?;
                let s = shift_index(&reader, fields[1])?;
                let required = reader.number("requirement", fields[2])?;
                demand.push(Demand {
                    day,
                    shift_type: shift_types[s].id.clone(),
                    skill: None,
                    required,
                    preferred: required,
                    under_weight: reader.number("weight for under", fields[3])?,
                    preferred_weight: 0,
                    over_weight: reader.number("weight for over", fields[4])?,
                });
            }
        }
    }
    if section != Some(SECTIONS.len() - 1) {
        let missing = section.map_or(0, |s| s + 1);
        return Err(CurtoisError::MissingSection {
            section: SECTIONS[missing],
        });
    }
    let known: HashSet<String> = shift_types.iter().map(|s| s.id.clone()).collect();
    for (line, s, next) in successions {
        if !known.contains(&next) {
            return Err(CurtoisError::Line {
                line,
                problem: LineProblem::UnknownShiftType { id: next },
            });
        }
        shift_types[s].forbidden_next.push(next);
    }
    Ok(Problem {
        start_date: start_date(),
        days: days.unwrap_or(0),
        shift_types,
        minimum_rest_minutes: None,
        staff,
        demand,
        shift_on_requests: on_requests,
        shift_off_requests: off_requests,
        fairness: None,
    })
}
