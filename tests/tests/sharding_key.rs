//! The sharding key over what the end-to-end suite really sent: every statement Ratify
//! sent on a sharded table, as `pg_stat_statements` recorded it in the test databases,
//! is pinned to `advertiser_id` or is a named fan-out (`ratify_tests::sharding`).
//!
//! A test binary of its own because it must run after the suite: `deploy/local.sh test`
//! resets the statistics, runs the suite without this binary, then runs it with
//! `RATIFY_SHARDING_FULL=1`, which also fails on an allowance nothing needed. Run alone
//! (`deploy/local.sh test -E 'test(/sharding/)'`) it checks what was recorded since the
//! last full run's reset, and fails if that is too little to mean anything.
//! `RATIFY_SHARDING_VERBOSE=1` prints every statement with what became of it.

use std::path::Path;

use sqlx::Connection;

/// Fewer of Ratify's statements than this means the suite did not run (a part of the
/// suite already sends over 40 distinct ones on sharded tables).
const AT_LEAST_ALONE: usize = 10;
const AT_LEAST_FULL: usize = 40;

#[tokio::test]
async fn sharding_key_pins_every_recorded_statement() {
    let url =
        std::env::var("RATIFY_TEST_DATABASE_URL").expect("RATIFY_TEST_DATABASE_URL (deploy/local.sh test sets it)");
    let full = std::env::var("RATIFY_SHARDING_FULL").is_ok_and(|v| v == "1");
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect to the test server");
    let statements = ratify_tests::sharding::recorded(&mut admin)
        .await
        .expect("read pg_stat_statements (deploy/lib/postgres.sh preloads it and creates the extension in `postgres`)");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let report = ratify_tests::sharding::verify(&statements, &root).expect("read the migrations and the harness");
    println!("{}", report.summary());
    if std::env::var("RATIFY_SHARDING_VERBOSE").is_ok_and(|v| v == "1") {
        for (verdict, sql) in &report.verdicts {
            println!("[{verdict}] {sql}");
        }
    }
    assert!(report.failures.is_empty(), "statements without the sharding key:\n{}", report.summary());
    let at_least = if full { AT_LEAST_FULL } else { AT_LEAST_ALONE };
    assert!(
        report.checked() >= at_least,
        "only {} of Ratify's statements on sharded tables were recorded (at least {at_least} expected): \
         run the suite first; `deploy/local.sh test` runs this check after it",
        report.checked()
    );
    if full {
        let unused = report.unused();
        assert!(unused.is_empty(), "allowed fan-outs no statement needed any more (remove them): {unused:?}");
    }
}

/// On the migrated schema: every primary key and unique index of a sharded table starts
/// with `advertiser_id`, every foreign key between sharded tables includes it, and no
/// other table refers to a sharded one (a reference table cannot point into shards).
#[tokio::test]
async fn sharding_key_leads_every_key_of_the_sharded_tables() {
    use ratify_tests::sharding::{KEY, SHARDED};
    let url =
        std::env::var("RATIFY_TEST_DATABASE_URL").expect("RATIFY_TEST_DATABASE_URL (deploy/local.sh test sets it)");
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect to the test server");
    let name = format!("ratify_t_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create a database");
    let (base, _) = url.rsplit_once('/').expect("a database URL ends with its database");
    let mut db = sqlx::PgConnection::connect(&format!("{base}/{name}")).await.expect("connect to it");
    ratify_shared::db::MIGRATOR.run(&mut db).await.expect("migrate");
    let sharded: Vec<String> = SHARDED.iter().map(|s| s.to_string()).collect();

    let keys: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text, i.relname::text, x.indisprimary, a.attname::text
         FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
         WHERE n.nspname = 'public' AND (x.indisprimary OR x.indisunique)",
    )
    .fetch_all(&mut db)
    .await
    .expect("read the unique indexes");
    let foreign: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT k.conrelid::regclass::text, k.confrelid::regclass::text,
                array(SELECT attname::text FROM pg_attribute WHERE attrelid = k.conrelid AND attnum = ANY(k.conkey))
         FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
         WHERE k.contype = 'f' AND n.nspname = 'public'",
    )
    .fetch_all(&mut db)
    .await
    .expect("read the foreign keys");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')",
    )
    .fetch_all(&mut db)
    .await
    .expect("read the tables");
    drop(db);
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await.expect("drop the database");

    for table in &sharded {
        assert!(tables.contains(table), "{table} is listed as sharded but the schema has no such table or view");
    }
    let mut problems = Vec::new();
    for (table, index, _, first) in keys.iter().filter(|k| sharded.contains(&k.0)) {
        if first.as_deref() != Some(KEY) {
            problems.push(format!("{table}: {index} starts with {first:?}"));
        }
    }
    for table in tables.iter().filter(|t| sharded.contains(t)) {
        let has_primary = keys.iter().any(|k| &k.0 == table && k.2);
        let is_view = table == "job_outcomes" || table == "transaction_history";
        if !has_primary && !is_view {
            problems.push(format!("{table} has no primary key"));
        }
    }
    for (from, to, columns) in &foreign {
        match (sharded.contains(from), sharded.contains(to)) {
            (true, true) if !columns.iter().any(|c| c == KEY) => {
                problems.push(format!("{from} → {to} on {columns:?}: not on {KEY}"))
            }
            (false, true) => problems.push(format!("{from} → {to}: a reference table refers to a sharded one")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "keys that would not shard by {KEY}:\n{}", problems.join("\n"));
    assert!(keys.iter().filter(|k| sharded.contains(&k.0)).count() >= 10, "too few keys read: {keys:?}");
}
