-- What the console needs.
--
-- A chunk's outcome counts by code ({"200": 980, "404": 20}), written with its
-- completion, so a job's counts by code are summed over its chunks without opening their
-- documents. Chunks finished before this column existed have none (the console then
-- shows the counts it can: processed and errors).
ALTER TABLE job_chunks ADD COLUMN code_counts JSONB;

-- Console sessions. The cookie carries a random session id (signed); only its hash is
-- stored, with the hash of the token signed in with, which is checked again on every
-- request: a revoked token ends its sessions at once.
CREATE TABLE console_sessions (
    id_hash    BYTEA PRIMARY KEY,
    token_hash BYTEA NOT NULL,
    admin      BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- Workers say they are alive every few seconds; the console's health page lists those
-- seen recently. A worker that stops cleanly removes its row; a dead one's row ages out.
CREATE TABLE worker_heartbeats (
    id         UUID PRIMARY KEY,
    hostname   TEXT NOT NULL,
    pid        INT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
