-- v13 -> v14: OZG intake API: help requests by idempotency key, and rathaus's key for the links it issues
-- One row per help request of an online service's backend
-- (POST /api/ozg/v1/help-requests). The primary key makes the service's
-- Idempotency-Key count once: a retry within the window gets this row's
-- answer back. fingerprint is the SHA-256 of the request's normalised
-- fields, so a retry with other fields is told apart (never the fields
-- themselves). context is the signed hand-over context of the link, kept
-- so a retry gets the same link; it expires with expires_at. A row is
-- pruned once its idempotency window (created_at + 24 h) has passed.
CREATE TABLE ozg_help_request (
	service_id      TEXT   NOT NULL,
	idempotency_key TEXT   NOT NULL,
	request_id      TEXT   NOT NULL UNIQUE,
	fingerprint     TEXT   NOT NULL,
	context         TEXT   NOT NULL,
	created_at      BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL,
	PRIMARY KEY (service_id, idempotency_key)
);

CREATE INDEX ozg_help_request_created_idx ON ozg_help_request (created_at);

-- The HMAC key with which rathaus signs the contexts of the links it
-- issues (HS256). It is made once, on the first help request, and kept
-- here rather than in memory so that links stay valid across a restart
-- and across several rathaus processes on one database. Only rathaus
-- knows it (unlike the appservice token, which the homeserver holds too).
CREATE TABLE ozg_intake_key (
	id         TEXT   PRIMARY KEY,
	secret     TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
