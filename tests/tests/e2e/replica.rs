//! The read replica (`DATABASE_READ_URL`, README "Read replica"), on private servers with a
//! streaming replica whose replay the tests pause: polls and lookups are served by the
//! replica once it has replayed what they must show, a client's own new job and transactions
//! are found at once while it replays nothing, no answer is older than one given before, and
//! reads are answered by the primary while the replica is down.

use std::time::Duration;

use ratify_tests::servers::Servers;
use ratify_tests::{eventually, Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

const ADVERTISER: i64 = 41;

/// A stack whose api reads from a replica of its private Postgres; no workers yet.
struct Replicated {
    servers: Servers,
    stack: Stack,
    /// A superuser pool on the replica (the postgres database): replay is paused there.
    replica: PgPool,
    client: Client,
}

async fn replicated(name: &str) -> Replicated {
    let mut servers = Servers::start(name).await;
    let replica_admin_url = servers.start_replica().await;
    let stack = Stack::builder()
        .servers(&servers.database_admin_url, &servers.amqp_url)
        .read_replica(&replica_admin_url)
        .workers(0)
        .start()
        .await;
    let replica = PgPool::connect(&replica_admin_url).await.expect("connecting to the replica");
    let client = stack.advertiser(ADVERTISER, "EUR", &[]).await;
    Replicated { servers, stack, replica, client }
}

/// The sum of `ratify_replica_reads_total` over the series whose labels contain `labels`.
async fn reads(stack: &Stack, labels: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", stack.base_url)).await.expect("scrape").text().await.expect("body");
    text.lines()
        .filter(|l| l.starts_with("ratify_replica_reads_total{") && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |sum, n| sum + n)
}

/// Waits until the replica has replayed everything the primary has written so far.
async fn caught_up(r: &Replicated) {
    let primary: i64 = sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
        .fetch_one(&r.stack.db)
        .await
        .expect("the primary's position");
    eventually("the replica to catch up", Duration::from_secs(30), || async {
        let replayed: Option<i64> = sqlx::query_scalar("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
            .fetch_one(&r.replica)
            .await
            .ok()?;
        (replayed? >= primary).then_some(())
    })
    .await;
}

async fn pause_replay(r: &Replicated) {
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&r.replica).await.expect("pausing replay");
    eventually("replay to pause", Duration::from_secs(10), || async {
        let state: String =
            sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()").fetch_one(&r.replica).await.ok()?;
        (state == "paused").then_some(())
    })
    .await;
}

fn approve_all(ids: &[i64]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect())
}

async fn job(client: &Client, job: &str) -> Value {
    let (status, body) = client.get(&format!("/advertisers/{ADVERTISER}/transactions/jobs/{job}")).await;
    assert_eq!(status, StatusCode::OK, "job {job}: {body}");
    body
}

