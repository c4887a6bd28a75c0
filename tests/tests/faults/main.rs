//! Faults: workers killed or stopped mid-job, RabbitMQ and Postgres restarted under
//! load, poison items and chunks (`poison`), lost messages (`lost`), duplicate
//! deliveries and concurrent jobs on the same transactions. Whatever happens, every item gets exactly one outcome, every `[200 OK]`
//! is applied exactly once, and every job reaches `DONE`.
//!
//! Tests that restart a server get private servers ([`Servers`]), so the shared ones
//! keep serving the other tests.
//!
//! Faults are injected at a known point rather than after a guessed delay: the test
//! holds a row lock (a "gate", see [`gate_job`]) that the chunks need, waits until the
//! workers' chunks stand at it in the middle of their Postgres transactions, injects the
//! fault, and opens the gate.

use std::time::{Duration, Instant};

use lapin::options::BasicGetOptions;
use ratify_shared::broker::{self, Topology, DEFAULT_DELIVERY_LIMIT};
use ratify_shared::message::QueueTask;
use ratify_tests::servers::Servers;
use ratify_tests::{eventually, Client, Job, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const ADVERTISER: i64 = 7;
const OK: &str = "[200 OK]";
const NOT_MODIFIED: &str = "[304 NOT_MODIFIED]";
const UNPROCESSABLE: &str = "[422 UNPROCESSABLE_ENTITY]";
const INTERNAL: &str = "[500 INTERNAL_SERVER_ERROR]";
/// How long any job may take to finish once its fault is over.
const FINISH: Duration = Duration::from_secs(120);

mod lost;
mod poison;

/// An advertiser (EUR; DEFAULT pays 10 %) with `n` pending transactions of 100.00;
/// returns a client for it and the transaction ids.
async fn setup(stack: &Stack, n: usize) -> (Client, Vec<i64>) {
    let admin = stack.admin();
    admin
        .create_advertiser(
            ADVERTISER,
            "EUR",
            &[("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))],
        )
        .await;
    let client = stack.client(&admin.create_token(&[ADVERTISER]).await);
    let ids = client.record_simple(ADVERTISER, "EUR", "order", n).await;
    (client, ids)
}

fn approve(id: i64) -> Value {
    json!({"action": "approve", "transaction": {"transactionId": id}})
}

fn decline(id: i64) -> Value {
    json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": "order returned"}})
}

/// Amends the sale to 80.00, all of it DEFAULT (commission 8.00).
fn amend(id: i64) -> Value {
    json!({"action": "amend", "approve": false, "transaction": {"transactionId": id, "amendReason": "partial return",
           "currency": "EUR", "saleAmount": 80, "transactionParts": [{"amount": 80, "commissionGroupCode": "DEFAULT"}]}})
}

fn batch(ids: &[i64], action: fn(i64) -> Value) -> Value {
    Value::Array(ids.iter().map(|id| action(*id)).collect())
}

fn job_path(job: &str) -> String {
    format!("/advertisers/{ADVERTISER}/transactions/jobs/{job}")
}

/// `(processedCount, DONE?)`, or `None` while the api cannot answer (e.g. `503` while
/// Postgres is down).
async fn progress(client: &Client, job: &str) -> Option<(i64, bool)> {
    let (status, body) = client.get(&job_path(job)).await;
    (status == StatusCode::OK).then(|| (body["processedCount"].as_i64().unwrap_or(0), body["status"] == "DONE"))
}

/// Waits (tolerating `503`s) until the job is DONE; returns it with `output=all`.
async fn finished(client: &Client, job: &str) -> Job {
    eventually(&format!("job {job} to be DONE"), FINISH, || async {
        progress(client, job).await.filter(|(_, done)| *done)
    })
    .await;
    eventually(&format!("job {job} with all its items"), FINISH, || async {
        let (status, body) = client.get(&format!("{}?output=all", job_path(job))).await;
        (status == StatusCode::OK).then_some(Job { body })
    })
    .await
}

/// An open Postgres transaction of the test holding row locks that workers need: while
/// it is open, chunks stop in the middle of their own transaction. Committing it (or
/// losing it) opens the gate.
type Gate = sqlx::Transaction<'static, sqlx::Postgres>;

/// Locks the job's row. Every chunk of the job then stops at its last statement (the
/// job's counters), having locked its chunk row and written its transactions' states,
/// history and outcomes, all uncommitted: a fault injected now provably hits work in
/// flight. The job row exists only once the job is accepted, so workers should start
/// after the gate closes.
async fn gate_job(stack: &Stack, job: &str) -> Gate {
    let mut gate = stack.db.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM jobs WHERE advertiser_id = $1 AND id = $2 FOR UPDATE")
        .bind(ADVERTISER)
        .bind(job.parse::<Uuid>().expect("a job id"))
        .execute(&mut *gate)
        .await
        .expect("locking the job");
    gate
}

/// Locks transactions before a job on them is submitted: its chunks stop when they lock
/// or update them, holding their chunk row locks, having read the states as they were.
async fn gate_transactions(stack: &Stack, ids: &[i64]) -> Gate {
    let mut gate = stack.db.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM transactions WHERE advertiser_id = $1 AND id = ANY($2) FOR UPDATE")
        .bind(ADVERTISER)
        .bind(ids)
        .execute(&mut *gate)
        .await
        .expect("locking the transactions");
    gate
}

/// Opens the job's gate and closes it again right behind the chunks that were waiting,
/// until the job has processed more than `after` items. The job cannot finish meanwhile
/// unless those were its last chunks.
async fn let_through(stack: &Stack, client: &Client, job: &str, mut gate: Gate, after: i64) -> Gate {
    let start = Instant::now();
    loop {
        gate.commit().await.expect("opening the gate");
        gate = gate_job(stack, job).await;
        let (processed, _) = progress(client, job).await.expect("the job");
        if processed > after {
            return gate;
        }
        assert!(start.elapsed() < FINISH, "job {job} did not move past {after} processed items");
    }
}

/// Waits until at least `n` chunks stand at a gate, mid-transaction: sessions of the
/// test's database waiting for a lock, except the outbox marks of the api and the relays
/// (which wait for chunk rows that workers hold).
async fn at_gate(stack: &Stack, n: i64) -> i64 {
    eventually(&format!("{n} chunks to wait at the gate"), FINISH, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query NOT LIKE '%published_at%'",
        )
        .fetch_one(&stack.db)
        .await
        .ok()?;
        (waiting >= n).then_some(waiting)
    })
    .await
}

/// How many chunks the worker process `pid` has standing at a gate: its Postgres
/// sessions (found by their client ports, which `ss` shows per process) waiting for a lock.
async fn held_by(stack: &Stack, pid: u32) -> i64 {
    let output = std::process::Command::new("ss").arg("-tnpH").output().expect("ss (iproute2)");
    let owner = format!("pid={pid},");
    let ports: Vec<i32> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&owner))
        .filter_map(|line| line.split_whitespace().nth(3)?.rsplit_once(':')?.1.parse().ok())
        .collect();
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
         AND client_port = ANY($1)",
    )
    .bind(ports)
    .fetch_one(&stack.db)
    .await
    .expect("counting the worker's waiting sessions")
}

