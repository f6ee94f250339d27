-- Rostering (same on SQLite and PostgreSQL): the rostering side of staff members (skill levels,
-- contract, allowed shift types, preferences), leave, shift types, the demand document of a site,
-- roster periods with their assignments, solve jobs and swap requests.
-- Local dates are TEXT 'YYYY-MM-DD' (they sort and compare as dates on both engines).

CREATE TABLE staff_rostering (
    staff_id TEXT PRIMARY KEY NOT NULL REFERENCES staff_members (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- JSON: [{"skill": "nursing", "level": 3}, ...]
    skill_levels TEXT NOT NULL,
    -- JSON: the weekly contract of tend-staff.
    contract TEXT NOT NULL,
    -- JSON array of shift type keys this person may work; empty means every shift type.
    shift_types TEXT NOT NULL,
    -- JSON: wanted and unwanted days and shifts.
    preferences TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX staff_rostering_site ON staff_rostering (site_id);

CREATE TABLE leave_requests (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    staff_id TEXT NOT NULL REFERENCES staff_members (id),
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX leave_requests_staff ON leave_requests (staff_id, first_day);

CREATE TABLE shift_types (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    key TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, key)
);

-- JSON documents: demand rules per weekday and shift by skill, date overrides, care ratios.
CREATE TABLE demand_settings (
    site_id TEXT PRIMARY KEY NOT NULL REFERENCES sites (id),
    rules TEXT NOT NULL,
    overrides TEXT NOT NULL,
    care_ratios TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Planned stay of a client, for demand derived from occupancy.
CREATE TABLE client_stays (
    client_id TEXT PRIMARY KEY NOT NULL REFERENCES clients (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    check_in TEXT NOT NULL,
    check_out TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX client_stays_site ON client_stays (site_id, check_in);

CREATE TABLE roster_periods (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    status TEXT NOT NULL,
    -- JSON: the explanation of the last solve or repair.
    explanation TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP
);
CREATE INDEX roster_periods_site ON roster_periods (site_id, first_day);

-- One row per staff member and day worked: the primary key forbids double assignment.
CREATE TABLE roster_assignments (
    period_id TEXT NOT NULL REFERENCES roster_periods (id),
    staff_id TEXT NOT NULL REFERENCES staff_members (id),
    day TEXT NOT NULL,
    shift_type TEXT NOT NULL,
    pinned BOOLEAN NOT NULL,
    PRIMARY KEY (period_id, staff_id, day)
);

CREATE TABLE solve_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    period_id TEXT NOT NULL REFERENCES roster_periods (id),
    status TEXT NOT NULL,
    -- The period's status before the solve, restored on cancel or failure.
    previous_status TEXT NOT NULL,
    time_limit_seconds INTEGER NOT NULL,
    objective BIGINT,
    best_bound BIGINT,
    error TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
-- At most one running solve per site, enforced by the database.
CREATE UNIQUE INDEX solve_jobs_one_running_per_site ON solve_jobs (site_id) WHERE status = 'running';

CREATE TABLE swap_requests (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    period_id TEXT NOT NULL REFERENCES roster_periods (id),
    staff_id TEXT NOT NULL REFERENCES staff_members (id),
    day TEXT NOT NULL,
    other_staff_id TEXT NOT NULL REFERENCES staff_members (id),
    other_day TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
