-- Sign-in sessions, so a restart does not sign everyone out. Only a digest of each
-- token is kept: a copy of the database does not hand out working tokens.
CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
