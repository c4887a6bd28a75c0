//! `ratify submit`: read a batch from a JSON or CSV file, check it whole, post it, and
//! optionally follow the job to `DONE` with a progress bar and a summary by outcome.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::client::{Api, CliError};
use crate::{csv_input, output};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub struct Submit<'a> {
    pub file: &'a Path,
    pub format: Option<Format>,
    pub advertiser: i64,
    pub idempotency_key: Option<&'a str>,
    pub wait: bool,
    pub timeout: Duration,
}

/// How often `--wait` asks for the job.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// One poll may take this long before it counts as a failed poll.
const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Posts the batch; returns the exit code (0, or 1 when `--wait` saw errors).
pub async fn run(api: &Api, args: Submit<'_>) -> Result<u8, CliError> {
    let body = read_batch(args.file, args.format)?;
    let mut request = api
        .request(Method::POST, &format!("/advertisers/{}/transactions/batch", args.advertiser))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(key) = args.idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Accepted {
        job_id: String,
    }
    let accepted: Accepted = api.json(request).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", accepted.job_id)?;
    out.flush()?;
    if !args.wait {
        return Ok(0);
    }
    let job = wait(api, args.advertiser, &accepted.job_id, args.timeout).await?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WithItems {
        all_transactions: Vec<output::Outcome>,
    }
    let path = format!("/advertisers/{}/transactions/jobs/{}?output=all", args.advertiser, job.job_id);
    let items: WithItems = api.get(&path).await?;
    output::outcome_summary(&mut out, &job, &output::count_codes(&items.all_transactions))?;
    if job.error_count > 0 {
        eprintln!("the failed items: ratify job {} --advertiser {} --errors", job.job_id, args.advertiser);
        return Ok(1);
    }
    Ok(0)
}

/// The request body: a JSON file as it is (once checked to be an array of actions), or
/// a CSV file turned into one. Any problem is a usage error naming file and line.
fn read_batch(file: &Path, format: Option<Format>) -> Result<Vec<u8>, CliError> {
    let name = file.display();
    let bytes = std::fs::read(file).map_err(|e| CliError::Usage(format!("cannot read {name}: {e}")))?;
    let is_csv = file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    match format.unwrap_or(if is_csv { Format::Csv } else { Format::Json }) {
        Format::Csv => csv_input::to_json(bytes.as_slice())
            .map(String::into_bytes)
            .map_err(|e| CliError::Usage(format!("{name}:{}: {}", e.line, e.message))),
        Format::Json => {
            let items: Vec<&RawValue> = serde_json::from_slice(&bytes).map_err(|e| {
                CliError::Usage(format!("{name}:{}: not a JSON array of actions: {e}", e.line().max(1)))
            })?;
            if items.is_empty() {
                return Err(CliError::Usage(format!("{name}: the array has no actions")));
            }
            Ok(bytes)
        }
    }
}

/// Polls the job every [`POLL_EVERY`] until it is `DONE` or `timeout` has passed. A
/// moment without the api (a restart) is waited out; an error answer ends the wait.
async fn wait(api: &Api, advertiser: i64, job_id: &str, timeout: Duration) -> Result<output::JobSummary, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}");
    let deadline = Instant::now() + timeout;
    // Drawn on stderr, and only on a terminal: indicatif hides it otherwise.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items, eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    loop {
        match api.json::<output::JobSummary>(api.request(Method::GET, &path).timeout(POLL_TIMEOUT)).await {
            Ok(job) => {
                bar.set_length(job.transaction_count);
                bar.set_position(job.processed_count);
                bar.set_message(format!("{} errors, {}", job.error_count, job.status));
                if job.status == "DONE" {
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
            return Err(CliError::Failed(format!(
                "job {job_id} is not DONE after {} s; it goes on: ratify job {job_id} --advertiser {advertiser}",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
