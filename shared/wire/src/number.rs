//! Exact numbers: an amount of money and a commission group's value, each kept as the text
//! of a JSON number, so that neither passes through a binary float on either side.
//!
//! Read, they keep whatever JSON value was sent (a string or `null` included): the api
//! checks the text itself, so that a bad amount is a `400` naming its field. Written, they
//! are a JSON number, byte for byte as built.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

macro_rules! json_number {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(Box<RawValue>);

        impl $name {
            /// The value of `text`, when it is one JSON value.
            pub fn parse(text: impl Into<String>) -> Result<$name, serde_json::Error> {
                RawValue::from_string(text.into()).map($name)
            }

            /// The JSON text as read or built, e.g. `125.50`.
            pub fn as_str(&self) -> &str {
                self.0.get()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                Box::<RawValue>::deserialize(deserializer).map($name)
            }
        }
    };
}

json_number!(
    /// An amount of money as a JSON number: an exact decimal with at most the currency's
    /// minor-unit digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.
    Amount
);

json_number!(
    /// An exact decimal written as a JSON number (read without passing through binary floats).
    DecimalNumber
);

impl Amount {
    /// `minor` units of a currency with `exponent` fraction digits, written with exactly
    /// that many (`5596`, 2: `55.96`; `5`, 2: `0.05`; `12550`, 2: `125.50`).
    pub fn from_minor(minor: i64, exponent: u32) -> Amount {
        let sign = if minor < 0 { "-" } else { "" };
        let digits = minor.unsigned_abs().to_string();
        let text = match exponent as usize {
            0 => format!("{sign}{digits}"),
            fraction => {
                let padded = format!("{digits:0>width$}", width = fraction + 1);
                let (whole, part) = padded.split_at(padded.len() - fraction);
                format!("{sign}{whole}.{part}")
            }
        };
        Amount::parse(text).expect("digits with a decimal point are a JSON number")
    }
}

#[cfg(feature = "openapi")]
mod schema {
    use std::borrow::Cow;

    use serde_json::json;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use super::{Amount, DecimalNumber};

    impl PartialSchema for Amount {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some(
                    "An amount of money as a JSON number: an exact decimal with at most the currency's minor-unit \
                     digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.",
                ))
                .minimum(Some(0))
                .examples([json!(125.5)])
                .into()
        }
    }

    impl ToSchema for Amount {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Amount")
        }
    }

    impl PartialSchema for DecimalNumber {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some("An exact decimal written as a JSON number."))
                .minimum(Some(0))
                .examples([json!(10)])
                .into()
        }
    }

    impl ToSchema for DecimalNumber {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("DecimalNumber")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_are_written_with_the_currency_digits() {
        for (minor, exponent, text) in [
            (5596, 2, "55.96"),
            (12550, 2, "125.50"),
            (5, 2, "0.05"),
            (0, 2, "0.00"),
            (0, 0, "0"),
            (1234, 0, "1234"),
            (1, 3, "0.001"),
            (-5, 2, "-0.05"),
            (100_000_000_000_000_001, 2, "1000000000000000.01"),
        ] {
            assert_eq!(Amount::from_minor(minor, exponent).as_str(), text);
        }
    }

    #[test]
    fn amounts_keep_their_text_both_ways() {
        let amount: Amount = serde_json::from_str("125.50").unwrap();
        assert_eq!(amount.as_str(), "125.50");
        assert_eq!(serde_json::to_string(&amount).unwrap(), "125.50");
        // What is not a number is kept as sent, for the api to name.
        let sent: Amount = serde_json::from_str(r#""NaN""#).unwrap();
        assert_eq!(sent.as_str(), r#""NaN""#);
        assert!(Amount::parse("1.5 2").is_err());
    }
}
