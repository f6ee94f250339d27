//! The store's use cases against real databases: SQLite always, PostgreSQL when
//! `TEND_TEST_POSTGRES_URL` is set. Each test gets a fresh database per backend.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use tend_clients::{ClientInput, ClientPatchInput, ClientStatus, DuplicateReason};
use tend_core::{Actor, ClientId, Role, SiteScope};
use tend_store::testing::{test_databases, Tampering, TestClock, TestDatabase};
use tend_store::{AuditQuery, ClientQuery, ErrorKind, NewUser, Site, Store, StoreError};

const ADMIN_PASSWORD: &str = "correct horse battery";

/// Runs `test` once per backend under test, on a fresh bootstrapped database.
fn on_each_backend(test: impl Fn(&Fixture)) {
    for database in test_databases() {
        let clock = TestClock::starting_now();
        let store = database.open(clock.clone());
        let bootstrap = store
            .bootstrap("Europe/Madrid", Some(ADMIN_PASSWORD.into()))
            .unwrap()
            .unwrap();
        let admin = store
            .login("admin@tend.local", ADMIN_PASSWORD)
            .unwrap()
            .actor;
        let fixture = Fixture {
            store,
            clock,
            admin,
            main: bootstrap.site,
            database,
        };
        test(&fixture);
    }
}

struct Fixture {
    store: Store,
    clock: Arc<TestClock>,
    admin: Actor,
    main: Site,
    database: TestDatabase,
}

impl Fixture {
    fn user(&self, email: &str, role: Role, site: &Site) -> Actor {
        let password = "a long enough password";
        self.store
            .create_user(
                Some(&self.admin),
                NewUser {
                    email: email.into(),
                    role: role.as_str().into(),
                    site_id: Some(site.id.to_string()),
                    password: password.into(),
                },
            )
            .unwrap();
        let actor = self.store.login(email, password).unwrap().actor;
        assert_eq!(actor.scope, SiteScope::Site(site.id));
        actor
    }

    fn client(&self, actor: &Actor, site: &Site, json: serde_json::Value) -> ClientId {
        let input: ClientInput = serde_json::from_value(json).unwrap();
        self.store
            .create_client(actor, site.id, input)
            .unwrap()
            .client
            .client
            .id
    }
}

fn patch(json: serde_json::Value) -> ClientPatchInput {
    serde_json::from_value(json).unwrap()
}

