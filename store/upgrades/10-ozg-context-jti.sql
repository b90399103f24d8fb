-- v10 -> v11: OZG hand-over: used contexts (single use) and the ticket of a case
-- A context's jti is bound on first use to the guest session that showed
-- it (binding: the session's token hash), so the same tab can reload
-- the hand-over and no other browser can. A row is kept until the
-- context has expired (plus the allowed clock skew); the context is
-- refused for its age after that anyway.
CREATE TABLE ozg_context_jti (
	service_id TEXT   NOT NULL,
	jti        TEXT   NOT NULL,
	binding    TEXT   NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (service_id, jti)
);

CREATE INDEX ozg_context_jti_expires_idx ON ozg_context_jti (expires_at);

-- The id of the OZG ticket a case opened with (the state key of its
-- de.rathaus.ticket), so every later de.rathaus.case keeps its ticket_ref.
ALTER TABLE citizen_case ADD COLUMN ticket_ref TEXT NOT NULL DEFAULT '';
