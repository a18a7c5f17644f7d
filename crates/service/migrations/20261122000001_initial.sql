-- The tenant: accounts, park groups, call park policies and their grants. The service
-- keeps these in memory and writes the whole directory after each admin change.
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    login TEXT NOT NULL,
    login_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin BOOLEAN NOT NULL,
    enterprise_voice BOOLEAN NOT NULL,
    unanswered TEXT NOT NULL,
    forward_to BIGINT,
    unanswered_delay_seconds INTEGER NOT NULL,
    policy TEXT
);

CREATE TABLE park_groups (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- `position` keeps creation order, so policy ids come back the same way.
CREATE TABLE policies (
    position INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    allow_call_park BOOLEAN NOT NULL,
    pickup_range_start INTEGER NOT NULL,
    pickup_range_end INTEGER NOT NULL,
    park_timeout_seconds INTEGER NOT NULL
);

CREATE TABLE group_grants (
    group_rank INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL,
    policy TEXT NOT NULL
);

CREATE TABLE tenant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    default_policy TEXT NOT NULL
);

-- Calls waiting in park right now. Rows left here at start-up were parked when the
-- service stopped: they move to lost_parks.
CREATE TABLE parked_calls (
    call_id BIGINT PRIMARY KEY,
    policy TEXT NOT NULL,
    code INTEGER NOT NULL,
    caller BIGINT NOT NULL,
    parked_by BIGINT NOT NULL,
    parked_at_ms BIGINT NOT NULL,
    ringback_at_ms BIGINT NOT NULL
);

-- Parks lost to a restart, kept until their parker has been told.
CREATE TABLE lost_parks (
    call_id BIGINT PRIMARY KEY,
    policy TEXT NOT NULL,
    code INTEGER NOT NULL,
    caller BIGINT NOT NULL,
    parked_by BIGINT NOT NULL,
    parked_at_ms BIGINT NOT NULL,
    lost_at_ms BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT,
    user_login TEXT,
    policy TEXT,
    call_id BIGINT,
    code INTEGER
);

CREATE INDEX audit_events_at ON audit_events (at_ms);