fn job_id(job: &Job) -> Uuid {
    job.body["jobId"].as_str().expect("jobId").parse().expect("a uuid")
}

/// The database agrees with the api: one outcome per item, one history row per
/// `[200 OK]`, counters complete. Returns the number of `[200 OK]` items.
async fn assert_exactly_once(stack: &Stack, job: &Job) -> usize {
    let id = job_id(job);
    let total = job.body["transactionCount"].as_i64().expect("transactionCount");
    assert_eq!(job.body["status"], "DONE");
    assert_eq!(job.body["processedCount"], json!(total), "{id}");
    assert_eq!(job.items().len() as i64, total, "{id}: every item listed once");
    let (outcomes, distinct, ok): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT item_index), count(*) FILTER (WHERE code = 200)
         FROM job_outcomes WHERE job_id = $1",
    )
    .bind(id)
    .fetch_one(&stack.db)
    .await
    .expect("counting outcomes");
    assert_eq!((outcomes, distinct), (total, total), "{id}: one outcome per item");
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM transaction_history WHERE job_id = $1")
        .bind(id)
        .fetch_one(&stack.db)
        .await
        .expect("counting history");
    assert_eq!(history, ok, "{id}: one history row per [200 OK]");
    let listed_ok = job.items().iter().filter(|i| i["code"] == OK).count();
    assert_eq!(listed_ok as i64, ok, "{id}");
    let errors = job.items().iter().filter(|i| i["code"].as_str().is_some_and(|c| c >= "[4")).count();
    assert_eq!(job.body["errorCount"], json!(errors), "{id}");
    listed_ok
}

