//! How stored transactions, jobs and commission groups become the bodies the api sends
//! (`ratify_wire`): dates rendered in a zone, money in its currency's digits.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use ratify_domain::money::{Currency, UnknownCurrency};
use ratify_shared::db::advertisers::GroupRow;
use ratify_shared::db::chunks::OutcomeRow;
use ratify_shared::db::history::HistoryRow;
use ratify_shared::db::jobs::JobRow;
use ratify_shared::db::transactions::TransactionRow;
use ratify_wire::TransactionView;
use ratify_wire::{Amount, DecimalNumber, GroupView, HistoryView, JobView, Money, OutcomeCode, OutcomeView, PartView};

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A transaction date in `zone`, with its offset (`2026-11-14T10:15:00+01:00`).
fn in_zone(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Renders a transaction; dates in `zone`, or in the zone it was recorded in.
pub fn transaction(
    row: TransactionRow,
    zone: Option<Tz>,
    history: Option<Vec<HistoryRow>>,
) -> Result<TransactionView, UnknownCurrency> {
    let currency: Currency = row.currency.parse()?;
    let zone = zone.or_else(|| row.timezone.parse().ok()).unwrap_or(Tz::UTC);
    let amount = |minor: i64| Amount::from_minor(minor, currency.exponent());
    let money = |minor: i64| Money { amount: amount(minor), currency: currency.code().to_owned() };
    Ok(TransactionView {
        id: row.id,
        advertiser_id: row.advertiser_id.0,
        order_ref: row.order_ref,
        transaction_date: in_zone(row.transaction_date, zone),
        timezone: row.timezone,
        commission_status: row.commission_status,
        sale_amount: money(row.sale_amount),
        commission_amount: money(row.commission_amount),
        transaction_parts: row
            .parts
            .0
            .into_iter()
            .map(|p| PartView {
                commission_group_code: p.code,
                amount: amount(p.amount),
                commission_amount: amount(p.commission),
            })
            .collect(),
        decline_reason: row.decline_reason,
        amended: row.amended,
        amend_reason: row.amend_reason,
        old_sale_amount: row.old_sale_amount.map(money),
        old_commission_amount: row.old_commission_amount.map(money),
        validation_date: row.validation_date.map(|t| in_zone(t, zone)),
        publisher_id: row.publisher_id,
        click_ref: row.click_ref,
        history: history.map(|rows| rows.into_iter().filter_map(history_entry).collect()),
    })
}

fn history_entry(row: HistoryRow) -> Option<HistoryView> {
    Some(HistoryView {
        date: instant(row.changed_at),
        job_id: row.job_id,
        item_index: row.item_index,
        action: row.action,
        from: row.before,
        to: row.after,
    })
}

/// A job's summary.
pub fn job(row: &JobRow) -> JobView {
    JobView {
        job_id: row.id,
        status: row.status,
        transaction_count: row.transaction_count,
        processed_count: row.processed_count,
        error_count: row.error_count,
        transactions: row.transaction_count,
        errors: row.error_count,
        creation_date: instant(row.created_at),
        completion_date: row.completion_date.map(instant),
        label: row.label.clone(),
        dry_run: row.dry_run,
        cancelled: row.cancelled,
        retry_of: row.retry_of,
        retried_by: row.retried_by,
    }
}

/// One item's outcome; a code no outcome has reads as the give-up's `500`.
pub fn outcome(row: OutcomeRow) -> OutcomeView {
    let code = OutcomeCode::from_status(row.code).unwrap_or(OutcomeCode::Internal);
    OutcomeView {
        index: row.item_index,
        action: row.action,
        transaction_id: row.transaction_id,
        order_ref: row.order_ref,
        transaction_date: row.transaction_date,
        timezone: row.timezone,
        code,
        description: row.description,
    }
}

/// A commission group as stored; its value without padding zeros (5 stays 5).
pub fn group(row: GroupRow) -> Result<GroupView, serde_json::Error> {
    let value = DecimalNumber::parse(row.value.normalize().to_string())?;
    Ok(GroupView { code: row.code, name: row.name, kind: row.kind, value })
}

#[cfg(test)]
mod tests {
    use ratify_domain::money::format_minor;

    use super::*;

    #[test]
    fn amounts_are_written_as_the_domain_formats_them() {
        for exponent in [0, 2, 3] {
            for minor in [0, 1, 5, 9, 10, 99, 100, 101, 999, 1000, 5596, 12550, -5, -1000, i64::MAX, i64::MIN + 1] {
                assert_eq!(Amount::from_minor(minor, exponent).as_str(), format_minor(minor, exponent), "{minor}");
            }
        }
    }
}
