//! `/admin/...`: advertisers, commission groups and tokens, for the operator.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ratify_domain::commission::{parse_group_value, GroupKind, Rate, DEFAULT_GROUP};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::money::Currency;
use ratify_domain::text::{self, TextKind};
use ratify_shared::db;
use ratify_shared::db::advertisers::GroupRow;
use ratify_wire::{
    AdvertiserSettings, AdvertiserView, CreatedToken, ErrorBody, GroupView, NewAdvertiser, NewGroup, NewToken,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::{self, Admin};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::state::AppState;
use crate::views;

fn group_view(row: GroupRow) -> Result<GroupView, ApiError> {
    views::group(row).map_err(|e| ApiError::Internal(e.into()))
}

/// Refuses a name or code holding text no stored value may hold.
fn identifier(what: &str, value: &str) -> Result<(), ApiError> {
    text::check(value, TextKind::Identifier).map_err(|e| ApiError::bad_request(format!("{what} {e}")))
}

/// Checks a group definition: a known type, and a value that is a non-negative exact
/// decimal (a percentage up to 100, or a fixed amount valid in the currency).
fn group_row(code: &str, group: &NewGroup, currency: Currency) -> Result<GroupRow, ApiError> {
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::bad_request("a commission group code must be 1 to 64 characters"));
    }
    identifier("commission group code", code)?;
    identifier(&format!("group {code}: name"), &group.name)?;
    let kind = GroupKind::parse(&group.kind)
        .ok_or_else(|| ApiError::bad_request(format!("group {code}: type must be percentage or fixed")))?;
    let value = parse_group_value(kind, group.value.as_str(), currency.exponent())
        .map_err(|e| ApiError::bad_request(format!("group {code}: {e}")))?;
    // Values are parsed so that every one makes a rate; a stored value that would not is
    // refused all the same.
    if Rate::from_group(kind, value, currency.exponent()).is_none() {
        return Err(ApiError::bad_request(format!("group {code}: a fixed value must be a valid amount in {currency}")));
    }
    Ok(GroupRow { code: code.to_owned(), name: group.name.clone(), kind, value })
}