fn audit_actions(fixture: &Fixture, entity_id: &str) -> Vec<String> {
    fixture
        .store
        .list_audit(
            &fixture.admin,
            AuditQuery {
                entity_id: Some(entity_id.into()),
                ..AuditQuery::default()
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|event| event.record.action)
        .collect()
}

#[test]
fn bootstrap_happens_once_and_generates_a_password_when_none_is_given() {
    for database in test_databases() {
        let store = database.open(TestClock::starting_now());
        let first = store.bootstrap("UTC", None).unwrap().unwrap();
        let password = first.generated_password.unwrap();
        assert!(password.len() >= 20);
        assert_eq!(first.admin.role, Role::Admin);
        assert_eq!(first.site.name, "Main");
        assert!(store.bootstrap("UTC", None).unwrap().is_none());
        assert_eq!(
            store
                .login("admin@tend.local", &password)
                .unwrap()
                .actor
                .scope,
            SiteScope::AllSites
        );
    }
}

#[test]
fn an_in_memory_database_works_for_quick_experiments() {
    let store = Store::open(
        &tend_store::DatabaseUrl::parse("sqlite::memory:").unwrap(),
        TestClock::starting_now(),
    )
    .unwrap();
    store
        .bootstrap("UTC", Some(ADMIN_PASSWORD.into()))
        .unwrap()
        .unwrap();
    let admin = store
        .login("admin@tend.local", ADMIN_PASSWORD)
        .unwrap()
        .actor;
    assert_eq!(store.list_sites(&admin).unwrap().len(), 1);
    store.check_health().unwrap();
}

#[test]
fn sessions_open_expire_and_close() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        let wrong = store
            .login("admin@tend.local", "not the password")
            .unwrap_err();
        assert_eq!(wrong.code(), "auth.invalid_credentials");
        assert_eq!(wrong.kind(), ErrorKind::Unauthorized);
        assert_eq!(
            store
                .login("nobody@tend.local", ADMIN_PASSWORD)
                .unwrap_err()
                .code(),
            "auth.invalid_credentials"
        );
        let failures = store
            .list_audit(
                &fixture.admin,
                AuditQuery {
                    action: Some("auth.login_failed".into()),
                    ..AuditQuery::default()
                },
            )
            .unwrap();
        assert_eq!(failures.total, 2);
        assert!(failures
            .items
            .iter()
            .all(|event| event.record.outcome == tend_audit::Outcome::Failure));

        let session = store.login("ADMIN@tend.local".trim(), ADMIN_PASSWORD);
        // The local part is case-sensitive; the domain is not.
        assert!(session.is_err());
        let session = store.login("admin@TEND.local", ADMIN_PASSWORD).unwrap();
        assert_eq!(session.token.len(), 64);
        assert_eq!(store.authenticate(&session.token).unwrap(), fixture.admin);
        assert_eq!(
            store.authenticate("garbage").unwrap_err().code(),
            "auth.invalid_token"
        );

        fixture.clock.advance(TimeDelta::hours(13));
        assert_eq!(
            store.authenticate(&session.token).unwrap_err().code(),
            "auth.token_expired"
        );

        let fresh = store.login("admin@tend.local", ADMIN_PASSWORD).unwrap();
        store.logout(&fresh.token).unwrap();
        assert_eq!(
            store.authenticate(&fresh.token).unwrap_err().code(),
            "auth.invalid_token"
        );
    });
}

#[test]
fn sites_and_users_are_created_by_the_right_people() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        let north = store
            .create_site(&fixture.admin, "North", "Asia/Shanghai")
            .unwrap();
        assert_eq!(north.time_zone.as_str(), "Asia/Shanghai");
        assert_eq!(
            store
                .create_site(&fixture.admin, "North", "UTC")
                .unwrap_err()
                .code(),
            "site.name_taken"
        );
        let invalid = store
            .create_site(&fixture.admin, " ", "Mars/Base")
            .unwrap_err();
        assert_eq!(invalid.code(), "validation.invalid_fields");
        let details = invalid.details().unwrap().to_string();
        assert!(
            details.contains("name") && details.contains("time_zone"),
            "{details}"
        );

        let manager = fixture.user("manager@north.example", Role::StoreManager, &north);
        assert_eq!(store.list_sites(&manager).unwrap(), vec![north.clone()]);
        assert_eq!(store.list_sites(&fixture.admin).unwrap().len(), 2);
        assert_eq!(
            store
                .create_site(&manager, "South", "UTC")
                .unwrap_err()
                .code(),
            "access.forbidden"
        );

        let new_user = |email: &str, role: &str, site: Option<String>, password: &str| NewUser {
            email: email.into(),
            role: role.into(),
            site_id: site,
            password: password.into(),
        };
        // Store managers add staff to their own site only, and never administrators.
        store
            .create_user(
                Some(&manager),
                new_user(
                    "nurse@north.example",
                    "operator",
                    Some(north.id.to_string()),
                    "0123456789",
                ),
            )
            .unwrap();
        assert_eq!(
            store
                .create_user(
                    Some(&manager),
                    new_user("boss@north.example", "admin", None, "0123456789")
                )
                .unwrap_err()
                .code(),
            "access.forbidden"
        );
        assert_eq!(
            store
                .create_user(
                    Some(&manager),
                    new_user(
                        "x@main.example",
                        "chef",
                        Some(fixture.main.id.to_string()),
                        "0123456789"
                    )
                )
                .unwrap_err()
                .kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            store
                .create_user(
                    None,
                    new_user(
                        "nurse@north.example",
                        "operator",
                        Some(north.id.to_string()),
                        "0123456789"
                    )
                )
                .unwrap_err()
                .code(),
            "user.email_taken"
        );
        let invalid = store
            .create_user(None, new_user("not-an-email", "wizard", None, "short"))
            .unwrap_err();
        let details = invalid.details().unwrap().to_string();
        for field in ["email", "role", "password"] {
            assert!(details.contains(field), "{details}");
        }
        assert_eq!(
            store
                .create_user(
                    None,
                    new_user("chef@north.example", "chef", None, "0123456789")
                )
                .unwrap_err()
                .code(),
            "validation.invalid_fields"
        );
        assert_eq!(store.find_site("North").unwrap().id, north.id);
        assert_eq!(store.find_site(&north.id.to_string()).unwrap().id, north.id);
        assert_eq!(
            store.find_site("Nowhere").unwrap_err().code(),
            "site.not_found"
        );
    });
}

