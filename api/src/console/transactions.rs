//! `GET /console/transactions/{aid}/{id}`: one transaction's values, parts and history
//! (which job and item changed what).

use axum::extract::{Path, State};
use maud::{html, Markup};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::ids::TransactionId;
use ratify_shared::db;
use ratify_wire::Money;

use super::error::ConsoleError;
use super::layout::page;
use super::session::Session;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views;

fn money(m: &Money) -> String {
    format!("{} {}", m.amount.as_str(), m.currency)
}

pub async fn one(
    session: Session,
    State(state): State<AppState>,
    Path((aid, id)): Path<(i64, String)>,
) -> Result<Markup, ConsoleError> {
    let not_found = || ConsoleError::NotFound(format!("There is no transaction {id} here."));
    let advertiser_id = AdvertiserId(aid);
    if !session.sees(advertiser_id) {
        return Err(not_found());
    }
    let numeric = TransactionId(id.parse().map_err(|_| not_found())?);
    let mut conn = state.pool.acquire().await?;
    let row = db::transactions::get(&mut conn, advertiser_id, numeric).await?.ok_or_else(not_found)?;
    let history = db::history::of_transaction(&mut conn, advertiser_id, numeric).await?;
    let t = views::transaction(row, None, Some(history)).map_err(|e| ApiError::Internal(e.into()))?;
    let body = html! {
        dl.facts {
            dt { "Advertiser" } dd { (t.advertiser_id) }
            dt { "Order reference" } dd { (t.order_ref) }
            dt { "Transaction date" } dd { (t.transaction_date) " (" (t.timezone) ")" }
            dt { "Status" } dd { (t.commission_status) }
            dt { "Sale amount" } dd { (money(&t.sale_amount)) }
            dt { "Commission" } dd { (money(&t.commission_amount)) }
            @if let Some(reason) = &t.decline_reason { dt { "Decline reason" } dd { (reason) } }
            dt { "Amended" } dd { @if t.amended { "yes" } @else { "no" } }
            @if let Some(reason) = &t.amend_reason { dt { "Amend reason" } dd { (reason) } }
            @if let Some(old) = &t.old_sale_amount { dt { "Sale amount before" } dd { (money(old)) } }
            @if let Some(old) = &t.old_commission_amount { dt { "Commission before" } dd { (money(old)) } }
            @if let Some(date) = &t.validation_date { dt { "Validated" } dd { (date) } }
            @if let Some(publisher) = t.publisher_id { dt { "Publisher" } dd { (publisher) } }
            @if let Some(click) = &t.click_ref { dt { "Click reference" } dd { (click) } }
        }
        h2 { "Parts" }
        table aria-label="Parts" {
            thead { tr { th scope="col" { "Commission group" } th.num scope="col" { "Amount" } th.num scope="col" { "Commission" } } }
            tbody {
                @for part in &t.transaction_parts {
                    tr { td { (part.commission_group_code) } td.num { (part.amount.as_str()) } td.num { (part.commission_amount.as_str()) } }
                }
            }
        }
        h2 { "History" }
        @let history = t.history.as_deref().unwrap_or_default();
        @if history.is_empty() {
            p { "No change since it was recorded." }
        } @else {
            table aria-label="History" {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "By job, item" }
                    th scope="col" { "Before" } th scope="col" { "After" }
                } }
                tbody {
                    @for change in history {
                        tr {
                            td { (change.date) }
                            td { (change.action) }
                            td {
                                @if let Some(job) = change.job_id {
                                    a href={"/console/jobs/" (aid) "/" (job)} { code { (job.to_string()[..8]) } }
                                    @if let Some(index) = change.item_index { ", item " (index) }
                                }
                            }
                            td { pre { (pretty(change.from.get())) } }
                            td { pre { (pretty(change.to.get())) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&format!("Transaction {}", t.id), true, body))
}

/// A stored snapshot, indented for reading.
fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_owned())
}
