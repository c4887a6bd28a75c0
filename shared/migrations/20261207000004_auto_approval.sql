-- Auto-approval: an advertiser's validation period (NULL: never). The workers' scheduler
-- approves its transactions still pending that long after their transaction date, as a
-- job of its own marked auto_approve, whose history entries say `auto-approve`.
ALTER TABLE advertisers ADD COLUMN validation_period_days INT
    CHECK (validation_period_days BETWEEN 0 AND 3650);
ALTER TABLE jobs ADD COLUMN auto_approve BOOLEAN NOT NULL DEFAULT false;

-- The scheduler's scan: an advertiser's pending transactions by date.
CREATE INDEX transactions_pending_by_date ON transactions (advertiser_id, transaction_date)
    WHERE commission_status = 'pending';

-- Whether an advertiser's last auto-approval job is still running (the scheduler then
-- leaves it alone).
CREATE INDEX jobs_auto_approving ON jobs (advertiser_id) WHERE auto_approve AND status <> 'DONE';
