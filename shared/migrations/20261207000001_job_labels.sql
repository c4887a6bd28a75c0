-- A job's label, from the batch's `X-Job-Label` header: free text the submitter chooses
-- (a file name, a cutoff), shown in the lists and filtered on. The index serves the
-- admin list filtered by label, newest first.
ALTER TABLE jobs ADD COLUMN label TEXT;

CREATE INDEX jobs_by_label ON jobs (label, created_at DESC) WHERE label IS NOT NULL;