#[test]
fn clients_are_registered_read_edited_and_moved_along_their_lifecycle() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        let consultant = fixture.user("consultant@main.example", Role::Consultant, &fixture.main);
        let id = fixture.client(
            &consultant,
            &fixture.main,
            serde_json::json!({
                "full_name": "Li Mei",
                "phone": "+86 138-0013-8000",
                "birth_date": "1992-04-01",
                "health_notes": "gestational diabetes",
                "contract_price_cents": 2_000_000
            }),
        );
        // Same phone: registered anyway, with a warning.
        let twin = store
            .create_client(
                &consultant,
                fixture.main.id,
                serde_json::from_value(
                    serde_json::json!({"full_name": "Mei Li", "phone": "+8613800138000"}),
                )
                .unwrap(),
            )
            .unwrap();
        assert_eq!(twin.possible_duplicates.len(), 1);
        assert_eq!(twin.possible_duplicates[0].client_id, id);
        assert_eq!(
            twin.possible_duplicates[0].reason,
            DuplicateReason::SamePhone
        );

        let invalid = store
            .create_client(
                &consultant,
                fixture.main.id,
                serde_json::from_value(serde_json::json!({"full_name": "X", "phone": "call me", "email": "nope", "birth_date": "1992-02-30"})).unwrap(),
            )
            .unwrap_err();
        assert_eq!(invalid.code(), "validation.invalid_fields");
        let details = invalid.details().unwrap().to_string();
        for field in ["phone", "email", "birth_date"] {
            assert!(details.contains(field), "{details}");
        }

        let view = store.get_client(&consultant, id).unwrap();
        assert_eq!(view.client.version, 1);
        assert_eq!(view.client.status, ClientStatus::Inquiry);
        assert_eq!(
            view.client.health_notes.as_deref(),
            Some("gestational diabetes")
        );
        assert_eq!(
            audit_actions(fixture, &id.to_string()),
            vec![
                "client.sensitive_read".to_string(),
                "client.created".to_string()
            ]
        );

        let edited = store
            .update_client(
                &consultant,
                id,
                patch(serde_json::json!({"diet": "no spice", "version": 1})),
                None,
            )
            .unwrap();
        assert_eq!(edited.client.version, 2);
        assert_eq!(edited.client.diet.as_deref(), Some("no spice"));
        let stale = store
            .update_client(
                &consultant,
                id,
                patch(serde_json::json!({"diet": "vegetarian"})),
                Some(1),
            )
            .unwrap_err();
        assert_eq!(stale.code(), "client.version_conflict");
        assert_eq!(stale.kind(), ErrorKind::Conflict);
        // Clearing a field is distinct from leaving it alone.
        let cleared = store
            .update_client(
                &consultant,
                id,
                patch(serde_json::json!({"diet": null})),
                Some(2),
            )
            .unwrap();
        assert_eq!(cleared.client.diet, None);
        assert_eq!(
            cleared.client.phone.as_ref().map(|p| p.as_str()),
            Some("+8613800138000")
        );

        let moved = store
            .transition_client(&consultant, id, "contracted", None, None)
            .unwrap();
        assert_eq!(moved.client.client.status, ClientStatus::Contracted);
        assert_eq!(moved.transition.from, ClientStatus::Inquiry);
        let illegal = store
            .transition_client(&consultant, id, "closed", None, None)
            .unwrap_err();
        assert_eq!(illegal.code(), "client.illegal_transition");
        assert_eq!(
            store
                .transition_client(&consultant, id, "cancelled", None, None)
                .unwrap_err()
                .code(),
            "client.reason_required"
        );
        assert_eq!(
            store
                .transition_client(&consultant, id, "asleep", None, None)
                .unwrap_err()
                .code(),
            "validation.invalid_fields"
        );
        store
            .transition_client(&consultant, id, "cancelled", Some("moved abroad"), None)
            .unwrap();
        let history = store.list_transitions(&consultant, id).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].to, ClientStatus::Cancelled);
        assert_eq!(history[1].reason.as_deref(), Some("moved abroad"));
        assert_eq!(
            store
                .get_client(&consultant, ClientId::new())
                .unwrap_err()
                .code(),
            "client.not_found"
        );
        store.verify_audit_chain().unwrap();
    });
}

