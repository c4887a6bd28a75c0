-- Ratify's schema. Every table that holds an advertiser's data leads its key with
-- advertiser_id, and every query filters by it, so the data can be distributed by
-- advertiser later without a rewrite.

CREATE TABLE advertisers (
    id          BIGINT PRIMARY KEY CHECK (id > 0),
    name        TEXT NOT NULL,
    currency    CHAR(3) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- `value` is a percentage for kind 'percentage' and an amount in major units of the
-- advertiser's currency for kind 'fixed'; both exact decimals.
CREATE TABLE commission_groups (
    advertiser_id BIGINT NOT NULL REFERENCES advertisers (id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('percentage', 'fixed')),
    value         NUMERIC NOT NULL CHECK (value >= 0),
    PRIMARY KEY (advertiser_id, code)
);

-- Only a SHA-256 of each token is stored; the token itself is shown once.
CREATE TABLE api_tokens (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE api_token_advertisers (
    token_id      UUID NOT NULL REFERENCES api_tokens (id),
    advertiser_id BIGINT NOT NULL REFERENCES advertisers (id),
    PRIMARY KEY (token_id, advertiser_id)
);

CREATE SEQUENCE transaction_id_seq;

-- Amounts are integer minor units of `currency` (ISO 4217 exponent). `parts` is the
-- JSON array [{"code", "amount", "commission"}] in minor units.
CREATE TABLE transactions (
    advertiser_id         BIGINT NOT NULL REFERENCES advertisers (id),
    id                    BIGINT NOT NULL,
    order_ref             TEXT NOT NULL,
    transaction_date      TIMESTAMPTZ NOT NULL,
    timezone              TEXT NOT NULL,
    commission_status     TEXT NOT NULL DEFAULT 'pending'
                          CHECK (commission_status IN ('pending', 'approved', 'declined')),
    currency              CHAR(3) NOT NULL,
    sale_amount           BIGINT NOT NULL CHECK (sale_amount >= 0),
    commission_amount     BIGINT NOT NULL CHECK (commission_amount >= 0),
    parts                 JSONB NOT NULL,
    decline_reason        TEXT,
    amended               BOOLEAN NOT NULL DEFAULT false,
    amend_reason          TEXT,
    old_sale_amount       BIGINT,
    old_commission_amount BIGINT,
    validation_date       TIMESTAMPTZ,
    publisher_id          BIGINT,
    click_ref             TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (advertiser_id, id),
    UNIQUE (advertiser_id, order_ref, transaction_date)
) WITH (fillfactor = 80);

-- Validation changes only unindexed columns and pages keep 20 % free, so approving,
-- declining or amending is a HOT update that touches no index. That is why there is
-- deliberately no index on validation_date: listings by validation date scan the
-- advertiser's rows instead.
CREATE INDEX transactions_by_date ON transactions (advertiser_id, transaction_date);

-- One row per applied change (every 200 outcome): which job item made it, and the
-- changed fields before and after.
CREATE TABLE transaction_history (
    advertiser_id  BIGINT NOT NULL,
    transaction_id BIGINT NOT NULL,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    changed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    job_id         UUID,
    item_index     INT,
    action         TEXT NOT NULL,
    before         JSON NOT NULL,
    after          JSON NOT NULL,
    PRIMARY KEY (advertiser_id, transaction_id, id)
);

CREATE TABLE jobs (
    advertiser_id     BIGINT NOT NULL REFERENCES advertisers (id),
    id                UUID NOT NULL,
    status            TEXT NOT NULL DEFAULT 'QUEUED'
                      CHECK (status IN ('QUEUED', 'PROCESSING', 'DONE')),
    transaction_count INT NOT NULL CHECK (transaction_count > 0),
    processed_count   INT NOT NULL DEFAULT 0,
    error_count       INT NOT NULL DEFAULT 0,
    chunk_count       INT NOT NULL,
    idempotency_key   TEXT,
    request_hash      BYTEA,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    completion_date   TIMESTAMPTZ,
    PRIMARY KEY (advertiser_id, id),
    CHECK (processed_count <= transaction_count)
);

CREATE UNIQUE INDEX jobs_idempotency ON jobs (advertiser_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_creation ON jobs (advertiser_id, created_at DESC);
-- For the retention purge, which looks across advertisers.
CREATE INDEX jobs_by_age ON jobs (created_at);

-- A job is split into chunks; a chunk is the unit of work a worker applies in one
-- Postgres transaction. Its items are stored as one JSON document (written and read
-- only by Ratify, so kept as lz4-compressed text rather than validated JSON) so that
-- accepting a 100,000-item batch writes a hundred rows, not a hundred thousand.
-- published_at is the outbox mark: NULL until the broker confirmed the chunk's message.
CREATE TABLE job_chunks (
    advertiser_id BIGINT NOT NULL,
    job_id        UUID NOT NULL,
    chunk_no      INT NOT NULL,
    item_count    INT NOT NULL,
    items         TEXT COMPRESSION lz4 NOT NULL,
    published_at  TIMESTAMPTZ,
    done_at       TIMESTAMPTZ,
    PRIMARY KEY (advertiser_id, job_id, chunk_no),
    FOREIGN KEY (advertiser_id, job_id) REFERENCES jobs (advertiser_id, id) ON DELETE CASCADE
);

CREATE INDEX job_chunks_unpublished ON job_chunks (advertiser_id, job_id)
    WHERE published_at IS NULL AND done_at IS NULL;

-- One outcome per item; the primary key makes a second outcome impossible. Outcomes are
-- written in the same transaction as the changes and history of their chunk, so the
-- key also makes a second application of an item impossible: the whole transaction
-- would fail. No foreign key: this is the hottest insert.
CREATE TABLE job_outcomes (
    advertiser_id    BIGINT NOT NULL,
    job_id           UUID NOT NULL,
    item_index       INT NOT NULL,
    code             SMALLINT NOT NULL,
    description      TEXT,
    action           TEXT,
    transaction_id   BIGINT,
    order_ref        TEXT,
    transaction_date TEXT,
    timezone         TEXT,
    PRIMARY KEY (advertiser_id, job_id, item_index)
);

CREATE INDEX job_outcomes_errors ON job_outcomes (advertiser_id, job_id, item_index)
    WHERE code >= 400;
