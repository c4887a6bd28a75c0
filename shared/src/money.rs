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
pub fn parse_minor(text: &str, exponent: u32) -> Result<i64, AmountError> {
    let text = text.trim();
    let first = text.bytes().next().ok_or(AmountError::NotANumber)?;
    if !(first == b'-' || first.is_ascii_digit()) {
        return Err(AmountError::NotANumber);
    }
    let value = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).map_err(|_| AmountError::TooLarge)?
    } else {
        Decimal::from_str_exact(text).map_err(|_| AmountError::TooLarge)?
    };
    if value.is_sign_negative() && !value.is_zero() {
        return Err(AmountError::Negative);
    }
    let value = value.normalize();
    if value.scale() > exponent {
        return Err(AmountError::TooPrecise(exponent));
    }
    if value > Decimal::from(MAX_MAJOR) {
        return Err(AmountError::TooLarge);
    }
    let minor = value * Decimal::from(10_i64.pow(exponent));
    i64::try_from(minor).map_err(|_| AmountError::TooLarge)
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

    #[test]
    fn round_trips_every_cent_in_a_range() {
        for minor in 0..20_000_i64 {
            assert_eq!(parse_minor(&format_minor(minor, 2), 2), Ok(minor));
        }
    }
}
