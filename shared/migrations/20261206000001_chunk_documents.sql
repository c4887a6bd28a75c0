-- Outcomes and history as one document per chunk instead of one row per item.
--
-- A chunk's outcomes are written with its completion, into its own row: `outcomes` (every
-- item, in index order) and `errors` (those with codes 400 and up), JSON arrays kept as
-- lz4-compressed text like the items. `first_index` (the chunk's lowest item index)
-- orders the chunks for the listings, which merge them by index. Progress is the sum
-- over the done chunks: a chunk no longer updates its job's row, so chunks of one job
-- never wait on each other; the job's row is written once, when the last chunk is done.
--
-- A chunk's changes go to one `chunk_history` row; each changed transaction appends that
-- row's id to its `history` list, in the row its update rewrites anyway (the column is
-- not indexed, so the update stays HOT). History outlives the job: no foreign key.

ALTER TABLE job_chunks
    ADD COLUMN first_index INT,
    ADD COLUMN error_count INT,
    ADD COLUMN outcomes TEXT COMPRESSION lz4,
    ADD COLUMN errors TEXT COMPRESSION lz4;

CREATE SEQUENCE chunk_history_id_seq;

CREATE TABLE chunk_history (
    advertiser_id BIGINT NOT NULL,
    id            BIGINT NOT NULL,
    job_id        UUID,
    chunk_no      INT,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- [{"transactionId", "index", "action", "before", "after"}] in index order.
    changes       TEXT COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (advertiser_id, id)
);

ALTER TABLE transactions ADD COLUMN history BIGINT[] NOT NULL DEFAULT '{}';

-- Jobs not finished yet, for the sweep that finishes a job whose last chunk's worker
-- died between its commit and writing the job's row.
CREATE INDEX jobs_unfinished ON jobs (created_at) WHERE status <> 'DONE';

-- Existing outcomes move into documents: a job's outcomes go to its lowest done chunk,
-- its other done chunks get empty ones (the listings merge all of them by index).
WITH firsts AS (
    SELECT advertiser_id, job_id, min(chunk_no) AS chunk_no FROM job_chunks
    WHERE done_at IS NOT NULL GROUP BY 1, 2
), docs AS (
    SELECT o.advertiser_id, o.job_id, min(o.item_index) AS first_index,
           count(*) FILTER (WHERE o.code >= 400) AS errors,
           json_agg(json_strip_nulls(json_build_object(
               'index', o.item_index, 'code', o.code, 'description', o.description, 'action', o.action,
               'transactionId', o.transaction_id, 'orderRef', o.order_ref, 'transactionDate', o.transaction_date,
               'timezone', o.timezone)) ORDER BY o.item_index)::text AS outcomes,
           coalesce(json_agg(json_strip_nulls(json_build_object(
               'index', o.item_index, 'code', o.code, 'description', o.description, 'action', o.action,
               'transactionId', o.transaction_id, 'orderRef', o.order_ref, 'transactionDate', o.transaction_date,
               'timezone', o.timezone)) ORDER BY o.item_index) FILTER (WHERE o.code >= 400), '[]')::text AS errors_doc
    FROM job_outcomes o GROUP BY 1, 2
)
UPDATE job_chunks c SET first_index = d.first_index, error_count = d.errors, outcomes = d.outcomes,
                        errors = d.errors_doc
FROM firsts f JOIN docs d USING (advertiser_id, job_id)
WHERE c.advertiser_id = f.advertiser_id AND c.job_id = f.job_id AND c.chunk_no = f.chunk_no;

UPDATE job_chunks SET first_index = 0, error_count = 0, outcomes = '[]', errors = '[]'
WHERE done_at IS NOT NULL AND outcomes IS NULL;

-- Existing history moves into documents: a chunk's entries shared one transaction, so
-- one (job, change time) is one chunk.
INSERT INTO chunk_history (advertiser_id, id, job_id, changed_at, changes)
SELECT advertiser_id, nextval('chunk_history_id_seq'), job_id, changed_at,
       json_agg(json_build_object('transactionId', transaction_id, 'index', item_index, 'action', action,
                                  'before', before, 'after', after) ORDER BY id)::text
FROM transaction_history GROUP BY advertiser_id, job_id, changed_at;

WITH links AS (
    SELECT h.advertiser_id, h.transaction_id, c.id AS ref, min(h.id) AS first
    FROM transaction_history h
    JOIN chunk_history c ON c.advertiser_id = h.advertiser_id AND c.job_id IS NOT DISTINCT FROM h.job_id
                        AND c.changed_at = h.changed_at
    GROUP BY 1, 2, 3
), lists AS (
    SELECT advertiser_id, transaction_id, array_agg(ref ORDER BY first) AS refs FROM links GROUP BY 1, 2
)
UPDATE transactions t SET history = l.refs FROM lists l
WHERE t.advertiser_id = l.advertiser_id AND t.id = l.transaction_id;

DROP TABLE job_outcomes;
DROP TABLE transaction_history;

-- The documents as rows, for reading by hand (and by the tests); nothing in Ratify's
-- paths reads these views.
CREATE VIEW job_outcomes AS
SELECT c.advertiser_id, c.job_id, c.chunk_no, (o->>'index')::int AS item_index, (o->>'code')::smallint AS code,
       o->>'description' AS description, o->>'action' AS action, (o->>'transactionId')::bigint AS transaction_id,
       o->>'orderRef' AS order_ref, o->>'transactionDate' AS transaction_date, o->>'timezone' AS timezone
FROM job_chunks c CROSS JOIN LATERAL json_array_elements(c.outcomes::json) AS o
WHERE c.outcomes IS NOT NULL;

CREATE VIEW transaction_history AS
SELECT h.advertiser_id, (e->>'transactionId')::bigint AS transaction_id, h.id AS chunk_history_id, h.changed_at,
       h.job_id, h.chunk_no, (e->>'index')::int AS item_index, e->>'action' AS action, e->'before' AS before,
       e->'after' AS after
FROM chunk_history h CROSS JOIN LATERAL json_array_elements(h.changes::json) AS e;
