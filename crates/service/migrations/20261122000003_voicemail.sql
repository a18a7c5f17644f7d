-- Voicemail messages: the audio is an Ogg Opus file in <data-dir>/voicemail/.
CREATE TABLE voicemails (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL,
    caller_id      INTEGER,
    caller_name    TEXT,
    call_id        INTEGER NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    file           TEXT NOT NULL
);
CREATE INDEX voicemails_by_owner ON voicemails (owner_id, id);
