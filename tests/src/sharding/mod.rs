//! The sharding key, proven: every statement Ratify sends on its per-advertiser tables
//! must carry `advertiser_id` in its predicate (or, for an insert, in its columns), the
//! distribution column a Citus-style distributed Postgres would shard them by; joins of
//! those tables must be made on it (co-location). docs/scaling.md says why.
//!
//! The statements come from `pg_stat_statements` after the end-to-end suite
//! ([`recorded`]), so dynamic SQL is seen as sent; each is parsed with `sqlparser` and
//! walked (`walk/`). Statements by nature across advertisers (relays, schedulers,
//! retention, admin listings, gauges) are named in [`allow::FAN_OUTS`], each with why;
//! any other unpinned statement fails, and so does an allowance no statement needs.

pub mod allow;
mod report;
pub mod sources;
mod walk;

pub use report::{recorded, verify, Load, Recorded, Report};
pub use walk::Findings;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// The distribution column.
pub const KEY: &str = "advertiser_id";

/// Tables distributed by `advertiser_id` and co-located, and the views over them.
pub const SHARDED: &[&str] = &[
    "jobs",
    "job_chunks",
    "transactions",
    "chunk_history",
    "webhooks",
    "webhook_deliveries",
    "webhook_attempts",
    "commission_groups",
    // Views: outcomes and history as rows, over job_chunks and chunk_history.
    "job_outcomes",
    "transaction_history",
];

/// Parses `sql` (one or more statements) and walks it. `Err` when it does not parse or
/// is of a kind the walk does not know: the check fails on it rather than skip it.
pub fn check(sql: &str) -> Result<Findings, String> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| format!("does not parse: {e}"))?;
    let mut walk = walk::Walk::default();
    for statement in &statements {
        walk.statement(statement)?;
    }
    Ok(walk.finish())
}

/// Whether `sql` names a sharded table at all (a word of it, not a substring).
pub fn touches_sharded(sql: &str) -> bool {
    sources::words(sql).iter().any(|w| SHARDED.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::check;

    fn keyed(sql: &str) -> bool {
        let f = check(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        f.unkeyed.is_empty() && f.uncolocated.is_empty()
    }

    #[test]
    fn sharding_pinned_statements_pass() {
        for sql in [
            "SELECT items FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2",
            "SELECT c.items FROM job_chunks c JOIN jobs j ON j.advertiser_id = c.advertiser_id AND j.id = c.job_id
             WHERE c.advertiser_id = $1 AND c.job_id = $2 FOR UPDATE OF c",
            "UPDATE job_chunks SET published_at = now() WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no IN (
             SELECT chunk_no FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2 FOR UPDATE SKIP LOCKED)",
            "SELECT id FROM chunk_history WHERE advertiser_id = $1 AND id = ANY($2)",
            "SELECT id FROM transactions WHERE advertiser_id IN ($1, $2)",
            "INSERT INTO job_chunks (advertiser_id, job_id, chunk_no) SELECT $1, $2, u.n FROM unnest($3::int[]) AS u(n)",
            "INSERT INTO webhooks (advertiser_id, url) VALUES ($1, $2) ON CONFLICT (advertiser_id) DO UPDATE SET url = $2",
            "WITH d AS (DELETE FROM webhook_deliveries WHERE advertiser_id = $1 AND job_id = $2 RETURNING id)
             DELETE FROM jobs WHERE advertiser_id = $1 AND id = $2",
            "WITH done AS (UPDATE jobs j SET status = $3 WHERE j.advertiser_id = $1 AND j.id = $2
                           RETURNING j.advertiser_id, j.id),
                  queued AS (INSERT INTO webhook_deliveries (advertiser_id, id) SELECT d.advertiser_id, d.id
                             FROM done d JOIN webhooks w ON w.advertiser_id = d.advertiser_id)
             SELECT count(*) FROM done",
            "SELECT j.id, p.n FROM jobs j LEFT JOIN LATERAL (SELECT count(*) AS n FROM job_chunks c
             WHERE c.advertiser_id = j.advertiser_id AND c.job_id = j.id) p ON true WHERE j.advertiser_id = $1",
            "SELECT u.pos, t.id FROM unnest($2::int[]) AS u(pos) JOIN transactions t ON t.advertiser_id = $1",
        ] {
            assert!(keyed(sql), "should pass: {sql}: {:?}", check(sql));
        }
    }

    #[test]
    fn sharding_unpinned_statements_fail() {
        for sql in [
            // No key at all.
            "SELECT count(*) FROM jobs WHERE status <> 'DONE'",
            // The key only in SET.
            "UPDATE transactions SET advertiser_id = $1 WHERE id = $2",
            // The key only under an OR.
            "SELECT id FROM jobs j WHERE ($1::bigint IS NULL OR j.advertiser_id = $1)",
            // The outer relation keyed, the joined one not: a join on the job id only.
            "SELECT c.items FROM jobs j JOIN job_chunks c ON c.job_id = j.id WHERE j.advertiser_id = $1",
            // A LEFT JOIN's ON pins only its right side.
            "SELECT j.id FROM jobs j LEFT JOIN job_chunks c ON c.job_id = j.id AND j.advertiser_id = $1",
            // A correlated subquery pins its inner relation, never the outer one.
            "SELECT id FROM jobs j WHERE EXISTS (SELECT 1 FROM job_chunks c WHERE c.advertiser_id = $1
             AND c.job_id = j.id AND j.advertiser_id = c.advertiser_id)",
            // Keyed outside, not inside the subquery.
            "UPDATE job_chunks SET done_at = now() WHERE advertiser_id = $1 AND job_id IN (SELECT id FROM jobs)",
            // Keyed through a set of pairs only: no shard can be pruned.
            "SELECT job_id FROM job_chunks c WHERE (c.advertiser_id, c.job_id) IN (SELECT * FROM unnest($1::bigint[], $2::uuid[]))",
            // Joined to a table function's column, not pinned.
            "UPDATE job_chunks c SET published_at = now() FROM unnest($1::bigint[]) AS u(advertiser_id)
             WHERE c.advertiser_id = u.advertiser_id",
        ] {
            assert!(!keyed(sql), "should fail: {sql}");
        }
        assert!(check("INSERT INTO jobs (id, status) VALUES ($1, $2)").is_err(), "an insert without the key");
    }

    #[test]
    fn sharding_joins_must_be_colocated() {
        let f = check(
            "SELECT c.chunk_no FROM job_chunks c JOIN jobs j ON j.id = c.job_id
             WHERE c.published_at IS NULL ORDER BY j.created_at FOR UPDATE OF c SKIP LOCKED",
        )
        .unwrap();
        assert_eq!(f.uncolocated.len(), 1, "{f:?}");
        let f = check(
            "SELECT c.chunk_no FROM job_chunks c JOIN jobs j ON j.advertiser_id = c.advertiser_id AND j.id = c.job_id
             WHERE c.published_at IS NULL",
        )
        .unwrap();
        assert!(f.uncolocated.is_empty() && f.unkeyed.len() == 2, "{f:?}");
        assert_eq!(f.tables, ["job_chunks", "jobs"]);
    }

    #[test]
    fn sharding_unparseable_is_an_error() {
        assert!(check("SELECT FROM WHERE jobs").is_err());
        assert!(check("TRUNCATE jobs").is_err());
    }
}
