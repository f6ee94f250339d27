//! The client record, the raw input it is parsed from, and changes to it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use tend_core::{
    parse_date, ClientId, EmailAddress, PersonName, PhoneNumber, SiteId, UserId, ValueError,
};

use crate::lifecycle::ClientStatus;

/// How the center treats a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientCategory {
    New,
    Returning,
    Vip,
    SpecialAttention,
}

impl ClientCategory {
    pub const ALL: [ClientCategory; 4] = [
        ClientCategory::New,
        ClientCategory::Returning,
        ClientCategory::Vip,
        ClientCategory::SpecialAttention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientCategory::New => "new",
            ClientCategory::Returning => "returning",
            ClientCategory::Vip => "vip",
            ClientCategory::SpecialAttention => "special_attention",
        }
    }

    pub fn parse(text: &str) -> Option<ClientCategory> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ClientCategory::ALL
            .into_iter()
            .find(|category| category.as_str() == wanted)
    }
}

impl fmt::Display for ClientCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client of a care center, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    pub id: ClientId,
    pub site_id: SiteId,
    pub full_name: PersonName,
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
    pub birth_date: Option<NaiveDate>,
    /// Expected due date, for postpartum centers.
    pub expected_due_date: Option<NaiveDate>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    /// Sensitive: every read is audited.
    pub allergies: Option<String>,
    /// Sensitive: every read is audited.
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    pub category: ClientCategory,
    pub consultant_id: Option<UserId>,
    pub status: ClientStatus,
    /// When the owner should next contact an inquiry.
    pub next_follow_up_on: Option<NaiveDate>,
    pub owner_id: Option<UserId>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
    /// Bumped by every change; lets concurrent editors detect each other.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every field of a client record that a person can see or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientField {
    FullName,
    Phone,
    Email,
    BirthDate,
    ExpectedDueDate,
    Language,
    Diet,
    Religion,
    Allergies,
    HealthNotes,
    SourceChannel,
    Category,
    ConsultantId,
    Status,
    NextFollowUpOn,
    OwnerId,
    ContractPackage,
    ContractPriceCents,
}

impl ClientField {
    pub const ALL: [ClientField; 18] = [
        ClientField::FullName,
        ClientField::Phone,
        ClientField::Email,
        ClientField::BirthDate,
        ClientField::ExpectedDueDate,
        ClientField::Language,
        ClientField::Diet,
        ClientField::Religion,
        ClientField::Allergies,
        ClientField::HealthNotes,
        ClientField::SourceChannel,
        ClientField::Category,
        ClientField::ConsultantId,
        ClientField::Status,
        ClientField::NextFollowUpOn,
        ClientField::OwnerId,
        ClientField::ContractPackage,
        ClientField::ContractPriceCents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientField::FullName => "full_name",
            ClientField::Phone => "phone",
            ClientField::Email => "email",
            ClientField::BirthDate => "birth_date",
            ClientField::ExpectedDueDate => "expected_due_date",
            ClientField::Language => "language",
            ClientField::Diet => "diet",
            ClientField::Religion => "religion",
            ClientField::Allergies => "allergies",
            ClientField::HealthNotes => "health_notes",
            ClientField::SourceChannel => "source_channel",
            ClientField::Category => "category",
            ClientField::ConsultantId => "consultant_id",
            ClientField::Status => "status",
            ClientField::NextFollowUpOn => "next_follow_up_on",
            ClientField::OwnerId => "owner_id",
            ClientField::ContractPackage => "contract_package",
            ClientField::ContractPriceCents => "contract_price_cents",
        }
    }

    /// Sensitive fields: their reads are audited and their values never enter the audit trail.
    pub fn is_sensitive(self) -> bool {
        matches!(self, ClientField::Allergies | ClientField::HealthNotes)
    }
}

impl fmt::Display for ClientField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field of the input that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Every problem found in one piece of input, so the person can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid client fields: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct InvalidFields(pub Vec<FieldError>);

impl InvalidFields {
    pub fn code(&self) -> &'static str {
        "validation.invalid_fields"
    }
}

/// A new client as typed by a person: raw text, parsed by [`NewClient::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub expected_due_date: Option<String>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    pub allergies: Option<String>,
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    pub category: Option<String>,
    pub consultant_id: Option<String>,
    pub next_follow_up_on: Option<String>,
    pub owner_id: Option<String>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
}