/// Asserts every item of `job` has the code `want(index)`.
fn assert_codes(job: &Job, want: impl Fn(usize) -> &'static str) {
    for (i, item) in job.items().iter().enumerate() {
        assert_eq!(item["index"], json!(i));
        assert_eq!(item["code"], want(i), "item {i}: {item}");
    }
}

/// All worker logs of the stack, concatenated.
fn worker_logs(stack: &Stack) -> String {
    let mut logs = String::new();
    for entry in std::fs::read_dir(stack.log_dir()).expect("log dir").flatten() {
        if entry.file_name().to_string_lossy().starts_with("worker-") {
            logs.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    logs
}

fn worker_log(stack: &Stack, n: usize) -> String {
    std::fs::read_to_string(stack.log_dir().join(format!("worker-{n}.log"))).unwrap_or_default()
}

/// An action of a batch, with the code it must get.
type Step = (fn(i64) -> Value, &'static str);

/// Four items per transaction, consecutive (so 50 transactions fill a 200-item chunk):
/// even transactions are amended (200), approved (200), declined (422: approved is
/// locked), approved (304); odd ones declined (200), approved (422), declined (304),
/// amended (422).
fn four_per_transaction(ids: &[i64]) -> (Value, Vec<&'static str>) {
    let mut items = Vec::with_capacity(ids.len() * 4);
    let mut codes = Vec::with_capacity(ids.len() * 4);
    for (t, id) in ids.iter().enumerate() {
        let steps: [Step; 4] = if t % 2 == 0 {
            [(amend, OK), (approve, OK), (decline, UNPROCESSABLE), (approve, NOT_MODIFIED)]
        } else {
            [(decline, OK), (approve, UNPROCESSABLE), (decline, NOT_MODIFIED), (amend, UNPROCESSABLE)]
        };
        for (action, code) in steps {
            items.push(action(*id));
            codes.push(code);
        }
    }
    (Value::Array(items), codes)
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_killed_mid_job_lose_and_double_nothing() {
    let mut stack = Stack::builder().workers(0).env("RATIFY_CHUNK_SIZE", 200).start().await;
    let (client, ids) = setup(&stack, 5000).await;
    let (items, codes) = four_per_transaction(&ids);
    let total = codes.len() as i64;
    let job = client.submit(ADVERTISER, &items).await;
    let mut gate = gate_job(&stack, &job).await;
    for _ in 0..3 {
        stack.add_worker().expect("a worker");
    }

    // Three times: once the oldest worker holds 4 chunks (its prefetch) stopped
    // mid-transaction at the gate, kill -9 it and start a fresh one in its place; then
    // let some chunks through and check the job moved. A killed worker's Postgres
    // sessions stay at the gate until it opens, then roll back (their client is gone):
    // the chunks they hold are redelivered and wait for those chunk locks.
    let mut alive: Vec<usize> = vec![0, 1, 2];
    for round in 1..=3 {
        let victim = alive.remove(0);
        let pid = stack.worker_pids()[victim];
        eventually("the worker to hold 4 chunks at the gate", FINISH, || async {
            (held_by(&stack, pid).await == 4).then_some(())
        })
        .await;
        let (processed, done) = progress(&client, &job).await.expect("the job");
        assert!(!done && processed < total, "round {round}: {processed}/{total}");
        let status = stack.signal_worker(victim, "KILL").expect("kill -9");
        assert!(!status.success(), "a killed worker does not exit cleanly: {status}");
        stack.add_worker().expect("a new worker");
        alive.push(stack.worker_pids().len() - 1);
        gate = let_through(&stack, &client, &job, gate, processed).await;
    }
    gate.commit().await.expect("opening the gate");

    let job = finished(&client, &job).await;
    assert_codes(&job, |i| codes[i]);
    assert_eq!(assert_exactly_once(&stack, &job).await, 7500);
    // The killed workers' chunks never committed: each of the 100 chunks committed once.
    assert_eq!(worker_logs(&stack).matches("chunk applied items=").count(), 100);

    // Every transaction ends as its four items say, whichever worker applied them.
    let rows: Vec<(i64, String, bool, i64, i64, bool)> = sqlx::query_as(
        "SELECT id, commission_status, amended, sale_amount, commission_amount, validation_date IS NOT NULL
         FROM transactions WHERE advertiser_id = $1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), ids.len());
    for (id, status, amended, sale, commission, validated) in rows {
        let t = ids.iter().position(|x| *x == id).expect("a recorded id");
        let want = if t % 2 == 0 {
            ("approved".to_owned(), true, 8000, 800, true)
        } else {
            ("declined".to_owned(), false, 10000, 1000, true)
        };
        assert_eq!((status, amended, sale, commission, validated), want, "transaction {id} (#{t})");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rabbitmq_restart_mid_job_loses_nothing_and_batches_are_taken_while_it_is_down() {
    let servers = Servers::start("rabbitmq-restart").await;
    let mut stack = Stack::builder()
        .servers(&servers.database_admin_url, &servers.amqp_url)
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 100)
        .start()
        .await;
    let (client, ids) = setup(&stack, 6000).await;
    let a = client.submit(ADVERTISER, &batch(&ids[..4000], approve)).await;
    let gate = gate_job(&stack, &a).await;
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    at_gate(&stack, 8).await;

    // The broker goes away while both workers hold 4 chunks each mid-transaction; those
    // commit once the gate opens, but their acks cannot reach the broker.
    servers.stop_rabbitmq().await;
    gate.commit().await.expect("opening the gate");
    // The api still takes batches: they are durable in Postgres and wait in the outbox.
    let b = client.submit(ADVERTISER, &batch(&ids[4000..5000], decline)).await;
    let c = client.submit(ADVERTISER, &batch(&ids[5000..], amend)).await;
    for job in [&b, &c] {
        let unpublished: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM job_chunks WHERE job_id = $1 AND published_at IS NULL AND done_at IS NULL",
        )
        .bind(job.parse::<Uuid>().unwrap())
        .fetch_one(&stack.db)
        .await
        .unwrap();
        assert_eq!(unpublished, 10, "job {job}: its chunks wait for the relay");
    }
    let (status, body) = stack.client("").get("/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["rabbitmq"], "down", "{body}");
    // The 8 chunks in flight commit; nothing more can start while the broker is down.
    eventually("the chunks in flight to commit", FINISH, || async {
        progress(&client, &a).await.filter(|(processed, _)| *processed >= 800)
    })
    .await;
    assert_eq!(progress(&client, &a).await.expect("job A").0, 800);
    // Let the workers and the relays meet the outage (reconnect loops, failed publishes)
    // before the broker comes back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    servers.start_rabbitmq().await;

    let job_a = finished(&client, &a).await;
    let job_b = finished(&client, &b).await;
    let job_c = finished(&client, &c).await;
    for job in [&job_a, &job_b, &job_c] {
        assert_codes(job, |_| OK);
        assert_eq!(assert_exactly_once(&stack, job).await, job.items().len());
    }
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT commission_status, count(*) FROM transactions WHERE advertiser_id = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    assert_eq!(
        counts,
        vec![("approved".to_owned(), 4000), ("declined".to_owned(), 1000), ("pending".to_owned(), 1000)]
    );
    let amended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE advertiser_id = $1 AND amended AND sale_amount = 8000",
    )
    .bind(ADVERTISER)
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!(amended, 1000);
    // The chunks whose acks were lost came back after the restart and changed nothing.
    let logs = worker_logs(&stack);
    assert_eq!(logs.matches("already applied").count(), 8, "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_and_crash_mid_job_lose_and_double_nothing() {
    let servers = Servers::start("postgres-restart").await;
    let mut stack = Stack::builder()
        .servers(&servers.database_admin_url, &servers.amqp_url)
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 100)
        .start()
        .await;
    let (client, ids) = setup(&stack, 6000).await;
    let a = client.submit(ADVERTISER, &batch(&ids[..3000], approve)).await;
    let gate = gate_job(&stack, &a).await;
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    at_gate(&stack, 8).await;

    // A clean restart (fast shutdown) while both workers hold 4 chunks each
    // mid-transaction: every connection, the gate's too, is cut at once.
    servers.stop_postgres().await;
    drop(gate);
    let path = format!("/advertisers/{ADVERTISER}/transactions/batch");
    let (status, body) = client.post(&path, &batch(&ids[3000..], decline)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no job can be accepted without Postgres: {body}");
    // Keep it down a little: the workers retry their chunks against a closed port.
    tokio::time::sleep(Duration::from_secs(2)).await;
    servers.start_postgres().await;

    // Then a crash (immediate shutdown: no checkpoint, recovery from the WAL on start)
    // while job B's chunks wait for its transactions, locked by the test. The api may
    // itself still be answering the batch: its outbox mark waits for the chunk rows the
    // workers hold.
    let gate = gate_transactions(&stack, &ids[3000..]).await;
    let submitting = tokio::spawn({
        let (client, items) = (client.clone(), batch(&ids[3000..], decline));
        async move { client.post(&format!("/advertisers/{ADVERTISER}/transactions/batch"), &items).await }
    });
    at_gate(&stack, 8).await;
    servers.crash_postgres().await;
    drop(gate);
    let (status, body) = submitting.await.expect("the answer");
    // The job was committed (its chunks were being applied): the answer must say so.
    assert_eq!(status, StatusCode::OK, "{body}");
    let b = body["jobId"].as_str().expect("jobId").to_owned();
    tokio::time::sleep(Duration::from_secs(1)).await;
    servers.start_postgres().await;

    let job_a = finished(&client, &a).await;
    let job_b = finished(&client, &b).await;
    for job in [&job_a, &job_b] {
        assert_codes(job, |_| OK);
        assert_eq!(assert_exactly_once(&stack, job).await, 3000);
    }
    // The refused batch left nothing behind: two jobs, 6000 outcomes in all.
    let (jobs, outcomes): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM job_outcomes)")
            .fetch_one(&stack.db)
            .await
            .unwrap();
    assert_eq!((jobs, outcomes), (2, 6000));
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT commission_status, count(*) FROM transactions WHERE advertiser_id = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    assert_eq!(counts, vec![("approved".to_owned(), 3000), ("declined".to_owned(), 3000)]);
}

/// Takes every message off the work queue (no worker runs); returns them.
async fn take_all(channel: &lapin::Channel, queue: &str, n: usize) -> Vec<QueueTask> {
    let mut tasks = Vec::new();
    let start = Instant::now();
    while tasks.len() < n {
        assert!(start.elapsed() < Duration::from_secs(30), "only {} of {n} messages in {queue}", tasks.len());
        match channel.basic_get(queue, BasicGetOptions { no_ack: true }).await.expect("basic.get") {
            Some(message) => tasks.push(QueueTask::from_bytes(&message.delivery.data).expect("a task")),
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    tasks
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunk_delivered_twice_applies_once() {
    let mut stack = Stack::builder().workers(0).env("RATIFY_CHUNK_SIZE", 100).start().await;
    let (client, ids) = setup(&stack, 1000).await;
    // Per transaction: approve (200), then decline (422): a second application of a
    // chunk would show as a second history row or a changed outcome.
    let items: Vec<Value> = ids.iter().flat_map(|id| [approve(*id), decline(*id)]).collect();
    let job = client.submit(ADVERTISER, &Value::Array(items)).await;
    let chunks: i32 = sqlx::query_scalar("SELECT chunk_count FROM jobs WHERE id = $1")
        .bind(job.parse::<Uuid>().unwrap())
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(chunks, 20);

    // Replace the api's messages by two copies of each, side by side, so that the two
    // copies of a chunk are delivered at the same time and race for it.
    let topology = Topology::new(&stack.name, DEFAULT_DELIVERY_LIMIT);
    let connection = broker::connect(&stack.amqp_url, 3).await.expect("RabbitMQ");
    let channel = broker::publisher_channel(&connection, &topology).await.expect("a channel");
    let mut tasks = take_all(&channel, &topology.work_queue, chunks as usize).await;
    tasks.sort_by_key(|QueueTask::ApplyChunk { chunk_no, .. }| *chunk_no);
    let expected: Vec<QueueTask> = (0..chunks)
        .map(|chunk_no| QueueTask::ApplyChunk { advertiser_id: ADVERTISER, job_id: job.parse().unwrap(), chunk_no })
        .collect();
    assert_eq!(tasks, expected, "the api published each chunk once");
    let queue = topology.work_queue.as_str();
    let twice: Vec<(&str, QueueTask)> = tasks.iter().flat_map(|t| [(queue, t.clone()), (queue, t.clone())]).collect();
    broker::publish_confirmed(&channel, &twice).await.expect("published");
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;

    // Once the job is done, every chunk once more.
    let once: Vec<(&str, QueueTask)> = tasks.iter().map(|t| (queue, t.clone())).collect();
    broker::publish_confirmed(&channel, &once).await.expect("published");
    let n = chunks as usize;
    eventually("every duplicate to be acknowledged", FINISH, || async {
        (worker_logs(&stack).matches("already applied").count() >= 2 * n).then_some(())
    })
    .await;
    let logs = worker_logs(&stack);
    assert_eq!(logs.matches("already applied").count(), 2 * n, "{logs}");
    assert_eq!(logs.matches("chunk applied items=").count(), n, "each chunk applied once:\n{logs}");

    let done_again = finished(&client, &job).await;
    assert_eq!(done_again.body, done.body, "the late duplicates changed nothing");
    assert_codes(&done, |i| if i % 2 == 0 { OK } else { UNPROCESSABLE });
    assert_eq!(assert_exactly_once(&stack, &done).await, 1000);
    let _ = connection.close(200, "test done").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_job_stops_a_worker_cleanly_and_another_finishes() {
    let drain = Duration::from_secs(10);
    let mut stack = Stack::builder()
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 100)
        .env("RATIFY_DRAIN_SECONDS", drain.as_secs())
        .start()
        .await;
    let (client, ids) = setup(&stack, 6000).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let gate = gate_job(&stack, &job).await;
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    at_gate(&stack, 8).await;

    // SIGTERM while the worker holds 4 chunks mid-transaction, unable to finish them.
    let pid = stack.worker_pids()[0];
    eventually("the worker to hold 4 chunks at the gate", FINISH, || async {
        (held_by(&stack, pid).await == 4).then_some(())
    })
    .await;
    let start = Instant::now();
    let status = stack.signal_worker(0, "TERM").expect("SIGTERM");
    let took = start.elapsed();
    assert!(status.success(), "a worker stops cleanly on SIGTERM: {status}");
    assert!(took < drain + Duration::from_secs(5), "it took {took:?} (drain time {drain:?})");
    eprintln!("the worker stopped {took:?} after SIGTERM");
    let log = worker_log(&stack, 1);
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    assert_eq!(log.matches("chunk applied items=").count(), 0, "{log}");
    let (at_stop, done) = progress(&client, &job).await.expect("the job");
    assert!(!done && at_stop == 0, "the job is held at the gate ({at_stop})");
    gate.commit().await.expect("opening the gate");

    let done = finished(&client, &job).await;
    assert_codes(&done, |_| OK);
    assert_eq!(assert_exactly_once(&stack, &done).await, 6000);
    let other = worker_log(&stack, 2);
    assert_eq!(other.matches("chunk applied items=").count(), 60, "the other worker applied every chunk");
    assert!(other.contains("job_done=true"), "the other worker finished the job");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_jobs_on_the_same_transactions_serialize() {
    // 3 workers taking 8 chunks each at once hold all 20 chunks of the two jobs together.
    let stack =
        Stack::builder().workers(3).env("RATIFY_CHUNK_SIZE", 100).env("RATIFY_WORKER_CONCURRENCY", 8).start().await;
    let (client, ids) = setup(&stack, 1000).await;
    // A approves in id order, B declines in reverse order: every chunk of A shares its
    // transactions with a chunk of B. The test locks the transactions first, so that all
    // chunks of both jobs stand together at the gate (having read the pending states) and
    // race when it opens.
    let gate = gate_transactions(&stack, &ids).await;
    let reversed: Vec<i64> = ids.iter().rev().copied().collect();
    let submitting = tokio::spawn({
        let (client, approvals, declines) = (client.clone(), batch(&ids, approve), batch(&reversed, decline));
        async move {
            let (a, b) = tokio::join!(client.submit(ADVERTISER, &approvals), client.submit(ADVERTISER, &declines));
            (a, b)
        }
    });
    at_gate(&stack, 20).await;
    gate.commit().await.expect("opening the gate");
    let (a, b) = submitting.await.expect("both jobs accepted");
    let a = finished(&client, &a).await;
    let b = finished(&client, &b).await;
    let a_ok = assert_exactly_once(&stack, &a).await;
    let b_ok = assert_exactly_once(&stack, &b).await;
    assert_eq!(a_ok + b_ok, ids.len(), "exactly one of the two actions applies to each transaction");

    let n = ids.len();
    let final_status: std::collections::HashMap<i64, String> =
        sqlx::query_as("SELECT id, commission_status FROM transactions WHERE advertiser_id = $1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for (t, id) in ids.iter().enumerate() {
        let codes = (a.code(t), b.code(n - 1 - t));
        let want = match codes {
            (OK, UNPROCESSABLE) => "approved",
            (UNPROCESSABLE, OK) => "declined",
            other => panic!("transaction {id}: approve and decline gave {other:?}"),
        };
        assert_eq!(final_status[id], want, "transaction {id}: {codes:?}");
    }
    let history: Vec<(i64, i64)> =
        sqlx::query_as("SELECT transaction_id, count(*) FROM transaction_history WHERE advertiser_id = $1 GROUP BY 1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .unwrap();
    assert_eq!(history.len(), n);
    assert!(history.iter().all(|(_, rows)| *rows == 1), "one history row per transaction");
    eprintln!("approve won {a_ok}, decline won {b_ok} of {n}");
}
