-- How each park ended, kept for its parker until one of their devices acknowledges
-- it (a parker keeps one per call). Lost parks not yet reported move here;
-- lost_parks now only holds the codes of parks lost in a restart, for their
-- quarantine.
CREATE TABLE park_outcomes (
    parked_by BIGINT NOT NULL,
    call_id BIGINT NOT NULL,
    code INTEGER NOT NULL,
    caller BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    by_user BIGINT,
    ended_at_ms BIGINT NOT NULL,
    PRIMARY KEY (parked_by, call_id)
) WITHOUT ROWID;

INSERT INTO park_outcomes (parked_by, call_id, code, caller, outcome, by_user, ended_at_ms)
    SELECT parked_by, call_id, code, caller, 'lost', NULL, lost_at_ms FROM lost_parks;
