-- v9 -> v10: Case timeline positions count per case
-- case_event.seq counts across all cases; the guest chat showed it to the
-- citizen (stream ids, message seqs, media URLs), which told them how busy
-- the authority is. case_seq counts the rows of one case from 1, without
-- gaps, and is what leaves the store; seq stays the row's internal id.
-- citizen_case.event_seq is the case's last case_seq: a new row takes the
-- next one under the case row's lock (store/guestchat.go, AddCaseEvent).
ALTER TABLE case_event ADD COLUMN case_seq BIGINT;
UPDATE case_event SET case_seq = (
	SELECT COUNT(*) FROM case_event e WHERE e.case_id = case_event.case_id AND e.seq <= case_event.seq);
-- only: postgres
ALTER TABLE case_event ALTER COLUMN case_seq SET NOT NULL;
CREATE UNIQUE INDEX case_event_case_seq_idx ON case_event (case_id, case_seq);
-- A change row's target_seq is the changed row's case_seq now.
UPDATE case_event SET target_seq = (SELECT t.case_seq FROM case_event t WHERE t.seq = case_event.target_seq)
WHERE target_seq IS NOT NULL;
ALTER TABLE citizen_case ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
UPDATE citizen_case SET event_seq = (SELECT COALESCE(MAX(e.case_seq), 0) FROM case_event e WHERE e.case_id = citizen_case.id);
