-- v4 -> v5: Citizen cases, their status transitions and reference numbers
CREATE TABLE citizen_case (
	id            TEXT   PRIMARY KEY,
	reference     TEXT   NOT NULL UNIQUE,
	department    TEXT   NOT NULL,
	status        TEXT   NOT NULL,
	-- ghost_user_id is the appservice user that speaks for the citizen.
	ghost_user_id TEXT   NOT NULL UNIQUE,
	room_id       TEXT   UNIQUE,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	retain_until  BIGINT
);

CREATE INDEX citizen_case_status_idx ON citizen_case (status, updated_at);

-- Every status change is a row: who did what, when. No message content.
CREATE TABLE case_transition (
	case_id     TEXT   NOT NULL REFERENCES citizen_case (id) ON DELETE CASCADE,
	from_status TEXT   NOT NULL,
	to_status   TEXT   NOT NULL,
	action      TEXT   NOT NULL,
	actor       TEXT   NOT NULL,
	at          BIGINT NOT NULL
);

CREATE INDEX case_transition_case_idx ON case_transition (case_id, at);

-- Running numbers for references such as BAU-2026-00042.
CREATE TABLE case_sequence (
	department TEXT    NOT NULL,
	year       INTEGER NOT NULL,
	last       INTEGER NOT NULL,
	PRIMARY KEY (department, year)
);
