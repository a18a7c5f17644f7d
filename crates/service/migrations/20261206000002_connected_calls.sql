-- Calls connected between two devices, with the digests of both devices' resume
-- tokens: after a restart the call is put back and goes on when both come back.
CREATE TABLE connected_calls (
    call_id BIGINT PRIMARY KEY NOT NULL,
    a_user BIGINT NOT NULL,
    a_device BIGINT NOT NULL,
    a_resume_digest TEXT,
    b_user BIGINT NOT NULL,
    b_device BIGINT NOT NULL,
    b_resume_digest TEXT
);
