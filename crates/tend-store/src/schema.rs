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

// Appointments (migration 2026-11-21-000002_appointments).

diesel::table! {
    staff_members (id) {
        id -> Text,
        site_id -> Text,
        full_name -> Text,
        role -> Text,
        skills -> Text,
        user_id -> Nullable<Text>,
        working_hours -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    resources (id) {
        id -> Text,
        site_id -> Text,
        name -> Text,
        kind -> Text,
        tags -> Text,
        working_hours -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    blocked_times (id) {
        id -> Text,
        site_id -> Text,
        owner_kind -> Text,
        owner_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        reason -> Text,
        created_at -> Timestamp,
        hold_purpose -> Nullable<Text>,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        site_id -> Text,
        name -> Text,
        definition -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        site_id -> Text,
        service_id -> Text,
        client_id -> Text,
        status -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        urgency -> Text,
        series_id -> Nullable<Text>,
        assignments -> Text,
        status_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    booking_occupancy (occupant_kind, occupant_id, quantum) {
        occupant_kind -> Text,
        occupant_id -> Text,
        quantum -> BigInt,
        booking_id -> Text,
    }
}

diesel::table! {
    booking_requests (actor_id, idempotency_key) {
        actor_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        booking_id -> Text,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_reminders (id) {
        id -> Text,
        booking_id -> Text,
        site_id -> Text,
        channel -> Text,
        lead_minutes -> BigInt,
        due_at -> Timestamp,
        status -> Text,
        outbox_key -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> Text,
        site_id -> Text,
        service_id -> Text,
        client_id -> Text,
        first_date -> Date,
        last_date -> Date,
        staff_preference -> Text,
        status -> Text,
        joined_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    waitlist_offers (id) {
        id -> Text,
        entry_id -> Text,
        site_id -> Text,
        starts_at -> Timestamp,
        offered_at -> Timestamp,
        expires_at -> Timestamp,
        status -> Text,
        booking_id -> Nullable<Text>,
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
    staff_members,
    resources,
    blocked_times,
    services,
    bookings,
    booking_occupancy,
    booking_requests,
    outbox_reminders,
    waitlist_entries,
    waitlist_offers,
);
