//! `ratify job` (one job: its summary, or its failed or all items as JSON or CSV; `cancel`
//! and `retry`) and `ratify jobs` (the advertiser's recent jobs, newest first, page by page).

use std::io::Write;

use ratify_wire::{Accepted, JobPage, JobState, JobStatus, JobView};
use reqwest::Method;

use crate::client::Api;
use crate::error::{exit, CliError};
use crate::output;

/// Which items `ratify job` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Items {
    None,
    Errors,
    All,
}

pub async fn show(
    api: &Api,
    advertiser: i64,
    job_id: &str,
    items: Items,
    csv: bool,
    json: bool,
) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}");
    // A CSV export without a choice lists every item: a summary has no rows.
    let items = if csv && items == Items::None { Items::All } else { items };
    let mut out = std::io::stdout().lock();
    let query = match items {
        Items::None => {
            let job: JobView = api.get(&path).await?;
            if json {
                output::json(&mut out, &job)?;
            } else {
                output::job_summary(&mut out, &job)?;
            }
            return Ok(exit::APPLIED);
        }
        Items::Errors => "errors",
        Items::All => "all",
    };
    let job: JobStatus = api.get(&format!("{path}?output={query}")).await?;
    let list = match items {
        Items::Errors => job.failed_transactions,
        _ => job.all_transactions,
    }
    .ok_or_else(|| CliError::Unfinished(format!("the api's answer has no list of {query} items")))?;
    if csv {
        output::items_csv(&mut out, &list)?;
    } else {
        output::items_json(&mut out, &list)?;
    }
    if job.job.status != JobState::Done {
        eprintln!("the job is not DONE yet: the list holds the items processed so far");
    }
    Ok(exit::APPLIED)
}

pub async fn list(api: &Api, advertiser: i64, limit: Option<u32>, all_pages: bool, json: bool) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs");
    let mut out = std::io::stdout().lock();
    let mut cursor: Option<String> = None;
    let mut jobs = Vec::new();
    loop {
        let mut request = api.request(Method::GET, &path);
        if let Some(limit) = limit {
            request = request.query(&[("limit", limit.to_string())]);
        }
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: JobPage = api.json(request, None).await?;
        if json {
            jobs.extend(page.jobs.iter().cloned());
        } else {
            if cursor.is_none() {
                output::job_header(&mut out)?;
            }
            for job in &page.jobs {
                output::job_line(&mut out, job)?;
            }
        }
        match page.next_cursor {
            Some(next) if all_pages && !page.jobs.is_empty() => cursor = Some(next),
            next => {
                if json {
                    // The same shape as one page of the api: `nextCursor` is set when more
                    // jobs follow (never with --all-pages).
                    output::json(&mut out, &JobPage { jobs, next_cursor: next.filter(|_| !all_pages) })?;
                } else if next.is_some() && !all_pages {
                    out.flush()?;
                    eprintln!("more jobs: add --all-pages to list them all");
                }
                return Ok(exit::APPLIED);
            }
        }
    }
}

/// `ratify job cancel`: prints the job as the cancel left it.
pub async fn cancel(api: &Api, advertiser: i64, job_id: &str, json: bool) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}/cancel");
    let job: JobView = api.json(api.request(Method::POST, &path), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &job)?;
    } else {
        output::job_summary(&mut out, &job)?;
    }
    Ok(exit::APPLIED)
}

/// `ratify job retry`: prints the new job's id (the same on every retry of one job).
pub async fn retry(api: &Api, advertiser: i64, job_id: &str, json: bool) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}/retry");
    let accepted: Accepted = api.json(api.request(Method::POST, &path), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &accepted)?;
    } else {
        writeln!(out, "{}", accepted.job_id)?;
    }
    Ok(exit::APPLIED)
}
