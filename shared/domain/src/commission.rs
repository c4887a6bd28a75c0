//! Commission groups, transaction parts and the commission they pay.

use std::collections::HashMap;
use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::money::{max_minor, parse_minor, AmountError};

/// The group every advertiser has; it absorbs the difference when parts do not sum.
pub const DEFAULT_GROUP: &str = "DEFAULT";

/// `percentage` pays `amount × value / 100` per part; `fixed` pays `value` per part whose
/// amount is above zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "lowercase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    Percentage,
    Fixed,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Percentage => "percentage",
            GroupKind::Fixed => "fixed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "percentage" => Some(GroupKind::Percentage),
            "fixed" => Some(GroupKind::Fixed),
            _ => None,
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How a commission group pays. A fixed rate is already in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Percentage(Decimal),
    FixedMinor(i64),
}

impl Rate {
    /// Builds the rate from the stored group: `value` is a percentage, or a fixed
    /// amount in major units that must be whole in minor units of the currency.
    pub fn from_group(kind: GroupKind, value: Decimal, exponent: u32) -> Option<Rate> {
        match kind {
            GroupKind::Percentage => Some(Rate::Percentage(value)),
            GroupKind::Fixed => {
                let minor = value * Decimal::from(10_i64.pow(exponent));
                (minor.fract().is_zero()).then(|| i64::try_from(minor).ok().map(Rate::FixedMinor))?
            }
        }
    }

    /// The commission one part of `amount` minor units pays, rounded half-to-even.
    pub fn commission(self, amount: i64) -> i64 {
        match self {
            Rate::Percentage(pct) => {
                let exact = Decimal::from(amount) * pct / Decimal::ONE_HUNDRED;
                let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
                i64::try_from(rounded).unwrap_or(i64::MAX)
            }
            Rate::FixedMinor(value) if amount > 0 => value,
            Rate::FixedMinor(_) => 0,
        }
    }
}

/// Fraction digits a percentage may have (`12.345678` %).
pub const PERCENT_DIGITS: u32 = 6;

/// Why a commission group's value cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupValueError {
    #[error("a percentage must be a JSON number from 0 to 100 with at most {PERCENT_DIGITS} fraction digits")]
    Percentage,
    #[error("a fixed value must be a non-negative amount of the currency ({0})")]
    Fixed(AmountError),
}

/// Reads a group's value from the JSON number text the client wrote, exactly: the digits
/// are read as written (never through a rounding decimal parse), a percentage has at most
/// [`PERCENT_DIGITS`] fraction digits and is at most 100, and a fixed value is a valid
/// amount of the currency (`exponent` fraction digits, within the money limits).
pub fn parse_group_value(kind: GroupKind, text: &str, exponent: u32) -> Result<Decimal, GroupValueError> {
    match kind {
        GroupKind::Percentage => {
            let units = parse_minor(text, PERCENT_DIGITS).map_err(|_| GroupValueError::Percentage)?;
            if units > 100 * 10_i64.pow(PERCENT_DIGITS) {
                return Err(GroupValueError::Percentage);
            }
            Ok(Decimal::new(units, PERCENT_DIGITS).normalize())
        }
        GroupKind::Fixed => {
            let minor = parse_minor(text, exponent).map_err(GroupValueError::Fixed)?;
            Ok(Decimal::new(minor, exponent).normalize())
        }
    }
}

/// A part of a transaction as stored: amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub code: String,
    pub amount: i64,
    pub commission: i64,
}

/// Why a set of requested parts cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    #[error("commission group {0:?} does not exist for this advertiser")]
    UnknownGroup(String),
    #[error("the parts sum to more than saleAmount: the DEFAULT part would be negative")]
    NegativeDefault,
    #[error("the commission would be larger than any amount Ratify can hold")]
    TooLarge,
}

