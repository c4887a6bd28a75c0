//! What the CLI prints: job summaries, counts by outcome code, and item lists as pretty
//! JSON or CSV, or with `--json` one JSON document for scripts. Everything goes to the
//! writer it is given (stdout in use, a buffer in tests); progress and hints go to
//! stderr elsewhere.

use std::collections::BTreeMap;
use std::io::Write;

use ratify_wire::{JobView, OutcomeView};
use serde::Serialize;
use serde_json::Value;

/// The columns of an item list as CSV, in the api's names.
pub const ITEM_COLUMNS: [&str; 8] =
    ["index", "action", "transactionId", "orderRef", "transactionDate", "timezone", "code", "description"];

pub fn job_summary(out: &mut impl Write, job: &JobView) -> std::io::Result<()> {
    writeln!(out, "jobId         {}", job.job_id)?;
    writeln!(out, "status        {}", job.status)?;
    writeln!(out, "transactions  {}", job.transaction_count)?;
    writeln!(out, "processed     {}", job.processed_count)?;
    writeln!(out, "errors        {}", job.error_count)?;
    writeln!(out, "created       {}", job.creation_date)?;
    writeln!(out, "completed     {}", job.completion_date.as_deref().unwrap_or("-"))?;
    if let Some(label) = &job.label {
        writeln!(out, "label         {label}")?;
    }
    for (flag, word) in [(job.dry_run, "dry run: nothing was changed"), (job.cancelled, "cancelled")] {
        if flag {
            writeln!(out, "note          {word}")?;
        }
    }
    if let Some(first) = job.retry_of {
        writeln!(out, "retry of      {first}")?;
    }
    if let Some(retry) = job.retried_by {
        writeln!(out, "retried by    {retry}")?;
    }
    Ok(())
}

/// How many items got each outcome code, in code order (`[200 OK]` first).
pub fn count_codes(items: &[OutcomeView]) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item.code.label()).or_insert(0) += 1;
    }
    counts
}

/// The summary after `submit --wait`: the job line, then one line per outcome code.
pub fn outcome_summary(out: &mut impl Write, job: &JobView, counts: &BTreeMap<&str, u64>) -> std::io::Result<()> {
    let errors = if job.error_count == 1 { "error" } else { "errors" };
    writeln!(
        out,
        "job {} {}: {} transactions, {} {errors}",
        job.job_id, job.status, job.transaction_count, job.error_count
    )?;
    let width = counts.keys().map(|code| code.len()).max().unwrap_or(0);
    for (code, count) in counts {
        writeln!(out, "  {code:<width$}  {count}")?;
    }
    Ok(())
}

/// `--json`: one document, pretty-printed, then a newline.
pub fn json(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// A job's summary with its counts by outcome code added as `outcomes`, for `--json`.
pub fn with_outcomes(job: &JobView, counts: &BTreeMap<&str, u64>) -> Value {
    let mut value = serde_json::to_value(job).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.insert("outcomes".to_owned(), serde_json::json!(counts));
    }
    value
}

/// An item list as the api gave it, pretty-printed.
pub fn items_json(out: &mut impl Write, items: &[OutcomeView]) -> std::io::Result<()> {
    json(out, &items)
}

/// An item list as CSV with [`ITEM_COLUMNS`]; absent values are empty cells.
pub fn items_csv(out: &mut impl Write, items: &[OutcomeView]) -> std::io::Result<()> {
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
            item.code.label().to_owned(),
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
pub fn job_line(out: &mut impl Write, job: &JobView) -> std::io::Result<()> {
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
    use ratify_wire::JobState;
    use serde_json::json;

    use super::*;

    fn job() -> JobView {
        JobView {
            job_id: "6f1c0000-0000-4000-8000-000000000000".parse().unwrap(),
            status: JobState::Done,
            transaction_count: 3,
            processed_count: 3,
            error_count: 1,
            transactions: 3,
            errors: 1,
            creation_date: "2026-11-14T10:15:00.123Z".into(),
            completion_date: None,
            label: None,
            dry_run: false,
            cancelled: false,
            retry_of: None,
            retried_by: None,
        }
    }

    fn outcomes(value: Value) -> Vec<OutcomeView> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn items_as_json_keep_the_api_s_order() {
        let text = r#"[{"index":0,"action":"approve","transactionId":12,"orderRef":"SO-1","code":"[200 OK]"}]"#;
        let items: Vec<OutcomeView> = serde_json::from_str(text).unwrap();
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
            "job 6f1c0000-0000-4000-8000-000000000000 DONE: 3 transactions, 1 error\n  [200 OK]         2\n  [404 NOT_FOUND]  1\n"
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
