-- Chunks whose message was published but that are not done yet: the stall watchdog
-- looks here for messages the broker may have lost.
CREATE INDEX job_chunks_unfinished ON job_chunks (published_at)
    WHERE published_at IS NOT NULL AND done_at IS NULL;
