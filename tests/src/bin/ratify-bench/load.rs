//! B1–B5: accepting batches, the cutoff burst with small jobs and pollers beside it,
//! and peak memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use futures::future::join_all;
use ratify_tests::{peak_mib, Client, Stack};
use serde_json::{json, Value};

use crate::data::{b2_job, Scale, Seeded, B1_ADVERTISER, B3_ADVERTISER};
use crate::report::{stats, Report, Row};

async fn submit(client: &Client, advertiser: i64, items: &Value) -> anyhow::Result<String> {
    let (status, body) = client.post(&format!("/advertisers/{advertiser}/transactions/batch"), items).await;
    ensure!(status.is_success(), "submit: {status} {body}");
    Ok(body["jobId"].as_str().context("jobId")?.to_owned())
}

async fn is_done(client: &Client, advertiser: i64, job: &str) -> anyhow::Result<bool> {
    let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs/{job}")).await;
    ensure!(status.is_success(), "job status: {status} {body}");
    Ok(body["status"] == "DONE")
}

async fn wait_all(client: &Client, jobs: &[(i64, String)], deadline: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    for (advertiser, job) in jobs {
        while !is_done(client, *advertiser, job).await? {
            ensure!(started.elapsed() < deadline, "job {job} not DONE within {deadline:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

fn ms(samples: &mut [f64]) -> String {
    match stats(samples) {
        Some((median, p95, p99, min, max)) => {
            format!(
                "median {median:.0} ms, p95 {p95:.0}, p99 {p99:.0} (min {min:.0}, max {max:.0}, n={})",
                samples.len()
            )
        }
        None => "no samples".to_owned(),
    }
}

/// B1: time to `200 {jobId}` for the two batch sizes; B5 (api): the api's peak memory.
pub async fn b1(stack: &mut Stack, seeded: &Seeded, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let client = &seeded.client;
    let mut jobs = Vec::new();
    let goals = [("≤ 250 ms median", 250.0), ("≤ 600 ms median", 600.0)];
    for (size, (goal, limit)) in scale.b1_sizes.iter().zip(goals) {
        let items = Value::Array(
            seeded.b1_ids[..*size]
                .iter()
                .map(|id| json!({"action": "approve", "transaction": {"transactionId": id}}))
                .collect(),
        );
        // Serialize once: the figure is the api's time, not the client's.
        let body = serde_json::to_vec(&items)?;
        let mut samples = Vec::new();
        for _ in 0..scale.b1_reps {
            let started = Instant::now();
            let (status, answer) = client
                .send_raw(&format!("/advertisers/{B1_ADVERTISER}/transactions/batch"), "application/json", body.clone())
                .await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            ensure!(status.is_success(), "B1 submit: {status} {answer}");
            jobs.push((B1_ADVERTISER, answer["jobId"].as_str().context("jobId")?.to_owned()));
        }
        let median = stats(&mut samples.clone()).map_or(f64::MAX, |s| s.0);
        report.push(Row::new(
            "B1",
            format!("accept one {size}-item batch"),
            ms(&mut samples),
            goal,
            Some(median <= limit),
        ));
    }
    let api = stack.api_pid().and_then(peak_mib).unwrap_or(f64::NAN);
    report.push(Row::new(
        "B5",
        "api peak memory (VmHWM) taking the B1 batches",
        format!("{api:.0} MiB"),
        "≤ 256 MiB",
        Some(api <= 256.0),
    ));
    // Apply the B1 jobs now, so they do not weigh on B2.
    let index = stack.worker_pids().len();
    stack.add_worker()?;
    stack.add_worker()?;
    wait_all(client, &jobs, Duration::from_secs(600)).await?;
    stack.signal_worker(index, "TERM")?;
    stack.signal_worker(index + 1, "TERM")?;
    Ok(())
}

/// B2 with `workers` workers, with B3's small jobs and B4's pollers running beside it;
/// B5 (workers): each worker's peak memory. `tag` follows each row's id (" (replica)" for
/// the run whose api reads from the read replica).
pub async fn b2(
    stack: &mut Stack,
    seeded: &Seeded,
    scale: &Scale,
    workers: usize,
    tag: &str,
    report: &mut Report,
) -> anyhow::Result<Vec<(i64, String)>> {
    let client = seeded.client.rebase(&stack.base_url);
    let id = |base: &str| format!("{base}{tag}");
    let first = stack.worker_pids().len();
    for _ in 0..workers {
        stack.add_worker()?;
    }
    let bodies: Vec<(i64, Vec<u8>)> = (0..scale.jobs)
        .map(|j| {
            let (advertiser, items) = b2_job(seeded, scale, j);
            serde_json::to_vec(&items).map(|body| (advertiser, body))
        })
        .collect::<Result<_, _>>()?;
    let total_items = scale.jobs * scale.job_items;

    let running = Arc::new(AtomicBool::new(true));
    let submitted: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let small = tokio::spawn(small_jobs(client.clone(), seeded.b3_ids.clone(), running.clone()));
    let pollers: Vec<_> =
        (0..50).map(|n| tokio::spawn(poller(client.clone(), submitted.clone(), running.clone(), n))).collect();

    let processes = |stack: &Stack| -> Vec<(&'static str, u32)> {
        let mut named: Vec<(&'static str, u32)> =
            stack.worker_pids()[first..].iter().map(|p| ("workers", *p)).collect();
        named.extend(stack.api_pid().map(|p| ("api", p)));
        named
    };
    let cpu_before = crate::cpu::snapshot(&processes(stack));
    let waits = crate::waits::Sampler::start(stack.db.clone());
    let started = Instant::now();
    for (advertiser, body) in &bodies {
        let (status, answer) = client
            .send_raw(&format!("/advertisers/{advertiser}/transactions/batch"), "application/json", body.clone())
            .await;
        ensure!(status.is_success(), "B2 submit: {status} {answer}");
        let job = answer["jobId"].as_str().context("jobId")?.to_owned();
        submitted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push((*advertiser, job));
    }
    let jobs = submitted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    wait_all(&client, &jobs, Duration::from_secs(1800)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = crate::cpu::spent(&cpu_before, &crate::cpu::snapshot(&processes(stack)), total_items);
    let waits = waits.finish().await;
    running.store(false, Ordering::Relaxed);
    let mut small_latencies = small.await??;
    let mut poll_latencies: Vec<f64> = join_all(pollers).await.into_iter().filter_map(Result::ok).flatten().collect();

    let rate = total_items as f64 / elapsed;
    let ratio = rate / report.floor;
    let limit_ratio = rate / report.update_floor;
    let (goal, wanted) = if workers == 2 { ("≥ 1.0 × B0", 1.0) } else { ("≥ 0.9 × B0", 0.9) };
    report.push(Row::new(
        &id("B2"),
        format!("{} jobs × {} items, {workers} worker(s): first submit → last DONE", scale.jobs, scale.job_items),
        format!("{rate:.0} items/s in {elapsed:.1} s; B2/B0 = {ratio:.2}, B2/B0u = {limit_ratio:.2}; CPU: {cpu}"),
        goal,
        Some(ratio >= wanted),
    ));
    report.push(Row::new(
        &id("waits"),
        format!("Postgres sessions during B2 ({workers} w), sampled every 10 ms"),
        waits,
        "",
        None,
    ));
    let p99 = stats(&mut small_latencies.clone()).map_or(f64::MAX, |s| s.2);
    report.push(Row::new(
        &id("B3"),
        format!("10-item job every second during B2 ({workers} w): submit → DONE"),
        ms(&mut small_latencies),
        "p99 ≤ 250 ms",
        Some(p99 <= 250.0),
    ));
    let p99 = stats(&mut poll_latencies.clone()).map_or(f64::MAX, |s| s.2);
    report.push(Row::new(
        &id("B4"),
        format!("50 pollers of ?output=errors during B2 ({workers} w)"),
        ms(&mut poll_latencies),
        "p99 ≤ 50 ms",
        Some(p99 <= 50.0),
    ));
    let peaks: Vec<String> =
        stack.worker_pids()[first..].iter().map(|pid| format!("{:.0}", peak_mib(*pid).unwrap_or(f64::NAN))).collect();
    let worst = stack.worker_pids()[first..].iter().filter_map(|pid| peak_mib(*pid)).fold(0.0, f64::max);
    report.push(Row::new(
        &id("B5"),
        format!("worker peak memory during B2 ({workers} w)"),
        format!("{} MiB", peaks.join(", ")),
        "≤ 128 MiB each",
        Some(worst <= 128.0),
    ));
    for i in first..first + workers {
        stack.signal_worker(i, "TERM")?;
    }
    Ok(jobs)
}

/// The retention purge of one B2 run's jobs (their 1,000,000 outcomes at full scale),
/// backdated past retention, timed through the worker's own purge.
pub async fn purge(stack: &Stack, jobs: &[(i64, String)], scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let advertisers: Vec<i64> = jobs.iter().map(|(a, _)| *a).collect();
    let ids: Vec<uuid::Uuid> = jobs.iter().map(|(_, j)| j.parse()).collect::<Result<_, _>>()?;
    sqlx::query(
        "UPDATE jobs j SET created_at = now() - interval '400 days'
         FROM unnest($1::bigint[], $2::uuid[]) AS u(advertiser_id, id)
         WHERE j.advertiser_id = u.advertiser_id AND j.id = u.id",
    )
    .bind(&advertisers)
    .bind(&ids)
    .execute(&stack.db)
    .await?;
    let started = Instant::now();
    let purged = ratify_worker::purge::purge_once(&stack.db, 365, &tokio_util::sync::CancellationToken::new()).await?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(purged == jobs.len(), "purged {purged} of {} jobs", jobs.len());
    report.push(Row::new(
        "purge",
        format!("retention purge of {} jobs ({} outcomes)", jobs.len(), jobs.len() * scale.job_items),
        format!("{seconds:.2} s"),
        "",
        None,
    ));
    Ok(())
}

/// B3: a 10-item job from another advertiser every second; returns submit → DONE, ms.
async fn small_jobs(client: Client, ids: Vec<i64>, running: Arc<AtomicBool>) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n = 0;
    while running.load(Ordering::Relaxed) {
        tick.tick().await;
        let items: Vec<Value> = (0..10)
            .map(|i| json!({"action": "approve", "transaction": {"transactionId": ids[(n * 10 + i) % ids.len()]}}))
            .collect();
        n += 1;
        let started = Instant::now();
        let job = submit(&client, B3_ADVERTISER, &Value::Array(items)).await?;
        while !is_done(&client, B3_ADVERTISER, &job).await? {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// How often one poller polls, as an ops script would: 50 pollers make 50 requests/s.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// B4: one of 50 pollers reading `?output=errors` of the B2 jobs submitted so far, one
/// poll a second (the pollers start spread over that second).
async fn poller(client: Client, jobs: Arc<Mutex<Vec<(i64, String)>>>, running: Arc<AtomicBool>, n: usize) -> Vec<f64> {
    let mut latencies = Vec::new();
    let mut turn = n;
    tokio::time::sleep(POLL_EVERY * n as u32 / 50).await;
    let mut tick = tokio::time::interval(POLL_EVERY);
    while running.load(Ordering::Relaxed) {
        tick.tick().await;
        let pick = jobs.lock().ok().and_then(|j| (!j.is_empty()).then(|| j[turn % j.len()].clone()));
        turn += 1;
        let Some((advertiser, job)) = pick else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let started = Instant::now();
        // Read the whole body, as a poller must, but leave parsing it out of the figure.
        let (status, _) =
            client.get_bytes(&format!("/advertisers/{advertiser}/transactions/jobs/{job}?output=errors")).await;
        if status.is_success() {
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    latencies
}
