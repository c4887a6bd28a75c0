//! The ids that are both plain integers underneath: an advertiser's and a transaction's.
//! Each is its own type, so a call that takes both cannot be given them the wrong way round;
//! on the wire and in columns each is the bare integer.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An advertiser's id (Awin's advertiser id): the key every table with advertiser data leads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct AdvertiserId(pub i64);

/// A transaction's id, unique within its advertiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct TransactionId(pub i64);

impl fmt::Display for AdvertiserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&AdvertiserId(1001)).unwrap(), "1001");
        assert_eq!(serde_json::from_str::<TransactionId>("42").unwrap(), TransactionId(42));
        assert_eq!(AdvertiserId(7).to_string(), "7");
    }
}
