//! The console's job pages: the list (filtered, paged) and one job (live progress, counts
//! by code, its errors paged and filtered by code, downloads).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use chrono::Utc;
use maud::{html, Markup};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::{JobState, OutcomeCode};
use ratify_shared::db;
use ratify_shared::db::chunks::OutcomeRow;
use ratify_shared::db::jobs::JobRow;
use serde::Deserialize;
use uuid::Uuid;

use super::error::ConsoleError;
use super::layout::page;
use super::session::Session;
use crate::cursor;
use crate::pages::{self, PageQuery};
use crate::routes::admin_jobs::{self, AdminListParams, ADMIN_LIST};
use crate::state::AppState;
use crate::views;

const JOBS_PER_PAGE: i64 = 50;
const ERRORS_PER_PAGE: usize = 50;

/// Counts by code of each job listed.
type Counts = BTreeMap<Uuid, BTreeMap<i16, i64>>;

async fn counts(state: &AppState, jobs: &[(AdvertiserId, Uuid)]) -> Result<Counts, ConsoleError> {
    let mut conn = state.pool.acquire().await?;
    let mut counts = Counts::new();
    for (job, code, n) in db::jobs::counts_by_code(&mut conn, jobs).await? {
        counts.entry(job).or_default().insert(code, n);
    }
    Ok(counts)
}

/// `GET /console/jobs`: newest first, filtered by advertiser, status, label and date.
pub async fn list(
    session: Session,
    State(state): State<AppState>,
    Query(params): Query<AdminListParams>,
) -> Result<Markup, ConsoleError> {
    let mut filter = admin_jobs::filter(&params).map_err(|e| ConsoleError::BadRequest(e.to_string()))?;
    if !session.admin {
        filter.within = Some(session.advertisers.clone());
    }
    let secret = &state.config.admin_token;
    let before = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            cursor::open(secret, ADMIN_LIST, c)
                .ok_or_else(|| ConsoleError::BadRequest("That page link is not valid.".into()))?,
        ),
    };
    let mut conn = state.pool.acquire().await?;
    let rows = db::jobs::list_all(&mut conn, &filter, before, JOBS_PER_PAGE).await?;
    drop(conn);
    let next = (rows.len() as i64 == JOBS_PER_PAGE)
        .then(|| rows.last().map(|j| cursor::issue(secret, ADMIN_LIST, j.created_at, j.id)))
        .flatten();
    let counts = counts(&state, &rows.iter().map(|j| (j.advertiser_id, j.id)).collect::<Vec<_>>()).await?;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let next_link = next.map(|c| {
        let mut query: Vec<(&str, String)> = vec![("cursor", c)];
        for (name, v) in [
            ("advertiserId", &params.advertiser_id),
            ("status", &params.status),
            ("label", &params.label),
            ("from", &params.from),
            ("until", &params.until),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                query.push((name, v.clone()));
            }
        }
        format!("/console/jobs?{}", encode(&query))
    });
    let body = html! {
        form.filters method="get" action="/console/jobs" aria-label="Filter the jobs" {
            div { label for="f-adv" { "Advertiser" } input id="f-adv" name="advertiserId" inputmode="numeric" size="8" value=(value(&params.advertiser_id)); }
            div {
                label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "any" }
                    @for s in ["QUEUED", "PROCESSING", "DONE"] {
                        option value=(s) selected[params.status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            div { label for="f-label" { "Label" } input id="f-label" name="label" value=(value(&params.label)); }
            div { label for="f-from" { "Created from" } input id="f-from" name="from" type="date" value=(value(&params.from)); }
            div { label for="f-until" { "until (before)" } input id="f-until" name="until" type="date" value=(value(&params.until)); }
            button type="submit" { "Filter" }
            a href="/console/jobs" { "Clear" }
        }
        @if rows.is_empty() {
            p { "No jobs match." }
        } @else {
            table aria-label="Jobs" {
                thead { tr {
                    th scope="col" { "Job" } th scope="col" { "Advertiser" } th scope="col" { "Label" }
                    th scope="col" { "Status" } th scope="col" { "Progress" } th scope="col" { "Outcomes by code" }
                    th scope="col" { "Created" } th scope="col" { "Completed" } th.num scope="col" { "Duration" }
                    th.num scope="col" { "Items/s" }
                } }
                tbody {
                    @for job in &rows {
                        (job_row(job, counts.get(&job.id)))
                    }
                }
            }
        }
        @if let Some(link) = next_link {
            p.pager { a href=(link) rel="next" { "Older jobs →" } }
        }
    };
    Ok(page("Jobs", true, body))
}

fn job_row(job: &JobRow, counts: Option<&BTreeMap<i16, i64>>) -> Markup {
    let link = format!("/console/jobs/{}/{}", job.advertiser_id, job.id);
    html! {
        tr {
            td { a href=(link) { code { (short(job.id)) } } }
            td.num { (job.advertiser_id) }
            td { (job.label.as_deref().unwrap_or("")) }
            td { span class={"status status-" (job.status)} { (job.status) } }
            td { (progress(job, false)) " " (job.processed_count) " / " (job.transaction_count) }
            td.codes { (code_counts(job, counts)) }
            td { (views::instant(job.created_at)) }
            td { (job.completion_date.map(views::instant).unwrap_or_else(|| "—".into())) }
            td.num { (duration(job)) }
            td.num { (rate(job)) }
        }
    }
}

fn short(id: Uuid) -> String {
    id.to_string()[..8].to_owned()
}

fn progress(job: &JobRow, big: bool) -> Markup {
    let label = format!("{} of {} items processed", job.processed_count, job.transaction_count);
    html! {
        progress id=[big.then_some("progress")] max=(job.transaction_count) value=(job.processed_count) aria-label=(label) {
            (job.processed_count) " / " (job.transaction_count)
        }
    }
}

fn code_counts(job: &JobRow, counts: Option<&BTreeMap<i16, i64>>) -> Markup {
    html! {
        @match counts.filter(|c| !c.is_empty()) {
            Some(counts) => {
                @for (code, n) in counts {
                    span class=[(*code >= 400).then_some("code-error")] { (label(*code)) ": " (n) }
                }
            }
            None => { span { "errors: " (job.error_count) } }
        }
    }
}

fn label(code: i16) -> &'static str {
    OutcomeCode::from_status(code).map_or("[500 INTERNAL_SERVER_ERROR]", OutcomeCode::label)
}

