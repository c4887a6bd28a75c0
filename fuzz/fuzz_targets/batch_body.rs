//! A batch body as the api reads it: `Vec<&RawValue>`, then `parse_item` per element.
//!
//! Invariants, for every element of every body that is a JSON array:
//! - parsing never panics;
//! - an item is `Ok` or an `Err` with a non-empty description;
//! - an `Ok` item is well formed: a known action, a positive id or a non-empty order
//!   reference with at most two instants, reasons non-blank and within their limit, an amend's
//!   amounts non-negative in a real currency's minor units, its parts non-empty, at most
//!   `MAX_PARTS`, codes unique, non-empty and within `MAX_CODE_LEN`;
//! - what is echoed stays within its limit and agrees with what was parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratify_domain::batch::{
    parse_item, Command, ParsedItem, Reference, MAX_CODE_LEN, MAX_ORDER_REF_LEN, MAX_PARTS, MAX_REASON_LEN,
};
use ratify_domain::money::Currency;
use serde_json::value::RawValue;

/// The limit `parse_item` applies to the echoed `transactionDate` and `timezone`.
const MAX_DATE_OR_ZONE_LEN: usize = 64;

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn check(item: &ParsedItem) {
    let echo = &item.echo;
    if let Some(order_ref) = &echo.order_ref {
        assert!(chars(order_ref) <= MAX_ORDER_REF_LEN, "echoed orderRef too long");
    }
    if let Some(date) = &echo.transaction_date {
        assert!(chars(date) <= MAX_DATE_OR_ZONE_LEN, "echoed transactionDate too long");
    }
    if let Some(zone) = &echo.timezone {
        assert!(chars(zone) <= MAX_DATE_OR_ZONE_LEN, "echoed timezone too long");
    }
    if let Some(id) = echo.transaction_id {
        assert!(id > 0, "echoed a non-positive transactionId {id}");
    }
    let (reference, command) = match &item.parsed {
        Err(description) => {
            assert!(!description.trim().is_empty(), "an item rejected without a description");
            return;
        }
        Ok(ok) => ok,
    };
    let action = echo.action.as_deref();
    let expected = match command {
        Command::Approve => "approve",
        Command::Decline { .. } => "decline",
        Command::Amend { .. } => "amend",
    };
    assert_eq!(action, Some(expected), "the echoed action is not the parsed one");
    match reference {
        Reference::Id(id) => {
            assert!(*id > 0, "a non-positive transaction id {id}");
            assert_eq!(echo.transaction_id, Some(*id), "the id is not echoed");
        }
        Reference::Order { order_ref, instants } => {
            assert!(!order_ref.is_empty(), "an empty orderRef was accepted");
            assert!(chars(order_ref) <= MAX_ORDER_REF_LEN, "orderRef too long");
            assert_eq!(echo.order_ref.as_deref(), Some(order_ref.as_str()), "the orderRef is not echoed");
            assert!(instants.len() <= 2, "{} instants for one local time", instants.len());
            assert!(echo.transaction_date.is_some() && echo.timezone.is_some(), "date or zone not echoed");
        }
    }
    match command {
        Command::Approve => {}
        Command::Decline { reason } => {
            assert!(!reason.trim().is_empty(), "a blank declineReason was accepted");
            assert!(chars(reason) <= MAX_REASON_LEN, "declineReason too long");
        }
        Command::Amend { approve: _, reason, currency, sale_amount, parts } => {
            assert!(!reason.trim().is_empty(), "a blank amendReason was accepted");
            assert!(chars(reason) <= MAX_REASON_LEN, "amendReason too long");
            let currency: Currency = currency.parse().expect("an amend was accepted with an unknown currency");
            // Amounts are at most 10^12 major units: 10^(12 + exponent) minor units fits i64.
            let max = 1_000_000_000_000_i64 * 10_i64.pow(currency.exponent());
            assert!((0..=max).contains(sale_amount), "saleAmount {sale_amount} out of range");
            assert!(!parts.is_empty() && parts.len() <= MAX_PARTS, "{} parts", parts.len());
            for (i, (code, amount)) in parts.iter().enumerate() {
                assert!(!code.is_empty() && chars(code) <= MAX_CODE_LEN, "part {i}: bad code {code:?}");
                assert!((0..=max).contains(amount), "part {i}: amount {amount} out of range");
                assert!(parts[..i].iter().all(|(c, _)| c != code), "part {i}: duplicate code {code:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    // Exactly the api's first step; a body that is not a JSON array is a 400 for the
    // whole request, so there are no items to check.
    let Ok(elements) = serde_json::from_slice::<Vec<&RawValue>>(body.as_bytes()) else {
        return;
    };
    for raw in elements {
        let item = parse_item(raw);
        check(&item);
        // The same element parses the same way twice (no hidden state).
        assert_eq!(parse_item(raw), item, "parse_item is not deterministic");
    }
});
