//! Validation rewrites transactions in place: approving, declining and amending change only
//! columns no index names (in its key, its expressions or its predicate), on pages with room
//! for the new versions, so Postgres makes every one a HOT update that touches no index.
//! One index on `commission_status` once made all of them cost twice as much; these tests
//! fail if one comes back.

use std::time::Duration;

use ratify_tests::actions::{amend, approve, decline};
use ratify_tests::{eventually, Stack};
use serde_json::{json, Value};

/// The columns a chunk's update writes (`db::transactions::update_states`).
const VALIDATION_COLUMNS: [&str; 11] = [
    "commission_status",
    "sale_amount",
    "commission_amount",
    "parts",
    "decline_reason",
    "amended",
    "amend_reason",
    "old_sale_amount",
    "old_commission_amount",
    "validation_date",
    "history",
];

#[tokio::test(flavor = "multi_thread")]
async fn no_index_on_transactions_names_a_column_validation_changes() {
    let stack = Stack::builder().start().await;
    // Every column an index depends on: its key columns, and those its expressions and
    // predicate refer to (pg_depend records the latter on the index).
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexrelid::regclass::text, a.attname::text
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = 'transactions'::regclass
         UNION
         SELECT d.objid::regclass::text, a.attname::text
         FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.refobjid = 'transactions'::regclass AND d.refobjsubid > 0
           AND d.objid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'transactions'::regclass)",
    )
    .fetch_all(&stack.db)
    .await
    .expect("reading the indexes");
    assert!(rows.iter().any(|(_, column)| column == "advertiser_id"), "the query sees the indexes: {rows:?}");
    let offending: Vec<&(String, String)> =
        rows.iter().filter(|(_, column)| VALIDATION_COLUMNS.contains(&column.as_str())).collect();
    assert!(offending.is_empty(), "indexes naming columns validation changes (no HOT update then): {offending:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn approving_declining_and_amending_are_hot_updates() {
    let stack = Stack::builder().start().await;
    let admin = stack.admin();
    admin.create_advertiser(31, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let client = stack.client(&admin.create_token(&[31]).await);
    let ids = client.record_simple(31, "EUR", "hot", 3000).await;

    // One job of 3,000 items in chunks of 1,000: a chunk changes most rows of its pages at once.
    let mut items: Vec<Value> = ids[..1000].iter().map(|&id| approve(id)).collect();
    items.extend(ids[1000..2000].iter().map(|&id| decline(id, "returned")));
    items.extend(ids[2000..].iter().map(|&id| amend(id, false, 80.0, &[("DEFAULT", 80.0)])));
    let job = client.run(31, &Value::Array(items)).await;
    assert_eq!(job.body["errorCount"], json!(0), "{}", job.body);

    // The statistics reach the view a moment after the worker's transaction ends.
    let (updates, hot): (i64, i64) = eventually("3,000 updates counted", Duration::from_secs(30), || async {
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'transactions'::regclass",
        )
        .fetch_one(&stack.db)
        .await
        .expect("reading the statistics");
        (counts.0 >= 3000).then_some(counts)
    })
    .await;
    assert_eq!(updates, 3000, "one update per item");
    assert_eq!(hot, updates, "every update of a transaction a HOT update");
}
