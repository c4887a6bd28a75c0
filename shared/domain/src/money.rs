//! Money: ISO 4217 currencies and exact amounts in integer minor units.
//!
//! Amounts arrive as JSON number text (never through `f64`), are checked against the
//! currency's exponent and leave as JSON number text again.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The largest amount accepted, in major units: far above any sale, far below `i64`.
const MAX_MAJOR: i64 = 1_000_000_000_000;

/// The largest amount accepted, in minor units of a currency with `exponent` fraction digits.
pub fn max_minor(exponent: u32) -> i64 {
    MAX_MAJOR.saturating_mul(10_i64.saturating_pow(exponent))
}

/// An ISO 4217 currency code with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u32,
}

impl Currency {
    pub fn code(&self) -> &str {
        // The bytes are checked ASCII uppercase letters on construction.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency code {0:?}: expected an ISO 4217 code such as EUR or SEK")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;

    /// Accepts active ISO 4217 codes that have a minor unit; metals, testing codes and
    /// the like (no exponent) are not money a sale is made in.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownCurrency(s.to_owned());
        let iso = iso_currency::Currency::from_code(s).ok_or_else(unknown)?;
        let exponent = iso.exponent().ok_or_else(unknown)?;
        let bytes = s.as_bytes();
        Ok(Currency { code: [bytes[0], bytes[1], bytes[2]], exponent: u32::from(exponent) })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a JSON number")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("has more than {0} fraction digits for its currency")]
    TooPrecise(u32),
    #[error("is too large")]
    TooLarge,
}

/// Parses JSON number text (as written by the client) into minor units of a currency
/// with `exponent` fraction digits. Trailing zeros beyond the exponent are harmless
/// (`10.500` is a valid EUR amount); any other extra digit is an error, never rounded.
///
/// The text is read digit by digit rather than through a fixed-precision decimal type:
/// a number written with more digits than such a type holds must still be judged
/// exactly (`1.000…0001e0` is too precise, not 1).
pub fn parse_minor(text: &str, exponent: u32) -> Result<i64, AmountError> {
    let number = JsonNumber::parse(text.trim()).ok_or(AmountError::NotANumber)?;
    // Significant digits, without leading zeros; zero in any notation is zero.
    let digits = number.digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    if number.negative {
        return Err(AmountError::Negative);
    }
    // value = digits × 10^power; in minor units, × 10^exponent more.
    let power = number.power.saturating_add(i64::from(exponent));
    let (kept, dropped) = if power < 0 {
        let cut = usize::try_from(power.unsigned_abs()).unwrap_or(usize::MAX);
        if cut >= digits.len() {
            ("", digits)
        } else {
            digits.split_at(digits.len() - cut)
        }
    } else {
        (digits, "")
    };
    if dropped.bytes().any(|b| b != b'0') {
        return Err(AmountError::TooPrecise(exponent));
    }
    let scale = u32::try_from(power.max(0)).map_err(|_| AmountError::TooLarge)?;
    let max_minor = i128::from(MAX_MAJOR) * 10_i128.pow(exponent);
    // More than 38 significant digits cannot fit an i128, let alone the maximum.
    if kept.len() + scale as usize > 38 {
        return Err(AmountError::TooLarge);
    }
    let minor = kept.parse::<i128>().unwrap_or(0) * 10_i128.pow(scale);
    if minor > max_minor {
        return Err(AmountError::TooLarge);
    }
    i64::try_from(minor).map_err(|_| AmountError::TooLarge)
}

/// The parts of JSON number text: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
struct JsonNumber<'a> {
    negative: bool,
    /// Integer and fraction digits together (may be long; only text).
    digits: std::borrow::Cow<'a, str>,
    /// The power of ten of the last digit: exponent minus fraction length (saturating).
    power: i64,
}