/// A change to a client as typed by a person. An absent field is left alone; `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPatchInput {
    #[serde(default, deserialize_with = "present")]
    pub full_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub birth_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub expected_due_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub language: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub diet: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub religion: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub allergies: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub health_notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub source_channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub consultant_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub next_follow_up_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contract_package: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contract_price_cents: Option<Option<i64>>,
    /// The version the editor last saw; a stale one is refused instead of overwriting.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Marks a field as present (`Some`), whether its value is `null` (`Some(None)`) or not.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// What to do with one field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

/// A validated new client, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub site_id: SiteId,
    pub full_name: PersonName,
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
    pub birth_date: Option<NaiveDate>,
    pub expected_due_date: Option<NaiveDate>,
    pub language: Option<String>,
    pub diet: Option<String>,
    pub religion: Option<String>,
    pub allergies: Option<String>,
    pub health_notes: Option<String>,
    pub source_channel: Option<String>,
    pub category: ClientCategory,
    pub consultant_id: Option<UserId>,
    pub next_follow_up_on: Option<NaiveDate>,
    pub owner_id: Option<UserId>,
    pub contract_package: Option<String>,
    pub contract_price_cents: Option<i64>,
}

/// A validated change to a client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientChanges {
    pub full_name: Option<PersonName>,
    pub phone: Patch<PhoneNumber>,
    pub email: Patch<EmailAddress>,
    pub birth_date: Patch<NaiveDate>,
    pub expected_due_date: Patch<NaiveDate>,
    pub language: Patch<String>,
    pub diet: Patch<String>,
    pub religion: Patch<String>,
    pub allergies: Patch<String>,
    pub health_notes: Patch<String>,
    pub source_channel: Patch<String>,
    pub category: Option<ClientCategory>,
    pub consultant_id: Patch<UserId>,
    pub next_follow_up_on: Patch<NaiveDate>,
    pub owner_id: Patch<UserId>,
    pub contract_package: Patch<String>,
    pub contract_price_cents: Patch<i64>,
    pub expected_version: Option<i64>,
}

/// A field's value before and after a change, as text for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: ClientField,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Longest free text accepted in notes (allergies, health notes) and in short fields.
const MAX_NOTE_CHARS: usize = 4000;
const MAX_SHORT_CHARS: usize = 200;
const REDACTED: &str = "[redacted]";

/// Collects field errors while parsing, so every problem is reported at once.
#[derive(Default)]
struct Collector(Vec<FieldError>);

impl Collector {
    fn value<T>(&mut self, field: &'static str, result: Result<T, ValueError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(FieldError {
                    field,
                    code: error.code(),
                    message: error.to_string(),
                });
                None
            }
        }
    }

    fn optional<T>(
        &mut self,
        field: &'static str,
        text: Option<&str>,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        let text = text.map(str::trim).filter(|text| !text.is_empty())?;
        self.value(field, parse(text))
    }

    fn text(&mut self, field: &'static str, text: Option<&str>, max: usize) -> Option<String> {
        let text = text.map(str::trim).filter(|text| !text.is_empty())?;
        let length = text.chars().count();
        if length > max {
            self.0.push(FieldError {
                field,
                code: "value.too_long",
                message: format!("at most {max} characters (got {length})"),
            });
            return None;
        }
        Some(text.to_owned())
    }

    fn category(&mut self, text: Option<&str>) -> Option<ClientCategory> {
        let text = text?;
        let parsed = ClientCategory::parse(text);
        if parsed.is_none() {
            self.0.push(FieldError {
                field: "category",
                code: "value.invalid_category",
                message: format!(
                    "`{text}` is not a category; expected new, returning, vip or special_attention"
                ),
            });
        }
        parsed
    }

    fn price(&mut self, price: Option<i64>) -> Option<i64> {
        let price = price?;
        if price < 0 {
            self.0.push(FieldError {
                field: "contract_price_cents",
                code: "value.negative_price",
                message: "a contract price cannot be negative".into(),
            });
            return None;
        }
        Some(price)
    }

    fn patch<T>(
        &mut self,
        input: Option<Option<T>>,
        parse: impl FnOnce(&mut Self, Option<T>) -> Option<T>,
    ) -> Patch<T>
    where
        T: Clone,
    {
        match input {
            None => Patch::Keep,
            Some(None) => Patch::Clear,
            Some(value) => match parse(self, value) {
                Some(parsed) => Patch::Set(parsed),
                // Blank text clears the field; a parse error was recorded by `parse`.
                None => Patch::Clear,
            },
        }
    }

    fn finish<T>(self, value: T) -> Result<T, InvalidFields> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(InvalidFields(self.0))
        }
    }
}

fn user_id(text: &str) -> Result<UserId, ValueError> {
    UserId::parse(text)
}