#[test]
fn roles_see_only_their_fields_and_sites_see_only_their_clients() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        let north = store.create_site(&fixture.admin, "North", "UTC").unwrap();
        let id = fixture.client(
            &fixture.admin,
            &fixture.main,
            serde_json::json!({"full_name": "Ana Ruiz", "allergies": "penicillin", "health_notes": "twins", "contract_price_cents": 1_500_000}),
        );
        let nurse = fixture.user("nurse@main.example", Role::Operator, &fixture.main);
        let finance = fixture.user("finance@main.example", Role::Finance, &fixture.main);
        let stranger = fixture.user("manager@north.example", Role::StoreManager, &north);

        let seen_by_nurse = store.get_client(&nurse, id).unwrap();
        assert_eq!(seen_by_nurse.client.contract_price_cents, None);
        assert_eq!(seen_by_nurse.client.health_notes.as_deref(), Some("twins"));
        let seen_by_finance = store.get_client(&finance, id).unwrap();
        assert_eq!(seen_by_finance.client.contract_price_cents, Some(1_500_000));
        assert_eq!(seen_by_finance.client.health_notes, None);
        assert_eq!(seen_by_finance.client.allergies, None);

        // Listings never show sensitive fields: only opening a client does, and that is audited.
        let listed = store.list_clients(&nurse, ClientQuery::default()).unwrap();
        assert_eq!(listed.items[0].client.health_notes, None);
        assert!(listed.items[0]
            .hidden_fields
            .contains(&tend_clients::ClientField::HealthNotes));

        let hidden = store.get_client(&stranger, id).unwrap_err();
        assert_eq!(hidden.code(), "client.not_found");
        assert_eq!(
            store
                .update_client(&stranger, id, patch(serde_json::json!({"diet": "x"})), None)
                .unwrap_err()
                .code(),
            "client.not_found"
        );
        assert_eq!(
            store
                .transition_client(&stranger, id, "contracted", None, None)
                .unwrap_err()
                .code(),
            "client.not_found"
        );
        assert_eq!(
            store.list_transitions(&stranger, id).unwrap_err().code(),
            "client.not_found"
        );
        assert_eq!(
            store
                .create_client(
                    &stranger,
                    fixture.main.id,
                    serde_json::from_value(serde_json::json!({"full_name": "Y"})).unwrap()
                )
                .unwrap_err()
                .code(),
            "site.not_found"
        );
        assert_eq!(
            store
                .list_clients(&stranger, ClientQuery::default())
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            store
                .list_clients(
                    &stranger,
                    ClientQuery {
                        site_id: Some(fixture.main.id),
                        ..ClientQuery::default()
                    }
                )
                .unwrap_err()
                .code(),
            "site.not_found"
        );
        // A nurse may not touch the contract, nor a chef anything.
        assert_eq!(
            store
                .update_client(
                    &nurse,
                    id,
                    patch(serde_json::json!({"contract_price_cents": 1})),
                    None
                )
                .unwrap_err()
                .code(),
            "access.forbidden"
        );
        assert_eq!(
            store
                .transition_client(&finance, id, "contracted", None, None)
                .unwrap_err()
                .code(),
            "access.forbidden"
        );
        assert_eq!(
            store
                .list_audit(&nurse, AuditQuery::default())
                .unwrap_err()
                .code(),
            "access.forbidden"
        );
        // The stranger's audit view holds only their own site's events.
        let north_events = store.list_audit(&stranger, AuditQuery::default()).unwrap();
        assert!(north_events
            .items
            .iter()
            .all(|event| event.record.site_id == Some(north.id)));
    });
}

