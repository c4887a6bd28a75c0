//! `ratify-compose`: the compose stack, for real, in one of two scenarios. Both create an
//! advertiser and a token through the published api port, record transactions and submit
//! one job approving all of them; the job must end DONE with exactly one outcome per
//! item, each approval applied once. Then the stack is removed with its volumes, and a
//! timeline is printed.
//!
//! - The default (`scale.rs`), on deploy/docker-compose.yml: four workers, one SIGKILLed
//!   mid-job and the rest scaled down to one while the job runs; the api's and the
//!   worker's metrics answer.
//! - `--cluster` (`cluster.rs`), with deploy/docker-compose.cluster.yml over it: three
//!   RabbitMQ nodes in one cluster and a read replica. The node leading the chunk queue is
//!   killed mid-job; new jobs and transactions are read back at once through the api
//!   (never a 404), and the replica is shown replicating.
//!
//! The images must exist (`--no-build`); `deploy/local.sh compose-test` builds them and
//! sets the environment the compose files read (ADMIN_TOKEN, the image names, ports,
//! COMPOSE_PROJECT_NAME).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use ratify_tests::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

mod cluster;
mod scale;
mod stack;

use stack::{until, Stack, Timeline};

const ADVERTISER: i64 = 7001;

#[derive(Parser)]
#[command(name = "ratify-compose", about = "Ratify on Docker Compose: kill a worker or a RabbitMQ node, lose nothing")]
pub struct Args {
    /// The compose files, in order (repeat --file for an override).
    #[arg(long = "file", default_value = "deploy/docker-compose.yml")]
    files: Vec<String>,
    /// The compose program: `docker-compose` (v1 or v2) or `docker compose`.
    #[arg(long, env = "RATIFY_COMPOSE", default_value = "docker-compose")]
    compose: String,
    /// The api as published on this host.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// Transactions recorded and approved by the one job.
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// The cluster scenario: the files include deploy/docker-compose.cluster.yml.
    #[arg(long)]
    cluster: bool,
    /// Keep the stack (and its volumes) at the end.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = Stack { args: &args };
    let timeline = Timeline { start: Instant::now() };
    let result = if args.cluster {
        cluster::scenario(&stack, &timeline).await
    } else {
        scale::scenario(&stack, &timeline).await
    };
    if args.keep {
        timeline.mark("stack kept (--keep)");
    } else {
        match stack.compose(&["down", "-v", "--remove-orphans"]) {
            Ok(_) => timeline.mark("down -v: containers, network and volumes removed"),
            Err(e) => eprintln!("ratify-compose: down failed: {e:#}"),
        }
    }
    if let Err(e) = &result {
        if let Ok(logs) = stack.compose(&["logs", "--no-color", "--tail", "40"]) {
            eprintln!("--- the stack's last log lines ---\n{logs}");
        }
        eprintln!("ratify-compose: FAILED: {e:#}");
    }
    result
}

