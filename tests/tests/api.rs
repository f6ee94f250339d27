//! The REST API over real HTTP, on SQLite and (with `TEND_TEST_POSTGRES_URL`) PostgreSQL.
#![allow(clippy::unwrap_used)]

use chrono::TimeDelta;
use serde_json::json;
use tend_store::testing::Tampering;
use tend_store::StoreError;
use tests::{on_each_backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[test]
fn sessions_and_token_errors() {
    on_each_backend(|app| {
        app.get("/api/v1/sites", None)
            .assert_error(401, "auth.missing_token");
        let garbage = app.get("/api/v1/sites", Some("not-a-token"));
        garbage.assert_error(401, "auth.invalid_token");
        assert_eq!(garbage.header("www-authenticate"), Some("Bearer"));
        app.send(
            "GET",
            "/api/v1/sites",
            &[("Authorization", "Basic abc")],
            None,
        )
        .assert_error(401, "auth.missing_token");
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": ADMIN_EMAIL, "password": "wrong password"}),
        )
        .assert_error(401, "auth.invalid_credentials");
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "nobody@tend.local", "password": ADMIN_PASSWORD}),
        )
        .assert_error(401, "auth.invalid_credentials");

        let login = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            )
            .assert_status(200);
        assert_eq!(login["role"], "admin");
        assert!(login["expires_at"].as_str().is_some());
        let token = login["token"].as_str().unwrap();
        app.get("/api/v1/sites", Some(token)).assert_status(200);
        app.send(
            "POST",
            "/api/v1/auth/logout",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
        .assert_status(204);
        app.get("/api/v1/sites", Some(token))
            .assert_error(401, "auth.invalid_token");

        app.clock.advance(TimeDelta::hours(13));
        app.get("/api/v1/sites", Some(&app.admin_token))
            .assert_error(401, "auth.token_expired");

        let failed = app.store.list_audit(
            &app.store
                .authenticate(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD))
                .unwrap(),
            tend_store::AuditQuery {
                action: Some("auth.login_failed".into()),
                ..Default::default()
            },
        );
        assert_eq!(failed.unwrap().total, 2);
    });
}

#[test]
fn every_error_has_the_same_shape() {
    on_each_backend(|app| {
        let auth = format!("Bearer {}", app.admin_token);
        let json_headers = [
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
        ];
        app.send("POST", "/api/v1/sites", &json_headers, Some(b"{\"name\": "))
            .assert_error(400, "request.malformed_json");
        let unknown = app
            .post(
                "/api/v1/sites",
                Some(&app.admin_token),
                &json!({"name": "X", "time_zone": "UTC", "colour": "red"}),
            )
            .assert_error(422, "request.invalid_body");
        assert!(
            unknown["message"].as_str().unwrap().contains("colour"),
            "{unknown}"
        );
        app.send(
            "POST",
            "/api/v1/sites",
            &[("Content-Type", "text/plain"), ("Authorization", &auth)],
            Some(b"{}"),
        )
        .assert_error(415, "request.unsupported_media_type");
        let huge = json!({"full_name": "x".repeat(70 * 1024)}).to_string();
        app.send(
            "POST",
            "/api/v1/clients",
            &json_headers,
            Some(huge.as_bytes()),
        )
        .assert_error(413, "request.too_large");
        app.get("/api/v1/nowhere", Some(&app.admin_token))
            .assert_error(404, "route.not_found");
        app.get("/elsewhere", None)
            .assert_error(404, "route.not_found");
        app.send("DELETE", "/api/v1/clients", &json_headers, None)
            .assert_error(405, "route.method_not_allowed");
        app.get("/api/v1/clients?page=first", Some(&app.admin_token))
            .assert_error(400, "request.invalid_query");
        app.get("/api/v1/clients?per_page=1000", Some(&app.admin_token))
            .assert_error(422, "validation.invalid_fields");
        app.post(
            "/api/v1/sites",
            Some(&app.admin_token),
            &json!({"name": "Bad", "time_zone": "Mars/Olympus"}),
        )
        .assert_error(422, "validation.invalid_fields");

        assert_eq!(app.get("/healthz", None).assert_status(200)["status"], "ok");
        let openapi = app.get("/openapi.json", None).assert_status(200);
        for path in [
            "/api/v1/auth/login",
            "/api/v1/clients",
            "/api/v1/clients/{id}",
            "/api/v1/clients/{id}/transitions",
            "/api/v1/audit",
            "/api/v1/sites",
        ] {
            assert!(
                openapi["paths"][path].is_object(),
                "{path} missing from the OpenAPI document"
            );
        }
        assert!(openapi["components"]["schemas"]["ErrorBody"].is_object());
    });
}

