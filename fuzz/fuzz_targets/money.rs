//! Money parsing: `parse_minor(text, exponent)` and `Currency: FromStr`.
//!
//! Input: the first byte chooses the exponent (0..=4, every ISO 4217 minor unit), the rest
//! is the amount text (as a client wrote it, or anything at all).
//!
//! Invariants:
//! - neither parser panics;
//! - an accepted amount is in `0..=10^12` major units and round-trips: `format_minor`
//!   then `parse_minor` gives the same minor units back;
//! - for text that is a JSON number (the only text the api passes), `parse_minor` agrees with
//!   an exact reference model on the value it accepts, or on the kind of error (which the
//!   item's description names), however many digits or how large an exponent is written
//!   (findings F1, F2 and F4 in docs/fuzzing.md were all past 28 digits);
//! - a parsed currency has the code it was parsed from and an exponent of at most 4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratify_domain::money::{format_minor, parse_minor, AmountError, Currency};

const MAX_MAJOR: u128 = 1_000_000_000_000;

/// What an exact reading of a JSON number says `parse_minor` should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok(i64),
    Negative,
    TooPrecise,
    TooLarge,
}

/// Splits JSON number text (RFC 8259 grammar) into sign, integer digits, fraction digits
/// and exponent; `None` for anything else.
fn json_number(text: &str) -> Option<(bool, &str, &str, i64)> {
    let b = text.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    let digits = |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_end = digits(i);
    let int = &text[i..int_end];
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    i = int_end;
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        frac = &text[i + 1..end];
        if frac.is_empty() {
            return None;
        }
        i = end;
    }
    let mut exp = 0_i64;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let end = digits(i);
        if end == i {
            return None;
        }
        // Saturate: any exponent past a billion is as good as infinite here.
        for c in &b[i..end] {
            exp = (exp * 10 + i64::from(c - b'0')).min(1_000_000_000);
        }
        if exp_neg {
            exp = -exp;
        }
        i = end;
    }
    (i == b.len()).then_some((neg, int, frac, exp))
}

fn model(text: &str, exponent: u32) -> Option<Expect> {
    let (neg, int, frac, exp) = json_number(text)?;
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Some(Expect::Ok(0)); // zero, whatever its sign or exponent
    }
    if neg {
        return Some(Expect::Negative);
    }
    let mantissa = significant.trim_end_matches('0');
    // value = mantissa * 10^e exactly
    let e = exp - frac.len() as i64 + (significant.len() - mantissa.len()) as i64;
    if e < -(exponent as i64) {
        return Some(Expect::TooPrecise);
    }
    // minor = mantissa * 10^(e + exponent), with e + exponent >= 0
    let shift = e + exponent as i64;
    if mantissa.len() as i64 + shift > 30 {
        return Some(Expect::TooLarge);
    }
    let minor = mantissa.parse::<u128>().ok()?.checked_mul(10_u128.pow(shift as u32))?;
    if minor > MAX_MAJOR * 10_u128.pow(exponent) {
        return Some(Expect::TooLarge);
    }
    Some(Expect::Ok(minor as i64))
}

fn check_amount(text: &str, exponent: u32) {
    let got = parse_minor(text, exponent);
    if let Ok(minor) = got {
        let max = 1_000_000_000_000_i64 * 10_i64.pow(exponent);
        assert!((0..=max).contains(&minor), "{text:?} (exp {exponent}) gave {minor}, out of range");
        let formatted = format_minor(minor, exponent);
        assert_eq!(parse_minor(&formatted, exponent), Ok(minor), "{text:?} -> {minor} -> {formatted:?}");
    }
    let Some(want) = model(text, exponent) else {
        return;
    };
    let got = match got {
        Ok(minor) => Expect::Ok(minor),
        Err(AmountError::Negative) => Expect::Negative,
        Err(AmountError::TooPrecise(e)) => {
            assert_eq!(e, exponent, "{text:?}: TooPrecise names the wrong exponent");
            Expect::TooPrecise
        }
        Err(AmountError::TooLarge) => Expect::TooLarge,
        Err(AmountError::NotANumber) => panic!("{text:?} (exp {exponent}): a JSON number refused as not a number"),
    };
    assert_eq!(got, want, "{text:?} (exp {exponent})");
}

fn check_currency(text: &str) {
    if let Ok(currency) = text.parse::<Currency>() {
        assert_eq!(currency.code(), text);
        assert!(currency.exponent() <= 4, "{text}: exponent {}", currency.exponent());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let exponent = u32::from(first % 5);
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    check_amount(text, exponent);
    check_currency(text);
    // Also as the api sees it, padded the way a RawValue never is but a caller might pass.
    if text.len() <= 64 {
        check_amount(&format!(" {text}\n"), exponent);
    }
});
