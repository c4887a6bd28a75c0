//! The benchmark's data: how much, seeding it through the bulk ingest endpoint, and the
//! batches of B2 (docs/api.md §7's mix).

use std::time::Instant;

use anyhow::{ensure, Context};
use futures::future::try_join_all;
use ratify_tests::{Client, Stack};
use serde_json::{json, Value};

/// Sizes of one run.
pub struct Scale {
    pub name: &'static str,
    /// B2: advertisers and pending transactions per advertiser.
    pub advertisers: i64,
    pub per_advertiser: usize,
    /// B2: jobs and items per job.
    pub jobs: usize,
    pub job_items: usize,
    /// B1: the two batch sizes and repetitions of each.
    pub b1_sizes: [usize; 2],
    pub b1_reps: usize,
    /// B0: items applied directly in SQL.
    pub floor_items: usize,
}

impl Scale {
    pub fn full() -> Scale {
        Scale {
            name: "full",
            advertisers: 10,
            per_advertiser: 100_000,
            jobs: 25,
            job_items: 40_000,
            b1_sizes: [40_000, 100_000],
            b1_reps: 5,
            floor_items: 200_000,
        }
    }

    pub fn quick() -> Scale {
        Scale {
            name: "quick",
            advertisers: 10,
            per_advertiser: 5_000,
            jobs: 10,
            job_items: 4_000,
            b1_sizes: [4_000, 10_000],
            b1_reps: 2,
            floor_items: 20_000,
        }
    }
}

/// Advertiser ids by role.
pub const B1_ADVERTISER: i64 = 100;
pub const B3_ADVERTISER: i64 = 200;
pub const FLOOR_ADVERTISER: i64 = 300;

/// What seeding produced.
pub struct Seeded {
    pub count: usize,
    pub seconds: f64,
    pub client: Client,
    /// `ids[a]`: transaction ids of B2 advertiser `a + 1`, in orderRef order.
    pub ids: Vec<Vec<i64>>,
    pub b1_ids: Vec<i64>,
    pub b3_ids: Vec<i64>,
    pub floor_ids: Vec<i64>,
}

/// The local date of transaction `i`, spread over November (no DST change there).
pub fn date_of(i: usize) -> String {
    format!("2026-11-{:02}T{:02}:{:02}:{:02}", 1 + i % 28, (i / 28) % 24, (i / 672) % 60, (i / 40_320) % 60)
}

pub fn order_ref(advertiser: i64, i: usize) -> String {
    format!("o{advertiser}-{i}")
}

async fn record(client: &Client, advertiser: i64, n: usize) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(100_000) {
        let rows: Vec<Value> = (start..n.min(start + 100_000))
            .map(|i| {
                json!({"orderRef": order_ref(advertiser, i), "transactionDate": date_of(i), "timezone": "Europe/Stockholm",
                       "saleAmount": 100, "currency": "EUR", "publisherId": 4242})
            })
            .collect();
        let (status, body) = client.post(&format!("/advertisers/{advertiser}/transactions"), &Value::Array(rows)).await;
        ensure!(status.is_success(), "seeding advertiser {advertiser}: {status} {body}");
        let batch = body["ids"].as_array().context("ids")?.iter().filter_map(Value::as_i64);
        ids.extend(batch);
    }
    Ok(ids)
}

pub async fn seed(stack: &Stack, scale: &Scale) -> anyhow::Result<Seeded> {
    let admin = stack.admin();
    let all: Vec<i64> = (1..=scale.advertisers).chain([B1_ADVERTISER, B3_ADVERTISER, FLOOR_ADVERTISER]).collect();
    for a in &all {
        admin
            .create_advertiser(*a, "EUR", &[("DEFAULT", "percentage", json!(10)), ("EXTRA", "percentage", json!(5))])
            .await;
    }
    let client = stack.client(&admin.create_token(&all).await);
    let started = Instant::now();
    // Two requests at a time: one parses while the other inserts.
    let mut ids = Vec::new();
    for pair in (1..=scale.advertisers).collect::<Vec<_>>().chunks(2) {
        ids.extend(try_join_all(pair.iter().map(|a| record(&client, *a, scale.per_advertiser))).await?);
    }
    let b1_ids = record(&client, B1_ADVERTISER, scale.b1_sizes[1]).await?;
    let b3_ids = record(&client, B3_ADVERTISER, 20_000).await?;
    let floor_ids = record(&client, FLOOR_ADVERTISER, scale.floor_items).await?;
    let count = ids.iter().map(Vec::len).sum::<usize>() + b1_ids.len() + b3_ids.len() + floor_ids.len();
    let seconds = started.elapsed().as_secs_f64();
    sqlx::query("VACUUM ANALYZE").execute(&stack.db).await?;
    Ok(Seeded { count, seconds, client, ids, b1_ids, b3_ids, floor_ids })
}

