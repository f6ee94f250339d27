//! Validated value types. Parse, don't validate: once a value has its type it is valid everywhere.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a piece of input is not a valid value. `code()` is stable and travels to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("`{value}` is not a valid {kind} id")]
    InvalidId { kind: &'static str, value: String },
    #[error("`{value}` is not a phone number: {reason}")]
    InvalidPhone { value: String, reason: &'static str },
    #[error("`{value}` is not an e-mail address: {reason}")]
    InvalidEmail { value: String, reason: &'static str },
    #[error("`{value}` is not a date in the form YYYY-MM-DD")]
    InvalidDate { value: String },
    #[error("a name must have 1 to {max} characters (got {length})")]
    InvalidName { length: usize, max: usize },
    #[error("`{value}` is not an IANA time zone such as Europe/Madrid or Asia/Shanghai")]
    InvalidTimeZone { value: String },
}

impl ValueError {
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::InvalidId { .. } => "value.invalid_id",
            ValueError::InvalidPhone { .. } => "value.invalid_phone",
            ValueError::InvalidEmail { .. } => "value.invalid_email",
            ValueError::InvalidDate { .. } => "value.invalid_date",
            ValueError::InvalidName { .. } => "value.invalid_name",
            ValueError::InvalidTimeZone { .. } => "value.invalid_time_zone",
        }
    }
}

macro_rules! text_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::parse(text)
            }
        }
    };
}

/// A phone number normalised to an optional leading `+` and 6 to 15 digits (ITU E.164 length).
///
/// People type numbers with spaces, dots, dashes and brackets; those are dropped. Letters and
/// other symbols are refused rather than guessed at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<PhoneNumber, ValueError> {
        let error = |reason| ValueError::InvalidPhone {
            value: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for character in rest.chars() {
            match character {
                '0'..='9' => digits.push(character),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(error(
                        "only digits, spaces, dashes, dots, brackets and a leading + are allowed",
                    ))
                }
            }
        }
        if digits.len() < 6 {
            return Err(error("too few digits (at least 6)"));
        }
        if digits.len() > 15 {
            return Err(error("too many digits (at most 15)"));
        }
        Ok(PhoneNumber(if plus {
            format!("+{digits}")
        } else {
            digits
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_serde!(PhoneNumber);

/// An e-mail address: one `@`, a non-empty local part, a dotted domain; the domain is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, ValueError> {
        let error = |reason| ValueError::InvalidEmail {
            value: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.len() > 254 {
            return Err(error("longer than 254 characters"));
        }
        let (local, domain) = trimmed.split_once('@').ok_or_else(|| error("no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(error("the part before @ must have 1 to 64 characters"));
        }
        if domain.contains('@') {
            return Err(error("more than one @"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(error("contains spaces"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|label| {
                label.is_empty()
                    || label.starts_with('-')
                    || label.ends_with('-')
                    || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(error("the domain must look like example.com"));
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_serde!(EmailAddress);

/// A person's or a site's display name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(text: &str) -> Result<PersonName, ValueError> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if length == 0 || length > Self::MAX_CHARS || trimmed.chars().any(char::is_control) {
            return Err(ValueError::InvalidName {
                length,
                max: Self::MAX_CHARS,
            });
        }
        Ok(PersonName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_serde!(PersonName);

/// A site's IANA time zone. Local days and times of a site are computed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiteTimeZone(chrono_tz::Tz);

impl SiteTimeZone {
    pub fn parse(text: &str) -> Result<SiteTimeZone, ValueError> {
        text.trim()
            .parse::<chrono_tz::Tz>()
            .map(SiteTimeZone)
            .map_err(|_| ValueError::InvalidTimeZone {
                value: text.to_owned(),
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

text_serde!(SiteTimeZone);

/// Parses a calendar date written as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, ValueError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| ValueError::InvalidDate {
        value: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_phone(input: &str, expected: Result<&str, ()>) {
        let parsed = PhoneNumber::parse(input);
        match expected {
            Ok(normal) => assert_eq!(parsed.map(|p| p.0), Ok(normal.to_owned()), "{input}"),
            Err(()) => assert!(parsed.is_err(), "{input} should be refused"),
        }
    }

    #[test]
    fn phone_numbers_are_normalised_or_refused() {
        check_phone("+86 138-0013-8000", Ok("+8613800138000"));
        check_phone(" (020) 7946.0958 ", Ok("02079460958"));
        check_phone("12345", Err(()));
        check_phone("+1234567890123456", Err(()));
        check_phone("555-CALL-NOW", Err(()));
        check_phone("++123456789", Err(()));
        check_phone("", Err(()));
    }

    #[test]
    fn email_addresses_are_checked() {
        assert_eq!(
            EmailAddress::parse(" Mei.Li@Example.COM ").map(|e| e.0),
            Ok("Mei.Li@example.com".into())
        );
        for bad in [
            "",
            "no-at.example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@-c.com",
            "a@c..com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn dates_time_zones_and_names() {
        assert_eq!(
            parse_date("2026-02-28").map(|d| d.to_string()),
            Ok("2026-02-28".into())
        );
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("28/02/2026").is_err());
        assert_eq!(
            SiteTimeZone::parse("Europe/Madrid").map(|tz| tz.as_str()),
            Ok("Europe/Madrid")
        );
        assert!(SiteTimeZone::parse("Mars/Olympus").is_err());
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(201)).is_err());
        assert_eq!(
            PersonName::parse("  Li Mei ").map(|n| n.0),
            Ok("Li Mei".into())
        );
    }

    #[test]
    fn value_types_deserialize_through_their_parsers() {
        let phone: PhoneNumber = serde_json::from_str("\"+34 600 123 456\"").unwrap();
        assert_eq!(phone.as_str(), "+34600123456");
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn parsed_phones_round_trip(digits in "[0-9]{6,15}", plus in any::<bool>()) {
            let text = if plus { format!("+{digits}") } else { digits };
            let phone = PhoneNumber::parse(&text).unwrap();
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone.clone());
            let json = serde_json::to_string(&phone).unwrap();
            prop_assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), phone);
        }

        #[test]
        fn parsed_emails_round_trip(local in "[a-z0-9._+]{1,20}", domain in "[a-z0-9]{1,10}\\.[a-z]{2,5}") {
            let email = EmailAddress::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(EmailAddress::parse(email.as_str()).unwrap(), email);
        }

        #[test]
        fn phone_parser_never_panics(text in "\\PC{0,30}") {
            let _ = PhoneNumber::parse(&text);
        }
    }
}