fn seconds(job: &JobRow) -> f64 {
    let end = job.completion_date.unwrap_or_else(Utc::now);
    ((end - job.created_at).num_milliseconds() as f64 / 1000.0).max(0.001)
}

fn duration(job: &JobRow) -> String {
    format!("{:.1} s", seconds(job))
}

fn rate(job: &JobRow) -> String {
    if job.processed_count == 0 {
        return "—".into();
    }
    format!("{:.0}", f64::from(job.processed_count) / seconds(job))
}

fn encode(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct JobPageParams {
    code: Option<String>,
    cursor: Option<String>,
}

/// The job an advertiser and id name, as this session may see it, with its uuid.
pub fn visible(session: &Session, advertiser_id: i64, job_id: &str) -> Result<(AdvertiserId, Uuid), ConsoleError> {
    let not_found = || ConsoleError::NotFound(format!("There is no job {job_id} here."));
    let advertiser_id = AdvertiserId(advertiser_id);
    if !session.sees(advertiser_id) {
        return Err(not_found());
    }
    Ok((advertiser_id, job_id.parse().map_err(|_| not_found())?))
}

/// `GET /console/jobs/{aid}/{job_id}`: one job, its errors 50 a page, filtered by code.
pub async fn one(
    session: Session,
    State(state): State<AppState>,
    Path((aid, job_id)): Path<(i64, String)>,
    Query(params): Query<JobPageParams>,
) -> Result<Markup, ConsoleError> {
    let (advertiser_id, id) = visible(&session, aid, &job_id)?;
    let code = match params.code.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse()
                .ok()
                .and_then(OutcomeCode::from_status)
                .map(OutcomeCode::status)
                .ok_or_else(|| ConsoleError::BadRequest(format!("{c:?} is not an outcome code.")))?,
        ),
    };
    let scope = format!("console:{}", code.map(|c| c.to_string()).unwrap_or_default());
    let secret = &state.config.admin_token;
    let start = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => cursor::open_items(secret, advertiser_id, &scope, id, c)
            .ok_or_else(|| ConsoleError::BadRequest("That page link is not valid.".into()))?,
    };
    let conn = state.pool.acquire().await?;
    let query = PageQuery { errors_only: true, code, start, limit: ERRORS_PER_PAGE };
    let found = pages::read(conn, advertiser_id, id, query)
        .await
        .map_err(|e| ConsoleError::Api(crate::error::ApiError::Internal(e.into())))?
        .ok_or_else(|| ConsoleError::NotFound(format!("There is no job {job_id} here.")))?;
    let counts = counts(&state, &[(advertiser_id, id)]).await?;
    let job = &found.job;
    let base = format!("/console/jobs/{aid}/{id}");
    let api = format!("/advertisers/{aid}/transactions/jobs/{id}");
    let next = found.next.map(|n| {
        let c = cursor::issue_items(secret, advertiser_id, &scope, id, n);
        match code {
            Some(code) => format!("{base}?code={code}&cursor={c}"),
            None => format!("{base}?cursor={c}"),
        }
    });
    let live = (job.status != JobState::Done).then(|| api.clone());
    let body = html! {
        section.big aria-label="Progress" data-live=[live] {
            dl.facts {
                dt { "Status" } dd { span class={"status status-" (job.status)} data-field="status" { (job.status) } }
                dt { "Advertiser" } dd { (aid) }
                dt { "Job" } dd { code { (id) } }
                @if let Some(label) = &job.label { dt { "Label" } dd { (label) } }
                @if job.dry_run { dt { "Dry run" } dd { "yes: outcomes only, no transaction was changed" } }
                @if job.cancelled { dt { "Cancelled" } dd { "yes: items not applied by then are [409 CANCELLED]" } }
                @if let Some(first) = job.retry_of { dt { "Retry of" } dd { a href={"/console/jobs/" (aid) "/" (first)} { (first) } } }
                @if let Some(retry) = job.retried_by { dt { "Retried by" } dd { a href={"/console/jobs/" (aid) "/" (retry)} { (retry) } } }
                dt { "Processed" } dd { span data-field="processed" { (job.processed_count) } " of " (job.transaction_count) }
                dt { "Errors" } dd { span data-field="errors" { (job.error_count) } }
                dt { "Created" } dd { (views::instant(job.created_at)) }
                dt { "Completed" } dd { span data-field="completed" { (job.completion_date.map(views::instant).unwrap_or_else(|| "—".into())) } }
                dt { "Duration" } dd { (duration(job)) }
                dt { "Items/s" } dd { (rate(job)) }
            }
            (progress(job, true))
            p #finished hidden { "The job is done. " a href=(base) { "Show its final outcomes" } }
        }
        h2 { "Outcomes by code" }
        p.codes { (code_counts(job, counts.get(&id))) }
        h2 { "Downloads" }
        p.downloads {
            a href={(base) "/outcomes.csv?output=errors"} download { "Errors (CSV)" }
            a href={(base) "/outcomes.csv?output=all"} download { "All outcomes (CSV)" }
            a href={(api) "?output=errors"} download={(id) "-errors.json"} { "Errors (JSON)" }
            a href={(api) "?output=all"} download={(id) "-all.json"} { "All outcomes (JSON)" }
        }
        h2 { "Errors" }
        nav.pager aria-label="Filter the errors by code" {
            a href=(base) aria-current=[code.is_none().then_some("page")] { "All errors" }
            @for c in [400, 404, 409, 422, 500] {
                a href={(base) "?code=" (c)} aria-current=[(code == Some(c)).then_some("page")] { (label(c)) }
            }
        }
        (error_table(aid, &found.items))
        p.pager {
            @if start > 0 { a href={(base) @if let Some(c) = code { "?code=" (c) }} { "← First page" } }
            @if let Some(next) = next { a href=(next) rel="next" { "Next " (ERRORS_PER_PAGE) " →" } }
        }
    };
    Ok(page(&format!("Job {}", short(id)), true, body))
}

fn error_table(aid: i64, items: &[OutcomeRow]) -> Markup {
    html! {
        @if items.is_empty() {
            p { "No errors to show." }
        } @else {
            table aria-label="Errors" {
                thead { tr {
                    th.num scope="col" { "Index" } th scope="col" { "Action" } th scope="col" { "Reference" }
                    th scope="col" { "Code" } th scope="col" { "Description" }
                } }
                tbody {
                    @for item in items {
                        tr {
                            td.num { (item.item_index) }
                            td { (item.action.as_deref().unwrap_or("")) }
                            td {
                                @if let Some(t) = item.transaction_id {
                                    a href={"/console/transactions/" (aid) "/" (t)} { "transaction " (t) }
                                } @else if let Some(order_ref) = &item.order_ref {
                                    "orderRef " (order_ref) " " (item.transaction_date.as_deref().unwrap_or("")) " "
                                    (item.timezone.as_deref().unwrap_or(""))
                                }
                            }
                            td.code-error { (label(item.code)) }
                            td { (item.description.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}