/// Puts every B2 transaction back to pending, as seeded, between B2 runs, and the table
/// back to the shape seeding left: rewritten at its fillfactor, its indexes rebuilt, its
/// rows without history references (a plain vacuum left each run the previous ones' page
/// fill and longer rows), then a [`checkpoint`].
pub async fn reset(stack: &Stack) -> anyhow::Result<()> {
    let started = Instant::now();
    sqlx::query(
        "UPDATE transactions SET commission_status = 'pending', decline_reason = NULL, amended = false,
                amend_reason = NULL, old_sale_amount = NULL, old_commission_amount = NULL, validation_date = NULL,
                sale_amount = 10000, commission_amount = 1000,
                parts = '[{\"code\":\"DEFAULT\",\"amount\":10000,\"commission\":1000}]', history = '{}'
         WHERE commission_status <> 'pending' OR amended OR history <> '{}'",
    )
    .execute(&stack.db)
    .await?;
    sqlx::query("VACUUM (FULL, ANALYZE) transactions").execute(&stack.db).await?;
    checkpoint(stack).await?;
    eprintln!("bench: reset to pending in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The items of B2 job `j`: 60 % approve by id, 20 % decline, 10 % amend with two
/// parts, 5 % approve by orderRef + date + timezone, 5 % an unknown id — interleaved.
/// Jobs share an advertiser's transactions in disjoint slices.
pub fn b2_job(seeded: &Seeded, scale: &Scale, j: usize) -> (i64, Value) {
    let advertisers = scale.advertisers as usize;
    let a = j % advertisers;
    let advertiser = a as i64 + 1;
    let jobs_here = scale.jobs / advertisers + usize::from(a < scale.jobs % advertisers);
    let slice_len = seeded.ids[a].len() / jobs_here.max(1);
    let offset = (j / advertisers) * slice_len;
    let mut next = 0_usize;
    let mut target = || {
        let i = offset + (next % slice_len.max(1));
        next += 1;
        (seeded.ids[a][i], i)
    };
    let items = (0..scale.job_items)
        .map(|k| match k % 20 {
            0..=11 => json!({"action": "approve", "transaction": {"transactionId": target().0}}),
            12..=15 => json!({"action": "decline", "transaction": {"transactionId": target().0, "declineReason": "returned"}}),
            16 | 17 => json!({"action": "amend", "transaction": {"transactionId": target().0, "amendReason": "partial return",
                "currency": "EUR", "saleAmount": 80, "transactionParts": [
                    {"commissionGroupCode": "DEFAULT", "amount": 60}, {"commissionGroupCode": "EXTRA", "amount": 20}]}}),
            18 => {
                let (_, i) = target();
                json!({"action": "approve", "transaction": {"orderRef": order_ref(advertiser, i), "transactionDate": date_of(i),
                       "timezone": "Europe/Stockholm"}})
            }
            _ => json!({"action": "approve", "transaction": {"transactionId": 9_000_000_000_i64 + k as i64}}),
        })
        .collect();
    (advertiser, Value::Array(items))
}

/// Starts a measured pass right after a checkpoint, as every pass of B0, B0u and B2 does, so
/// that each pays the full-page images of the pages it touches first, and no checkpoint the
/// WAL's size asks for falls inside one of them. Without it one did, near the end of every full
/// run: the last B2 (4 workers) wrote a full page image for each page it touched and came out
/// slower than the first.
pub async fn checkpoint(stack: &Stack) -> anyhow::Result<()> {
    sqlx::query("CHECKPOINT").execute(&stack.db).await?;
    Ok(())
}
