-- Appointments (same on SQLite and PostgreSQL): bookable staff, resources, the service catalogue, bookings with their
-- database-enforced occupancy, idempotent booking requests, reminders and the waitlist.
-- Documents that only the store reads back (weekly hours, service definitions, assignments)
-- are JSON text; everything filtered on is a column.

CREATE TABLE staff_members (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    -- JSON array of skill keys.
    skills TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    -- JSON: weekly hours, breaks, day exceptions, emergency windows (site-local wall-clock time).
    working_hours TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);
CREATE INDEX staff_members_site ON staff_members (site_id, full_name);

CREATE TABLE resources (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- JSON array of tags.
    tags TEXT NOT NULL,
    working_hours TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);
CREATE INDEX resources_site ON resources (site_id, name);

-- One-off unavailable time of a staff member or a resource: leave, meetings, maintenance.
CREATE TABLE blocked_times (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX blocked_times_owner ON blocked_times (owner_kind, owner_id, starts_at);

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    -- JSON: the checked service definition (durations, buffers, requirements, notice, horizon).
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);
CREATE INDEX services_site ON services (site_id, name);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    status TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    urgency TEXT NOT NULL,
    series_id TEXT,
    -- JSON: {"staff": [...], "resources": [...]} with each assignment's occupied interval.
    assignments TEXT NOT NULL,
    status_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bookings_site_time ON bookings (site_id, starts_at);
CREATE INDEX bookings_client ON bookings (client_id, starts_at);

-- The no-double-booking guarantee: one row per occupant and 5-minute UTC quantum
-- (floor(unix_seconds / 300)) a booking holds. Rows are inserted in the booking's transaction
-- and deleted when it stops holding time (cancelled, no-show) or moves.
CREATE TABLE booking_occupancy (
    occupant_kind TEXT NOT NULL,
    occupant_id TEXT NOT NULL,
    quantum BIGINT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings (id),
    PRIMARY KEY (occupant_kind, occupant_id, quantum)
);
CREATE INDEX booking_occupancy_booking ON booking_occupancy (booking_id);

-- Idempotent booking requests: the first committed result per (user, key), replayed on retry.
-- The row is inserted first in the booking's transaction (so a concurrent duplicate waits on
-- the key, not on the slot); `booking_id` therefore has no foreign key.
CREATE TABLE booking_requests (
    actor_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    booking_id TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_id, idempotency_key)
);

CREATE TABLE outbox_reminders (
    id TEXT PRIMARY KEY NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings (id),
    site_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    lead_minutes BIGINT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    -- pending, cancelled (a sender marks sent).
    status TEXT NOT NULL,
    outbox_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_reminders_due ON outbox_reminders (status, due_at);
CREATE INDEX outbox_reminders_booking ON outbox_reminders (booking_id);

CREATE TABLE waitlist_entries (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    first_date DATE NOT NULL,
    last_date DATE NOT NULL,
    -- JSON staff preference.
    staff_preference TEXT NOT NULL,
    status TEXT NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX waitlist_entries_service ON waitlist_entries (service_id, status, joined_at);

CREATE TABLE waitlist_offers (
    id TEXT PRIMARY KEY NOT NULL,
    entry_id TEXT NOT NULL REFERENCES waitlist_entries (id),
    site_id TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    offered_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- open, accepted, lapsed.
    status TEXT NOT NULL,
    booking_id TEXT REFERENCES bookings (id)
);
CREATE INDEX waitlist_offers_entry ON waitlist_offers (entry_id, status);
