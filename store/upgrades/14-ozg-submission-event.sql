-- v14 -> v15: The course of a ticket's FIT-Connect submission, for the ticket widget's timeline
-- One row per submission status a verified callback reported (submitted,
-- forwarded, accepted, rejected) and when rathaus learnt it; ozg_ticket
-- keeps only the last. Deleted with the case's other data at purge.
CREATE TABLE ozg_submission_event (
	case_id TEXT   NOT NULL REFERENCES citizen_case (id) ON DELETE CASCADE,
	status  TEXT   NOT NULL,
	at      BIGINT NOT NULL
);

CREATE INDEX ozg_submission_event_case_idx ON ozg_submission_event (case_id, at);
