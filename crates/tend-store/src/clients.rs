//! Client use cases: register, read (auditing sensitive reads), list and search, edit with
//! optimistic concurrency, and move along the lifecycle.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use tend_audit::AuditRecord;
use tend_clients::access::{self, ClientAction};
use tend_clients::{
    duplicate_reason, Client, ClientCategory, ClientChanges, ClientField, ClientInput,
    ClientPatchInput, ClientStatus, ClientView, DuplicateReason, FieldChange, NewClient,
};
use tend_core::{Actor, ClientId, EmailAddress, PersonName, PhoneNumber, SiteId, UserId};

use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::{InvalidField, StoreError};
use crate::map::{from_db_time, parse_column, parse_optional, to_db_time};
use crate::schema::{client_transitions, clients};
use crate::sites::load_site;
use crate::{offset, paging, Page, Store};

/// Listing filters. Text is raw input; the store checks it. Pages count from 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientQuery {
    /// Required for chain-wide users only when they want one site; site-scoped users always get
    /// their own site.
    pub site_id: Option<SiteId>,
    /// Part of the name (any case) or of the phone number.
    pub search: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub type ClientPage = Page<ClientView>;

/// An existing client that may be the person just registered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PossibleDuplicate {
    pub client_id: ClientId,
    pub full_name: PersonName,
    pub reason: DuplicateReason,
}

/// A registered client, with the records it may duplicate (a warning, not a refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedClient {
    pub client: ClientView,
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

