//! The audit trail: appending sealed events inside the caller's transaction, listing them, and
//! verifying the hash chain by streaming every event in sequence order.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tend_audit::{AuditEvent, AuditRecord, ChainBreak, ChainHead, ChainSummary, ChainVerifier};
use tend_core::{Actor, AuditEventId, Role, SiteId, SiteScope, UserId};

use crate::connection::{lock_audit_chain, AnyConnection};
use crate::error::StoreError;
use crate::map::{from_db_time, parse_column, parse_optional, to_db_time};
use crate::schema::audit_events;
use crate::{offset, paging, Page, Store};

/// Filters for the audit listing. Every filter is optional; pages count from 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub type AuditPage = Page<AuditEvent>;

/// How many events the verifier reads per query: bounded memory for any trail length.
const VERIFY_BATCH: i64 = 500;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct AuditEventRow {
    id: String,
    seq: i64,
    at: NaiveDateTime,
    actor_id: Option<String>,
    site_id: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    changes: String,
    outcome: String,
    prev_hash: String,
    hash: String,
}

impl AuditEventRow {
    fn from_event(event: &AuditEvent) -> AuditEventRow {
        AuditEventRow {
            id: event.id.to_string(),
            seq: event.seq,
            at: to_db_time(event.at),
            actor_id: event.record.actor_id.map(|id| id.to_string()),
            site_id: event.record.site_id.map(|id| id.to_string()),
            action: event.record.action.clone(),
            entity_type: event.record.entity_type.clone(),
            entity_id: event.record.entity_id.clone(),
            changes: event.record.changes.to_string(),
            outcome: event.record.outcome.as_str().to_owned(),
            prev_hash: event.prev_hash.clone(),
            hash: event.hash.clone(),
        }
    }

    fn into_event(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: parse_column("audit_events.id", &self.id, AuditEventId::parse)?,
            seq: self.seq,
            at: from_db_time(self.at),
            record: AuditRecord {
                actor_id: parse_optional(
                    "audit_events.actor_id",
                    self.actor_id.as_deref(),
                    UserId::parse,
                )?,
                site_id: parse_optional(
                    "audit_events.site_id",
                    self.site_id.as_deref(),
                    SiteId::parse,
                )?,
                action: self.action,
                entity_type: self.entity_type,
                entity_id: self.entity_id,
                changes: parse_column("audit_events.changes", &self.changes, |text| {
                    serde_json::from_str(text)
                })?,
                outcome: parse_column("audit_events.outcome", &self.outcome, |text| {
                    tend_audit::Outcome::parse(text).ok_or("unknown outcome")
                })?,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Seals `record` onto the chain and stores it, inside the caller's write transaction, so the
/// event commits or rolls back with the change it describes.
pub(crate) fn append(
    connection: &mut AnyConnection,
    record: AuditRecord,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<AuditEvent, StoreError> {
    lock_audit_chain(connection)?;
    let head = audit_events::table
        .select((audit_events::seq, audit_events::hash))
        .order(audit_events::seq.desc())
        .first::<(i64, String)>(connection)
        .optional()?
        .map(|(seq, hash)| ChainHead { seq, hash });
    let event = tend_audit::seal(head.as_ref(), record, AuditEventId::new(), at);
    diesel::insert_into(audit_events::table)
        .values(AuditEventRow::from_event(&event))
        .execute(connection)?;
    Ok(event)
}

impl Store {
    /// Audit events, newest first. Administrators see every site; store managers see the events
    /// of their own site; nobody else reads the trail.
    pub fn list_audit(&self, actor: &Actor, query: AuditQuery) -> Result<AuditPage, StoreError> {
        if !actor.role.manages_site() {
            return Err(StoreError::Forbidden(format!(
                "a {} may not read the audit trail",
                actor.role
            )));
        }
        let (page, per_page) = paging(query.page, query.per_page)?;
        let site_filter = match (actor.role, actor.scope) {
            (Role::Admin, _) | (_, SiteScope::AllSites) => None,
            (_, SiteScope::Site(site)) => Some(site.to_string()),
        };
        let filtered = || {
            let mut select = audit_events::table.into_boxed();
            if let Some(site) = &site_filter {
                select = select.filter(audit_events::site_id.eq(site.clone()));
            }
            if let Some(entity_type) = &query.entity_type {
                select = select.filter(audit_events::entity_type.eq(entity_type.clone()));
            }
            if let Some(entity_id) = &query.entity_id {
                select = select.filter(audit_events::entity_id.eq(entity_id.clone()));
            }
            if let Some(action) = &query.action {
                select = select.filter(audit_events::action.eq(action.clone()));
            }
            select
        };
        let mut connection = self.connection()?;
        let total: i64 = filtered().count().get_result(&mut *connection)?;
        let rows: Vec<AuditEventRow> = filtered()
            .select(AuditEventRow::as_select())
            .order(audit_events::seq.desc())
            .limit(i64::from(per_page))
            .offset(offset(page, per_page))
            .load(&mut *connection)?;
        let items = rows
            .into_iter()
            .map(AuditEventRow::into_event)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Walks the whole trail in sequence order, in batches, and checks every link of the hash
    /// chain. A break is reported as [`StoreError::AuditChainBroken`] naming the first bad event.
    pub fn verify_audit_chain(&self) -> Result<ChainSummary, StoreError> {
        let mut connection = self.connection()?;
        let mut verifier = ChainVerifier::new();
        let mut after_seq = i64::MIN;
        loop {
            let rows: Vec<AuditEventRow> = audit_events::table
                .select(AuditEventRow::as_select())
                .filter(audit_events::seq.gt(after_seq))
                .order(audit_events::seq.asc())
                .limit(VERIFY_BATCH)
                .load(&mut *connection)?;
            let Some(last) = rows.last() else { break };
            after_seq = last.seq;
            let batch_len = rows.len();
            for row in rows {
                let (seq, id) = (row.seq, row.id.clone());
                let event = match row.into_event() {
                    Ok(event) => event,
                    // A row that no longer parses was edited: the chain is broken there.
                    Err(_) => {
                        return Err(StoreError::AuditChainBroken(ChainBreak {
                            seq,
                            event_id: AuditEventId::parse(&id).unwrap_or_default(),
                            problem: tend_audit::BreakKind::ContentChanged,
                        }))
                    }
                };
                verifier
                    .push(&event)
                    .map_err(StoreError::AuditChainBroken)?;
            }
            if i64::try_from(batch_len).unwrap_or(i64::MAX) < VERIFY_BATCH {
                break;
            }
        }
        Ok(verifier.finish())
    }
}