#[test]
fn clients_are_registered_edited_searched_and_moved_along() {
    on_each_backend(|app| {
        let admin = Some(app.admin_token.as_str());
        let consultant = app.user("consultant@main.example", "consultant", &app.main_site_id);
        let created = app
            .post(
                "/api/v1/clients",
                Some(&consultant),
                &json!({"full_name": "Li Mei", "phone": "+86 138 0013 8000", "birth_date": "1990-05-01",
                        "expected_due_date": "2027-01-15", "allergies": "peanuts", "contract_price_cents": 2_800_000}),
            )
            .assert_status(201);
        let id = created["client"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["client"]["status"], "inquiry");
        assert_eq!(created["client"]["phone"], "+8613800138000");
        assert_eq!(created["possible_duplicates"], json!([]));

        let twin = app
            .post(
                "/api/v1/clients",
                Some(&consultant),
                &json!({"full_name": "Li Mei", "birth_date": "1990-05-01"}),
            )
            .assert_status(201);
        assert_eq!(twin["possible_duplicates"][0]["client_id"], id.as_str());
        assert_eq!(
            twin["possible_duplicates"][0]["reason"],
            "same_name_and_birth_date"
        );

        let invalid = app
            .post("/api/v1/clients", Some(&consultant), &json!({"full_name": "Bad Data", "phone": "12", "email": "no-at-sign", "birth_date": "1990-13-01"}))
            .assert_error(422, "validation.invalid_fields");
        let fields: Vec<&str> = invalid["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for field in ["phone", "email", "birth_date"] {
            assert!(fields.contains(&field), "{invalid}");
        }
        app.post(
            "/api/v1/clients",
            Some(&consultant),
            &json!({"full_name": "X", "shoe_size": 38}),
        )
        .assert_error(422, "request.invalid_body");

        let path = format!("/api/v1/clients/{id}");
        let fetched = app.get(&path, Some(&consultant));
        assert_eq!(fetched.header("etag"), Some("\"1\""));
        assert_eq!(fetched.assert_status(200)["allergies"], "peanuts");

        let edited = app
            .patch(
                &path,
                Some(&consultant),
                &json!({"diet": "warm food", "version": 1}),
            )
            .assert_status(200);
        assert_eq!(
            (edited["version"].as_i64(), edited["diet"].as_str()),
            (Some(2), Some("warm food"))
        );
        app.patch(
            &path,
            Some(&consultant),
            &json!({"diet": "cold food", "version": 1}),
        )
        .assert_error(409, "client.version_conflict");
        app.json_request_with(
            "PATCH",
            &path,
            Some(&consultant),
            &json!({"diet": "cold food"}),
            &[("If-Match", "\"1\"")],
        )
        .assert_error(409, "client.version_conflict");
        let via_header = app
            .json_request_with(
                "PATCH",
                &path,
                Some(&consultant),
                &json!({"language": "zh"}),
                &[("If-Match", "\"2\"")],
            )
            .assert_status(200);
        assert_eq!(via_header["version"], 3);
        app.patch(&path, Some(&consultant), &json!({"email": "broken"}))
            .assert_error(422, "validation.invalid_fields");
        app.patch(&path, Some(&consultant), &json!({"status": "closed"}))
            .assert_error(422, "request.invalid_body");

        let transitions = format!("{path}/transitions");
        let moved = app
            .post(
                &transitions,
                Some(&consultant),
                &json!({"to": "contracted"}),
            )
            .assert_status(201);
        assert_eq!(moved["transition"]["from"], "inquiry");
        assert_eq!(moved["client"]["status"], "contracted");
        let illegal = app
            .post(&transitions, Some(&consultant), &json!({"to": "closed"}))
            .assert_error(409, "client.illegal_transition");
        assert_eq!(
            illegal["details"],
            json!({"from": "contracted", "to": "closed"})
        );
        app.post(&transitions, Some(&consultant), &json!({"to": "cancelled"}))
            .assert_error(409, "client.reason_required");
        app.post(
            &transitions,
            Some(&consultant),
            &json!({"to": "checked_in"}),
        )
        .assert_status(201);
        let history = app.get(&transitions, Some(&consultant)).assert_status(200);
        assert_eq!(history.as_array().unwrap().len(), 2);
        assert_eq!(history[1]["to"], "checked_in");

        let unknown = "01890a5d-ac96-774b-bcce-b302099a8057";
        app.get(&format!("/api/v1/clients/{unknown}"), admin)
            .assert_error(404, "client.not_found");
        app.get("/api/v1/clients/not-an-id", admin)
            .assert_error(422, "value.invalid_id");

        for index in 0..5 {
            app.client(json!({"full_name": format!("Paged Client {index}"), "category": "vip"}));
        }
        let page = app
            .get("/api/v1/clients?per_page=3&page=2", admin)
            .assert_status(200);
        assert_eq!(
            (
                page["total"].as_i64(),
                page["items"].as_array().unwrap().len()
            ),
            (Some(7), 3)
        );
        let search = app
            .get(
                "/api/v1/clients?q=paged%20client&category=vip&status=&site_id=",
                admin,
            )
            .assert_status(200);
        assert_eq!(search["total"], 5);
        let by_phone = app
            .get("/api/v1/clients?q=138%200013", admin)
            .assert_status(200);
        assert_eq!(by_phone["total"], 1);
        let by_status = app
            .get(
                &format!(
                    "/api/v1/clients?site_id={}&status=checked_in",
                    app.main_site_id
                ),
                admin,
            )
            .assert_status(200);
        assert_eq!(by_status["items"][0]["id"], id.as_str());
        app.get("/api/v1/clients?status=sleeping", admin)
            .assert_error(422, "validation.invalid_fields");

        let audit = app
            .get(
                &format!("/api/v1/audit?entity_type=client&entity_id={id}"),
                admin,
            )
            .assert_status(200);
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "client.status_changed",
                "client.status_changed",
                "client.updated",
                "client.updated",
                "client.sensitive_read",
                "client.created"
            ]
        );
        let created_event = &audit["items"][5];
        assert_eq!(created_event["changes"]["allergies"]["after"], "[redacted]");
        assert_eq!(created_event["hash"].as_str().unwrap().len(), 64);
        app.get("/api/v1/audit", Some(&consultant))
            .assert_error(403, "access.forbidden");
        app.store.verify_audit_chain().unwrap();
    });
}