/// One step of a client's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientTransition {
    pub client_id: ClientId,
    pub from: ClientStatus,
    pub to: ClientStatus,
    pub actor_id: UserId,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// The step taken and the client after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionOutcome {
    pub transition: ClientTransition,
    pub client: ClientView,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientRow {
    id: String,
    site_id: String,
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    birth_date: Option<NaiveDate>,
    expected_due_date: Option<NaiveDate>,
    language: Option<String>,
    diet: Option<String>,
    religion: Option<String>,
    allergies: Option<String>,
    health_notes: Option<String>,
    source_channel: Option<String>,
    category: String,
    consultant_id: Option<String>,
    status: String,
    next_follow_up_on: Option<NaiveDate>,
    owner_id: Option<String>,
    contract_package: Option<String>,
    contract_price_cents: Option<i64>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ClientRow {
    fn from_client(client: &Client) -> ClientRow {
        ClientRow {
            id: client.id.to_string(),
            site_id: client.site_id.to_string(),
            full_name: client.full_name.as_str().to_owned(),
            phone: client.phone.as_ref().map(|phone| phone.as_str().to_owned()),
            email: client.email.as_ref().map(|email| email.as_str().to_owned()),
            birth_date: client.birth_date,
            expected_due_date: client.expected_due_date,
            language: client.language.clone(),
            diet: client.diet.clone(),
            religion: client.religion.clone(),
            allergies: client.allergies.clone(),
            health_notes: client.health_notes.clone(),
            source_channel: client.source_channel.clone(),
            category: client.category.as_str().to_owned(),
            consultant_id: client.consultant_id.map(|id| id.to_string()),
            status: client.status.as_str().to_owned(),
            next_follow_up_on: client.next_follow_up_on,
            owner_id: client.owner_id.map(|id| id.to_string()),
            contract_package: client.contract_package.clone(),
            contract_price_cents: client.contract_price_cents,
            version: client.version,
            created_at: to_db_time(client.created_at),
            updated_at: to_db_time(client.updated_at),
        }
    }

    fn into_client(self) -> Result<Client, StoreError> {
        Ok(Client {
            id: parse_column("clients.id", &self.id, ClientId::parse)?,
            site_id: parse_column("clients.site_id", &self.site_id, SiteId::parse)?,
            full_name: parse_column("clients.full_name", &self.full_name, PersonName::parse)?,
            phone: parse_optional("clients.phone", self.phone.as_deref(), PhoneNumber::parse)?,
            email: parse_optional("clients.email", self.email.as_deref(), EmailAddress::parse)?,
            birth_date: self.birth_date,
            expected_due_date: self.expected_due_date,
            language: self.language,
            diet: self.diet,
            religion: self.religion,
            allergies: self.allergies,
            health_notes: self.health_notes,
            source_channel: self.source_channel,
            category: parse_column("clients.category", &self.category, |text| {
                ClientCategory::parse(text).ok_or("unknown category")
            })?,
            consultant_id: parse_optional(
                "clients.consultant_id",
                self.consultant_id.as_deref(),
                UserId::parse,
            )?,
            status: parse_column("clients.status", &self.status, ClientStatus::parse)?,
            next_follow_up_on: self.next_follow_up_on,
            owner_id: parse_optional("clients.owner_id", self.owner_id.as_deref(), UserId::parse)?,
            contract_package: self.contract_package,
            contract_price_cents: self.contract_price_cents,
            version: self.version,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = client_transitions)]
struct TransitionRow {
    id: String,
    client_id: String,
    from_status: String,
    to_status: String,
    actor_id: String,
    at: NaiveDateTime,
    reason: Option<String>,
}

impl TransitionRow {
    fn into_transition(self) -> Result<ClientTransition, StoreError> {
        Ok(ClientTransition {
            client_id: parse_column(
                "client_transitions.client_id",
                &self.client_id,
                ClientId::parse,
            )?,
            from: parse_column(
                "client_transitions.from_status",
                &self.from_status,
                ClientStatus::parse,
            )?,
            to: parse_column(
                "client_transitions.to_status",
                &self.to_status,
                ClientStatus::parse,
            )?,
            actor_id: parse_column("client_transitions.actor_id", &self.actor_id, UserId::parse)?,
            at: from_db_time(self.at),
            reason: self.reason,
        })
    }
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

fn load_client(connection: &mut AnyConnection, id: ClientId) -> Result<Client, StoreError> {
    clients::table
        .find(id.to_string())
        .select(ClientRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(StoreError::ClientNotFound)?
        .into_client()
}

/// Loads a client the actor may act on; another site's client is "not found", never "forbidden".
fn load_authorized(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: ClientId,
    action: ClientAction<'_>,
) -> Result<Client, StoreError> {
    let client = load_client(connection, id)?;
    if !actor.can_access_site(client.site_id) {
        return Err(StoreError::ClientNotFound);
    }
    access::authorize(actor, action, client.site_id)?;
    Ok(client)
}

/// Writes the client back if nobody changed it since `read_version`.
fn save_if_unchanged(
    connection: &mut AnyConnection,
    client: &Client,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = diesel::update(
        clients::table
            .filter(clients::id.eq(client.id.to_string()))
            .filter(clients::version.eq(read_version)),
    )
    .set(ClientRow::from_client(client))
    .execute(connection)?;
    if updated == 0 {
        let actual = clients::table
            .find(client.id.to_string())
            .select(clients::version)
            .first::<i64>(connection)
            .optional()?
            .ok_or(StoreError::ClientNotFound)?;
        return Err(StoreError::VersionConflict {
            expected: read_version,
            actual,
        });
    }
    Ok(())
}

/// The audit form of a list of field changes: `{"field": {"before": …, "after": …}}`.
fn changes_json(changes: &[FieldChange]) -> serde_json::Value {
    let map = changes
        .iter()
        .map(|change| {
            (
                change.field.as_str().to_owned(),
                serde_json::json!({ "before": change.before, "after": change.after }),
            )
        })
        .collect::<serde_json::Map<_, _>>();
    serde_json::Value::Object(map)
}

/// A field's value as audit text; sensitive values are never written to the trail.
fn audit_value(client: &Client, field: ClientField) -> Option<String> {
    use ClientField::*;
    let value = match field {
        FullName => Some(client.full_name.to_string()),
        Phone => client.phone.as_ref().map(ToString::to_string),
        Email => client.email.as_ref().map(ToString::to_string),
        BirthDate => client.birth_date.map(|date| date.to_string()),
        ExpectedDueDate => client.expected_due_date.map(|date| date.to_string()),
        Language => client.language.clone(),
        Diet => client.diet.clone(),
        Religion => client.religion.clone(),
        Allergies => client.allergies.clone(),
        HealthNotes => client.health_notes.clone(),
        SourceChannel => client.source_channel.clone(),
        Category => Some(client.category.to_string()),
        ConsultantId => client.consultant_id.map(|id| id.to_string()),
        Status => Some(client.status.to_string()),
        NextFollowUpOn => client.next_follow_up_on.map(|date| date.to_string()),
        OwnerId => client.owner_id.map(|id| id.to_string()),
        ContractPackage => client.contract_package.clone(),
        ContractPriceCents => client.contract_price_cents.map(|cents| cents.to_string()),
    };
    if field.is_sensitive() {
        value.map(|_| "[redacted]".to_owned())
    } else {
        value
    }
}

/// A client as shown in a listing: like [`access::view_for`], but sensitive fields are always
/// hidden, because reading them must be audited and a listing reads many clients at once. Opening
/// the client shows them (and writes `client.sensitive_read`).
fn listing_view(actor: &Actor, client: &Client) -> ClientView {
    let mut view = access::view_for(actor.role, client);
    for field in [ClientField::Allergies, ClientField::HealthNotes] {
        if !view.hidden_fields.contains(&field) {
            view.hidden_fields.push(field);
        }
    }
    view.client.allergies = None;
    view.client.health_notes = None;
    view
}

/// Keeps only digits: phone numbers are stored normalised, searches are typed loosely.
fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Escapes LIKE wildcards so a search for `50%` means the text `50%`.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn invalid(field: &str, code: &str, message: String) -> InvalidField {
    InvalidField {
        field: field.into(),
        code: code.into(),
        message,
    }
}

impl Store {
    /// Registers a client at `site_id`. Possible duplicates at the same site are returned as a
    /// warning; the client is registered anyway.
    pub fn create_client(
        &self,
        actor: &Actor,
        site_id: SiteId,
        input: ClientInput,
    ) -> Result<CreatedClient, StoreError> {
        if !actor.can_access_site(site_id) {
            return Err(StoreError::SiteNotFound);
        }
        let new_client = NewClient::parse(site_id, input)?;
        access::authorize(actor, ClientAction::Create(&new_client), site_id)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            let mut candidates = clients::table
                .filter(clients::site_id.eq(site_id.to_string()))
                .select(ClientRow::as_select())
                .into_boxed();
            let same_name =
                lower(clients::full_name).eq(new_client.full_name.as_str().to_lowercase());
            candidates = match &new_client.phone {
                Some(phone) => {
                    candidates.filter(same_name.or(clients::phone.eq(phone.as_str().to_owned())))
                }
                None => candidates.filter(same_name),
            };
            let possible_duplicates = candidates
                .limit(20)
                .load(connection)?
                .into_iter()
                .map(ClientRow::into_client)
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter_map(|existing| {
                    duplicate_reason(&new_client, &existing).map(|reason| PossibleDuplicate {
                        client_id: existing.id,
                        full_name: existing.full_name,
                        reason,
                    })
                })
                .collect::<Vec<_>>();
            let fields = new_client.fields();
            let client = new_client.clone().into_client(ClientId::new(), now);
            diesel::insert_into(clients::table)
                .values(ClientRow::from_client(&client))
                .execute(connection)?;
            let mut changes = serde_json::Map::new();
            for field in fields
                .into_iter()
                .chain([ClientField::Status, ClientField::Category])
            {
                changes.insert(
                    field.as_str().to_owned(),
                    serde_json::json!({ "before": null, "after": audit_value(&client, field) }),
                );
            }
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "client.created",
                    "client",
                    client.id,
                    serde_json::Value::Object(changes),
                ),
                now,
            )?;
            Ok(CreatedClient {
                client: access::view_for(actor.role, &client),
                possible_duplicates,
            })
        })
    }

    /// One client as the actor's role may see it. Opening sensitive fields (allergies, health
    /// notes) is itself written to the audit trail.
    pub fn get_client(&self, actor: &Actor, id: ClientId) -> Result<ClientView, StoreError> {
        let mut connection = self.connection()?;
        let client = load_authorized(&mut connection, actor, id, ClientAction::Read)?;
        let sensitive = access::sensitive_fields_read(actor.role, &client);
        if !sensitive.is_empty() {
            let now = self.now();
            write_transaction(&mut connection, |connection| {
                audit::append(
                    connection,
                    AuditRecord::success(
                        Some(actor.user_id),
                        Some(client.site_id),
                        "client.sensitive_read",
                        "client",
                        client.id,
                        serde_json::json!({ "fields": sensitive }),
                    ),
                    now,
                )
            })?;
        }
        Ok(access::view_for(actor.role, &client))
    }

    /// Clients matching the query, newest first, as the actor's role may see them.
    pub fn list_clients(
        &self,
        actor: &Actor,
        query: ClientQuery,
    ) -> Result<ClientPage, StoreError> {
        let (page, per_page) = paging(query.page, query.per_page)?;
        let mut problems = Vec::new();
        let status = match query.status.as_deref().map(ClientStatus::parse).transpose() {
            Ok(status) => status,
            Err(error) => {
                problems.push(invalid(
                    "status",
                    "client.unknown_status",
                    error.to_string(),
                ));
                None
            }
        };
        let category = match query.category.as_deref() {
            Some(text) => match ClientCategory::parse(text) {
                Some(category) => Some(category),
                None => {
                    problems.push(invalid(
                        "category",
                        "client.unknown_category",
                        format!("unknown category `{text}`; expected new, returning, vip or special_attention"),
                    ));
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(StoreError::InvalidInput(problems));
        }
        let site = match (actor.home_site(), query.site_id) {
            (Some(home), Some(asked)) if home != asked => return Err(StoreError::SiteNotFound),
            (Some(home), _) => Some(home),
            (None, asked) => asked,
        };
        if let Some(site) = site {
            access::authorize(actor, ClientAction::List, site)?;
        }
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| (like_pattern(&text.to_lowercase()), digits_of(text)));
        let filtered = || {
            let mut select = clients::table.into_boxed();
            if let Some(site) = site {
                select = select.filter(clients::site_id.eq(site.to_string()));
            }
            if let Some(status) = status {
                select = select.filter(clients::status.eq(status.as_str()));
            }
            if let Some(category) = category {
                select = select.filter(clients::category.eq(category.as_str()));
            }
            if let Some((name_pattern, digits)) = &search {
                let name_matches = lower(clients::full_name)
                    .like(name_pattern.clone())
                    .escape('\\');
                select = if digits.len() >= 3 {
                    select.filter(name_matches.or(clients::phone.like(format!("%{digits}%"))))
                } else {
                    select.filter(name_matches)
                };
            }
            select
        };
        let mut connection = self.connection()?;
        let total: i64 = filtered().count().get_result(&mut *connection)?;
        let rows: Vec<ClientRow> = filtered()
            .select(ClientRow::as_select())
            .order((clients::created_at.desc(), clients::id.desc()))
            .limit(i64::from(per_page))
            .offset(offset(page, per_page))
            .load(&mut *connection)?;
        let items = rows
            .into_iter()
            .map(|row| row.into_client().map(|client| listing_view(actor, &client)))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Edits a client. `if_match` (or the patch's own `version`) is the version the editor saw: a
    /// stale one is refused with a version conflict, so concurrent edits never overwrite each
    /// other silently. Without a version, the edit applies to the version read in the same
    /// transaction.
    pub fn update_client(
        &self,
        actor: &Actor,
        id: ClientId,
        patch: ClientPatchInput,
        if_match: Option<i64>,
    ) -> Result<ClientView, StoreError> {
        let changes = ClientChanges::parse(patch)?;
        let expected_version = if_match.or(changes.expected_version);
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let mut client =
                load_authorized(connection, actor, id, ClientAction::Update(&changes))?;
            if let Some(expected) = expected_version {
                if expected != client.version {
                    return Err(StoreError::VersionConflict {
                        expected,
                        actual: client.version,
                    });
                }
            }
            let read_version = client.version;
            let changed = client.apply(&changes, now);
            if changed.is_empty() {
                return Ok(access::view_for(actor.role, &client));
            }
            save_if_unchanged(connection, &client, read_version)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(client.site_id),
                    "client.updated",
                    "client",
                    client.id,
                    changes_json(&changed),
                ),
                now,
            )?;
            Ok(access::view_for(actor.role, &client))
        })
    }

    /// Moves a client along the lifecycle (`to` is a status such as `checked_in`).
    pub fn transition_client(
        &self,
        actor: &Actor,
        id: ClientId,
        to: &str,
        reason: Option<&str>,
        expected_version: Option<i64>,
    ) -> Result<TransitionOutcome, StoreError> {
        let to = ClientStatus::parse(to).map_err(|error| {
            StoreError::invalid("to", "client.unknown_status", error.to_string())
        })?;
        let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
        if reason.is_some_and(|reason| reason.chars().count() > 2000) {
            return Err(StoreError::invalid(
                "reason",
                "value.too_long",
                "a reason has at most 2000 characters",
            ));
        }
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let mut client = load_authorized(connection, actor, id, ClientAction::Transition(to))?;
            if let Some(expected) = expected_version {
                if expected != client.version {
                    return Err(StoreError::VersionConflict {
                        expected,
                        actual: client.version,
                    });
                }
            }
            let read_version = client.version;
            let from = client.status;
            let change = client.move_to(to, reason, now)?;
            save_if_unchanged(connection, &client, read_version)?;
            let transition = ClientTransition {
                client_id: client.id,
                from,
                to,
                actor_id: actor.user_id,
                at: now,
                reason: reason.map(str::to_owned),
            };
            diesel::insert_into(client_transitions::table)
                .values(TransitionRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    client_id: client.id.to_string(),
                    from_status: from.as_str().to_owned(),
                    to_status: to.as_str().to_owned(),
                    actor_id: actor.user_id.to_string(),
                    at: to_db_time(now),
                    reason: transition.reason.clone(),
                })
                .execute(connection)?;
            let mut changes = changes_json(&[change]);
            if let (Some(reason), serde_json::Value::Object(map)) = (reason, &mut changes) {
                map.insert(
                    "reason".into(),
                    serde_json::json!({ "before": null, "after": reason }),
                );
            }
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(client.site_id),
                    "client.status_changed",
                    "client",
                    client.id,
                    changes,
                ),
                now,
            )?;
            Ok(TransitionOutcome {
                transition,
                client: access::view_for(actor.role, &client),
            })
        })
    }

    /// A client's lifecycle history, oldest first.
    pub fn list_transitions(
        &self,
        actor: &Actor,
        id: ClientId,
    ) -> Result<Vec<ClientTransition>, StoreError> {
        let mut connection = self.connection()?;
        load_authorized(&mut connection, actor, id, ClientAction::Read)?;
        client_transitions::table
            .filter(client_transitions::client_id.eq(id.to_string()))
            .select(TransitionRow::as_select())
            .order((client_transitions::at.asc(), client_transitions::id.asc()))
            .load(&mut *connection)?
            .into_iter()
            .map(TransitionRow::into_transition)
            .collect()
    }
}
