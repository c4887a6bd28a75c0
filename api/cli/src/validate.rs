//! `ratify validate`: one action on one transaction, applied now
//! (`POST /advertisers/{aid}/transactions/{id}/actions`), for a support desk correcting
//! one order.

use std::io::Write;

use ratify_wire::{ActionKind, PartAmount, TransactionAction, TransactionView};
use reqwest::Method;

use crate::client::Api;
use crate::error::{exit, CliError};
use crate::number;
use crate::output;

/// What `ratify validate` sends.
pub struct Validate<'a> {
    pub advertiser: i64,
    pub transaction: i64,
    pub action: ActionKind,
    pub reason: Option<&'a str>,
    pub approve: bool,
    pub currency: Option<&'a str>,
    pub sale: Option<&'a str>,
    /// `CODE:AMOUNT` each.
    pub parts: &'a [String],
    pub json: bool,
}

/// The body for the flags, or why they do not make one action.
fn body(v: &Validate<'_>) -> Result<TransactionAction, CliError> {
    let usage = |m: &str| CliError::Usage(m.to_owned());
    let amend = v.action == ActionKind::Amend;
    if !amend && (v.approve || v.currency.is_some() || v.sale.is_some() || !v.parts.is_empty()) {
        return Err(usage("--approve, --currency, --sale and --part go with amend only"));
    }
    let sale =
        v.sale.map(|s| number::amount(s).map_err(|e| CliError::Usage(format!("--sale {s:?} {e}")))).transpose()?;
    let parts = v
        .parts
        .iter()
        .map(|p| {
            let (code, amount) =
                p.split_once(':').ok_or_else(|| CliError::Usage(format!("--part {p:?}: write CODE:AMOUNT")))?;
            let amount =
                number::amount(amount).map_err(|e| CliError::Usage(format!("--part {p:?}: the amount {e}")))?;
            Ok(PartAmount { commission_group_code: code.trim().to_owned(), amount })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let reason = v.reason.map(str::to_owned);
    Ok(TransactionAction {
        action: v.action,
        approve: amend.then_some(v.approve),
        decline_reason: if v.action == ActionKind::Decline { reason.clone() } else { None },
        amend_reason: if amend { reason } else { None },
        currency: v.currency.map(str::to_owned),
        sale_amount: sale,
        transaction_parts: (!parts.is_empty()).then_some(parts),
    })
}

pub async fn run(api: &Api, v: Validate<'_>) -> Result<u8, CliError> {
    let body = body(&v)?;
    let path = format!("/advertisers/{}/transactions/{}/actions", v.advertiser, v.transaction);
    // One key per run: the retry of a request whose answer was lost applies nothing
    // twice, while running the command again is a new action.
    let key = uuid::Uuid::new_v4().to_string();
    let request = api.request(Method::POST, &path).header("Idempotency-Key", key).json(&body);
    let mut out = std::io::stdout().lock();
    match api.send(request, None).await {
        Ok(response) if response.status().as_u16() == 202 => {
            let job = response.text().await.unwrap_or_default();
            writeln!(out, "accepted, not applied yet: a worker applies it; follow the job {job}")?;
            Ok(exit::UNFINISHED)
        }
        Ok(response) => {
            let bytes = response.bytes().await.map_err(|e| CliError::Unfinished(format!("reading the answer: {e}")))?;
            let view: TransactionView = serde_json::from_slice(&bytes)
                .map_err(|e| CliError::Unfinished(format!("unexpected answer from {path}: {e}")))?;
            if v.json {
                output::json(&mut out, &view)?;
            } else {
                let status = serde_json::to_value(view.commission_status).unwrap_or_default();
                let sale = serde_json::to_string(&view.sale_amount).unwrap_or_default();
                let commission = serde_json::to_string(&view.commission_amount).unwrap_or_default();
                writeln!(
                    out,
                    "[200 OK] transaction {}: {} (sale {sale}, commission {commission})",
                    view.id,
                    status.as_str().unwrap_or_default()
                )?;
            }
            Ok(exit::APPLIED)
        }
        Err(CliError::Api { status: 304, .. }) => {
            if v.json {
                output::json(
                    &mut out,
                    &serde_json::json!({"code": "[304 NOT_MODIFIED]", "transactionId": v.transaction}),
                )?;
            } else {
                writeln!(out, "[304 NOT_MODIFIED] transaction {}: already so, nothing changed", v.transaction)?;
            }
            Ok(exit::APPLIED)
        }
        Err(e) => Err(e),
    }
}
