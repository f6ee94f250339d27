-- Foundation schema (SQLite). Ids are UUID text, instants are UTC timestamps.
CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    site_id TEXT REFERENCES sites (id),
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);

-- Only the SHA-256 of a session token is stored: a leaked table does not leak sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    full_name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    birth_date DATE,
    expected_due_date DATE,
    language TEXT,
    diet TEXT,
    religion TEXT,
    allergies TEXT,
    health_notes TEXT,
    source_channel TEXT,
    category TEXT NOT NULL,
    consultant_id TEXT,
    status TEXT NOT NULL,
    next_follow_up_on DATE,
    owner_id TEXT,
    contract_package TEXT,
    contract_price_cents BIGINT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clients_site ON clients (site_id, created_at);
CREATE INDEX clients_phone ON clients (phone);

CREATE TABLE client_transitions (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    reason TEXT
);
CREATE INDEX client_transitions_client ON client_transitions (client_id, at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    site_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    changes TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id);

-- The audit trail is append-only: the application has no update or delete path, and the
-- database refuses one too.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
