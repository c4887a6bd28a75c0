//! `GET /console/jobs/{aid}/{job_id}/outcomes.csv?output=errors|all`: a job's outcomes as
//! CSV, streamed in index order (the JSON downloads are the api's own route).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;

use super::error::ConsoleError;
use super::jobs::visible;
use super::session::Session;
use crate::pages;
use crate::state::AppState;

/// Flush to the client every 64 KiB.
const FLUSH_AT: usize = 64 * 1024;
const HEADER: [&str; 8] =
    ["index", "action", "transactionId", "orderRef", "transactionDate", "timezone", "code", "description"];

#[derive(Deserialize)]
pub struct CsvParams {
    output: Option<String>,
}

pub async fn csv(
    session: Session,
    State(state): State<AppState>,
    Path((aid, job_id)): Path<(i64, String)>,
    Query(params): Query<CsvParams>,
) -> Result<Response, ConsoleError> {
    let (advertiser_id, id) = visible(&session, aid, &job_id)?;
    let errors_only = match params.output.as_deref() {
        None | Some("errors") => true,
        Some("all") => false,
        Some(other) => return Err(ConsoleError::BadRequest(format!("output {other:?} is neither errors nor all."))),
    };
    let conn = state.pool.acquire().await?;
    let mut rows = Box::pin(pages::rows(conn, advertiser_id, id, errors_only));
    let body = io_stream(async_stream::try_stream! {
        let mut writer = new_writer();
        writer.write_record(HEADER).map_err(std::io::Error::other)?;
        while let Some(row) = rows.try_next().await? {
            let item = crate::views::outcome(row);
            writer
                .write_record([
                    item.index.to_string(),
                    text(item.action),
                    item.transaction_id.map(|t| t.to_string()).unwrap_or_default(),
                    text(item.order_ref),
                    text(item.transaction_date),
                    text(item.timezone),
                    item.code.label().to_owned(),
                    text(item.description),
                ])
                .map_err(std::io::Error::other)?;
            writer.flush()?;
            if writer.get_ref().len() >= FLUSH_AT {
                let full = std::mem::replace(&mut writer, new_writer()).into_inner();
                yield bytes::Bytes::from(full.map_err(|e| std::io::Error::other(e.to_string()))?);
            }
        }
        writer.flush()?;
        yield bytes::Bytes::from(writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?);
    });
    let which = if errors_only { "errors" } else { "all" };
    let disposition = format!("attachment; filename=\"{id}-{which}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Pins a body stream's error type (`try_stream!` cannot name it).
fn io_stream<S: futures::Stream<Item = Result<bytes::Bytes, std::io::Error>>>(stream: S) -> S {
    stream
}

fn new_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::with_capacity(FLUSH_AT + 1024))
}

/// A text cell as a spreadsheet will not run it: what the client sent (an `orderRef`, a
/// description quoting it) starting with `=`, `+`, `-`, `@` or a tab would be read as a
/// formula, so it gets a leading `'`.
fn text(value: Option<String>) -> String {
    let value = value.unwrap_or_default();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_a_spreadsheet_would_run_is_quoted() {
        assert_eq!(super::text(Some("=HYPERLINK(\"x\")".into())), "'=HYPERLINK(\"x\")");
        assert_eq!(super::text(Some("@SUM(A1)".into())), "'@SUM(A1)");
        assert_eq!(super::text(Some("SO-1".into())), "SO-1");
        assert_eq!(super::text(None), "");
    }
}
