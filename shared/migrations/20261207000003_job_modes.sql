-- What a job is beyond its items: a dry run (outcomes computed against the current state,
-- nothing written), cancelled (when; its chunks not applied by then end [409 CANCELLED]),
-- and the retry links (a new job of the items that ended [500], and back). All within one
-- advertiser, like every key of the jobs table.
ALTER TABLE jobs
    ADD COLUMN dry_run BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN cancelled_at TIMESTAMPTZ,
    ADD COLUMN retry_of UUID,
    ADD COLUMN retried_by UUID;