impl NewClient {
    pub fn parse(site_id: SiteId, input: ClientInput) -> Result<NewClient, InvalidFields> {
        let mut c = Collector::default();
        let full_name = c.value("full_name", PersonName::parse(&input.full_name));
        let client = NewClient {
            site_id,
            phone: c.optional("phone", input.phone.as_deref(), PhoneNumber::parse),
            email: c.optional("email", input.email.as_deref(), EmailAddress::parse),
            birth_date: c.optional("birth_date", input.birth_date.as_deref(), parse_date),
            expected_due_date: c.optional(
                "expected_due_date",
                input.expected_due_date.as_deref(),
                parse_date,
            ),
            language: c.text("language", input.language.as_deref(), MAX_SHORT_CHARS),
            diet: c.text("diet", input.diet.as_deref(), MAX_NOTE_CHARS),
            religion: c.text("religion", input.religion.as_deref(), MAX_SHORT_CHARS),
            allergies: c.text("allergies", input.allergies.as_deref(), MAX_NOTE_CHARS),
            health_notes: c.text(
                "health_notes",
                input.health_notes.as_deref(),
                MAX_NOTE_CHARS,
            ),
            source_channel: c.text(
                "source_channel",
                input.source_channel.as_deref(),
                MAX_SHORT_CHARS,
            ),
            category: c
                .category(input.category.as_deref())
                .unwrap_or(ClientCategory::New),
            consultant_id: c.optional("consultant_id", input.consultant_id.as_deref(), user_id),
            next_follow_up_on: c.optional(
                "next_follow_up_on",
                input.next_follow_up_on.as_deref(),
                parse_date,
            ),
            owner_id: c.optional("owner_id", input.owner_id.as_deref(), user_id),
            contract_package: c.text(
                "contract_package",
                input.contract_package.as_deref(),
                MAX_SHORT_CHARS,
            ),
            contract_price_cents: c.price(input.contract_price_cents),
            full_name: full_name.clone().unwrap_or_else(placeholder_name),
        };
        if matches!((client.birth_date, client.expected_due_date), (Some(birth), Some(due)) if due <= birth)
        {
            c.0.push(FieldError {
                field: "expected_due_date",
                code: "value.inconsistent_dates",
                message: "the expected due date must be after the birth date".into(),
            });
        }
        c.finish(client)
    }

    /// The fields this new client sets, for permission checks.
    pub fn fields(&self) -> Vec<ClientField> {
        let mut fields = vec![
            ClientField::FullName,
            ClientField::Category,
            ClientField::Status,
        ];
        let optional = [
            (self.phone.is_some(), ClientField::Phone),
            (self.email.is_some(), ClientField::Email),
            (self.birth_date.is_some(), ClientField::BirthDate),
            (
                self.expected_due_date.is_some(),
                ClientField::ExpectedDueDate,
            ),
            (self.language.is_some(), ClientField::Language),
            (self.diet.is_some(), ClientField::Diet),
            (self.religion.is_some(), ClientField::Religion),
            (self.allergies.is_some(), ClientField::Allergies),
            (self.health_notes.is_some(), ClientField::HealthNotes),
            (self.source_channel.is_some(), ClientField::SourceChannel),
            (self.consultant_id.is_some(), ClientField::ConsultantId),
            (
                self.next_follow_up_on.is_some(),
                ClientField::NextFollowUpOn,
            ),
            (self.owner_id.is_some(), ClientField::OwnerId),
            (
                self.contract_package.is_some(),
                ClientField::ContractPackage,
            ),
            (
                self.contract_price_cents.is_some(),
                ClientField::ContractPriceCents,
            ),
        ];
        fields.extend(
            optional
                .into_iter()
                .filter(|(set, _)| *set)
                .map(|(_, field)| field),
        );
        fields
    }