async fn status_in_primary(stack: &Stack, job: &str) -> String {
    let id: uuid::Uuid = job.parse().expect("a job id");
    sqlx::query_scalar("SELECT status::text FROM jobs WHERE advertiser_id = $1 AND id = $2")
        .bind(ADVERTISER)
        .bind(id)
        .fetch_one(&stack.db)
        .await
        .expect("the job's row")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replica_serves_polls_and_a_client_reads_its_own_writes_while_it_replays_nothing() {
    let mut r = replicated("replica-reads").await;
    let ids = r.client.record_simple(ADVERTISER, "EUR", "r", 10).await;
    let a = r.client.submit(ADVERTISER, &approve_all(&ids[..5])).await;
    caught_up(&r).await;

    // Caught up, the replica answers; with its replay paused and job a applied on the primary
    // by a worker (not a write of the api), the replica's answer is the job as it replayed it:
    // proof that the replica serves the poll.
    let served = reads(&r.stack, r#"served_by="replica""#).await;
    assert_eq!(job(&r.client, &a).await["status"], "QUEUED");
    assert!(reads(&r.stack, r#"served_by="replica""#).await > served, "a caught-up replica serves the poll");
    pause_replay(&r).await;
    r.stack.add_worker().expect("a worker");
    eventually("job a to be DONE on the primary", Duration::from_secs(60), || async {
        (status_in_primary(&r.stack, &a).await == "DONE").then_some(())
    })
    .await;
    assert_eq!(job(&r.client, &a).await["status"], "QUEUED", "the paused replica's state of job a");

    // A transaction written past this api (as another api would) is not on the paused replica,
    // which this api deems current: the miss is read again on the primary.
    let copy = ids[9] + 1_000_000;
    let mut tx = r.stack.db.begin().await.expect("a transaction");
    for sql in [
        format!(
            "CREATE TEMP TABLE copied ON COMMIT DROP AS \
             SELECT * FROM transactions WHERE advertiser_id = {ADVERTISER} AND id = {}",
            ids[9]
        ),
        format!("UPDATE copied SET id = {copy}, order_ref = order_ref || '-copy'"),
        "INSERT INTO transactions SELECT * FROM copied".to_owned(),
    ] {
        sqlx::query(&sql).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    tx.commit().await.expect("committing the copy");
    let missed = reads(&r.stack, r#"reason="miss""#).await;
    assert_eq!(r.client.transaction(ADVERTISER, copy).await["id"], copy);
    assert!(reads(&r.stack, r#"reason="miss""#).await > missed, "the miss was read again on the primary");
    // The primary's answer was the state now, and no later answer may be older: job a reads
    // DONE from here on.
    assert_eq!(job(&r.client, &a).await["status"], "DONE");

    // The client's own writes, which the replica has not replayed: found at once, on the
    // primary, never a 404.
    let more = r.client.record_simple(ADVERTISER, "EUR", "s", 3).await;
    for (i, id) in more.iter().enumerate() {
        assert_eq!(r.client.transaction(ADVERTISER, *id).await["orderRef"], format!("s-{i}"));
    }
    let listed = more.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let (status, body) = r.client.get(&format!("/advertisers/{ADVERTISER}/transactions?ids={listed}")).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (StatusCode::OK, Some(3)), "{body}");
    let b = r.client.submit(ADVERTISER, &approve_all(&more)).await;
    let shown = job(&r.client, &b).await;
    assert_eq!(shown["jobId"], b.as_str(), "{shown}");
    let (status, errors) =
        r.client.get(&format!("/advertisers/{ADVERTISER}/transactions/jobs/{b}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    let (status, page) =
        r.client.get(&format!("/advertisers/{ADVERTISER}/transactions/jobs/{b}?output=all&limit=1")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, list) = r.client.get(&format!("/advertisers/{ADVERTISER}/transactions/jobs")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed: Vec<&str> = list["jobs"].as_array().expect("jobs").iter().filter_map(|j| j["jobId"].as_str()).collect();
    assert!(listed.contains(&b.as_str()) && listed.contains(&a.as_str()), "{list}");
    let (status, all) = r.stack.admin().get(&format!("/admin/jobs?advertiserId={ADVERTISER}")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert!(all["jobs"].as_array().expect("jobs").iter().any(|j| j["jobId"] == b.as_str()), "{all}");
    assert!(reads(&r.stack, r#"reason="behind""#).await > 0.0, "the writes sent the reads to the primary");

    // Replay resumed, the replica serves again, and shows job a DONE, as the primary did.
    sqlx::query("SELECT pg_wal_replay_resume()").execute(&r.replica).await.expect("resuming replay");
    let before = reads(&r.stack, r#"served_by="replica""#).await;
    eventually("the replica to serve again", Duration::from_secs(30), || async {
        assert_eq!(job(&r.client, &a).await["status"], "DONE", "an answer older than one given before");
        (reads(&r.stack, r#"served_by="replica""#).await > before).then_some(())
    })
    .await;
    r.client.wait_until_done(ADVERTISER, &b, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_answered_by_the_primary_while_the_replica_is_down() {
    let mut r = replicated("replica-down").await;
    let ids = r.client.record_simple(ADVERTISER, "EUR", "d", 4).await;
    r.stack.add_worker().expect("a worker");
    let job_id = r.client.submit(ADVERTISER, &approve_all(&ids)).await;
    r.client.wait_until_done(ADVERTISER, &job_id, Duration::from_secs(60)).await;
    caught_up(&r).await;

    r.servers.stop_replica().await;
    let failed = reads(&r.stack, r#"reason="replica_error""#).await;
    for path in [
        format!("/advertisers/{ADVERTISER}/transactions/jobs/{job_id}"),
        format!("/advertisers/{ADVERTISER}/transactions/jobs/{job_id}?output=all"),
        format!("/advertisers/{ADVERTISER}/transactions/jobs/{job_id}?output=errors&limit=10"),
        format!("/advertisers/{ADVERTISER}/transactions/jobs"),
        format!("/advertisers/{ADVERTISER}/transactions/{}", ids[0]),
        format!("/advertisers/{ADVERTISER}/transactions?ids={}", ids[1]),
    ] {
        let (status, body) = r.client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path} with the replica down: {body}");
    }
    let (status, body) = r.stack.admin().get("/admin/jobs").await;
    assert_eq!(status, StatusCode::OK, "/admin/jobs with the replica down: {body}");
    assert!(reads(&r.stack, r#"reason="replica_error""#).await > failed, "the replica's failure was counted");

    // Started again, it serves again (after the rest the api gives a failed replica).
    r.servers.start_replica().await;
    let before = reads(&r.stack, r#"served_by="replica""#).await;
    eventually("the replica to serve again", Duration::from_secs(30), || async {
        assert_eq!(job(&r.client, &job_id).await["status"], "DONE");
        (reads(&r.stack, r#"served_by="replica""#).await > before).then_some(())
    })
    .await;
}
