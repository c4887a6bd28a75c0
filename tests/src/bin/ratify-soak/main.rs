//! `ratify-soak`: the worst day, compressed (docs/api.md §7, B6). Eight clients send
//! good, malformed and hostile batches over their own transactions for a few minutes
//! while a worker is killed with SIGKILL every 30 s and replaced, and the chunk queues
//! are purged once. At the end every job must be DONE, every item must have exactly
//! one outcome with the code the model predicts, every transaction must equal the
//! model, no answer may be a 5xx, and memory must stay within B5.
//!
//! Run it with `deploy/local.sh soak [MINUTES]`; the test command runs one minute.

mod client;
mod model;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use futures::future::join_all;
use lapin::options::QueuePurgeOptions;
use ratify_shared::broker::{self, Topology, DEFAULT_DELIVERY_LIMIT};
use ratify_tests::{peak_mib, Stack};
use serde_json::json;

use crate::client::{SoakClient, Tally, ADVERTISER};
use crate::model::{State, Status};

/// B5: peak resident memory of the api and of each worker.
const API_MIB: f64 = 256.0;
const WORKER_MIB: f64 = 128.0;

#[derive(Parser)]
#[command(name = "ratify-soak", about = "Ratify's soak (B6): load, killed workers and a purged queue at once")]
struct Args {
    /// How long the clients send, in minutes.
    #[arg(long, default_value_t = 5.0)]
    minutes: f64,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seconds between worker kills.
    #[arg(long, default_value_t = 30)]
    kill_every: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run_for = Duration::from_secs_f64(args.minutes * 60.0);
    let mut stack = Stack::builder()
        .workers(args.workers)
        .env("RATIFY_CHUNK_SIZE", 200)
        .env("RATIFY_STALL_SECONDS", 10)
        .env("RATIFY_RATE_LIMIT_PER_MINUTE", 0)
        .start()
        .await;
    eprintln!(
        "soak: database {}, {} clients, {} workers, {:.1} min",
        stack.name, args.clients, args.workers, args.minutes
    );
    let admin = stack.admin();
    let (status, body) = admin
        .post(
            "/admin/advertisers",
            &json!({"id": ADVERTISER, "name": "Soak", "currency": "EUR",
               "commissionGroups": [{"code": "DEFAULT", "name": "Default", "type": "percentage", "value": 10}]}),
        )
        .await;
    anyhow::ensure!(status.is_success(), "creating the advertiser: {status} {body}");

    let started = Instant::now();
    let until = started + run_for;
    let mut clients = Vec::new();
    for n in 0..args.clients {
        let client = stack.client(&admin.create_token(&[ADVERTISER]).await);
        clients.push(tokio::spawn(SoakClient { n, client, until }.run()));
    }

    // The faults, beside the clients.
    let mut alive: Vec<usize> = (0..args.workers).collect();
    let mut kills = 0;
    let mut worker_peak = 0.0_f64;
    let mut purged = None;
    let purge_at = started + run_for.mul_f64(0.4);
    let mut next_kill = started + Duration::from_secs(args.kill_every);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if purged.is_none() && Instant::now() >= purge_at {
            let pids = stack.worker_pids();
            let paused: Vec<u32> = alive.iter().map(|i| pids[*i]).collect();
            purged = Some(purge(&stack, &paused).await?);
        }
        if Instant::now() >= next_kill {
            next_kill += Duration::from_secs(args.kill_every);
            let victim = alive.remove(kills % alive.len());
            let pid = stack.worker_pids()[victim];
            worker_peak = worker_peak.max(peak_mib(pid).unwrap_or(0.0));
            stack.signal_worker(victim, "KILL")?;
            stack.add_worker()?;
            alive.push(stack.worker_pids().len() - 1);
            kills += 1;
            eprintln!("soak: killed worker pid {pid} (SIGKILL) and started another");
        }
    }
    let mut tally = Tally::default();
    for result in join_all(clients).await {
        let one = result.context("a soak client panicked")?;
        tally.jobs += one.jobs;
        tally.items += one.items;
        tally.refused_requests += one.refused_requests;
        tally.server_errors += one.server_errors;
        tally.violations.extend(one.violations);
        for (code, n) in one.codes {
            *tally.codes.entry(code).or_default() += n;
        }
        tally.model.extend(one.model);
    }
    let elapsed = started.elapsed();
    check_database(&stack, &mut tally).await?;
    for i in &alive {
        worker_peak = worker_peak.max(peak_mib(stack.worker_pids()[*i]).unwrap_or(0.0));
    }
    let api_peak = stack.api_pid().and_then(peak_mib).unwrap_or(0.0);
    if api_peak > API_MIB || worker_peak > WORKER_MIB {
        tally
            .violations
            .push(format!("memory: api {api_peak:.0} MiB (≤ {API_MIB}), worker {worker_peak:.0} MiB (≤ {WORKER_MIB})"));
    }
    if tally.server_errors > 0 {
        tally.violations.push(format!("{} answers were 5xx", tally.server_errors));
    }
    let republished = republished(&stack);
    if purged.unwrap_or(0) > 0 && republished == 0 {
        tally.violations.push("messages were purged but the watchdog published nothing again".to_owned());
    }

    println!("| soak ({:.1} min, {} clients) | figure |", elapsed.as_secs_f64() / 60.0, args.clients);
    println!("|---|---|");
    println!("| jobs DONE | {} |", tally.jobs);
    println!("| items, one outcome each | {} |", tally.items);
    for (code, n) in &tally.codes {
        println!("| {code} | {n} |");
    }
    println!("| requests refused whole (4xx) | {} |", tally.refused_requests);
    println!("| 5xx answers | {} |", tally.server_errors);
    println!("| workers killed (SIGKILL) | {kills} |");
    println!("| messages purged | {} |", purged.unwrap_or(0));
    println!("| chunks republished by the watchdog | {republished} |");
    println!("| transactions equal to the model | {} |", tally.model.len());
    println!("| peak memory (VmHWM) | api {api_peak:.0} MiB, worker {worker_peak:.0} MiB |");
    println!("| violations | {} |", tally.violations.len());
    if !tally.violations.is_empty() {
        for v in tally.violations.iter().take(20) {
            eprintln!("soak: {v}");
        }
        anyhow::bail!("the soak found {} violations; logs in {}", tally.violations.len(), stack.log_dir().display());
    }
    Ok(())
}

