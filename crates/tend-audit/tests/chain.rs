#![allow(clippy::unwrap_used)]
//! The hash chain detects every kind of tampering and accepts every honest trail.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;
use tend_audit::*;
use tend_core::{AuditEventId, SiteId, UserId};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123456789Z")
        .unwrap()
        .to_utc()
}

fn trail(length: usize) -> Vec<AuditEvent> {
    let actor = UserId::new();
    let site = SiteId::new();
    let mut events: Vec<AuditEvent> = Vec::new();
    for index in 0..length {
        let record = AuditRecord::success(
            Some(actor),
            Some(site),
            "client.updated",
            "client",
            format!("client-{index}"),
            json!({"diet": {"before": "none", "after": format!("menu {index}")}}),
        );
        let event = seal(
            events.last().map(AuditEvent::head).as_ref(),
            record,
            AuditEventId::new(),
            start() + Duration::seconds(index as i64),
        );
        events.push(event);
    }
    events
}

#[test]
fn an_honest_trail_verifies() {
    let events = trail(5);
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert_eq!(events[4].seq, 5);
    let summary = verify(&events).unwrap();
    assert_eq!(summary.events, 5);
    assert_eq!(summary.head.unwrap().hash, events[4].hash);
    assert_eq!(verify(&[]).unwrap().events, 0);
}

#[test]
fn instants_are_sealed_at_microsecond_precision() {
    let events = trail(1);
    assert_eq!(events[0].at.timestamp_subsec_nanos(), 123_456_000);
}

#[test]
fn an_edited_event_is_found() {
    let mut events = trail(5);
    events[2].record.changes = json!({"diet": {"before": "none", "after": "forged"}});
    let broken = verify(&events).unwrap_err();
    assert_eq!(
        (broken.seq, &broken.problem),
        (3, &BreakKind::ContentChanged)
    );
    assert!(broken.to_string().contains("#3"));

    // Re-hashing the edited event does not help: the next event's link gives it away.
    let mut events = trail(5);
    events[2].record.actor_id = None;
    events[2].hash = events[2].expected_hash();
    let broken = verify(&events).unwrap_err();
    assert_eq!(broken.seq, 4);
    assert!(matches!(broken.problem, BreakKind::LinkBroken { .. }));
}

#[test]
fn a_deleted_event_is_found() {
    let mut events = trail(5);
    events.remove(1);
    let broken = verify(&events).unwrap_err();
    assert_eq!(broken.seq, 3);
    assert!(matches!(broken.problem, BreakKind::LinkBroken { .. }));

    // Deleting the first event breaks the link to the genesis.
    let mut events = trail(3);
    events.remove(0);
    assert_eq!(verify(&events).unwrap_err().seq, 2);
}

#[test]
fn reordered_events_are_found() {
    let mut events = trail(5);
    events.swap(1, 3);
    let broken = verify(&events).unwrap_err();
    assert_eq!(broken.seq, 4, "the first event out of place is reported");
}

#[test]
fn renumbering_is_found() {
    let mut events = trail(3);
    events[2].seq = 7;
    assert_eq!(
        verify(&events).unwrap_err().problem,
        BreakKind::ContentChanged
    );
}

#[test]
fn the_hash_does_not_depend_on_json_key_order() {
    let events = trail(1);
    let mut reordered = events[0].clone();
    // A database may hand back the same JSON object with its keys in another order.
    reordered.record.changes =
        serde_json::from_str(r#"{"diet": {"after": "menu 0", "before": "none"}}"#).unwrap();
    assert_eq!(reordered.expected_hash(), events[0].hash);
}

proptest! {
    /// Changing any single event anywhere in a trail is detected at or before that event.
    #[test]
    fn any_single_edit_is_detected(length in 1usize..12, victim in 0usize..12, what in 0u8..5) {
        let mut events = trail(length);
        let victim = victim % length;
        let event = &mut events[victim];
        match what {
            0 => event.record.action.push('!'),
            1 => event.record.entity_id.push('x'),
            2 => event.at += Duration::microseconds(1),
            3 => event.record.outcome = Outcome::Failure,
            _ => event.record.site_id = None,
        }
        let broken = verify(&events).unwrap_err();
        prop_assert_eq!(broken.seq, victim as i64 + 1);
    }

    /// Events survive a JSON round trip with their hash intact.
    #[test]
    fn events_round_trip_through_json(length in 1usize..6) {
        let events = trail(length);
        let text = serde_json::to_string(&events).unwrap();
        let back: Vec<AuditEvent> = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &events);
        prop_assert!(verify(&back).is_ok());
    }
}
