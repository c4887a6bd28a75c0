//! `ratify submit`: read a batch file, check it whole, post it (in several jobs when it
//! is over the api's limits), and optionally follow each job to `DONE` with a progress
//! bar and a summary by outcome.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use ratify_wire::{Accepted, JobState, JobStatus, JobView};
use reqwest::Method;
use uuid::Uuid;

use crate::batch::{self, Format, Limits};
use crate::client::Api;
use crate::error::{exit, CliError};
use crate::output;

pub struct Submit<'a> {
    pub file: &'a Path,
    pub format: Option<Format>,
    pub advertiser: i64,
    pub idempotency_key: Option<&'a str>,
    pub limits: Limits,
    pub wait: bool,
    pub timeout: Duration,
    pub json: bool,
    /// `?dryRun=true`: outcomes only, nothing changed.
    pub dry_run: bool,
}

/// How often `--wait` asks for the job.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// One poll may take this long before it counts as a failed poll.
const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Posts the parts in order, printing each jobId as it is accepted; returns the exit
/// code (with `--wait`: [`exit::ITEMS_FAILED`] when any job has failed items).
pub async fn run(api: &Api, args: Submit<'_>) -> Result<u8, CliError> {
    let parts = batch::read(args.file, args.format, args.limits, args.idempotency_key)?;
    if parts.len() > 1 {
        let items: usize = parts.iter().map(|p| p.items).sum();
        eprintln!("{items} actions in {} jobs of at most {} actions each", parts.len(), args.limits.items);
    }
    let mut out = std::io::stdout().lock();
    let mut job_ids = Vec::with_capacity(parts.len());
    for part in parts {
        let mut request = api
            .request(Method::POST, &format!("/advertisers/{}/transactions/batch", args.advertiser))
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        // A dry run of a file is another request than the file itself: its own key.
        request = if args.dry_run {
            request.query(&[("dryRun", "true")]).header("Idempotency-Key", format!("dry-run:{}", part.idempotency_key))
        } else {
            request.header("Idempotency-Key", &part.idempotency_key)
        };
        let request = request.body(part.body);
        let accepted: Accepted = api.json(request, None).await.map_err(|e| accepted_so_far(e, &job_ids))?;
        if !args.json {
            writeln!(out, "{}", accepted.job_id)?;
            out.flush()?;
        }
        job_ids.push(accepted.job_id);
    }
    if !args.wait {
        if args.json {
            let jobs: Vec<Accepted> = job_ids.into_iter().map(|job_id| Accepted { job_id }).collect();
            output::json(&mut out, &serde_json::json!({ "jobs": jobs }))?;
        }
        return Ok(exit::APPLIED);
    }
    let deadline = Instant::now() + args.timeout;
    let mut code = exit::APPLIED;
    let mut done = Vec::new();
    for job_id in &job_ids {
        let job = wait(api, args.advertiser, job_id, deadline, args.timeout).await?;
        let path = format!("/advertisers/{}/transactions/jobs/{}?output=all", args.advertiser, job.job_id);
        let items: JobStatus = api.get(&path).await?;
        let counts = output::count_codes(items.all_transactions.as_deref().unwrap_or_default());
        if job.error_count > 0 {
            code = exit::ITEMS_FAILED;
            eprintln!("the failed items: ratify job {} --advertiser {} --errors", job.job_id, args.advertiser);
        }
        if args.json {
            done.push(output::with_outcomes(&job, &counts));
        } else {
            output::outcome_summary(&mut out, &job, &counts)?;
        }
    }
    if args.json {
        output::json(&mut out, &serde_json::json!({ "jobs": done }))?;
    }
    Ok(code)
}

/// A refusal after some parts were accepted names them: those jobs go on.
fn accepted_so_far(e: CliError, job_ids: &[Uuid]) -> CliError {
    if !job_ids.is_empty() {
        let ids: Vec<String> = job_ids.iter().map(Uuid::to_string).collect();
        eprintln!("accepted before this error (those jobs go on): {}", ids.join(" "));
    }
    e
}

/// Polls the job every [`POLL_EVERY`] until it is `DONE` or `deadline` has passed. A
/// moment without the api (a restart) is waited out, a `429`/`503` is asked again after
/// its `Retry-After`; any other error answer ends the wait.
async fn wait(
    api: &Api,
    advertiser: i64,
    job_id: &Uuid,
    deadline: Instant,
    timeout: Duration,
) -> Result<JobView, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}");
    // Drawn on stderr, and only on a terminal: indicatif hides it otherwise.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items, eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    loop {
        match api.json::<JobView>(api.request(Method::GET, &path).timeout(POLL_TIMEOUT), Some(&bar)).await {
            Ok(job) => {
                bar.set_length(u64::try_from(job.transaction_count).unwrap_or(0));
                bar.set_position(u64::try_from(job.processed_count).unwrap_or(0));
                bar.set_message(format!("{} errors, {}", job.error_count, job.status));
                if job.status == JobState::Done {
                    bar.finish_and_clear();
                    return Ok(job);
                }
            }
            Err(e @ CliError::Transport { .. }) => bar.set_message(format!("retrying: {e}")),
            Err(e) => {
                bar.abandon();
                return Err(e);
            }
        }
        if Instant::now() >= deadline {
            bar.abandon();
            return Err(CliError::Unfinished(format!(
                "job {job_id} is not DONE after {} s; it goes on: ratify job {job_id} --advertiser {advertiser}",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
