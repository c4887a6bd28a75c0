//! Applying one command to a transaction held in memory: the state machine plus the
//! amend rules of docs/api.md §4. Pure: the worker loads, calls this per item, and stores.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::batch::Command;
use crate::commission::{build_parts, total_commission, Part, Rate};
use crate::job::OutcomeCode;
use crate::money::{Currency, JsonAmount};
use crate::state::{decide, CommissionStatus, Transition};

/// The mutable part of a transaction, as the worker locked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionState {
    pub id: i64,
    pub status: CommissionStatus,
    pub currency: Currency,
    pub sale_amount: i64,
    pub commission_amount: i64,
    pub parts: Vec<Part>,
    pub decline_reason: Option<String>,
    pub amended: bool,
    pub amend_reason: Option<String>,
    pub old_sale_amount: Option<i64>,
    pub old_commission_amount: Option<i64>,
    pub validation_date: Option<DateTime<Utc>>,
}

/// The result of one item: its code, the reason for any code but 200, and for a 200
/// the history entry (changed fields before and after, as JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub code: OutcomeCode,
    pub description: Option<String>,
    pub change: Option<Change>,
}

/// The changed fields before and after, each a JSON object kept as written, so the
/// history document embeds them without parsing them again.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Box<RawValue>,
    pub after: Box<RawValue>,
}

impl PartialEq for Change {
    fn eq(&self, other: &Change) -> bool {
        self.before.get() == other.before.get() && self.after.get() == other.after.get()
    }
}

impl Eq for Change {}

impl Applied {
    fn no(code: OutcomeCode, description: impl Into<String>) -> Applied {
        Applied { code, description: Some(description.into()), change: None }
    }
}

/// The fields a history entry records. Absent fields did not change.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Snapshot<'a> {
    commission_status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sale_amount: Option<JsonAmount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commission_amount: Option<JsonAmount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_parts: Option<Vec<PartSnapshot<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartSnapshot<'a> {
    commission_group_code: &'a str,
    amount: JsonAmount,
    commission_amount: JsonAmount,
}

fn snapshot(tx: &TransactionState, amounts: bool) -> Snapshot<'_> {
    let money = |minor| JsonAmount::new(minor, tx.currency);
    Snapshot {
        commission_status: tx.status.as_str(),
        decline_reason: tx.decline_reason.as_deref(),
        sale_amount: amounts.then(|| money(tx.sale_amount)),
        commission_amount: amounts.then(|| money(tx.commission_amount)),
        transaction_parts: amounts.then(|| {
            tx.parts
                .iter()
                .map(|p| PartSnapshot {
                    commission_group_code: &p.code,
                    amount: money(p.amount),
                    commission_amount: money(p.commission),
                })
                .collect()
        }),
    }
}

fn to_json(s: &Snapshot<'_>) -> Box<RawValue> {
    // Serializing plain strings and integers cannot fail; the fallback is an empty object.
    serde_json::value::to_raw_value(s).unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).expect("{} is JSON"))
}

/// Whether two part lists hold the same parts, in any order (codes are unique in each).
fn same_parts(a: &[Part], b: &[Part]) -> bool {
    fn sorted(parts: &[Part]) -> Vec<&Part> {
        let mut parts: Vec<&Part> = parts.iter().collect();
        parts.sort_unstable_by(|x, y| x.code.cmp(&y.code));
        parts
    }
    a.len() == b.len() && sorted(a) == sorted(b)
}

/// Applies `command` to `tx` (mutating it on 200) at time `now`. `rates` are the
/// advertiser's commission groups.
pub fn apply(
    tx: &mut TransactionState,
    command: &Command,
    rates: &HashMap<String, Rate>,
    now: DateTime<Utc>,
) -> Applied {
    let next = match decide(tx.status, command.kind()) {
        Transition::AlreadySo => {
            return Applied::no(OutcomeCode::NotModified, format!("the transaction is already {}", tx.status.as_str()))
        }
        Transition::Forbidden(why) => return Applied::no(OutcomeCode::Unprocessable, why),
        Transition::Apply(next) => next,
    };
    let amends = matches!(command, Command::Amend { .. });
    let before = to_json(&snapshot(tx, amends));
    match command {
        Command::Approve => {
            tx.status = next;
            tx.validation_date = Some(now);
        }
        Command::Decline { reason } => {
            tx.status = next;
            tx.decline_reason = Some(reason.clone());
            tx.validation_date = Some(now);
        }
        Command::Amend { approve, reason, currency, sale_amount, parts } => {
            if currency != tx.currency.code() {
                return Applied::no(
                    OutcomeCode::Unprocessable,
                    format!("currency {currency} differs from the transaction's currency {}", tx.currency),
                );
            }
            let new_parts = match build_parts(*sale_amount, parts, rates, tx.currency.exponent()) {
                Ok(p) => p,
                Err(e) => return Applied::no(OutcomeCode::Unprocessable, e.to_string()),
            };
            let new_commission = total_commission(&new_parts);
            // "No value would change" compares the resulting values: the parts as a set by
            // code, whatever order the request named them in and whether or not it named
            // the DEFAULT part that absorbed the rest.
            let changes = *sale_amount != tx.sale_amount
                || !same_parts(&new_parts, &tx.parts)
                || new_commission != tx.commission_amount;
            if !changes && !approve {
                return Applied::no(OutcomeCode::NotModified, "the amend changes no value of the transaction");
            }
            if changes {
                tx.old_sale_amount = Some(tx.sale_amount);
                tx.old_commission_amount = Some(tx.commission_amount);
                tx.sale_amount = *sale_amount;
                tx.commission_amount = new_commission;
                tx.parts = new_parts;
                tx.amended = true;
                tx.amend_reason = Some(reason.clone());
            }
            if *approve {
                tx.status = CommissionStatus::Approved;
                tx.validation_date = Some(now);
            }
        }
    }
    let after = to_json(&snapshot(tx, amends));
    Applied { code: OutcomeCode::Ok, description: None, change: Some(Change { before, after }) }
}

#[cfg(test)]
mod tests;
