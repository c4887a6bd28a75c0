//! B0, the Postgres floor: what this machine's Postgres does with the same transactions
//! table when nothing but the naive design's statements run — per 1,000-item chunk, one
//! `UPDATE … FROM unnest(…)` and one insert of an indexed outcome row per item, in one
//! transaction, over two connections. B0u is the same update alone: the limit of any
//! design that changes every row.

use std::time::Instant;

use futures::future::try_join_all;
use ratify_tests::Stack;
use uuid::Uuid;

use crate::data::{Scale, Seeded, FLOOR_ADVERTISER};

const CHUNK: usize = 1_000;
const CONNECTIONS: usize = 2;
/// Passes over the floor's transactions; the figure is their median.
pub const PASSES: usize = 3;

/// The naive design's outcome table: one row per item, keyed by job and index. Ratify
/// itself stores a chunk's outcomes as one document, so the floor keeps its own table.
const OUTCOME_TABLE: &str = "CREATE TABLE IF NOT EXISTS floor_outcomes (
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
)";

/// Items per second of each pass of B0 and of B0u, and the Postgres CPU each spent per
/// item (µs, over all its passes).
pub struct Floor {
    pub with_outcomes: Vec<f64>,
    pub update_only: Vec<f64>,
    pub cpu_with_outcomes: f64,
    pub cpu_update_only: f64,
}

fn postgres_seconds() -> f64 {
    crate::cpu::snapshot(&[]).get("postgres").copied().unwrap_or(0.0)
}

pub async fn measure(stack: &Stack, seeded: &Seeded, _scale: &Scale) -> anyhow::Result<Floor> {
    sqlx::query(OUTCOME_TABLE).execute(&stack.db).await?;
    let mut floor = Floor {
        with_outcomes: Vec::with_capacity(PASSES),
        update_only: Vec::with_capacity(PASSES),
        cpu_with_outcomes: 0.0,
        cpu_update_only: 0.0,
    };
    for pass in 0..2 * PASSES {
        // Alternate the status so every pass really changes every row, and the two
        // scenarios so both see the same table.
        let status = if pass % 2 == 0 { "approved" } else { "pending" };
        crate::data::checkpoint(stack).await?;
        let cpu = postgres_seconds();
        if pass % 2 == 0 {
            floor.with_outcomes.push(one_pass(stack, seeded, status, true).await?);
            floor.cpu_with_outcomes += postgres_seconds() - cpu;
        } else {
            floor.update_only.push(one_pass(stack, seeded, status, false).await?);
            floor.cpu_update_only += postgres_seconds() - cpu;
        }
    }
    let items = (PASSES * seeded.floor_ids.len()) as f64;
    floor.cpu_with_outcomes *= 1e6 / items;
    floor.cpu_update_only *= 1e6 / items;
    sqlx::query("DROP TABLE floor_outcomes").execute(&stack.db).await?;
    Ok(floor)
}

async fn one_pass(stack: &Stack, seeded: &Seeded, status: &'static str, outcomes: bool) -> anyhow::Result<f64> {
    let job_id = Uuid::new_v4();
    let chunks: Vec<(usize, &[i64])> = seeded.floor_ids.chunks(CHUNK).enumerate().collect();
    let started = Instant::now();
    let lanes = (0..CONNECTIONS).map(|lane| {
        let mine: Vec<(usize, &[i64])> = chunks.iter().copied().filter(|(n, _)| n % CONNECTIONS == lane).collect();
        async move {
            let mut conn = stack.db.acquire().await?;
            for (n, ids) in mine {
                let indexes: Vec<i32> = (0..ids.len()).map(|i| (n * CHUNK + i) as i32).collect();
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::query(
                    "UPDATE transactions t SET commission_status = $3, validation_date = now()
                     FROM unnest($2::bigint[]) AS u(id) WHERE t.advertiser_id = $1 AND t.id = u.id",
                )
                .bind(FLOOR_ADVERTISER)
                .bind(ids)
                .bind(status)
                .execute(&mut *tx)
                .await?;
                if outcomes {
                    sqlx::query(
                        "INSERT INTO floor_outcomes (advertiser_id, job_id, item_index, code, action, transaction_id)
                         SELECT $1, $2, u.idx, 200, 'approve', u.id FROM unnest($3::int[], $4::bigint[]) AS u(idx, id)",
                    )
                    .bind(FLOOR_ADVERTISER)
                    .bind(job_id)
                    .bind(&indexes)
                    .bind(ids)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            anyhow::Ok(())
        }
    });
    try_join_all(lanes).await?;
    Ok(seeded.floor_ids.len() as f64 / started.elapsed().as_secs_f64())
}