    /// The stored record for this new client: an inquiry, version 1.
    pub fn into_client(self, id: ClientId, now: DateTime<Utc>) -> Client {
        Client {
            id,
            site_id: self.site_id,
            full_name: self.full_name,
            phone: self.phone,
            email: self.email,
            birth_date: self.birth_date,
            expected_due_date: self.expected_due_date,
            language: self.language,
            diet: self.diet,
            religion: self.religion,
            allergies: self.allergies,
            health_notes: self.health_notes,
            source_channel: self.source_channel,
            category: self.category,
            consultant_id: self.consultant_id,
            status: ClientStatus::Inquiry,
            next_follow_up_on: self.next_follow_up_on,
            owner_id: self.owner_id,
            contract_package: self.contract_package,
            contract_price_cents: self.contract_price_cents,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Only used to finish building a value whose name failed to parse; the error is returned instead.
fn placeholder_name() -> PersonName {
    PersonName::parse("-").unwrap_or_else(|_| unreachable!("a one-character name is valid"))
}

impl ClientChanges {
    pub fn parse(input: ClientPatchInput) -> Result<ClientChanges, InvalidFields> {
        let mut c = Collector::default();
        let full_name = match input.full_name {
            None => None,
            Some(None) => {
                c.0.push(FieldError {
                    field: "full_name",
                    code: "value.required",
                    message: "a client must keep a name".into(),
                });
                None
            }
            Some(Some(text)) => c.value("full_name", PersonName::parse(&text)),
        };
        let changes = ClientChanges {
            full_name,
            phone: parse_patch(&mut c, input.phone, "phone", PhoneNumber::parse),
            email: parse_patch(&mut c, input.email, "email", EmailAddress::parse),
            birth_date: parse_patch(&mut c, input.birth_date, "birth_date", parse_date),
            expected_due_date: parse_patch(
                &mut c,
                input.expected_due_date,
                "expected_due_date",
                parse_date,
            ),
            language: text_patch(&mut c, input.language, "language", MAX_SHORT_CHARS),
            diet: text_patch(&mut c, input.diet, "diet", MAX_NOTE_CHARS),
            religion: text_patch(&mut c, input.religion, "religion", MAX_SHORT_CHARS),
            allergies: text_patch(&mut c, input.allergies, "allergies", MAX_NOTE_CHARS),
            health_notes: text_patch(&mut c, input.health_notes, "health_notes", MAX_NOTE_CHARS),
            source_channel: text_patch(
                &mut c,
                input.source_channel,
                "source_channel",
                MAX_SHORT_CHARS,
            ),
            category: match input.category {
                None => None,
                Some(text) => c.category(Some(text.as_deref().unwrap_or(""))),
            },
            consultant_id: parse_patch(&mut c, input.consultant_id, "consultant_id", user_id),
            next_follow_up_on: parse_patch(
                &mut c,
                input.next_follow_up_on,
                "next_follow_up_on",
                parse_date,
            ),
            owner_id: parse_patch(&mut c, input.owner_id, "owner_id", user_id),
            contract_package: text_patch(
                &mut c,
                input.contract_package,
                "contract_package",
                MAX_SHORT_CHARS,
            ),
            contract_price_cents: c.patch(input.contract_price_cents, |c, price| c.price(price)),
            expected_version: input.version,
        };
        c.finish(changes)
    }

    /// The fields this change touches, for permission checks.
    pub fn fields(&self) -> Vec<ClientField> {
        let touched = [
            (self.full_name.is_some(), ClientField::FullName),
            (!self.phone.is_keep(), ClientField::Phone),
            (!self.email.is_keep(), ClientField::Email),
            (!self.birth_date.is_keep(), ClientField::BirthDate),
            (
                !self.expected_due_date.is_keep(),
                ClientField::ExpectedDueDate,
            ),
            (!self.language.is_keep(), ClientField::Language),
            (!self.diet.is_keep(), ClientField::Diet),
            (!self.religion.is_keep(), ClientField::Religion),
            (!self.allergies.is_keep(), ClientField::Allergies),
            (!self.health_notes.is_keep(), ClientField::HealthNotes),
            (!self.source_channel.is_keep(), ClientField::SourceChannel),
            (self.category.is_some(), ClientField::Category),
            (!self.consultant_id.is_keep(), ClientField::ConsultantId),
            (
                !self.next_follow_up_on.is_keep(),
                ClientField::NextFollowUpOn,
            ),
            (!self.owner_id.is_keep(), ClientField::OwnerId),
            (
                !self.contract_package.is_keep(),
                ClientField::ContractPackage,
            ),
            (
                !self.contract_price_cents.is_keep(),
                ClientField::ContractPriceCents,
            ),
        ];
        touched
            .into_iter()
            .filter(|(touched, _)| *touched)
            .map(|(_, field)| field)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }
}

fn parse_patch<T: Clone>(
    c: &mut Collector,
    input: Option<Option<String>>,
    field: &'static str,
    parse: impl Fn(&str) -> Result<T, ValueError>,
) -> Patch<T> {
    match input {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(text)) if text.trim().is_empty() => Patch::Clear,
        Some(Some(text)) => c.value(field, parse(&text)).map_or(Patch::Keep, Patch::Set),
    }
}

fn text_patch(
    c: &mut Collector,
    input: Option<Option<String>>,
    field: &'static str,
    max: usize,
) -> Patch<String> {
    c.patch(input, |c, text| c.text(field, text.as_deref(), max))
}

fn show<T: ToString>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(ToString::to_string)
}

/// Applies one patch to one field, recording the change when the value really changes.
fn apply_patch<T: Clone + PartialEq + ToString>(
    slot: &mut Option<T>,
    patch: &Patch<T>,
    field: ClientField,
    changes: &mut Vec<FieldChange>,
) {
    let next = match patch {
        Patch::Keep => return,
        Patch::Clear => None,
        Patch::Set(value) => Some(value.clone()),
    };
    if *slot != next {
        changes.push(FieldChange::new(field, show(slot), show(&next)));
        *slot = next;
    }
}

impl FieldChange {
    fn new(field: ClientField, before: Option<String>, after: Option<String>) -> FieldChange {
        let redact = |value: Option<String>| {
            if field.is_sensitive() {
                value.map(|_| REDACTED.to_owned())
            } else {
                value
            }
        };
        FieldChange {
            field,
            before: redact(before),
            after: redact(after),
        }
    }
}

impl Client {
    /// Applies the changes and returns what actually changed (sensitive values redacted).
    /// The version and update time move only when something changed.
    pub fn apply(&mut self, changes: &ClientChanges, now: DateTime<Utc>) -> Vec<FieldChange> {
        let mut changed = Vec::new();
        if let Some(name) = changes
            .full_name
            .as_ref()
            .filter(|name| **name != self.full_name)
        {
            changed.push(FieldChange::new(
                ClientField::FullName,
                Some(self.full_name.to_string()),
                Some(name.to_string()),
            ));
            self.full_name = name.clone();
        }
        apply_patch(
            &mut self.phone,
            &changes.phone,
            ClientField::Phone,
            &mut changed,
        );
        apply_patch(
            &mut self.email,
            &changes.email,
            ClientField::Email,
            &mut changed,
        );
        apply_patch(
            &mut self.birth_date,
            &changes.birth_date,
            ClientField::BirthDate,
            &mut changed,
        );
        apply_patch(
            &mut self.expected_due_date,
            &changes.expected_due_date,
            ClientField::ExpectedDueDate,
            &mut changed,
        );
        apply_patch(
            &mut self.language,
            &changes.language,
            ClientField::Language,
            &mut changed,
        );
        apply_patch(
            &mut self.diet,
            &changes.diet,
            ClientField::Diet,
            &mut changed,
        );
        apply_patch(
            &mut self.religion,
            &changes.religion,
            ClientField::Religion,
            &mut changed,
        );
        apply_patch(
            &mut self.allergies,
            &changes.allergies,
            ClientField::Allergies,
            &mut changed,
        );
        apply_patch(
            &mut self.health_notes,
            &changes.health_notes,
            ClientField::HealthNotes,
            &mut changed,
        );
        apply_patch(
            &mut self.source_channel,
            &changes.source_channel,
            ClientField::SourceChannel,
            &mut changed,
        );
        if let Some(category) = changes
            .category
            .filter(|category| *category != self.category)
        {
            changed.push(FieldChange::new(
                ClientField::Category,
                Some(self.category.to_string()),
                Some(category.to_string()),
            ));
            self.category = category;
        }
        apply_patch(
            &mut self.consultant_id,
            &changes.consultant_id,
            ClientField::ConsultantId,
            &mut changed,
        );
        apply_patch(
            &mut self.next_follow_up_on,
            &changes.next_follow_up_on,
            ClientField::NextFollowUpOn,
            &mut changed,
        );
        apply_patch(
            &mut self.owner_id,
            &changes.owner_id,
            ClientField::OwnerId,
            &mut changed,
        );
        apply_patch(
            &mut self.contract_package,
            &changes.contract_package,
            ClientField::ContractPackage,
            &mut changed,
        );
        apply_patch(
            &mut self.contract_price_cents,
            &changes.contract_price_cents,
            ClientField::ContractPriceCents,
            &mut changed,
        );
        if !changed.is_empty() {
            self.version += 1;
            self.updated_at = now;
        }
        changed
    }

    /// Moves the client along its lifecycle, returning the change for the audit trail.
    pub fn move_to(
        &mut self,
        to: ClientStatus,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<FieldChange, crate::lifecycle::LifecycleError> {
        crate::lifecycle::transition(self.status, to, reason)?;
        let change = FieldChange::new(
            ClientField::Status,
            Some(self.status.to_string()),
            Some(to.to_string()),
        );
        self.status = to;
        self.version += 1;
        self.updated_at = now;
        Ok(change)
    }
}