/// Creates an advertiser and its commission groups.
#[utoipa::path(
    post,
    path = "/admin/advertisers",
    tag = "admin",
    security(("admin_token" = [])),
    request_body = NewAdvertiser,
    responses(
        (status = 201, description = "Created.", body = AdvertiserView),
        (status = 400, description = "A field is invalid (`BAD_REQUEST`), or the body is not the JSON object \
            described (`JSON_PARSE_ERROR`).", body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 409, description = "The advertiser exists (`ADVERTISER_EXISTS`).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable; nothing was stored. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
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
    identifier("name", &body.name)?;
    let currency: Currency = body
        .currency
        .parse()
        .map_err(|e: ratify_domain::money::UnknownCurrency| ApiError::bad_request(e.to_string()))?;
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
            kind: GroupKind::Percentage,
            value: Decimal::ZERO,
        });
    }
    let advertiser_id = AdvertiserId(body.id);
    let mut tx = state.pool.begin().await?;
    if !db::advertisers::insert(&mut tx, advertiser_id, &body.name, currency.code()).await? {
        return Err(ApiError::Conflict("ADVERTISER_EXISTS", format!("advertiser {} already exists", body.id)));
    }
    for row in &rows {
        db::advertisers::upsert_group(&mut tx, advertiser_id, row).await?;
    }
    let groups = db::advertisers::groups(&mut tx, advertiser_id).await?;
    tx.commit().await?;
    let commission_groups = groups.into_iter().map(group_view).collect::<Result<_, _>>()?;
    let view = AdvertiserView {
        id: body.id,
        name: body.name,
        currency: currency.code().to_owned(),
        commission_groups,
        validation_period_days: None,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// Changes an advertiser's settings: `validationPeriodDays`, after which the workers
/// approve a transaction still pending (null: never).
#[utoipa::path(
    patch,
    path = "/admin/advertisers/{id}",
    tag = "admin",
    security(("admin_token" = [])),
    params(("id" = i64, Path, description = "The advertiser's id.")),
    request_body = AdvertiserSettings,
    responses(
        (status = 200, description = "The advertiser as it is now.", body = AdvertiserView),
        (status = 400, description = "A field is invalid or unknown (`BAD_REQUEST`), or the body is not the JSON \
            object described (`JSON_PARSE_ERROR`).", body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 404, description = "No such advertiser (`ADVERTISER_NOT_FOUND`), or `id` is not an integer \
            (`NOT_FOUND`).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable; nothing was changed. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
pub async fn patch_advertiser(
    _: Admin,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    Body(body): Body<AdvertiserSettings>,
) -> Result<Json<AdvertiserView>, ApiError> {
    let not_found = || ApiError::NotFound("ADVERTISER_NOT_FOUND", format!("advertiser {advertiser_id} does not exist"));
    let mut tx = state.pool.begin().await?;
    if let Some(days) = body.validation_period_days {
        if days.is_some_and(|d| !(0..=3650).contains(&d)) {
            return Err(ApiError::bad_request("validationPeriodDays must be 0 to 3650, or null for never"));
        }
        if !db::advertisers::set_validation_period(&mut tx, advertiser_id, days).await? {
            return Err(not_found());
        }
    }
    let advertiser = db::advertisers::get(&mut tx, advertiser_id).await?.ok_or_else(not_found)?;
    let groups = db::advertisers::groups(&mut tx, advertiser_id).await?;
    tx.commit().await?;
    Ok(Json(AdvertiserView {
        id: advertiser.id.0,
        name: advertiser.name,
        currency: advertiser.currency,
        commission_groups: groups.into_iter().map(group_view).collect::<Result<_, _>>()?,
        validation_period_days: advertiser.validation_period_days,
    }))
}

/// Creates or changes one commission group of an advertiser.
#[utoipa::path(
    put,
    path = "/admin/advertisers/{id}/commission-groups/{code}",
    tag = "admin",
    security(("admin_token" = [])),
    params(
        ("id" = i64, Path, description = "The advertiser's id."),
        ("code" = String, Path, description = "The group's code, 1 to 64 characters."),
    ),
    request_body = NewGroup,
    responses(
        (status = 200, description = "The group as stored.", body = GroupView),
        (status = 400, description = "A field is invalid (`BAD_REQUEST`), or the body is not the JSON object \
            described (`JSON_PARSE_ERROR`).", body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 404, description = "No such advertiser (`ADVERTISER_NOT_FOUND`), or `id` is not an integer \
            (`NOT_FOUND`).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable; nothing was stored. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
pub async fn put_group(
    _: Admin,
    State(state): State<AppState>,
    Path((advertiser_id, code)): Path<(AdvertiserId, String)>,
    Body(body): Body<NewGroup>,
) -> Result<Json<GroupView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let advertiser = db::advertisers::get(&mut tx, advertiser_id).await?.ok_or_else(|| {
        ApiError::NotFound("ADVERTISER_NOT_FOUND", format!("advertiser {advertiser_id} does not exist"))
    })?;
    let currency: Currency =
        advertiser.currency.parse().map_err(|e: ratify_domain::money::UnknownCurrency| ApiError::Internal(e.into()))?;
    let row = group_row(&code, &body, currency)?;
    db::advertisers::upsert_group(&mut tx, advertiser_id, &row).await?;
    tx.commit().await?;
    Ok(Json(group_view(row)?))
}

/// Creates an advertiser token (shown once).
#[utoipa::path(
    post,
    path = "/admin/tokens",
    tag = "admin",
    security(("admin_token" = [])),
    request_body = NewToken,
    responses(
        (status = 201, description = "Created; the token is in the body, shown this once.", body = CreatedToken),
        (status = 400, description = "A field is invalid or names an advertiser that does not exist \
            (`BAD_REQUEST`), or the body is not the JSON object described (`JSON_PARSE_ERROR`).",
            body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable; nothing was stored. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
pub async fn create_token(
    _: Admin,
    State(state): State<AppState>,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if body.name.trim().is_empty() || body.name.len() > 255 {
        return Err(ApiError::bad_request("name must be 1 to 255 characters"));
    }
    identifier("name", &body.name)?;
    let mut ids: Vec<AdvertiserId> = body.advertiser_ids.iter().copied().map(AdvertiserId).collect();
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
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken { id, token, name: body.name, advertiser_ids: ids.into_iter().map(|id| id.0).collect() }),
    ))
}

/// Revokes a token, at once.
#[utoipa::path(
    delete,
    path = "/admin/tokens/{id}",
    tag = "admin",
    security(("admin_token" = [])),
    params(("id" = Uuid, Path, description = "The token's id, as `POST /admin/tokens` answered.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 404, description = "No live token with this id (`TOKEN_NOT_FOUND`), or `id` is not a UUID \
            (`NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
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
