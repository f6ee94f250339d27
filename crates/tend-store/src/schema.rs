//! The database schema as diesel sees it. Both backends share it: ids are text, instants are
//! `Timestamp` (UTC), amounts are `BigInt` cents.

diesel::table! {
    sites (id) {
        id -> Text,
        name -> Text,
        time_zone -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        role -> Text,
        site_id -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        site_id -> Text,
        full_name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        expected_due_date -> Nullable<Date>,
        language -> Nullable<Text>,
        diet -> Nullable<Text>,
        religion -> Nullable<Text>,
        allergies -> Nullable<Text>,
        health_notes -> Nullable<Text>,
        source_channel -> Nullable<Text>,
        category -> Text,
        consultant_id -> Nullable<Text>,
        status -> Text,
        next_follow_up_on -> Nullable<Date>,
        owner_id -> Nullable<Text>,
        contract_package -> Nullable<Text>,
        contract_price_cents -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    client_transitions (id) {
        id -> Text,
        client_id -> Text,
        from_status -> Text,
        to_status -> Text,
        actor_id -> Text,
        at -> Timestamp,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        site_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        changes -> Text,
        outcome -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(users -> sites (site_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(clients -> sites (site_id));
diesel::joinable!(client_transitions -> clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    sites,
    users,
    sessions,
    clients,
    client_transitions,
    audit_events,
);
