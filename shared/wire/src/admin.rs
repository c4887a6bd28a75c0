//! `/admin/...`: advertisers, commission groups and tokens.

pub use ratify_domain::commission::GroupKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::number::DecimalNumber;

/// A new advertiser. A `DEFAULT` group (0 %) is added when `commissionGroups` has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 1001, "name": "Store SE", "currency": "SEK",
    "commissionGroups": [{"code": "DEFAULT", "name": "Default", "type": "percentage", "value": 10}]})))]
pub struct NewAdvertiser {
    /// A positive integer chosen by the operator.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub id: i64,
    /// 1 to 255 characters.
    pub name: String,
    /// ISO 4217 code; every amount of the advertiser is in it.
    #[cfg_attr(feature = "openapi", schema(example = "SEK"))]
    pub currency: String,
    #[serde(default)]
    pub commission_groups: Vec<NewGroup>,
}

/// A commission group definition. In `PUT .../commission-groups/{code}` the code comes from
/// the path and `code` here is ignored; in `POST /admin/advertisers` it is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewGroup {
    /// 1 to 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "DEFAULT"))]
    pub code: Option<String>,
    pub name: String,
    // Text, not `GroupKind`: the api checks it, naming the group when it is neither.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = GroupKind))]
    pub kind: String,
    /// A non-negative JSON number: a percentage (at most 100) of the part's amount, or a fixed
    /// amount in the advertiser's currency paid per part whose amount is above zero.
    pub value: DecimalNumber,
}

/// An advertiser with all its commission groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdvertiserView {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub commission_groups: Vec<GroupView>,
    /// Days after its transaction date that a transaction still pending is approved by the
    /// workers; null: never.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, minimum = 0, maximum = 3650))]
    pub validation_period_days: Option<i32>,
}

/// `PATCH /admin/advertisers/{id}`: the settings to change; a field left out is unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvertiserSettings {
    /// 0 to 3650 days after its transaction date, a transaction still pending is approved
    /// (`auto-approve` in its history); null: never.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>, minimum = 0, maximum = 3650, example = 30))]
    pub validation_period_days: Option<Option<i32>>,
}

/// A field that is present: `null` is `Some(None)`, while an absent one stays `None`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<i32>>, D::Error> {
    Option::<i32>::deserialize(deserializer).map(Some)
}

/// A commission group as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: GroupKind,
    pub value: DecimalNumber,
}

/// A new advertiser token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "finance-bot", "advertiserIds": [1001, 1002]})))]
pub struct NewToken {
    /// 1 to 255 characters.
    pub name: String,
    /// The advertisers the token is granted: at least one, each existing.
    pub advertiser_ids: Vec<i64>,
}

/// A created token. `token` is shown this once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// The token's id, for `DELETE /admin/tokens/{id}`.
    pub id: Uuid,
    /// The bearer secret.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "rat_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    )]
    pub token: String,
    pub name: String,
    pub advertiser_ids: Vec<i64>,
}
