//! `/admin/...`: advertisers, commission groups and tokens, for the operator.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ratify_shared::commission::{GroupKind, Rate, DEFAULT_GROUP};
use ratify_shared::db;
use ratify_shared::db::advertisers::GroupRow;
use ratify_shared::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::auth::{self, Admin};
use crate::error::extract::{Json as Body, Path};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAdvertiser {
    id: i64,
    name: String,
    currency: String,
    #[serde(default)]
    commission_groups: Vec<NewGroup>,
}

#[derive(Deserialize)]
pub struct NewGroup {
    #[serde(default)]
    code: Option<String>,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    value: Box<RawValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvertiserView {
    id: i64,
    name: String,
    currency: String,
    commission_groups: Vec<GroupView>,
}

#[derive(Serialize)]
pub struct GroupView {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    value: Box<RawValue>,
}

fn group_view(row: GroupRow) -> Result<GroupView, ApiError> {
    let value = RawValue::from_string(row.value.normalize().to_string()).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(GroupView { code: row.code, name: row.name, kind: row.kind, value })
}

/// Checks a group definition: a known type, and a value that is a non-negative exact
/// decimal (a percentage up to 100, or a fixed amount valid in the currency).
fn group_row(code: &str, group: &NewGroup, currency: Currency) -> Result<GroupRow, ApiError> {
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::bad_request("a commission group code must be 1 to 64 characters"));
    }
    let kind = GroupKind::parse(&group.kind)
        .ok_or_else(|| ApiError::bad_request(format!("group {code}: type must be percentage or fixed")))?;
    let text = group.value.get();
    let value: Decimal = if text.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        text.parse().or_else(|_| Decimal::from_scientific(text)).ok()
    } else {
        None
    }
    .ok_or_else(|| ApiError::bad_request(format!("group {code}: value must be a non-negative JSON number")))?;
    if kind == GroupKind::Percentage && value > Decimal::ONE_HUNDRED {
        return Err(ApiError::bad_request(format!("group {code}: a percentage must be at most 100")));
    }
    if Rate::from_group(kind, value, currency.exponent()).is_none() {
        return Err(ApiError::bad_request(format!("group {code}: a fixed value must be a valid amount in {currency}")));
    }
    Ok(GroupRow { code: code.to_owned(), name: group.name.clone(), kind: kind.as_str().to_owned(), value })
}

pub async fn create_advertiser(
    _: Admin,
    State(state): State<AppState>,
    Body(body): Body<NewAdvertiser>,
) -> Result<(StatusCode, Json<AdvertiserView>), ApiError> {
    if body.id <= 0 {
        return Err(ApiError::bad_request("id must be a positive integer"));
    }
    if body.name.trim().is_empty() || body.name.len() > 255 {
        return Err(ApiError::bad_request("name must be 1 to 255 characters"));
    }
    let currency: Currency = body
        .currency
        .parse()
        .map_err(|e: ratify_shared::money::UnknownCurrency| ApiError::bad_request(e.to_string()))?;
    let mut rows = Vec::new();
    for group in &body.commission_groups {
        let code = group.code.as_deref().ok_or_else(|| ApiError::bad_request("every commission group needs a code"))?;
        if rows.iter().any(|r: &GroupRow| r.code == code) {
            return Err(ApiError::bad_request(format!("commission group {code} appears twice")));
        }
        rows.push(group_row(code, group, currency)?);
    }
    if !rows.iter().any(|r| r.code == DEFAULT_GROUP) {
        rows.push(GroupRow {
            code: DEFAULT_GROUP.to_owned(),
            name: "Default".to_owned(),
            kind: GroupKind::Percentage.as_str().to_owned(),
            value: Decimal::ZERO,
        });
    }
    let mut tx = state.pool.begin().await?;
    if !db::advertisers::insert(&mut tx, body.id, &body.name, currency.code()).await? {
        return Err(ApiError::Conflict("ADVERTISER_EXISTS", format!("advertiser {} already exists", body.id)));
    }
    for row in &rows {
        db::advertisers::upsert_group(&mut tx, body.id, row).await?;
    }
    let groups = db::advertisers::groups(&mut tx, body.id).await?;
    tx.commit().await?;
    let commission_groups = groups.into_iter().map(group_view).collect::<Result<_, _>>()?;
    let view = AdvertiserView { id: body.id, name: body.name, currency: currency.code().to_owned(), commission_groups };
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn put_group(
    _: Admin,
    State(state): State<AppState>,
    Path((advertiser_id, code)): Path<(i64, String)>,
    Body(body): Body<NewGroup>,
) -> Result<Json<GroupView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let advertiser = db::advertisers::get(&mut tx, advertiser_id).await?.ok_or_else(|| {
        ApiError::NotFound("ADVERTISER_NOT_FOUND", format!("advertiser {advertiser_id} does not exist"))
    })?;
    let currency: Currency =
        advertiser.currency.parse().map_err(|e: ratify_shared::money::UnknownCurrency| ApiError::Internal(e.into()))?;
    let row = group_row(&code, &body, currency)?;
    db::advertisers::upsert_group(&mut tx, advertiser_id, &row).await?;
    tx.commit().await?;
    Ok(Json(group_view(row)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewToken {
    name: String,
    advertiser_ids: Vec<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    id: Uuid,
    token: String,
    name: String,
    advertiser_ids: Vec<i64>,
}

pub async fn create_token(
    _: Admin,
    State(state): State<AppState>,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if body.name.trim().is_empty() || body.name.len() > 255 {
        return Err(ApiError::bad_request("name must be 1 to 255 characters"));
    }
    let mut ids = body.advertiser_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ApiError::bad_request("advertiserIds must name at least one advertiser"));
    }
    let mut tx = state.pool.begin().await?;
    if db::tokens::count_advertisers(&mut tx, &ids).await? != ids.len() as i64 {
        return Err(ApiError::bad_request("advertiserIds names an advertiser that does not exist"));
    }
    let (token, hash) = auth::new_token();
    let id = Uuid::new_v4();
    db::tokens::insert(&mut tx, id, &body.name, &hash).await?;
    db::tokens::grant(&mut tx, id, &ids).await?;
    tx.commit().await?;
    tracing::info!(token_id = %id, advertisers = ?ids, "token created");
    Ok((StatusCode::CREATED, Json(CreatedToken { id, token, name: body.name, advertiser_ids: ids })))
}

pub async fn revoke_token(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut conn = state.pool.acquire().await?;
    if db::tokens::revoke(&mut conn, id).await? {
        tracing::info!(token_id = %id, "token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("TOKEN_NOT_FOUND", format!("no live token {id}")))
    }
}