#[test]
fn roles_and_sites_limit_what_people_see() {
    on_each_backend(|app| {
        let id = app.client(json!({"full_name": "Ana Ruiz", "health_notes": "placenta previa", "allergies": "latex", "contract_price_cents": 1_500_000}));
        let path = format!("/api/v1/clients/{id}");
        let nurse = app.user("nurse@main.example", "operator", &app.main_site_id);
        let finance = app.user("finance@main.example", "finance", &app.main_site_id);
        let north = app.create_site("North");
        let stranger = app.user("manager@north.example", "store_manager", &north);

        let seen_by_nurse = app.get(&path, Some(&nurse)).assert_status(200);
        assert_eq!(
            seen_by_nurse["contract_price_cents"],
            serde_json::Value::Null
        );
        assert_eq!(seen_by_nurse["health_notes"], "placenta previa");
        assert!(seen_by_nurse["hidden_fields"]
            .as_array()
            .unwrap()
            .contains(&json!("contract_price_cents")));
        let seen_by_finance = app.get(&path, Some(&finance)).assert_status(200);
        assert_eq!(seen_by_finance["contract_price_cents"], 1_500_000);
        assert_eq!(seen_by_finance["health_notes"], serde_json::Value::Null);
        assert_eq!(seen_by_finance["allergies"], serde_json::Value::Null);

        app.get(&path, Some(&stranger))
            .assert_error(404, "client.not_found");
        app.patch(&path, Some(&stranger), &json!({"diet": "x"}))
            .assert_error(404, "client.not_found");
        app.post(
            &format!("{path}/transitions"),
            Some(&stranger),
            &json!({"to": "contracted"}),
        )
        .assert_error(404, "client.not_found");
        let listed = app
            .get("/api/v1/clients", Some(&stranger))
            .assert_status(200);
        assert_eq!(listed["total"], 0);
        app.get(
            &format!("/api/v1/clients?site_id={}", app.main_site_id),
            Some(&stranger),
        )
        .assert_error(404, "site.not_found");
        app.patch(&path, Some(&nurse), &json!({"contract_price_cents": 1}))
            .assert_error(403, "access.forbidden");
        app.post(
            "/api/v1/sites",
            Some(&nurse),
            &json!({"name": "Nope", "time_zone": "UTC"}),
        )
        .assert_error(403, "access.forbidden");
        let sites = app.get("/api/v1/sites", Some(&stranger)).assert_status(200);
        assert_eq!(sites.as_array().unwrap().len(), 1);
        assert_eq!(sites[0]["name"], "North");
        // A store manager sees the audit trail of their own site only.
        let audit = app.get("/api/v1/audit", Some(&stranger)).assert_status(200);
        assert!(audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|event| event["site_id"] == north.as_str()));
    });
}

