//! `--replica`: the read replica's side of the B2 runs whose api reads from it: waiting for it
//! to replay what the run starts from, and how many reads it served.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use ratify_tests::Stack;
use sqlx::{Connection, PgConnection};

use crate::report::Row;

/// Waits until the replica at `read_url` has replayed everything the primary has written so
/// far (the reset before a run rewrites every transaction).
pub async fn caught_up(stack: &Stack, read_url: &str) -> anyhow::Result<()> {
    let target: i64 =
        sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint").fetch_one(&stack.db).await?;
    let mut replica = PgConnection::connect(read_url).await.context("connecting to the replica")?;
    let started = Instant::now();
    loop {
        let replayed: Option<i64> = sqlx::query_scalar("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
            .fetch_one(&mut replica)
            .await?;
        if replayed.context("the read URL names no replica")? >= target {
            return Ok(());
        }
        ensure!(started.elapsed() < Duration::from_secs(600), "the replica did not catch up within 10 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A row saying which server served the reads the replica could serve, from the api's
/// `ratify_replica_reads_total` (the api was started for the run, so it counts that run).
pub async fn reads_row(stack: &Stack, workers: usize) -> anyhow::Result<Row> {
    let text = reqwest::get(format!("{}/metrics", stack.base_url)).await?.text().await?;
    let mut parts = Vec::new();
    for (what, labels) in [
        ("replica", r#"served_by="replica""#),
        ("primary: behind", r#"reason="behind""#),
        ("primary: miss", r#"reason="miss""#),
        ("primary: replica error", r#"reason="replica_error""#),
    ] {
        let n: f64 = text
            .lines()
            .filter(|l| l.starts_with("ratify_replica_reads_total{") && l.contains(labels))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .fold(0.0, |sum, n| sum + n);
        parts.push(format!("{what} {n:.0}"));
    }
    Ok(Row::new("reads", format!("reads served during B2 ({workers} w, replica)"), parts.join(", "), "", None))
}
