//! The audit trail's vocabulary and its tamper evidence.
//!
//! Every state change in Tend writes an [`AuditEvent`] in the same transaction as the change.
//! Events are numbered without gaps and each one carries the SHA-256 of its own canonical form
//! chained to the previous event's hash, so editing, deleting or reordering any stored event is
//! detected by [`ChainVerifier`]. No IO here: the store appends and streams events.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tend_core::{AuditEventId, SiteId, UserId};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whether the recorded action took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// An attempt that was refused, recorded because the attempt itself matters (failed logins).
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        match text {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// What a use case wants recorded: who did what to which entity, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// `None` for the system itself (first start, migrations) or an unknown caller.
    pub actor_id: Option<UserId>,
    pub site_id: Option<SiteId>,
    /// Dotted action name, e.g. `client.created`, `client.transitioned`, `client.sensitive_read`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Changed fields as `{"field": {"before": .., "after": ..}}`, or other facts of the action.
    pub changes: Value,
    pub outcome: Outcome,
}

impl AuditRecord {
    /// A successful action by `actor_id` on one entity.
    pub fn success(
        actor_id: Option<UserId>,
        site_id: Option<SiteId>,
        action: &str,
        entity_type: &str,
        entity_id: impl ToString,
        changes: Value,
    ) -> AuditRecord {
        AuditRecord {
            actor_id,
            site_id,
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_string(),
            changes,
            outcome: Outcome::Success,
        }
    }
}

/// One sealed event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    /// 1, 2, 3, … without gaps.
    pub seq: i64,
    /// Microsecond precision, so the instant survives every database round trip unchanged.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// The last event of a chain: what the next event links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl AuditEvent {
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// The hash this event should carry, recomputed from its content and its `prev_hash`.
    pub fn expected_hash(&self) -> String {
        hash_of(self.id, self.seq, self.at, &self.record, &self.prev_hash)
    }
}

/// Seals `record` as the event after `previous` (`None` for the first event).
pub fn seal(
    previous: Option<&ChainHead>,
    record: AuditRecord,
    id: AuditEventId,
    at: DateTime<Utc>,
) -> AuditEvent {
    let at = at.trunc_subsecs(6);
    let (seq, prev_hash) = match previous {
        Some(head) => (head.seq + 1, head.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let hash = hash_of(id, seq, at, &record, &prev_hash);
    AuditEvent {
        id,
        seq,
        at,
        record,
        prev_hash,
        hash,
    }
}

fn hash_of(
    id: AuditEventId,
    seq: i64,
    at: DateTime<Utc>,
    record: &AuditRecord,
    prev_hash: &str,
) -> String {
    let mut canonical = String::with_capacity(256);
    // A fixed field order and a key-sorted rendering of `changes`, so the hash does not depend
    // on how a database stores JSON (PostgreSQL's jsonb reorders keys).
    let fields: [(&str, String); 10] = [
        ("prev_hash", prev_hash.to_owned()),
        ("seq", seq.to_string()),
        ("id", id.to_string()),
        ("at", at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
        (
            "actor_id",
            record.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        ),
        (
            "site_id",
            record.site_id.map(|id| id.to_string()).unwrap_or_default(),
        ),
        ("action", record.action.clone()),
        (
            "entity",
            format!("{}/{}", record.entity_type, record.entity_id),
        ),
        ("outcome", record.outcome.as_str().to_owned()),
        ("changes", canonical_json(&record.changes)),
    ];
    for (name, value) in fields {
        canonical.push_str(name);
        canonical.push('=');
        // Length-prefixed, so no value can imitate a field boundary.
        canonical.push_str(&value.len().to_string());
        canonical.push(':');
        canonical.push_str(&value);
        canonical.push('\n');
    }
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// JSON with object keys sorted at every level.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::String(key.clone()),
                        canonical_json(&map[key])
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// What is wrong at the first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The event's content no longer matches its hash: it was edited.
    ContentChanged,
    /// The event does not link to the event before it: one was removed, inserted or moved.
    LinkBroken { expected_prev_hash: String },
    /// The sequence skips or repeats numbers: events were removed or reordered.
    SequenceGap { expected_seq: i64 },
}

/// The first event at which the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ChainBreak {
    pub seq: i64,
    pub event_id: AuditEventId,
    pub problem: BreakKind,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audit chain broken at event #{} ({}): ",
            self.seq, self.event_id
        )?;
        match &self.problem {
            BreakKind::ContentChanged => write!(f, "its content does not match its hash (edited)"),
            BreakKind::LinkBroken { .. } => write!(
                f,
                "it does not link to the event before it (an event was deleted, inserted or moved)"
            ),
            BreakKind::SequenceGap { expected_seq } => write!(
                f,
                "expected event #{expected_seq} here (events were deleted or reordered)"
            ),
        }
    }
}

/// The result of walking an intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    pub events: u64,
    pub head: Option<ChainHead>,
}

/// Walks a chain in storage order, one event at a time, so a long trail can be streamed.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    head: Option<ChainHead>,
    events: u64,
}

impl ChainVerifier {
    pub fn new() -> ChainVerifier {
        ChainVerifier::default()
    }

    /// Checks the next event in storage order.
    pub fn push(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        let broken = |problem| ChainBreak {
            seq: event.seq,
            event_id: event.id,
            problem,
        };
        let (expected_seq, expected_prev) = match &self.head {
            Some(head) => (head.seq + 1, head.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        if event.expected_hash() != event.hash {
            return Err(broken(BreakKind::ContentChanged));
        }
        if event.prev_hash != expected_prev {
            return Err(broken(BreakKind::LinkBroken {
                expected_prev_hash: expected_prev.to_owned(),
            }));
        }
        if event.seq != expected_seq {
            return Err(broken(BreakKind::SequenceGap { expected_seq }));
        }
        self.head = Some(event.head());
        self.events += 1;
        Ok(())
    }

    pub fn finish(self) -> ChainSummary {
        ChainSummary {
            events: self.events,
            head: self.head,
        }
    }
}

/// Verifies a whole chain held in memory.
pub fn verify<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
) -> Result<ChainSummary, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for event in events {
        verifier.push(event)?;
    }
    Ok(verifier.finish())
}
