//! Parsing one element of a batch body into an action, or into the reason it is a
//! `[400 BAD_REQUEST]` item. A malformed element never sinks the batch.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub mod array;

use crate::localtime;
use crate::money::{parse_minor, Currency};
use crate::state::ActionKind;
use crate::text::{self, TextKind};

pub const MAX_ORDER_REF_LEN: usize = 255;
pub const MAX_REASON_LEN: usize = 1000;
pub const MAX_PARTS: usize = 100;
pub const MAX_CODE_LEN: usize = 64;
pub const MAX_ACTION_LEN: usize = 32;

/// What the client wrote to identify the item, echoed back in its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// How an item names its transaction. `transactionId` wins over `orderRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Id(i64),
    /// `orderRef` plus every instant the local date-time denotes in its zone
    /// (two in a DST fold, none in a DST gap).
    Order {
        order_ref: String,
        instants: Vec<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Command {
    Approve,
    Decline {
        reason: String,
    },
    Amend {
        approve: bool,
        reason: String,
        currency: String,
        sale_amount: i64,
        /// `(commission group code, amount in minor units)` as requested.
        parts: Vec<(String, i64)>,
    },
}

impl Command {
    pub fn kind(&self) -> ActionKind {
        match self {
            Command::Approve => ActionKind::Approve,
            Command::Decline { .. } => ActionKind::Decline,
            Command::Amend { .. } => ActionKind::Amend,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedItem {
    pub echo: Echo,
    /// The action, or the description of why the item is a `400`.
    pub parsed: Result<(Reference, Command), String>,
}

#[derive(Deserialize)]
struct RawItem<'a> {
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(borrow, default)]
    approve: Option<&'a RawValue>,
    #[serde(borrow, default)]
    transaction: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTransaction<'a> {
    #[serde(borrow, default)]
    transaction_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    order_ref: Option<&'a RawValue>,
    #[serde(borrow, default)]
    transaction_date: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timezone: Option<&'a RawValue>,
    #[serde(borrow, default)]
    decline_reason: Option<&'a RawValue>,
    #[serde(borrow, default)]
    amend_reason: Option<&'a RawValue>,
    #[serde(borrow, default)]
    currency: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sale_amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    transaction_parts: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPart<'a> {
    #[serde(borrow, default)]
    amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    commission_group_code: Option<&'a RawValue>,
}

/// A present, non-null field.
fn present(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

fn typed<T: DeserializeOwned>(raw: &RawValue, field: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|_| format!("{field} must be {what}"))
}

/// A string field: at most `max` characters, held to the rules of `kind`.
fn text_of(raw: Option<&RawValue>, field: &str, max: usize, kind: TextKind) -> Result<Option<String>, String> {
    let Some(raw) = present(raw) else {
        return Ok(None);
    };
    let s: String = typed(raw, field, "a string")?;
    if s.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    text::check(&s, kind).map_err(|e| format!("{field} {e}"))?;
    Ok(Some(s))
}

/// Why a string field holds identifier text that cannot be stored, if it does.
fn refused_text(raw: Option<&RawValue>, field: &str) -> Option<String> {
    let s: String = serde_json::from_str(present(raw)?.get()).ok()?;
    text::check(&s, TextKind::Identifier).err().map(|e| format!("{field} {e}"))
}

/// An identifier field (references, codes, dates, zones).
fn text(raw: Option<&RawValue>, field: &str, max: usize) -> Result<Option<String>, String> {
    text_of(raw, field, max, TextKind::Identifier)
}

/// A free-text field (reasons).
fn prose(raw: Option<&RawValue>, field: &str, max: usize) -> Result<Option<String>, String> {
    text_of(raw, field, max, TextKind::Prose)
}

fn required(value: Option<String>, field: &str, action: &str) -> Result<String, String> {
    match value {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("{field} is required for {action}")),
    }
}

/// A transaction id: a positive integer, as a JSON number or a numeric string.
fn transaction_id(raw: &RawValue) -> Result<i64, String> {
    const WHAT: &str = "transaction.transactionId must be a positive integer or a numeric string";
    let text = raw.get();
    let digits =
        if text.starts_with('"') { serde_json::from_str::<String>(text).map_err(|_| WHAT)? } else { text.to_owned() };
    match digits.parse::<i64>() {
        Ok(id) if id > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(WHAT.to_owned()),
    }
}

/// Parses one element of the batch array.
pub fn parse_item(raw: &RawValue) -> ParsedItem {
    let mut echo = Echo::default();
    let parsed = parse_into(raw, &mut echo);
    ParsedItem { echo, parsed }
}

fn parse_into(raw: &RawValue, echo: &mut Echo) -> Result<(Reference, Command), String> {
    if !raw.get().starts_with('{') {
        return Err("each item must be a JSON object".to_owned());
    }
    let item: RawItem =
        serde_json::from_str(raw.get()).map_err(|e| format!("the item is not a valid action object: {e}"))?;
    // Echo what can be read before judging anything, so even a bad item is recognisable.
    // An action name longer than any real one is not echoed back (nor in the error).
    // Text that cannot be stored is not echoed either.
    let written = present(item.action).map(|a| serde_json::from_str::<String>(a.get()));
    echo.action = written
        .as_ref()
        .and_then(|a| a.as_ref().ok())
        .filter(|a| a.chars().count() <= MAX_ACTION_LEN && text::storable(a, TextKind::Identifier))
        .cloned();
    let action = match (&echo.action, &written) {
        (Some(a), _) => {
            ActionKind::parse(a).ok_or_else(|| format!("action {a:?} is unknown: use approve, decline or amend"))
        }
        (None, Some(Ok(a))) => Err(match text::check(a, TextKind::Identifier) {
            Err(e) => format!("action {e}: use approve, decline or amend"),
            Ok(()) => "action is unknown: use approve, decline or amend".to_owned(),
        }),
        (None, Some(Err(_))) => Err("action must be a string: approve, decline or amend".to_owned()),
        (None, None) => Err("action is required: approve, decline or amend".to_owned()),
    };
    let tx = match present(item.transaction) {
        Some(raw) if raw.get().starts_with('{') => Some(
            serde_json::from_str::<RawTransaction>(raw.get())
                .map_err(|e| format!("transaction is not a valid object: {e}")),
        ),
        Some(_) => Some(Err("transaction must be a JSON object".to_owned())),
        None => None,
    };
    let mut unstorable = None;
    let id = match &tx {
        Some(Ok(tx)) => {
            let id = present(tx.transaction_id).map(transaction_id);
            if let Some(Ok(id)) = id {
                echo.transaction_id = Some(id);
            }
            let order_ref = text(tx.order_ref, "transaction.orderRef", MAX_ORDER_REF_LEN);
            let date = text(tx.transaction_date, "transaction.transactionDate", 64);
            let zone = text(tx.timezone, "transaction.timezone", 64);
            // Text that cannot be stored sinks the item even where the id makes it unused.
            unstorable = [
                (tx.order_ref, "transaction.orderRef"),
                (tx.transaction_date, "transaction.transactionDate"),
                (tx.timezone, "transaction.timezone"),
            ]
            .into_iter()
            .find_map(|(raw, field)| refused_text(raw, field));
            echo.order_ref = order_ref.ok().flatten();
            echo.transaction_date = date.ok().flatten();
            echo.timezone = zone.ok().flatten();
            id
        }
        _ => None,
    };
    let action = action?;
    if let Some(e) = unstorable {
        return Err(e);
    }
    let tx = tx.ok_or("transaction is required")??;
    let reference = match id {
        Some(id) => Reference::Id(id?),
        None => order_reference(&tx)?,
    };
    let command = match action {
        ActionKind::Approve => Command::Approve,
        ActionKind::Decline => Command::Decline {
            reason: required(
                prose(tx.decline_reason, "transaction.declineReason", MAX_REASON_LEN)?,
                "transaction.declineReason",
                "decline",
            )?,
        },
        ActionKind::Amend => amend(&item, &tx)?,
    };
    Ok((reference, command))
}

fn order_reference(tx: &RawTransaction) -> Result<Reference, String> {
    const NEITHER: &str = "the transaction must be referenced by transaction.transactionId, \
                           or by transaction.orderRef with transactionDate and timezone";
    let order_ref = text(tx.order_ref, "transaction.orderRef", MAX_ORDER_REF_LEN)?.ok_or(NEITHER)?;
    if order_ref.is_empty() {
        return Err("transaction.orderRef must not be empty".to_owned());
    }
    let date = text(tx.transaction_date, "transaction.transactionDate", 64)?
        .ok_or("transaction.transactionDate is required with orderRef")?;
    let zone =
        text(tx.timezone, "transaction.timezone", 64)?.ok_or("transaction.timezone is required with orderRef")?;
    let local = localtime::parse_local(&date).ok_or_else(|| {
        format!("transaction.transactionDate {date:?} is not a date-time of the form yyyy-MM-ddTHH:mm:ss")
    })?;
    let zone = localtime::parse_zone(&zone)
        .ok_or_else(|| format!("transaction.timezone {zone:?} is not an IANA time zone such as Europe/Paris"))?;
    Ok(Reference::Order { order_ref, instants: localtime::instants(local, zone) })
}

fn amend(item: &RawItem, tx: &RawTransaction) -> Result<Command, String> {
    let approve = match present(item.approve) {
        None => false,
        Some(raw) => typed::<bool>(raw, "approve", "true or false")?,
    };
    let reason = required(
        prose(tx.amend_reason, "transaction.amendReason", MAX_REASON_LEN)?,
        "transaction.amendReason",
        "amend",
    )?;
    let code = text(tx.currency, "transaction.currency", 3)?.ok_or("transaction.currency is required for amend")?;
    let currency: Currency = code.parse().map_err(|e| format!("transaction.currency: {e}"))?;
    let exponent = currency.exponent();
    let sale_raw = present(tx.sale_amount).ok_or("transaction.saleAmount is required for amend")?;
    let sale_amount =
        parse_minor(sale_raw.get(), exponent).map_err(|e| format!("transaction.saleAmount {e} ({code})"))?;
    let parts_raw = present(tx.transaction_parts).ok_or("transaction.transactionParts is required for amend")?;
    let raw_parts: Vec<RawPart> = serde_json::from_str(parts_raw.get())
        .map_err(|_| "transaction.transactionParts must be an array of {amount, commissionGroupCode} objects")?;
    if raw_parts.is_empty() {
        return Err("transaction.transactionParts must not be empty".to_owned());
    }
    if raw_parts.len() > MAX_PARTS {
        return Err(format!("transaction.transactionParts has more than {MAX_PARTS} parts"));
    }
    let mut seen = HashSet::new();
    let mut parts = Vec::with_capacity(raw_parts.len());
    for (i, part) in raw_parts.iter().enumerate() {
        let field = format!("transaction.transactionParts[{i}]");
        let group = text(part.commission_group_code, &format!("{field}.commissionGroupCode"), MAX_CODE_LEN)?
            .filter(|c| !c.is_empty())
            .ok_or_else(|| format!("{field}.commissionGroupCode is required"))?;
        if !seen.insert(group.clone()) {
            return Err(format!("{field}.commissionGroupCode {group:?} appears more than once"));
        }
        let amount_raw = present(part.amount).ok_or_else(|| format!("{field}.amount is required"))?;
        let amount = parse_minor(amount_raw.get(), exponent).map_err(|e| format!("{field}.amount {e} ({code})"))?;
        parts.push((group, amount));
    }
    Ok(Command::Amend { approve, reason, currency: code, sale_amount, parts })
}

#[cfg(test)]
mod tests;
