#![allow(clippy::unwrap_used)]
//! Client rules through the public API: parsing, changes, permissions, views and duplicates.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use tend_clients::access::{authorize, sensitive_fields_read, view_for};
use tend_clients::*;
use tend_core::{Actor, ClientId, Role, SiteId, SiteScope, UserId};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn input(json: &str) -> ClientInput {
    serde_json::from_str(json).unwrap()
}

fn patch(json: &str) -> ClientChanges {
    ClientChanges::parse(serde_json::from_str(json).unwrap()).unwrap()
}

fn client(site: SiteId) -> Client {
    NewClient::parse(
        site,
        input(
            r#"{"full_name": "Li Mei", "phone": "+86 138 0013 8000", "birth_date": "1994-03-02",
                "expected_due_date": "2026-12-24", "diet": "no cold food", "allergies": "peanuts",
                "health_notes": "gestational diabetes", "contract_package": "28-day suite",
                "contract_price_cents": 8800000, "category": "vip"}"#,
        ),
    )
    .unwrap()
    .into_client(ClientId::new(), now())
}

fn actor(role: Role, site: SiteId) -> Actor {
    Actor {
        user_id: UserId::new(),
        role,
        scope: SiteScope::Site(site),
    }
}

#[test]
fn a_complete_new_client_parses_into_types() {
    let site = SiteId::new();
    let client = client(site);
    assert_eq!(client.full_name.as_str(), "Li Mei");
    assert_eq!(client.phone.as_ref().unwrap().as_str(), "+8613800138000");
    assert_eq!(
        client.expected_due_date,
        NaiveDate::from_ymd_opt(2026, 12, 24)
    );
    assert_eq!(client.category, ClientCategory::Vip);
    assert_eq!(client.status, ClientStatus::Inquiry);
    assert_eq!(client.version, 1);
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let errors = NewClient::parse(
        SiteId::new(),
        input(
            r#"{"full_name": " ", "phone": "call me", "email": "nope", "birth_date": "31/12/1990",
                "category": "gold", "contract_price_cents": -5, "consultant_id": "x"}"#,
        ),
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|error| error.field).collect();
    assert_eq!(
        fields,
        [
            "full_name",
            "phone",
            "email",
            "birth_date",
            "category",
            "consultant_id",
            "contract_price_cents"
        ]
    );
    let codes: Vec<&str> = errors.0.iter().map(|error| error.code).collect();
    assert!(codes.contains(&"value.invalid_phone") && codes.contains(&"value.invalid_date"));
}

