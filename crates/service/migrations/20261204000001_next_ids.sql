-- Ids are never given twice: the next user and group ids are kept here rather than
-- derived from the highest in use, which handed a removed user's id (and with it
-- their voicemail and sessions) to the next new account after a restart. 0 means
-- "not kept yet": the service then derives them from every id the database holds.
ALTER TABLE tenant ADD COLUMN next_user_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenant ADD COLUMN next_group_id BIGINT NOT NULL DEFAULT 0;
