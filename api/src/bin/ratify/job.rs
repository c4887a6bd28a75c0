//! `ratify job` (one job: its summary, or its failed or all items as JSON or CSV) and
//! `ratify jobs` (the advertiser's recent jobs, newest first, page by page).

use std::io::Write;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{Api, CliError};
use crate::output::{self, JobSummary, Outcome};

/// Which items `ratify job` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Items {
    None,
    Errors,
    All,
}

pub async fn show(api: &Api, advertiser: i64, job_id: &str, items: Items, csv: bool) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs/{job_id}");
    // A CSV export without a choice lists every item: a summary has no rows.
    let items = if csv && items == Items::None { Items::All } else { items };
    let mut out = std::io::stdout().lock();
    let (query, field) = match items {
        Items::None => {
            let job: JobSummary = api.get(&path).await?;
            output::job_summary(&mut out, &job)?;
            return Ok(0);
        }
        Items::Errors => ("errors", "failedTransactions"),
        Items::All => ("all", "allTransactions"),
    };
    let mut body: serde_json::Map<String, Value> = api.get(&format!("{path}?output={query}")).await?;
    let list: Vec<Outcome> = match body.remove(field) {
        Some(list @ Value::Array(_)) => serde_json::from_value(list)
            .map_err(|e| CliError::Failed(format!("unexpected item in the api's {field} list: {e}")))?,
        _ => return Err(CliError::Failed(format!("the api's answer has no {field} list"))),
    };
    if csv {
        output::items_csv(&mut out, &list)?;
    } else {
        output::items_json(&mut out, &list)?;
    }
    if body.get("status").and_then(Value::as_str).is_some_and(|s| s != "DONE") {
        eprintln!("the job is not DONE yet: the list holds the items processed so far");
    }
    Ok(0)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobPage {
    jobs: Vec<JobSummary>,
    next_cursor: Option<String>,
}

pub async fn list(api: &Api, advertiser: i64, limit: Option<u32>, all_pages: bool) -> Result<u8, CliError> {
    let path = format!("/advertisers/{advertiser}/transactions/jobs");
    let mut out = std::io::stdout().lock();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = api.request(Method::GET, &path);
        if let Some(limit) = limit {
            request = request.query(&[("limit", limit.to_string())]);
        }
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: JobPage = api.json(request).await?;
        if cursor.is_none() {
            output::job_header(&mut out)?;
        }
        for job in &page.jobs {
            output::job_line(&mut out, job)?;
        }
        match page.next_cursor {
            Some(next) if all_pages && !page.jobs.is_empty() => cursor = Some(next),
            Some(_) if !all_pages => {
                out.flush()?;
                eprintln!("more jobs: add --all-pages to list them all");
                return Ok(0);
            }
            _ => return Ok(0),
        }
    }
}
