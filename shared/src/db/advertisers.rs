//! Advertisers and their commission groups.

use ratify_domain::commission::{GroupKind, Rate};
use ratify_domain::ids::AdvertiserId;
use rust_decimal::Decimal;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Advertiser {
    pub id: AdvertiserId,
    pub name: String,
    pub currency: String,
    pub validation_period_days: Option<i32>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub code: String,
    pub name: String,
    pub kind: GroupKind,
    pub value: Decimal,
}

/// Inserts an advertiser; `false` when the id is taken.
pub async fn insert(conn: &mut PgConnection, id: AdvertiserId, name: &str, currency: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("INSERT INTO advertisers (id, name, currency) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(currency)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// One advertiser.
pub async fn get(conn: &mut PgConnection, id: AdvertiserId) -> sqlx::Result<Option<Advertiser>> {
    sqlx::query_as("SELECT id, name, currency::text AS currency, validation_period_days FROM advertisers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Sets an advertiser's validation period (`None`: never auto-approve); `false` when no
/// such advertiser.
pub async fn set_validation_period(conn: &mut PgConnection, id: AdvertiserId, days: Option<i32>) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE advertisers SET validation_period_days = $2 WHERE id = $1")
        .bind(id)
        .bind(days)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Creates or replaces a commission group.
pub async fn upsert_group(conn: &mut PgConnection, advertiser_id: AdvertiserId, group: &GroupRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO commission_groups (advertiser_id, code, name, kind, value) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (advertiser_id, code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, value = EXCLUDED.value",
    )
    .bind(advertiser_id)
    .bind(&group.code)
    .bind(&group.name)
    .bind(group.kind)
    .bind(group.value)
    .execute(conn)
    .await?;
    Ok(())
}

/// All commission groups of an advertiser, by code.
pub async fn groups(conn: &mut PgConnection, advertiser_id: AdvertiserId) -> sqlx::Result<Vec<GroupRow>> {
    sqlx::query_as("SELECT code, name, kind, value FROM commission_groups WHERE advertiser_id = $1 ORDER BY code")
        .bind(advertiser_id)
        .fetch_all(conn)
        .await
}

/// The advertiser's commission groups as rates, by code, for a currency with
/// `exponent` fraction digits. A fixed value the currency cannot express is skipped
/// (the admin api refuses to store one).
pub async fn rates(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    exponent: u32,
) -> sqlx::Result<std::collections::HashMap<String, Rate>> {
    Ok(groups(conn, advertiser_id)
        .await?
        .into_iter()
        .filter_map(|g| {
            let rate = Rate::from_group(g.kind, g.value, exponent)?;
            Some((g.code, rate))
        })
        .collect())
}
