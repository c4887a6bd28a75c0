//! `ratify-compose`: the compose stack, for real. Brings up deploy/docker-compose.yml
//! with four workers, creates an advertiser and a token through the published api
//! port, records transactions, submits one job approving all of them, SIGKILLs a worker
//! container in the middle and scales the workers down to one while the job runs. The
//! job must end DONE with exactly one outcome per item, each approval applied once; the
//! api's and every worker's metrics must answer (the workers' through the compose
//! network, from the api container). Then the stack is removed with its volumes, and a
//! timeline is printed.
//!
//! The images must exist (`--no-build`); `deploy/local.sh compose-test` builds them and
//! sets the environment the compose file reads (ADMIN_TOKEN, the image names, ports,
//! COMPOSE_PROJECT_NAME).

use std::collections::BTreeSet;
use std::fmt::Display;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use ratify_tests::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADVERTISER: i64 = 7001;

#[derive(Parser)]
#[command(name = "ratify-compose", about = "Ratify on Docker Compose: scale, kill a worker, lose nothing")]
struct Args {
    /// The compose file.
    #[arg(long, default_value = "deploy/docker-compose.yml")]
    file: String,
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
    /// Keep the stack (and its volumes) at the end.
    #[arg(long)]
    keep: bool,
}

/// Seconds since the start, printed beside each step.
struct Timeline {
    start: Instant,
}

impl Timeline {
    fn mark(&self, what: impl Display) {
        println!("{:>7.1} s  {what}", self.start.elapsed().as_secs_f64());
    }
}

struct Stack<'a> {
    args: &'a Args,
}

impl Stack<'_> {
    /// Runs the compose program with `args`; returns its standard output.
    fn compose(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut words = self.args.compose.split_whitespace();
        let program = words.next().context("--compose is empty")?;
        let mut cmd = Command::new(program);
        cmd.args(words).args(["-f", &self.args.file]).args(args);
        run(cmd)
    }

    fn worker_containers(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.compose(&["ps", "-q", "worker"])?.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect())
    }

    fn running_workers(&self) -> anyhow::Result<Vec<String>> {
        let mut running = Vec::new();
        for id in self.worker_containers()? {
            if docker(&["inspect", "-f", "{{.State.Running}}", &id])?.trim() == "true" {
                running.push(id);
            }
        }
        Ok(running)
    }

    /// One row of SQL run by psql in the postgres container.
    fn sql(&self, query: &str) -> anyhow::Result<String> {
        Ok(self
            .compose(&["exec", "-T", "postgres", "psql", "-U", "ratify", "-d", "ratify", "-Atc", query])?
            .trim()
            .to_owned())
    }
}