#[test]
fn clients_are_listed_searched_filtered_and_paged() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        for index in 0..7 {
            fixture.client(
                &fixture.admin,
                &fixture.main,
                serde_json::json!({"full_name": format!("Client {index}"), "phone": format!("+34 600 000 00{index}"), "category": if index % 2 == 0 { "vip" } else { "new" }}),
            );
        }
        fixture.client(
            &fixture.admin,
            &fixture.main,
            serde_json::json!({"full_name": "Zhang Wei 50%"}),
        );
        let query =
            |search: Option<&str>, category: Option<&str>, page: u32, per_page: u32| ClientQuery {
                site_id: Some(fixture.main.id),
                search: search.map(Into::into),
                status: None,
                category: category.map(Into::into),
                page: Some(page),
                per_page: Some(per_page),
            };
        let first = store
            .list_clients(&fixture.admin, query(None, None, 1, 3))
            .unwrap();
        assert_eq!((first.total, first.items.len()), (8, 3));
        assert_eq!(first.items[0].client.full_name.as_str(), "Zhang Wei 50%");
        let last = store
            .list_clients(&fixture.admin, query(None, None, 3, 3))
            .unwrap();
        assert_eq!(last.items.len(), 2);
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(Some("client"), None, 1, 50))
                .unwrap()
                .total,
            7
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(Some("zhang WEI"), None, 1, 50))
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(Some("50%"), None, 1, 50))
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(Some("600 000 003"), None, 1, 50))
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(None, Some("vip"), 1, 50))
                .unwrap()
                .total,
            4
        );
        let mut by_status = query(None, None, 1, 50);
        by_status.status = Some("checked_in".into());
        assert_eq!(
            store.list_clients(&fixture.admin, by_status).unwrap().total,
            0
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(None, Some("gold"), 1, 50))
                .unwrap_err()
                .code(),
            "validation.invalid_fields"
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(None, None, 0, 50))
                .unwrap_err()
                .code(),
            "validation.invalid_fields"
        );
        assert_eq!(
            store
                .list_clients(&fixture.admin, query(None, None, 1, 500))
                .unwrap_err()
                .code(),
            "validation.invalid_fields"
        );
    });
}

