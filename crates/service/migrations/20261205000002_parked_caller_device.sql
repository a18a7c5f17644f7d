-- A parked call survives a restart: its caller's device (id and the digest of its
-- resume token) is kept with it, so that the caller can come back as that device and
-- hear hold music again under the same code. Rows from before have neither and are
-- reported lost at start-up, as before.
ALTER TABLE parked_calls ADD COLUMN caller_device BIGINT;
ALTER TABLE parked_calls ADD COLUMN resume_digest TEXT;
