//! `ratify-bench`: measures docs/api.md §7's scenarios B0–B5 against the real stack (release
//! binaries, real Postgres and RabbitMQ) and prints one markdown table.
//!
//! Run it with `deploy/local.sh bench [--quick]`. The Postgres floor (B0) is measured in
//! the same run on the same schema, so B2 reads as a ratio on any machine.

mod cpu;
mod data;
mod floor;
mod load;
mod replica;
mod report;
mod waits;

use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use ratify_tests::Stack;

use crate::data::Scale;
use crate::report::{Report, Row};

#[derive(Parser)]
#[command(name = "ratify-bench", about = "Ratify's benchmark harness (docs/api.md §7)")]
struct Args {
    /// A scaled-down run (about a minute) for smoke checks.
    #[arg(long)]
    quick: bool,
    /// Worker counts to run B2 with, comma-separated (the full run's default: 1,2,4).
    #[arg(long, value_delimiter = ',')]
    workers: Option<Vec<usize>>,
    /// Chunks each worker applies at once (RATIFY_WORKER_CONCURRENCY); default: the worker's.
    #[arg(long)]
    concurrency: Option<u16>,
    /// Chunks applied at once across the workers (RATIFY_APPLY_SLOTS); default: this machine's
    /// cores plus one, the setting the README recommends for a Postgres with those cores; 0: no
    /// cap.
    #[arg(long)]
    apply_slots: Option<usize>,
    /// Run each B2 once more with the api reading from the read replica named by
    /// RATIFY_TEST_DATABASE_READ_URL (`deploy/local.sh bench --replica`): rows tagged "(replica)".
    #[arg(long)]
    replica: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scale = if args.quick { Scale::quick() } else { Scale::full() };
    let worker_counts = args.workers.unwrap_or_else(|| if args.quick { vec![2] } else { vec![1, 2, 4] });
    let started = Instant::now();
    let mut builder = Stack::builder().workers(0);
    if let Some(concurrency) = args.concurrency {
        builder = builder.env("RATIFY_WORKER_CONCURRENCY", concurrency);
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slots = args.apply_slots.unwrap_or(cores + 1);
    builder = builder.env("RATIFY_APPLY_SLOTS", slots);
    eprintln!("bench: RATIFY_APPLY_SLOTS={slots} ({cores} cores here)");
    if args.replica {
        let url = std::env::var("RATIFY_TEST_DATABASE_READ_URL")
            .context("--replica needs RATIFY_TEST_DATABASE_READ_URL: run deploy/local.sh bench --replica")?;
        builder = builder.read_replica(&url);
    }
    let mut stack = builder.start().await;
    // The api reads from the replica only in the runs tagged "(replica)".
    let read_url = stack.database_read_url.take();
    eprintln!("bench: database {} ({} scale)", stack.name, scale.name);

    let mut seeded = data::seed(&stack, &scale).await.context("seeding")?;
    let mut report = Report::new(&scale);
    report.push(Row::note("seed", format!("{} transactions in {:.1} s", seeded.count, seeded.seconds)));

    let floor = floor::measure(&stack, &seeded, &scale).await.context("B0")?;
    report.set_floor(floor);

    // A fresh api for B1, so its peak memory is that of taking batches.
    stack.stop_api()?;
    stack.start_api()?;
    seeded.client = seeded.client.rebase(&stack.base_url);
    load::b1(&mut stack, &seeded, &scale, &mut report).await.context("B1")?;

    let mut last_jobs = Vec::new();
    for workers in &worker_counts {
        // Every run starts from the same state: pending, vacuumed, analyzed (the first
        // one too, after seeding and B0).
        data::reset(&stack).await.context("resetting before a B2 run")?;
        last_jobs = load::b2(&mut stack, &seeded, &scale, *workers, "", &mut report)
            .await
            .with_context(|| format!("B2 with {workers}"))?;
        if let Some(url) = &read_url {
            data::reset(&stack).await.context("resetting before a B2 run")?;
            replica::caught_up(&stack, url).await?;
            stack.stop_api()?;
            stack.database_read_url = Some(url.clone());
            stack.start_api()?;
            last_jobs = load::b2(&mut stack, &seeded, &scale, *workers, " (replica)", &mut report)
                .await
                .with_context(|| format!("B2 with {workers}, reading from the replica"))?;
            report.push(replica::reads_row(&stack, *workers).await?);
            stack.stop_api()?;
            stack.database_read_url = None;
            stack.start_api()?;
        }
    }
    load::purge(&stack, &last_jobs, &scale, &mut report).await.context("purge")?;
    report.push(Row::note("total", format!("harness ran {:.0} s", started.elapsed().as_secs_f64())));
    println!("{}", report.markdown());
    Ok(())
}
