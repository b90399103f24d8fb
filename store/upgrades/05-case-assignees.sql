-- v5 -> v6: Caseworkers assigned to a case
CREATE TABLE case_assignee (
	case_id     TEXT   NOT NULL REFERENCES citizen_case (id) ON DELETE CASCADE,
	user_id     TEXT   NOT NULL,
	assigned_at BIGINT NOT NULL,
	PRIMARY KEY (case_id, user_id)
);

CREATE INDEX case_assignee_user_idx ON case_assignee (user_id);
