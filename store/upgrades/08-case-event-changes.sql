-- v8 -> v9: Staff edits and redactions reach the citizen's timeline
-- A change row (kind 'edit' or 'redaction') points at the timeline row it
-- changed; that row itself holds the current state: the new text and
-- edited_at after an edit, kind 'redacted' with no body or file after a
-- redaction. The change rows tell open pages to update what they show.
ALTER TABLE case_event ADD COLUMN target_seq BIGINT;
ALTER TABLE case_event ADD COLUMN edited_at BIGINT;
