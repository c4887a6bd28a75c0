-- A chunk is bounded in bytes as well as items. When one transaction's items outgrow a
-- chunk, the rest go to a later chunk that continues it: after_chunk names the chunk
-- that must be done first, and waiting is true while it is not. A waiting chunk is not
-- published; the worker that finishes its predecessor releases and publishes it.
ALTER TABLE job_chunks
    ADD COLUMN after_chunk INT,
    ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT false;

-- Finishing a chunk looks up the chunks that continue it.
CREATE INDEX job_chunks_continuations ON job_chunks (advertiser_id, job_id, after_chunk)
    WHERE after_chunk IS NOT NULL;

DROP INDEX job_chunks_unpublished;
CREATE INDEX job_chunks_unpublished ON job_chunks (advertiser_id, job_id)
    WHERE published_at IS NULL AND done_at IS NULL AND NOT waiting;
