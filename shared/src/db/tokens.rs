//! API tokens: stored as SHA-256 hashes, each granted one or more advertisers.

use ratify_domain::ids::AdvertiserId;
use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a new token's hash.
pub async fn insert(conn: &mut PgConnection, id: Uuid, name: &str, hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO api_tokens (id, name, token_hash) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Grants a token the given advertisers.
pub async fn grant(conn: &mut PgConnection, id: Uuid, advertiser_ids: &[AdvertiserId]) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO api_token_advertisers (token_id, advertiser_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING")
        .bind(id)
        .bind(advertiser_ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many of `ids` are existing advertisers.
pub async fn count_advertisers(conn: &mut PgConnection, ids: &[AdvertiserId]) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM advertisers WHERE id = ANY($1)").bind(ids).fetch_one(conn).await
}

/// Revokes a token at once; `false` when there is no such live token.
pub async fn revoke(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The advertisers a live token with this hash is granted, or `None` for an unknown or
/// revoked token.
pub async fn advertisers_for(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<Vec<AdvertiserId>>> {
    sqlx::query_scalar(
        "SELECT coalesce(array_agg(g.advertiser_id), '{}') FROM api_tokens t
         LEFT JOIN api_token_advertisers g ON g.token_id = t.id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL GROUP BY t.id",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await
}
