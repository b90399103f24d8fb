-- v10 -> v11: Used hand-over contexts of OZG online services, so a context is used once
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