#[test]
fn concurrent_patches_of_one_version_let_exactly_one_win() {
    on_each_backend(|app| {
        let id = app.client(json!({"full_name": "Zhou Lan"}));
        let path = format!("/api/v1/clients/{id}");
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|writer| {
                    let path = path.clone();
                    scope.spawn(move || {
                        app.patch(
                            &path,
                            Some(&app.admin_token),
                            &json!({"diet": format!("diet {writer}"), "version": 1}),
                        )
                        .status
                    })
                })
                .collect();
            writers
                .into_iter()
                .map(|writer| writer.join().unwrap())
                .collect()
        });
        assert_eq!(
            statuses.iter().filter(|status| **status == 200).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|status| **status == 409).count(),
            7,
            "{statuses:?}"
        );
        let client = app.get(&path, Some(&app.admin_token)).assert_status(200);
        assert_eq!(client["version"], 2);
        app.store.verify_audit_chain().unwrap();
    });
}

fn tampered_chain_breaks_at(app: &TestApp, tampering: Tampering) -> i64 {
    app.database.tamper_with_audit(tampering).unwrap();
    match app.store.verify_audit_chain() {
        Err(StoreError::AuditChainBroken(broken)) => broken.seq,
        other => panic!("{tampering:?} went unnoticed: {other:?}"),
    }
}

#[test]
fn tampering_with_the_audit_trail_is_detected() {
    for (tampering, first_broken) in [
        (Tampering::EditAction { seq: 3 }, 3),
        (Tampering::Delete { seq: 3 }, 4),
        (
            Tampering::SwapSeq {
                first: 3,
                second: 4,
            },
            3,
        ),
    ] {
        on_each_backend(|app| {
            for index in 0..3 {
                app.client(json!({"full_name": format!("Audited {index}")}));
            }
            assert!(app.store.verify_audit_chain().unwrap().events >= 6);
            assert!(
                app.database.try_edit_audit_event(1).is_err(),
                "audit events are append-only"
            );
            assert_eq!(tampered_chain_breaks_at(app, tampering), first_broken);
        });
    }
}