/// Splits `sale_amount` over the requested `(code, amount)` parts and computes each
/// part's commission. When the parts do not sum to the sale, the DEFAULT part absorbs
/// the difference (added when missing); it may not go negative, and the commission may
/// not exceed the largest amount of a currency with `exponent` fraction digits.
pub fn build_parts(
    sale_amount: i64,
    requested: &[(String, i64)],
    rates: &HashMap<String, Rate>,
    exponent: u32,
) -> Result<Vec<Part>, PartsError> {
    let mut amounts: Vec<(String, i64)> = requested.to_vec();
    let sum: i64 = amounts.iter().map(|(_, a)| *a).sum();
    let difference = sale_amount - sum;
    if difference != 0 {
        match amounts.iter_mut().find(|(code, _)| code == DEFAULT_GROUP) {
            Some((_, amount)) => *amount += difference,
            None => amounts.push((DEFAULT_GROUP.to_owned(), difference)),
        }
    }
    let parts = amounts
        .into_iter()
        .map(|(code, amount)| {
            if amount < 0 {
                return Err(PartsError::NegativeDefault);
            }
            let rate = rates.get(&code).ok_or_else(|| PartsError::UnknownGroup(code.clone()))?;
            Ok(Part { commission: rate.commission(amount), code, amount })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Fixed groups pay per part, so the sum can outgrow any single value: refuse it
    // rather than wrap.
    let total = parts.iter().try_fold(0_i64, |sum, p| sum.checked_add(p.commission));
    if total.is_none_or(|t| t > max_minor(exponent)) {
        return Err(PartsError::TooLarge);
    }
    Ok(parts)
}

/// The commission of a transaction: the sum of its parts'.
pub fn total_commission(parts: &[Part]) -> i64 {
    parts.iter().map(|p| p.commission).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> Rate {
        Rate::Percentage(s.parse().unwrap())
    }

    #[test]
    fn percentage_rounds_half_to_even() {
        // 12.5 % of 0.20 = 0.025 -> 0.02; of 0.60 = 0.075 -> 0.08.
        assert_eq!(pct("12.5").commission(20), 2);
        assert_eq!(pct("12.5").commission(60), 8);
        assert_eq!(pct("10").commission(12550), 1255);
        assert_eq!(pct("10").commission(5), 0); // 0.5 minor -> 0
        assert_eq!(pct("10").commission(15), 2); // 1.5 minor -> 2
        assert_eq!(pct("10").commission(25), 2); // 2.5 minor -> 2
        assert_eq!(pct("0").commission(999_999), 0);
        assert_eq!(pct("100").commission(4242), 4242);
        assert_eq!(pct("3.333").commission(10_000), 333);
    }

    #[test]
    fn percentage_is_exact_over_a_range() {
        // Against integer arithmetic: 7 % of n minor units, half-to-even.
        for amount in 0..10_000_i64 {
            let num = amount * 7;
            let (q, r) = (num / 100, num % 100);
            let want = match r.cmp(&50) {
                std::cmp::Ordering::Less => q,
                std::cmp::Ordering::Greater => q + 1,
                std::cmp::Ordering::Equal => q + (q % 2),
            };
            assert_eq!(pct("7").commission(amount), want, "{amount}");
        }
    }

    #[test]
    fn fixed_pays_only_above_zero() {
        let rate = Rate::from_group(GroupKind::Fixed, "5.25".parse().unwrap(), 2).unwrap();
        assert_eq!(rate, Rate::FixedMinor(525));
        assert_eq!(rate.commission(1), 525);
        assert_eq!(rate.commission(0), 0);
        assert_eq!(Rate::from_group(GroupKind::Fixed, "5.255".parse().unwrap(), 2), None);
        assert_eq!(Rate::from_group(GroupKind::Fixed, "7".parse().unwrap(), 0), Some(Rate::FixedMinor(7)));
    }

    fn rates() -> HashMap<String, Rate> {
        HashMap::from([
            ("DEFAULT".to_owned(), pct("10")),
            ("EXISTING".to_owned(), pct("5")),
            ("FLAT".to_owned(), Rate::FixedMinor(300)),
        ])
    }

    fn req(parts: &[(&str, i64)]) -> Vec<(String, i64)> {
        parts.iter().map(|(c, a)| (c.to_string(), *a)).collect()
    }

    #[test]
    fn parts_that_sum_are_kept() {
        let parts = build_parts(5596, &req(&[("DEFAULT", 4476), ("EXISTING", 1120)]), &rates(), 2).unwrap();
        assert_eq!(parts[0], Part { code: "DEFAULT".into(), amount: 4476, commission: 448 });
        assert_eq!(parts[1], Part { code: "EXISTING".into(), amount: 1120, commission: 56 });
        assert_eq!(total_commission(&parts), 504);
    }

    #[test]
    fn default_absorbs_the_difference() {
        let parts = build_parts(10_000, &req(&[("DEFAULT", 1000), ("FLAT", 2000)]), &rates(), 2).unwrap();
        assert_eq!(parts[0].amount, 8000);
        assert_eq!(parts[1].commission, 300);
        let added = build_parts(10_000, &req(&[("EXISTING", 4000)]), &rates(), 2).unwrap();
        assert_eq!(added[1], Part { code: "DEFAULT".into(), amount: 6000, commission: 600 });
        let reduced = build_parts(5000, &req(&[("DEFAULT", 3000), ("EXISTING", 4000)]), &rates(), 2).unwrap();
        assert_eq!(reduced[0].amount, 1000);
    }

    #[test]
    fn default_may_not_go_negative_and_groups_must_exist() {
        assert_eq!(build_parts(1000, &req(&[("EXISTING", 2000)]), &rates(), 2), Err(PartsError::NegativeDefault));
        assert_eq!(
            build_parts(1000, &req(&[("DEFAULT", 500), ("EXISTING", 2000)]), &rates(), 2),
            Err(PartsError::NegativeDefault)
        );
        assert_eq!(
            build_parts(1000, &req(&[("NOPE", 1000)]), &rates(), 2),
            Err(PartsError::UnknownGroup("NOPE".into()))
        );
    }

    #[test]
    fn group_values_are_read_exactly_or_refused() {
        let pct = |t: &str| parse_group_value(GroupKind::Percentage, t, 2);
        let fixed = |t: &str, e: u32| parse_group_value(GroupKind::Fixed, t, e);
        assert_eq!(pct("10").unwrap().to_string(), "10");
        assert_eq!(pct("5.500").unwrap().to_string(), "5.5");
        assert_eq!(pct("12.345678").unwrap(), "12.345678".parse::<Decimal>().unwrap());
        assert_eq!(pct("1e1").unwrap(), Decimal::TEN);
        assert_eq!(pct("100.0000000000000000000000000000").unwrap(), Decimal::ONE_HUNDRED);
        // 30 significant digits: never rounded to what a decimal type holds.
        assert_eq!(pct("12.3456789012345678901234567890"), Err(GroupValueError::Percentage));
        assert_eq!(pct("100.000001"), Err(GroupValueError::Percentage));
        assert_eq!(pct("-1"), Err(GroupValueError::Percentage));
        assert_eq!(pct("\"10\""), Err(GroupValueError::Percentage));
        assert_eq!(fixed("5.25", 2).unwrap(), "5.25".parse::<Decimal>().unwrap());
        assert!(fixed("5.255", 2).is_err());
        assert!(fixed("123456789012345678901234567890", 2).is_err());
        assert!(fixed("9223372036854775807", 0).is_err());
        let rate = Rate::from_group(GroupKind::Fixed, fixed("1000000000000", 2).unwrap(), 2);
        assert_eq!(rate, Some(Rate::FixedMinor(100_000_000_000_000)));
    }

    #[test]
    fn a_commission_sum_beyond_any_amount_is_refused() {
        let max = Rate::FixedMinor(max_minor(2));
        let rates = HashMap::from([("DEFAULT".to_owned(), max), ("OTHER".to_owned(), max)]);
        assert_eq!(build_parts(2, &req(&[("DEFAULT", 2)]), &rates, 2).map(|p| p.len()), Ok(1));
        assert_eq!(build_parts(2, &req(&[("DEFAULT", 1), ("OTHER", 1)]), &rates, 2), Err(PartsError::TooLarge));
    }
}