/// Sends `signal` to the processes.
fn signal(pids: &[u32], signal: &str) -> anyhow::Result<()> {
    for pid in pids {
        std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status()?;
    }
    Ok(())
}

/// Loses chunk messages, as a broker that lost its disk would: pauses the workers until
/// the clients' new jobs wait in the queues, purges them, and lets the workers go on.
/// Returns how many messages were lost.
async fn purge(stack: &Stack, workers: &[u32]) -> anyhow::Result<u32> {
    let topology = Topology::new(&stack.name, DEFAULT_DELIVERY_LIMIT);
    let connection = broker::connect(&stack.amqp_url, 3).await?;
    let channel = broker::publisher_channel(&connection, &topology).await?;
    let queues = [&topology.work_queue, &topology.express_queue];
    signal(workers, "STOP")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let passive = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
    loop {
        let mut waiting = 0;
        for queue in queues {
            waiting += channel.queue_declare(queue, passive, Default::default()).await?.message_count();
        }
        if waiting > 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut purged = 0;
    for queue in queues {
        purged += channel.queue_purge(queue, QueuePurgeOptions::default()).await?;
    }
    signal(workers, "CONT")?;
    let _ = connection.close(200, "purged").await;
    eprintln!("soak: purged {purged} messages from the chunk queues");
    Ok(purged)
}

/// Every transaction equals the model; one history row per `[200 OK]`, no more.
async fn check_database(stack: &Stack, tally: &mut Tally) -> anyhow::Result<()> {
    let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT id, commission_status, sale_amount, commission_amount FROM transactions WHERE advertiser_id = $1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await?;
    let stored: BTreeMap<i64, State> = rows
        .into_iter()
        .map(|(id, status, sale, commission)| {
            let status = Status::parse(&status).unwrap_or(Status::Pending);
            (id, State { status, sale, commission })
        })
        .collect();
    for (id, want) in &tally.model {
        match stored.get(id) {
            Some(got) if got == want => {}
            got => tally.violations.push(format!("transaction {id}: stored {got:?}, model {want:?}")),
        }
    }
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM transaction_history WHERE advertiser_id = $1")
        .bind(ADVERTISER)
        .fetch_one(&stack.db)
        .await?;
    let ok = tally.codes.get("[200 OK]").copied().unwrap_or(0) as i64;
    if history != ok {
        tally.violations.push(format!("{history} history rows for {ok} items applied"));
    }
    let unfinished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status <> 'DONE'").fetch_one(&stack.db).await?;
    if unfinished > 0 {
        tally.violations.push(format!("{unfinished} jobs not DONE"));
    }
    Ok(())
}

/// Chunks the watchdog published again, from the processes' logs.
fn republished(stack: &Stack) -> u64 {
    let mut n = 0;
    for entry in std::fs::read_dir(stack.log_dir()).into_iter().flatten().flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("watchdog published again")) {
            let count = line.split("chunks=").nth(1).and_then(|t| t.split_whitespace().next());
            n += count.and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    n
}