/// `up -d` with `workers` workers, then waits for the api's /health and the workers.
async fn up(stack: &Stack<'_>, timeline: &Timeline, workers: usize) -> anyhow::Result<()> {
    stack.compose(&["up", "-d", "--no-build", "--scale", &format!("worker={workers}")])?;
    timeline.mark(format!("up -d --scale worker={workers}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let health = format!("{}/health", stack.args.api);
    until("the api to answer /health", Duration::from_secs(300), || async {
        Ok(http.get(&health).send().await.ok().filter(|r| r.status() == StatusCode::OK).map(|_| ()))
    })
    .await?;
    until("the workers to run", Duration::from_secs(120), || async {
        Ok((stack.running_workers()?.len() == workers).then_some(()))
    })
    .await?;
    timeline.mark(format!("healthy: api answers on {}, {workers} workers running", stack.args.api));
    Ok(())
}

/// The one large job of both scenarios: `--items` transactions of ADVERTISER approved.
struct BigJob {
    client: Client,
    ids: Vec<i64>,
    id: String,
    path: String,
}

impl BigJob {
    /// Creates the advertiser and a token, records the transactions, submits the job.
    async fn submit(args: &Args, timeline: &Timeline) -> anyhow::Result<BigJob> {
        let admin = Client::new(&args.api, &args.admin_token);
        admin.create_advertiser(ADVERTISER, "EUR", &[]).await;
        let client = Client::new(&args.api, &admin.create_token(&[ADVERTISER]).await);
        let ids = client.record_simple(ADVERTISER, "EUR", "compose", args.items).await;
        ensure!(ids.len() == args.items, "recorded {} of {} transactions", ids.len(), args.items);
        timeline.mark(format!("advertiser, token and {} transactions recorded through the api", ids.len()));
        let items: Vec<Value> =
            ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
        let id = client.submit(ADVERTISER, &Value::Array(items)).await;
        timeline.mark(format!("job {id} accepted: {} approvals", ids.len()));
        let path = format!("/advertisers/{ADVERTISER}/transactions/jobs/{id}");
        Ok(BigJob { client, ids, id, path })
    }

    /// The job's summary; None while the token is rate limited (the polls share its budget).
    async fn summary(&self) -> anyhow::Result<Option<Value>> {
        let (status, body) = self.client.get(&self.path).await;
        match status {
            StatusCode::OK => Ok(Some(body)),
            StatusCode::TOO_MANY_REQUESTS => Ok(None),
            _ => bail!("{}: {status} {body}", self.path),
        }
    }

    /// Waits until the job has processed items but is not DONE; returns how many.
    async fn in_progress(&self) -> anyhow::Result<u64> {
        let (processed, status) = until("the job to make progress", Duration::from_secs(300), || async {
            let Some(body) = self.summary().await? else { return Ok(None) };
            let processed = body["processedCount"].as_u64().unwrap_or(0);
            Ok((processed > 0 || body["status"] == "DONE").then_some((processed, body["status"].clone())))
        })
        .await?;
        ensure!(status != "DONE", "the job was DONE before the fault could be injected; give it more items");
        Ok(processed)
    }

    async fn done(&self, timeline: &Timeline) -> anyhow::Result<()> {
        until("the job to be DONE", Duration::from_secs(600), || async {
            Ok(self.summary().await?.filter(|body| body["status"] == "DONE").map(|_| ()))
        })
        .await?;
        timeline.mark(format!("job {} DONE", self.id));
        Ok(())
    }

    /// One outcome per item, all applied; one approval per transaction in the history.
    async fn applied_once(&self, stack: &Stack<'_>, timeline: &Timeline) -> anyhow::Result<()> {
        let n = self.ids.len();
        let (status, body) = self.client.get(&format!("{}?output=all", self.path)).await;
        ensure!(status == StatusCode::OK, "output=all: {status}");
        let outcomes = body["allTransactions"].as_array().context("output=all has allTransactions")?;
        let indexes: BTreeSet<u64> = outcomes.iter().filter_map(|o| o["index"].as_u64()).collect();
        ensure!(
            outcomes.len() == n && indexes.len() == n && indexes.last() == Some(&(n as u64 - 1)),
            "{} outcomes over {} distinct indexes for {n} items",
            outcomes.len(),
            indexes.len(),
        );
        let not_applied: Vec<&Value> = outcomes.iter().filter(|o| o["code"] != "[200 OK]").take(3).collect();
        ensure!(not_applied.is_empty(), "items not applied: {not_applied:?}");
        let history = stack.sql(&self.history_query())?;
        let approved = stack.sql(&format!(
            "SELECT count(*) FROM transactions WHERE advertiser_id = {ADVERTISER} AND commission_status = 'approved'"
        ))?;
        ensure!(
            history == format!("{n} {n}"),
            "approval history rows and distinct transactions: {history}, want {n} {n}"
        );
        ensure!(approved == n.to_string(), "{approved} transactions approved, want {n}");
        timeline
            .mark(format!("{n} outcomes, one per item, all 200; {n} approvals in the history, one per transaction"));
        Ok(())
    }

    /// The job's approvals in the history and the transactions they touched: "rows distinct".
    fn history_query(&self) -> String {
        format!(
            "SELECT count(*) || ' ' || count(DISTINCT transaction_id) FROM transaction_history
             WHERE advertiser_id = {ADVERTISER} AND job_id = '{}' AND action = 'approve'",
            self.id
        )
    }
}
