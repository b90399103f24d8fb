-- v1 -> v2: Outbox of Matrix sends, so a send replayed after a crash happens once
CREATE TABLE outbox (
	-- txn_id is the deterministic Matrix transaction id of the send.
	txn_id     TEXT   PRIMARY KEY,
	room_id    TEXT   NOT NULL,
	sender     TEXT   NOT NULL,
	event_type TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	-- event_id and sent_at are set once the homeserver confirmed the send.
	-- No content is stored: Matrix is the conversation's source of truth.
	event_id   TEXT,
	sent_at    BIGINT
);

CREATE INDEX outbox_created_idx ON outbox (created_at);
