-- v3 -> v4: Inbox retries: a failing event frees its worker until it is due again
ALTER TABLE inbox_event ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