#[test]
fn unknown_fields_are_refused() {
    assert!(serde_json::from_str::<ClientInput>(r#"{"full_name": "A", "shoe_size": 38}"#).is_err());
    assert!(serde_json::from_str::<ClientPatchInput>(r#"{"status": "closed"}"#).is_err());
}

#[test]
fn a_due_date_before_birth_is_inconsistent() {
    let errors =
        NewClient::parse(SiteId::new(), input(r#"{"full_name": "A B", "birth_date": "1990-01-01", "expected_due_date": "1989-01-01"}"#))
            .unwrap_err();
    assert_eq!(errors.0[0].code, "value.inconsistent_dates");
}

#[test]
fn patches_keep_absent_fields_clear_nulls_and_report_real_changes() {
    let mut client = client(SiteId::new());
    let changes = patch(
        r#"{"diet": "vegetarian", "email": null, "phone": "+86 138 0013 8000", "health_notes": "stable"}"#,
    );
    let changed = client.apply(&changes, now());
    let fields: Vec<ClientField> = changed.iter().map(|change| change.field).collect();
    // The phone is the same number, so it is not a change; e-mail was already empty.
    assert_eq!(fields, [ClientField::Diet, ClientField::HealthNotes]);
    assert_eq!(changed[0].before.as_deref(), Some("no cold food"));
    assert_eq!(changed[0].after.as_deref(), Some("vegetarian"));
    // Sensitive values never leave the record through the change log.
    assert_eq!(changed[1].before.as_deref(), Some("[redacted]"));
    assert_eq!(client.version, 2);
    assert_eq!(client.allergies.as_deref(), Some("peanuts"));

    let nothing = client.apply(&patch(r#"{"diet": "vegetarian"}"#), now());
    assert!(nothing.is_empty());
    assert_eq!(client.version, 2, "a no-op patch does not bump the version");
}

#[test]
fn a_patch_cannot_remove_the_name_or_carry_bad_values() {
    let errors = ClientChanges::parse(
        serde_json::from_str(r#"{"full_name": null, "birth_date": "tomorrow"}"#).unwrap(),
    )
    .unwrap_err();
    assert_eq!(errors.0.len(), 2);
    assert_eq!(patch(r#"{"version": 4}"#).expected_version, Some(4));
}

#[test]
fn moving_a_client_bumps_its_version_and_refuses_illegal_steps() {
    let mut client = client(SiteId::new());
    let change = client
        .move_to(ClientStatus::Contracted, None, now())
        .unwrap();
    assert_eq!(
        (change.before.as_deref(), change.after.as_deref()),
        (Some("inquiry"), Some("contracted"))
    );
    assert_eq!(client.version, 2);
    assert_eq!(
        client.move_to(ClientStatus::Closed, None, now()),
        Err(LifecycleError::IllegalTransition {
            from: ClientStatus::Contracted,
            to: ClientStatus::Closed
        })
    );
    assert_eq!(client.status, ClientStatus::Contracted);
}

#[test]
fn each_role_sees_its_part_of_the_record() {
    let client = client(SiteId::new());
    let nurse = view_for(Role::Operator, &client);
    assert_eq!(nurse.client.contract_price_cents, None);
    assert_eq!(
        nurse.client.health_notes.as_deref(),
        Some("gestational diabetes")
    );
    assert!(nurse
        .hidden_fields
        .contains(&ClientField::ContractPriceCents));

    let finance = view_for(Role::Finance, &client);
    assert_eq!(finance.client.contract_price_cents, Some(8_800_000));
    assert_eq!(finance.client.health_notes, None);
    assert_eq!(finance.client.allergies, None);

    let chef = view_for(Role::Chef, &client);
    assert_eq!(chef.client.allergies.as_deref(), Some("peanuts"));
    assert_eq!(chef.client.diet.as_deref(), Some("no cold food"));
    assert_eq!(chef.client.health_notes, None);
    assert_eq!(chef.client.phone, None);

    let reception = view_for(Role::Receptionist, &client);
    assert!(reception.client.phone.is_some());
    assert_eq!(reception.client.diet, None);

    let manager = view_for(Role::StoreManager, &client);
    assert!(manager.hidden_fields.is_empty());
    assert_eq!(manager.client, client);
}

#[test]
fn sensitive_reads_are_named_for_the_audit_trail() {
    let client = client(SiteId::new());
    assert_eq!(
        sensitive_fields_read(Role::Expert, &client),
        ["allergies", "health_notes"]
    );
    assert_eq!(sensitive_fields_read(Role::Chef, &client), ["allergies"]);
    assert!(sensitive_fields_read(Role::Finance, &client).is_empty());
    assert!(sensitive_fields_read(Role::Receptionist, &client).is_empty());
}

#[test]
fn permissions_follow_the_role_and_the_site() {
    let site = SiteId::new();
    let other_site = SiteId::new();
    let new_client =
        NewClient::parse(site, input(r#"{"full_name": "A B", "health_notes": "x"}"#)).unwrap();
    let plain_client =
        NewClient::parse(site, input(r#"{"full_name": "A B", "phone": "123456789"}"#)).unwrap();

    assert_eq!(
        authorize(
            &actor(Role::Consultant, site),
            ClientAction::Create(&new_client),
            site
        ),
        Ok(())
    );
    assert!(matches!(
        authorize(
            &actor(Role::Receptionist, site),
            ClientAction::Create(&new_client),
            site
        ),
        Err(AccessDenied::Fields { .. })
    ));
    assert_eq!(
        authorize(
            &actor(Role::Receptionist, site),
            ClientAction::Create(&plain_client),
            site
        ),
        Ok(())
    );
    assert!(authorize(
        &actor(Role::Chef, site),
        ClientAction::Create(&plain_client),
        site
    )
    .is_err());

    let price = patch(r#"{"contract_price_cents": 100}"#);
    assert!(authorize(
        &actor(Role::Operator, site),
        ClientAction::Update(&price),
        site
    )
    .is_err());
    assert_eq!(
        authorize(
            &actor(Role::Finance, site),
            ClientAction::Update(&price),
            site
        ),
        Ok(())
    );
    let notes = patch(r#"{"health_notes": "better"}"#);
    assert_eq!(
        authorize(
            &actor(Role::Operator, site),
            ClientAction::Update(&notes),
            site
        ),
        Ok(())
    );
    assert!(authorize(
        &actor(Role::Finance, site),
        ClientAction::Update(&notes),
        site
    )
    .is_err());

    let check_in = ClientAction::Transition(ClientStatus::CheckedIn);
    assert_eq!(
        authorize(&actor(Role::Receptionist, site), check_in, site),
        Ok(())
    );
    assert!(authorize(
        &actor(Role::Receptionist, site),
        ClientAction::Transition(ClientStatus::Lost),
        site
    )
    .is_err());

    let denied = authorize(
        &actor(Role::StoreManager, site),
        ClientAction::Read,
        other_site,
    )
    .unwrap_err();
    assert_eq!(denied.code(), "client.not_found");
    let admin = Actor {
        user_id: UserId::new(),
        role: Role::Admin,
        scope: SiteScope::AllSites,
    };
    assert_eq!(authorize(&admin, ClientAction::Read, other_site), Ok(()));
}

#[test]
fn duplicates_are_the_same_phone_or_the_same_name_and_birth_date() {
    let site = SiteId::new();
    let existing = client(site);
    let same_phone = NewClient::parse(
        site,
        input(r#"{"full_name": "Someone Else", "phone": "+8613800138000"}"#),
    )
    .unwrap();
    assert_eq!(
        duplicate_reason(&same_phone, &existing),
        Some(DuplicateReason::SamePhone)
    );
    let same_person = NewClient::parse(
        site,
        input(r#"{"full_name": "li mei", "birth_date": "1994-03-02"}"#),
    )
    .unwrap();
    assert_eq!(
        duplicate_reason(&same_person, &existing),
        Some(DuplicateReason::SameNameAndBirthDate)
    );
    let namesake = NewClient::parse(
        site,
        input(r#"{"full_name": "Li Mei", "birth_date": "1999-03-02"}"#),
    )
    .unwrap();
    assert_eq!(duplicate_reason(&namesake, &existing), None);
    let elsewhere = NewClient::parse(
        SiteId::new(),
        input(r#"{"full_name": "Li Mei", "phone": "+8613800138000"}"#),
    )
    .unwrap();
    assert_eq!(duplicate_reason(&elsewhere, &existing), None);
}

proptest! {
    /// Whatever a role may write, it may also read: nobody edits blind.
    #[test]
    fn writable_fields_are_readable(role in proptest::sample::select(Role::ALL.to_vec())) {
        for field in ClientField::ALL {
            if tend_clients::access::can_write(role, field) {
                prop_assert!(tend_clients::access::can_read(role, field), "{role} writes {field} blind");
            }
        }
    }

    /// A view never shows a field the role may not read, and hides nothing it may.
    #[test]
    fn views_show_exactly_what_the_role_may_read(role in proptest::sample::select(Role::ALL.to_vec())) {
        let view = view_for(role, &client(SiteId::new()));
        for field in ClientField::ALL {
            prop_assert_eq!(view.hidden_fields.contains(&field), !tend_clients::access::can_read(role, field));
        }
    }
}