impl<'a> JsonNumber<'a> {
    fn parse(text: &'a str) -> Option<JsonNumber<'a>> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) {
            return None;
        }
        if frac.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let power_of_exp = match exp {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.strip_prefix(['+', '-']) {
                    Some(d) => (if e.starts_with('-') { -1 } else { 1 }, d),
                    None => (1, e),
                };
                if !all_digits(digits) {
                    return None;
                }
                // An absurd exponent saturates: the amount is then too large or too precise.
                sign * digits
                    .trim_start_matches('0')
                    .parse::<i64>()
                    .unwrap_or(if digits.trim_start_matches('0').is_empty() { 0 } else { i64::MAX / 2 })
            }
        };
        let frac = frac.unwrap_or("");
        let digits = if frac.is_empty() {
            std::borrow::Cow::Borrowed(int)
        } else {
            std::borrow::Cow::Owned(format!("{int}{frac}"))
        };
        let power = power_of_exp.saturating_sub(i64::try_from(frac.len()).ok()?);
        Some(JsonNumber { negative, digits, power })
    }
}

/// Formats minor units as decimal text with exactly `exponent` fraction digits.
pub fn format_minor(minor: i64, exponent: u32) -> String {
    Decimal::new(minor, exponent).to_string()
}

/// An amount ready to be written as a JSON number, without passing through `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonAmount {
    pub minor: i64,
    pub exponent: u32,
}

impl JsonAmount {
    pub fn new(minor: i64, currency: Currency) -> Self {
        JsonAmount { minor, exponent: currency.exponent() }
    }
}

