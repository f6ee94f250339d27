//! Skills such as newborn care, lactation, dental hygiene or cooking, with a level.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A skill's key: lower-case words joined by underscores (`newborn_care`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Skill(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillError {
    #[error("`{0}` is not a skill key: use 1 to 64 lower-case letters, digits and underscores")]
    InvalidKey(String),
    #[error("skill level {0} is out of range 1 to 5")]
    InvalidLevel(u8),
}

impl Skill {
    pub fn parse(text: &str) -> Result<Skill, SkillError> {
        let key = text.trim().to_lowercase().replace([' ', '-'], "_");
        let valid = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Skill(key))
        } else {
            Err(SkillError::InvalidKey(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Skill {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Skill::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Skill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff member's skill at a level from 1 (in training) to 5 (expert, can train others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillLevel {
    pub skill: Skill,
    level: u8,
}

impl SkillLevel {
    pub fn new(skill: Skill, level: u8) -> Result<SkillLevel, SkillError> {
        if (1..=5).contains(&level) {
            Ok(SkillLevel { skill, level })
        } else {
            Err(SkillError::InvalidLevel(level))
        }
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    /// Whether this covers work that needs `skill` at `minimum_level` or above.
    pub fn covers(&self, skill: &Skill, minimum_level: u8) -> bool {
        self.skill == *skill && self.level >= minimum_level
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn skill_keys_are_normalised_or_refused() {
        assert_eq!(
            Skill::parse("Newborn care").unwrap().as_str(),
            "newborn_care"
        );
        assert!(Skill::parse("").is_err());
        assert!(Skill::parse("hygiène").is_err());
        assert_eq!(
            SkillLevel::new(Skill::parse("lactation").unwrap(), 6),
            Err(SkillError::InvalidLevel(6))
        );
    }

    #[test]
    fn a_level_covers_work_at_or_below_it() {
        let nursing = Skill::parse("nursing").unwrap();
        let level = SkillLevel::new(nursing.clone(), 3).unwrap();
        assert!(level.covers(&nursing, 3));
        assert!(!level.covers(&nursing, 4));
        assert!(!level.covers(&Skill::parse("cooking").unwrap(), 1));
    }

    proptest! {
        #[test]
        fn skills_round_trip_through_json(key in "[a-z][a-z0-9_]{0,20}") {
            let skill = Skill::parse(&key).unwrap();
            let json = serde_json::to_string(&skill).unwrap();
            prop_assert_eq!(serde_json::from_str::<Skill>(&json).unwrap(), skill);
        }
    }
}
