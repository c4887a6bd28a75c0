-- Completion webhooks. An advertiser's endpoint and signing secret (kept as given: it signs
-- every delivery, so it cannot be stored as a digest; it is never shown or logged again).
CREATE TABLE webhooks (
    advertiser_id BIGINT PRIMARY KEY REFERENCES advertisers (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The delivery outbox: one row per event to deliver (a job DONE, or a test ping), written in
-- the statement that makes the job DONE. `id` is the `webhook-id` of every attempt. A worker
-- claims a due row by moving `next_attempt_at` past its own time limit (a lease): should it
-- die, the row is due again once the lease is over.
CREATE TABLE webhook_deliveries (
    advertiser_id BIGINT NOT NULL,
    id UUID NOT NULL,
    job_id UUID,
    event TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INT NOT NULL DEFAULT 0,
    delivered_at TIMESTAMPTZ,
    given_up_at TIMESTAMPTZ,
    PRIMARY KEY (advertiser_id, id)
);
CREATE UNIQUE INDEX webhook_deliveries_per_job ON webhook_deliveries (advertiser_id, job_id, event)
    WHERE job_id IS NOT NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    advertiser_id BIGINT NOT NULL,
    delivery_id UUID NOT NULL,
    attempt INT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    url TEXT NOT NULL,
    status INT,
    error TEXT,
    duration_ms INT NOT NULL,
    PRIMARY KEY (advertiser_id, delivery_id, attempt)
);
