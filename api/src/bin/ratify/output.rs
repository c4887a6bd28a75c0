//! What the CLI prints: job summaries, counts by outcome code, and item lists as pretty
//! JSON or CSV. Everything goes to the writer it is given (stdout in use, a buffer in
//! tests); progress and hints go to stderr elsewhere.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A job as `GET …/jobs/{id}` shows it (the item lists are read separately).
#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub job_id: String,
    pub status: String,
    pub transaction_count: u64,
    pub processed_count: u64,
    pub error_count: u64,
    pub creation_date: String,
    pub completion_date: Option<String>,
}

/// One item's outcome, with the api's fields in the api's order; fields this client does
/// not know yet are kept, after them.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// The columns of an item list as CSV, in the api's names.
pub const ITEM_COLUMNS: [&str; 8] =
    ["index", "action", "transactionId", "orderRef", "transactionDate", "timezone", "code", "description"];

pub fn job_summary(out: &mut impl Write, job: &JobSummary) -> std::io::Result<()> {
    writeln!(out, "jobId         {}", job.job_id)?;
    writeln!(out, "status        {}", job.status)?;
    writeln!(out, "transactions  {}", job.transaction_count)?;
    writeln!(out, "processed     {}", job.processed_count)?;
    writeln!(out, "errors        {}", job.error_count)?;
    writeln!(out, "created       {}", job.creation_date)?;
    writeln!(out, "completed     {}", job.completion_date.as_deref().unwrap_or("-"))
}

/// How many items got each outcome code, in code order (`[200 OK]` first).
pub fn count_codes(items: &[Outcome]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item.code.clone()).or_insert(0) += 1;
    }
    counts
}

/// The summary after `submit --wait`: the job line, then one line per outcome code.
pub fn outcome_summary(out: &mut impl Write, job: &JobSummary, counts: &BTreeMap<String, u64>) -> std::io::Result<()> {
    let errors = if job.error_count == 1 { "error" } else { "errors" };
    writeln!(
        out,
        "job {} {}: {} transactions, {} {errors}",
        job.job_id, job.status, job.transaction_count, job.error_count
    )?;
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    for (code, count) in counts {
        writeln!(out, "  {code:<width$}  {count}")?;
    }
    Ok(())
}

/// An item list as the api gave it, pretty-printed.
pub fn items_json(out: &mut impl Write, items: &[Outcome]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, items)?;
    writeln!(out)
}

/// An item list as CSV with [`ITEM_COLUMNS`]; absent values are empty cells.
pub fn items_csv(out: &mut impl Write, items: &[Outcome]) -> std::io::Result<()> {
    let mut csv = ::csv::Writer::from_writer(out);
    csv.write_record(ITEM_COLUMNS).map_err(io_error)?;
    for item in items {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        csv.write_record([
            item.index.to_string(),
            text(&item.action),
            item.transaction_id.map(|id| id.to_string()).unwrap_or_default(),
            text(&item.order_ref),
            text(&item.transaction_date),
            text(&item.timezone),
            item.code.clone(),
            text(&item.description),
        ])
        .map_err(io_error)?;
    }
    csv.flush()
}

/// The I/O error inside a CSV error, with its kind kept (a closed pipe must stay one).
fn io_error(e: ::csv::Error) -> std::io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// One line per job, for `ratify jobs`.
pub fn job_line(out: &mut impl Write, job: &JobSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36}  {:<10}  {:>15}  {:>8}  {}",
        job.job_id,
        job.status,
        format!("{}/{}", job.processed_count, job.transaction_count),
        job.error_count,
        job.creation_date
    )
}

pub fn job_header(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{:<36}  {:<10}  {:>15}  {:>8}  CREATED", "JOB", "STATUS", "PROCESSED/TOTAL", "ERRORS")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job() -> JobSummary {
        JobSummary {
            job_id: "6f1c".into(),
            status: "DONE".into(),
            transaction_count: 3,
            processed_count: 3,
            error_count: 1,
            creation_date: "2026-11-14T10:15:00.123Z".into(),
            completion_date: None,
        }
    }

    fn outcomes(value: Value) -> Vec<Outcome> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn items_as_json_keep_the_api_s_order_and_unknown_fields() {
        let text = r#"[{"index":0,"action":"approve","transactionId":12,"code":"[200 OK]","newField":[1]}]"#;
        let items: Vec<Outcome> = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        items_json(&mut out, &items).unwrap();
        let compact: String = String::from_utf8(out).unwrap().split_whitespace().collect();
        assert_eq!(compact, text.replace(' ', ""));
    }

    #[test]
    fn summary_counts_codes_in_order() {
        let items = outcomes(json!([{"index": 0, "code": "[404 NOT_FOUND]"}, {"index": 1, "code": "[200 OK]"},
                                    {"index": 2, "code": "[200 OK]"}]));
        let mut out = Vec::new();
        outcome_summary(&mut out, &job(), &count_codes(&items)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "job 6f1c DONE: 3 transactions, 1 error\n  [200 OK]         2\n  [404 NOT_FOUND]  1\n"
        );
    }

    #[test]
    fn items_as_csv_quote_what_needs_quoting() {
        let items = outcomes(json!([
            {"index": 0, "action": "approve", "transactionId": 12, "code": "[200 OK]"},
            {"index": 1, "action": "decline", "orderRef": "SO-2", "transactionDate": "2026-11-14T11:00:00",
             "timezone": "Europe/Stockholm", "code": "[404 NOT_FOUND]", "description": "no transaction, sorry"},
        ]));
        let mut out = Vec::new();
        items_csv(&mut out, &items).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "index,action,transactionId,orderRef,transactionDate,timezone,code,description\n\
             0,approve,12,,,,[200 OK],\n\
             1,decline,,SO-2,2026-11-14T11:00:00,Europe/Stockholm,[404 NOT_FOUND],\"no transaction, sorry\"\n"
        );
    }
}