#[test]
fn concurrent_edits_of_one_version_let_exactly_one_win_and_keep_the_chain_linear() {
    on_each_backend(|fixture| {
        let store = &fixture.store;
        let id = fixture.client(
            &fixture.admin,
            &fixture.main,
            serde_json::json!({"full_name": "Race Condition"}),
        );
        let results: Vec<Result<_, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|writer| {
                    let admin = fixture.admin;
                    scope.spawn(move || {
                        store.update_client(
                            &admin,
                            id,
                            patch(serde_json::json!({"diet": format!("diet {writer}")})),
                            Some(1),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        let winners = results.iter().filter(|result| result.is_ok()).count();
        assert_eq!(winners, 1, "{results:?}");
        for result in &results {
            if let Err(error) = result {
                assert_eq!(error.code(), "client.version_conflict");
            }
        }
        // Unversioned edits from many threads: none is lost and the chain never forks.
        std::thread::scope(|scope| {
            for writer in 0..6 {
                let admin = fixture.admin;
                scope.spawn(move || {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match store.update_client(
                            &admin,
                            id,
                            patch(serde_json::json!({"language": format!("lang {writer}")})),
                            None,
                        ) {
                            Ok(_) => break,
                            Err(error)
                                if error.code() == "client.version_conflict" && attempts < 50 =>
                            {
                                continue
                            }
                            Err(error) => panic!("{error:?}"),
                        }
                    }
                });
            }
        });
        let summary = store.verify_audit_chain().unwrap();
        let client_events = audit_actions(fixture, &id.to_string());
        assert_eq!(
            client_events
                .iter()
                .filter(|action| *action == "client.updated")
                .count(),
            7
        );
        assert!(summary.events >= 9);
    });
}

#[test]
fn the_audit_trail_is_append_only_and_tampering_is_found() {
    for tampering in [
        Tampering::EditAction { seq: 4 },
        Tampering::Delete { seq: 4 },
        Tampering::SwapSeq {
            first: 4,
            second: 5,
        },
    ] {
        on_each_backend(|fixture| {
            for index in 0..4 {
                fixture.client(
                    &fixture.admin,
                    &fixture.main,
                    serde_json::json!({"full_name": format!("Audited {index}")}),
                );
            }
            let intact = fixture.store.verify_audit_chain().unwrap();
            assert!(intact.events >= 7);
            assert!(
                fixture.database.try_edit_audit_event(2).is_err(),
                "the trigger refuses edits"
            );
            fixture.database.tamper_with_audit(tampering).unwrap();
            match fixture.store.verify_audit_chain().unwrap_err() {
                StoreError::AuditChainBroken(broken) => assert_eq!(
                    broken.seq,
                    if matches!(tampering, Tampering::Delete { .. }) {
                        5
                    } else {
                        4
                    },
                    "{tampering:?}: {broken}"
                ),
                other => panic!("{other:?}"),
            }
        });
    }
}

mod lifecycle_property {
    //! Whatever transitions people request, the stored client follows the domain's state machine
    //! exactly and its history records every step taken. (SQLite only: one shared database for
    //! all cases; the example-based tests above cover PostgreSQL.)
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use tend_clients::{transition, ClientStatus};
    use tend_core::Actor;
    use tend_store::testing::{TestClock, TestDatabase};
    use tend_store::Store;

    struct Shared {
        _database: TestDatabase,
        store: Store,
        admin: Actor,
        site: tend_core::SiteId,
    }

    fn shared() -> &'static Shared {
        static SHARED: OnceLock<Shared> = OnceLock::new();
        SHARED.get_or_init(|| {
            let database = TestDatabase::sqlite();
            let store = database.open(TestClock::starting_now());
            let bootstrap = store
                .bootstrap("UTC", Some(super::ADMIN_PASSWORD.into()))
                .unwrap()
                .unwrap();
            let admin = store
                .login("admin@tend.local", super::ADMIN_PASSWORD)
                .unwrap()
                .actor;
            Shared {
                _database: database,
                store,
                admin,
                site: bootstrap.site.id,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn stored_status_follows_the_state_machine(
            requests in prop::collection::vec((0usize..8, any::<bool>()), 1..10)
        ) {
            let Shared { store, admin, site, .. } = shared();
            let input = serde_json::from_value(serde_json::json!({"full_name": "Property Client"})).unwrap();
            let id = store.create_client(admin, *site, input).unwrap().client.client.id;
            let mut current = ClientStatus::Inquiry;
            let mut taken = 0;
            for (index, with_reason) in requests {
                let to = ClientStatus::ALL[index];
                let reason = with_reason.then_some("because");
                let expected = transition(current, to, reason);
                let actual = store.transition_client(admin, id, to.as_str(), reason, None);
                prop_assert_eq!(expected.is_ok(), actual.is_ok(), "{:?} -> {:?}: {:?}", current, to, actual);
                if let Err(error) = actual {
                    prop_assert!(error.code().starts_with("client."), "{}", error.code());
                } else {
                    current = to;
                    taken += 1;
                }
            }
            let stored = store.get_client(admin, id).unwrap();
            prop_assert_eq!(stored.client.status, current);
            prop_assert_eq!(stored.client.version, 1 + taken);
            prop_assert_eq!(store.list_transitions(admin, id).unwrap().len() as i64, taken);
        }
    }
}
