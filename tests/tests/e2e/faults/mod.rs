//! Faults: workers killed or stopped mid-job (`workers`), RabbitMQ and Postgres
//! restarted under load (`restart`), poison items and chunks (`poison`), lost messages
//! (`lost`), RabbitMQ cluster nodes stopped (`cluster`), duplicate deliveries and concurrent jobs on the same transactions
//! (`redelivery`). Whatever happens, every item gets exactly one outcome, every
//! `[200 OK]` is applied exactly once, and every job reaches `DONE`.
//!
//! Tests that restart a server get private servers (`ratify_tests::servers::Servers`), so the shared ones
//! keep serving the other tests.
//!
//! Faults are injected at a known point rather than after a guessed delay: the test
//! holds a lock (a "gate", see [`gate_chunks`]) that the chunks need, waits until the
//! workers' chunks stand at it in the middle of their Postgres transactions, injects the
//! fault, and opens the gate.

use std::time::{Duration, Instant};

use ratify_tests::{eventually, Client, Job, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const ADVERTISER: i64 = 7;
use ratify_tests::actions::labels::{NOT_MODIFIED, OK, UNPROCESSABLE};
use ratify_tests::actions::{approve, batch};
const INTERNAL: &str = "[500 INTERNAL_SERVER_ERROR]";
/// How long any job may take to finish once its fault is over.
const FINISH: Duration = Duration::from_secs(120);

mod actions;
mod cluster;
mod lost;
mod poison;
mod redelivery;
mod restart;
mod slots;
mod workers;

/// An advertiser (EUR; DEFAULT pays 10 %) with `n` pending transactions of 100.00;
/// returns a client for it and the transaction ids.
async fn setup(stack: &Stack, n: usize) -> (Client, Vec<i64>) {
    let groups = [("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))];
    let client = stack.advertiser(ADVERTISER, "EUR", &groups).await;
    let ids = client.record_simple(ADVERTISER, "EUR", "order", n).await;
    (client, ids)
}

/// The suite's decline: "order returned".
fn decline(id: i64) -> Value {
    ratify_tests::actions::decline(id, "order returned")
}

/// Amends the sale to 80.00, all of it DEFAULT (commission 8.00).
fn amend(id: i64) -> Value {
    ratify_tests::actions::amend(id, false, 80.0, &[("DEFAULT", 80.0)])
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

/// An open Postgres transaction of the test holding a lock that workers need: while
/// it is open, chunks stop in the middle of their own transaction. Committing it (or
/// losing it) opens the gate.
type Gate = sqlx::Transaction<'static, sqlx::Postgres>;

/// Locks the history documents' table against writes. Every chunk that changes a
/// transaction then stops at its history document, having locked its chunk row and
/// written its transactions' states, all uncommitted: a fault injected now provably hits
/// work in flight. (Chunks no longer touch their job's row, so that row cannot be the
/// gate.) Each test has a database of its own, so the gate holds only its jobs.
async fn gate_chunks(stack: &Stack) -> Gate {
    let mut gate = stack.db.begin().await.expect("a transaction");
    sqlx::query("LOCK TABLE chunk_history IN SHARE MODE").execute(&mut *gate).await.expect("locking the history");
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

/// Opens the gate and closes it again right behind the chunks that were waiting,
/// until the job has processed more than `after` items. The job cannot finish meanwhile
/// unless those were its last chunks.
async fn let_through(stack: &Stack, client: &Client, job: &str, mut gate: Gate, after: i64) -> Gate {
    let start = Instant::now();
    loop {
        gate.commit().await.expect("opening the gate");
        gate = gate_chunks(stack).await;
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
             AND wait_event <> 'advisory' AND query NOT LIKE '%published_at%'",
        )
        .fetch_one(&stack.db)
        .await
        .ok()?;
        (waiting >= n).then_some(waiting)
    })
    .await
}

/// How many chunks the worker process `pid` has standing at the history gate: its
/// Postgres sessions (found by their client ports, which `ss` shows per process) waiting
/// for the lock on `chunk_history`. Sessions waiting for other locks are not counted: a
/// relay's mark, or a chunk sent again by the stall sweep under load, waiting for the
/// chunk row that another session holds.
async fn held_by(stack: &Stack, pid: u32) -> i64 {
    let output = std::process::Command::new("ss").arg("-tnpH").output().expect("ss (iproute2)");
    let owner = format!("pid={pid},");
    let ports: Vec<i32> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&owner))
        .filter_map(|line| line.split_whitespace().nth(3)?.rsplit_once(':')?.1.parse().ok())
        .collect();
    sqlx::query_scalar(
        "SELECT count(DISTINCT a.pid) FROM pg_stat_activity a
         JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted AND l.relation = 'chunk_history'::regclass
         WHERE a.datname = current_database() AND a.client_port = ANY($1)",
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