fn run(mut cmd: Command) -> anyhow::Result<String> {
    let described = format!("{cmd:?}");
    let out = cmd.output().with_context(|| format!("starting {described}"))?;
    ensure!(
        out.status.success(),
        "{described} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn docker(args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run(cmd)
}

/// Polls `check` every 500 ms until it gives a value or `deadline` passes.
async fn until<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last = String::from("nothing yet");
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last = format!("{e:#}"),
        }
        if start.elapsed() > deadline {
            bail!("{what}: not within {deadline:?} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stack = Stack { args: &args };
    let timeline = Timeline { start: Instant::now() };
    let result = scenario(&stack, &timeline).await;
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

async fn scenario(stack: &Stack<'_>, timeline: &Timeline) -> anyhow::Result<()> {
    let args = stack.args;
    let workers = args.workers.to_string();
    stack.compose(&["up", "-d", "--no-build", "--scale", &format!("worker={workers}")])?;
    timeline.mark(format!("up -d --scale worker={workers}"));

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let health = format!("{}/health", args.api);
    until("the api to answer /health", Duration::from_secs(300), || async {
        Ok(http.get(&health).send().await.ok().filter(|r| r.status() == StatusCode::OK).map(|_| ()))
    })
    .await?;
    let running = until("the workers to run", Duration::from_secs(120), || async {
        let running = stack.running_workers()?;
        Ok((running.len() == args.workers).then_some(running.len()))
    })
    .await?;
    timeline.mark(format!("healthy: api answers on {}, {running} workers running", args.api));

    let admin = Client::new(&args.api, &args.admin_token);
    admin.create_advertiser(ADVERTISER, "EUR", &[]).await;
    let client = Client::new(&args.api, &admin.create_token(&[ADVERTISER]).await);
    let ids = client.record_simple(ADVERTISER, "EUR", "compose", args.items).await;
    ensure!(ids.len() == args.items, "recorded {} of {} transactions", ids.len(), args.items);
    timeline.mark(format!("advertiser, token and {} transactions recorded through the api", ids.len()));

    let items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    let job = client.submit(ADVERTISER, &Value::Array(items)).await;
    timeline.mark(format!("job {job} accepted: {} approvals", ids.len()));

    let path = format!("/advertisers/{ADVERTISER}/transactions/jobs/{job}");
    // The job's summary; None while the token is rate limited (the polls share its budget).
    let summary = || async {
        let (status, body) = client.get(&path).await;
        match status {
            StatusCode::OK => Ok(Some(body)),
            StatusCode::TOO_MANY_REQUESTS => Ok(None),
            _ => bail!("{path}: {status} {body}"),
        }
    };
    let processed = until("the job to make progress", Duration::from_secs(300), || async {
        let Some(body) = summary().await? else { return Ok(None) };
        let processed = body["processedCount"].as_u64().unwrap_or(0);
        Ok((processed > 0 || body["status"] == "DONE").then_some((processed, body["status"].clone())))
    })
    .await?;
    ensure!(processed.1 != "DONE", "the job was DONE before a worker could be killed; give it more items");
    let victim = stack.running_workers()?.into_iter().next().context("no worker runs")?;
    docker(&["kill", &victim])?;
    timeline.mark(format!(
        "docker kill {} (SIGKILL) at {} of {} items processed",
        &victim[..12],
        processed.0,
        ids.len()
    ));

    let before = until("the job's summary", Duration::from_secs(60), summary).await?;
    stack.compose(&["up", "-d", "--no-build", "--scale", "worker=1"])?;
    let after = until("the job's summary", Duration::from_secs(60), summary).await?;
    timeline.mark(format!(
        "--scale worker=1 done: begun with the job {} at {} items, returned at {} items",
        before["status"].as_str().unwrap_or("?"),
        before["processedCount"],
        after["processedCount"]
    ));

    until("the job to be DONE", Duration::from_secs(600), || async {
        Ok(summary().await?.filter(|body| body["status"] == "DONE").map(|_| ()))
    })
    .await?;
    timeline.mark(format!("job {job} DONE"));

    let (status, body) = client.get(&format!("{path}?output=all")).await;
    ensure!(status == StatusCode::OK, "output=all: {status}");
    let outcomes = body["allTransactions"].as_array().context("output=all has allTransactions")?;
    let indexes: BTreeSet<u64> = outcomes.iter().filter_map(|o| o["index"].as_u64()).collect();
    ensure!(
        outcomes.len() == ids.len() && indexes.len() == ids.len() && indexes.last() == Some(&(ids.len() as u64 - 1)),
        "{} outcomes over {} distinct indexes for {} items",
        outcomes.len(),
        indexes.len(),
        ids.len()
    );
    let not_applied: Vec<&Value> = outcomes.iter().filter(|o| o["code"] != "[200 OK]").take(3).collect();
    ensure!(not_applied.is_empty(), "items not applied: {not_applied:?}");
    let history = stack.sql(&format!(
        "SELECT count(*) || ' ' || count(DISTINCT transaction_id) FROM transaction_history
         WHERE advertiser_id = {ADVERTISER} AND job_id = '{job}' AND action = 'approve'"
    ))?;
    let approved = stack.sql(&format!(
        "SELECT count(*) FROM transactions WHERE advertiser_id = {ADVERTISER} AND commission_status = 'approved'"
    ))?;
    let n = ids.len();
    ensure!(history == format!("{n} {n}"), "approval history rows and distinct transactions: {history}, want {n} {n}");
    ensure!(approved == n.to_string(), "{approved} transactions approved, want {n}");
    timeline.mark(format!("{n} outcomes, one per item, all 200; {n} approvals in the history, one per transaction"));

    let metrics = http.get(format!("{}/metrics", args.api)).send().await?.text().await?;
    ensure!(metrics.contains("ratify_jobs_accepted_total"), "the api's /metrics lacks ratify_jobs_accepted_total");
    let mut seen = Vec::new();
    for id in stack.running_workers()? {
        let ip = docker(&["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", &id])?;
        let url = format!("http://{}:9100/metrics", ip.trim());
        let text = stack.compose(&["exec", "-T", "api", "curl", "-fsS", &url])?;
        let processed = text
            .lines()
            .find(|l| l.starts_with("ratify_items_processed_total"))
            .with_context(|| format!("{url} lacks ratify_items_processed_total"))?;
        seen.push(format!("{} {processed}", &id[..12]));
    }
    ensure!(seen.len() == 1, "{} workers run after --scale worker=1", seen.len());
    timeline.mark(format!(
        "metrics: the api's on the published port; the worker's from the api container: {}",
        seen.join("; ")
    ));
    Ok(())
}
