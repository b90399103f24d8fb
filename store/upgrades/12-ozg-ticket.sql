-- v12 -> v13: OZG tickets of cases: their service, FIT-Connect submission and external ticket number
-- One row per case that opened with a de.rathaus.ticket (a hand-over from
-- an online service). The room's state is what clients read; this row is
-- what rathaus needs to find and report the case without reading room
-- state: the service to send status webhooks to, the submission a
-- FIT-Connect callback names, the caseworker's external ticket number.
-- Never form contents.
CREATE TABLE ozg_ticket (
	case_id           TEXT   PRIMARY KEY REFERENCES citizen_case (id) ON DELETE CASCADE,
	ticket_id         TEXT   NOT NULL,
	-- service_id is ozg.services[].id of a verified hand-over, '' for an
	-- unverified one (which never sends webhooks).
	service_id        TEXT   NOT NULL,
	-- submission_id is the FIT-Connect submission (a lower-case UUID), or ''.
	submission_id     TEXT   NOT NULL DEFAULT '',
	-- submission_status is the last status a verified callback reported
	-- (submitted, forwarded, rejected, accepted), or ''.
	submission_status TEXT   NOT NULL DEFAULT '',
	-- external_ref is a ticket number in another system that staff linked.
	external_ref      TEXT   NOT NULL DEFAULT '',
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE INDEX ozg_ticket_submission_idx ON ozg_ticket (submission_id);