impl Serialize for JsonAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(format_minor(self.minor, self.exponent)).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(cur("SEK").exponent(), 2);
        assert_eq!(cur("EUR").exponent(), 2);
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("KWD").exponent(), 3);
        assert_eq!(cur("BHD").exponent(), 3);
        for bad in ["", "eur", "EURO", "E1R", "XAU", "XXX", "XYZ", "SKE"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_exact_amounts() {
        let cases: &[(&str, u32, i64)] = &[
            ("55.96", 2, 5596),
            ("0", 2, 0),
            ("0.0", 2, 0),
            ("-0", 2, 0),
            ("125.5", 2, 12550),
            ("10.500", 2, 1050),
            ("1e2", 2, 10000),
            ("1.5E1", 2, 1500),
            ("1000", 0, 1000),
            ("1.234", 3, 1234),
            ("0.01", 2, 1),
            ("1000000000000", 2, 100_000_000_000_000),
        ];
        for (text, exp, want) in cases {
            assert_eq!(parse_minor(text, *exp), Ok(*want), "{text} exp {exp}");
        }
    }

    #[test]
    fn rejects_bad_amounts() {
        let cases: &[(&str, u32, AmountError)] = &[
            ("55.961", 2, AmountError::TooPrecise(2)),
            ("1.5", 0, AmountError::TooPrecise(0)),
            ("0.0001", 3, AmountError::TooPrecise(3)),
            ("-1", 2, AmountError::Negative),
            ("-0.01", 2, AmountError::Negative),
            ("\"12\"", 2, AmountError::NotANumber),
            ("null", 2, AmountError::NotANumber),
            ("true", 2, AmountError::NotANumber),
            ("NaN", 2, AmountError::NotANumber),
            ("Infinity", 2, AmountError::NotANumber),
            ("1000000000000.01", 2, AmountError::TooLarge),
            ("1e300", 2, AmountError::TooLarge),
            ("99999999999999999999999999999999", 2, AmountError::TooLarge),
        ];
        for (text, exp, want) in cases {
            assert_eq!(parse_minor(text, *exp).as_ref(), Err(want), "{text}");
        }
    }

    #[test]
    fn formats_and_serializes_without_floats() {
        assert_eq!(format_minor(5596, 2), "55.96");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(1000, 0), "1000");
        assert_eq!(format_minor(1234, 3), "1.234");
        assert_eq!(format_minor(0, 2), "0.00");
        let json = serde_json::to_string(&JsonAmount::new(5596, cur("SEK"))).unwrap();
        assert_eq!(json, "55.96");
        let big = serde_json::to_string(&JsonAmount::new(100_000_000_000_000_001, cur("EUR"))).unwrap();
        assert_eq!(big, "1000000000000000.01");
    }

    // Found by the `money` fuzz target (docs/fuzzing.md). `rust_decimal` holds at most 28
    // digits and scale 28; JSON number text past that is either refused by
    // `Decimal::from_str_exact` / `from_scientific` (reported as "is too large") or, with an
    // exponent, silently rounded by `from_scientific`. `parse_minor` now reads the digits
    // itself; these hold it to that.

    /// F1: exact, valid amounts whose text is longer than a `Decimal` are refused.
    #[test]
    fn fuzz_f1_long_but_exact_amounts_are_accepted() {
        assert_eq!(parse_minor("1.00000000000000000000000000000", 0), Ok(1)); // 29 zeros
        assert_eq!(parse_minor("21.20020000000000000000000000000", 4), Ok(212_002));
        assert_eq!(parse_minor("0e300", 2), Ok(0));
        assert_eq!(parse_minor("-0E1900", 2), Ok(0));
        assert_eq!(parse_minor("0.00000000000000000000000000e-3", 1), Ok(0));
    }

    /// F2: with an exponent, digits past the 28th are rounded away instead of refused, so
    /// too precise amounts are accepted rounded and tiny negative ones as zero.
    #[test]
    fn fuzz_f2_scientific_amounts_are_never_rounded() {
        assert_eq!(parse_minor("1.00000000000000000000000000001e0", 2), Err(AmountError::TooPrecise(2)));
        assert_eq!(parse_minor("1.79999999999999999999999999999999999999939e9", 1), Err(AmountError::TooPrecise(1)));
        assert_eq!(parse_minor("-0.00000000000000000000000000001e0", 2), Err(AmountError::Negative));
    }

    /// F4: past a `Decimal`, every error is "is too large", even for a negative or a too
    /// precise amount, so the item's description names the wrong problem.
    #[test]
    fn fuzz_f4_long_amounts_name_the_right_problem() {
        assert_eq!(parse_minor("-1e300", 2), Err(AmountError::Negative));
        assert_eq!(parse_minor("-99999999999999999999999999999999", 2), Err(AmountError::Negative));
        assert_eq!(parse_minor("1e-400", 2), Err(AmountError::TooPrecise(2)));
        assert_eq!(parse_minor("0.0777777777777777777777777777777", 3), Err(AmountError::TooPrecise(3)));
    }

    /// Edge cases the fuzz targets start from (fuzz/corpus/money): none may panic, and what
    /// is accepted must round-trip.
    #[test]
    fn fuzz_seeds_do_not_panic() {
        let texts = [
            "55.96",
            "0",
            "-0",
            "1e2",
            "1E+2",
            "125e-2",
            "-1",
            "55.961",
            "10.500",
            "1000000000000",
            "1000000000000.01",
            "1e300",
            "1e-300",
            "-1e300",
            "0e300",
            "NaN",
            "Infinity",
            "\"12\"",
            "null",
            "",
            " ",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "01",
            "1_000",
            "+1",
            "99999999999999999999999999999999",
            "1.00000000000000000000000000000",
            "1.00000000000000000000000000001e0",
            "7.9228162514264337593543950335e28",
            "79228162514264337593543950336",
            "-0.00000000000000000000000000001e0",
            "1e9223372036854775807",
            "1e-9223372036854775808",
        ];
        for text in texts {
            for exponent in 0..=4 {
                if let Ok(minor) = parse_minor(text, exponent) {
                    assert!(minor >= 0, "{text}");
                    assert_eq!(parse_minor(&format_minor(minor, exponent), exponent), Ok(minor), "{text}");
                }
            }
        }
        for code in ["SEK", "EUR", "JPY", "KWD", "CLF", "XAU", "XXX", "eur", "EU", "EURO", "€", "ÅÄÖ", "\0\0\0"] {
            let _ = code.parse::<Currency>();
        }
    }

    #[test]
    fn round_trips_every_cent_in_a_range() {
        for minor in 0..20_000_i64 {
            assert_eq!(parse_minor(&format_minor(minor, 2), 2), Ok(minor));
        }
    }
}
