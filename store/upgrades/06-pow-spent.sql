-- v6 -> v7: Spent proof-of-work challenges, so a solved challenge is used once
CREATE TABLE pow_spent (
	challenge_id TEXT   PRIMARY KEY,
	expires_at   BIGINT NOT NULL
);

CREATE INDEX pow_spent_expires_idx ON pow_spent (expires_at);
