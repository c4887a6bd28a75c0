//! The base file's scenario: four workers, one SIGKILLed once the job has made progress,
//! then `--scale worker=1` while the job runs. Every item is applied once, and the api's
//! and the remaining worker's metrics answer (the worker's through the compose network,
//! from the api container).

use anyhow::{ensure, Context};

use crate::stack::{docker, until, Stack, Timeline};
use crate::{up, BigJob};

pub async fn scenario(stack: &Stack<'_>, timeline: &Timeline) -> anyhow::Result<()> {
    let args = stack.args;
    up(stack, timeline, args.workers).await?;
    let job = BigJob::submit(args, timeline).await?;

    let processed = job.in_progress().await?;
    let victim = stack.running_workers()?.into_iter().next().context("no worker runs")?;
    docker(&["kill", &victim])?;
    timeline.mark(format!(
        "docker kill {} (SIGKILL) at {processed} of {} items processed",
        &victim[..12],
        job.ids.len()
    ));

    let deadline = std::time::Duration::from_secs(60);
    let before = until("the job's summary", deadline, || job.summary()).await?;
    stack.compose(&["up", "-d", "--no-build", "--scale", "worker=1"])?;
    let after = until("the job's summary", deadline, || job.summary()).await?;
    timeline.mark(format!(
        "--scale worker=1 done: begun with the job {} at {} items, returned at {} items",
        before["status"].as_str().unwrap_or("?"),
        before["processedCount"],
        after["processedCount"]
    ));

    job.done(timeline).await?;
    job.applied_once(stack, timeline).await?;

    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
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
