//! Numbers as they travel from a file or a flag into a request body: checked as text and
//! sent as the same JSON token, so an amount never passes through a binary float
//! (`0.10` is sent as `0.10`, not as `0.1000000000000000055…`).

use std::fmt;

use ratify_wire::{Amount, DecimalNumber};

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    NotANumber,
    Negative,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::NotANumber => "is not a number",
            AmountError::Negative => "must not be negative",
        })
    }
}

/// Longer texts are no amount anyone means; the api would refuse them anyway.
const MAX_LEN: usize = 40;

/// A non-negative decimal written with digits and an optional `.` fraction (`12`, `0.10`,
/// `125.50`), surrounding spaces allowed, as a JSON number with the same digits. Leading
/// zeros of the whole part are dropped, since JSON does not allow them; the value is
/// unchanged. Commas, exponents, signs and currency symbols are refused: a spreadsheet's
/// `12,5` must not silently become `125` or `12`.
pub fn amount(text: &str) -> Result<Amount, AmountError> {
    Amount::parse(token(text)?).map_err(|_| AmountError::NotANumber)
}

/// A commission group's value, read as [`amount`] reads an amount.
pub fn group_value(text: &str) -> Result<DecimalNumber, AmountError> {
    DecimalNumber::parse(token(text)?).map_err(|_| AmountError::NotANumber)
}

fn token(text: &str) -> Result<String, AmountError> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('-') {
        return match decimal(rest) {
            Some(_) => Err(AmountError::Negative),
            None => Err(AmountError::NotANumber),
        };
    }
    decimal(text).ok_or(AmountError::NotANumber)
}

/// The JSON token of a plain decimal, or `None` if `text` is not one.
fn decimal(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Some(match fraction {
        Some(fraction) => format!("{whole}.{fraction}"),
        None => whole.to_owned(),
    })
}

/// A transaction id: a positive integer.
pub fn transaction_id(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse().ok().filter(|id| *id > 0 && text.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_their_digits() {
        for (text, token) in [
            ("0.10", "0.10"),
            ("125.50", "125.50"),
            ("12", "12"),
            (" 44.76 ", "44.76"),
            ("0", "0"),
            ("007.5", "7.5"),
            ("000", "0"),
            ("0.000", "0.000"),
            ("99999999999.999", "99999999999.999"),
        ] {
            assert_eq!(amount(text).map(|a| a.as_str().to_owned()).ok().as_deref(), Some(token), "{text}");
        }
    }

    #[test]
    fn amounts_that_are_not_plain_decimals_are_refused() {
        for text in ["", " ", "12,5", "1e3", "+1", ".5", "5.", "1.2.3", "SEK 12", "12 SEK", "NaN", "inf", "1 000"] {
            assert_eq!(amount(text).err(), Some(AmountError::NotANumber), "{text:?}");
        }
        assert_eq!(amount("-5").err(), Some(AmountError::Negative));
        assert_eq!(amount("-0.10").err(), Some(AmountError::Negative));
        assert_eq!(amount("-x").err(), Some(AmountError::NotANumber));
        assert_eq!(amount(&"9".repeat(41)).err(), Some(AmountError::NotANumber));
    }

    #[test]
    fn transaction_ids_are_positive_integers() {
        assert_eq!(transaction_id(" 484816099 "), Some(484816099));
        for text in ["", "0", "-3", "+3", "1.5", "12a", "99999999999999999999"] {
            assert!(transaction_id(text).is_none(), "{text:?}");
        }
    }
}
