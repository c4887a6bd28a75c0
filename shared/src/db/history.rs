//! Transactions' history: one document per chunk holding every change the chunk made
//! (before and after), reached from a transaction through the list of document ids its
//! own row carries.

use chrono::{DateTime, Utc};
use ratify_domain::apply::Change;
use ratify_domain::ids::{AdvertiserId, TransactionId};
use ratify_domain::state::HistoryAction;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sqlx::PgConnection;
use uuid::Uuid;

/// One change a transaction went through.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub changed_at: DateTime<Utc>,
    pub job_id: Option<Uuid>,
    pub item_index: Option<i32>,
    pub action: HistoryAction,
    pub before: Box<RawValue>,
    pub after: Box<RawValue>,
}

/// One entry of a chunk's history document.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub transaction_id: i64,
    pub index: Option<i32>,
    pub action: HistoryAction,
    pub before: Box<RawValue>,
    pub after: Box<RawValue>,
}

#[derive(sqlx::FromRow)]
struct HistoryDocument {
    id: i64,
    changed_at: DateTime<Utc>,
    job_id: Option<Uuid>,
    changes: String,
}

/// A transaction's history, oldest first: the entries for it in the history documents
/// its `history` list names, in the list's order (the order of its updates).
pub async fn of_transaction(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    id: TransactionId,
) -> sqlx::Result<Vec<HistoryRow>> {
    let refs: Vec<i64> =
        sqlx::query_scalar("SELECT coalesce(history, '{}') FROM transactions WHERE advertiser_id = $1 AND id = $2")
            .bind(advertiser_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_default();
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let documents: Vec<HistoryDocument> = sqlx::query_as(
        "SELECT id, changed_at, job_id, changes FROM chunk_history WHERE advertiser_id = $1 AND id = ANY($2)",
    )
    .bind(advertiser_id)
    .bind(&refs)
    .fetch_all(conn)
    .await?;
    let mut by_id: std::collections::HashMap<i64, HistoryDocument> = documents.into_iter().map(|d| (d.id, d)).collect();
    let mut rows = Vec::new();
    for r in &refs {
        // A list names each document once, but a second mention would list nothing twice.
        let Some(document) = by_id.remove(r) else { continue };
        let entries: Vec<HistoryEntry> =
            serde_json::from_str(&document.changes).map_err(|e| sqlx::Error::Decode(e.into()))?;
        rows.extend(entries.into_iter().filter(|e| e.transaction_id == id.0).map(|e| HistoryRow {
            changed_at: document.changed_at,
            job_id: document.job_id,
            item_index: e.index,
            action: e.action,
            before: e.before,
            after: e.after,
        }));
    }
    Ok(rows)
}

/// A chunk's history entries, in index order, for [`insert`].
#[derive(Debug, Default)]
pub struct HistoryRows {
    pub entries: Vec<HistoryEntry>,
}

impl HistoryRows {
    /// Adds the change an item made to a transaction.
    pub fn push(&mut self, transaction_id: i64, item_index: i32, action: HistoryAction, change: Change) {
        self.entries.push(HistoryEntry {
            transaction_id,
            index: Some(item_index),
            action,
            before: change.before,
            after: change.after,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Takes the id of a new history document (before its transactions' updates name it).
pub async fn next_id(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval('chunk_history_id_seq')").fetch_one(conn).await
}

/// Writes a chunk's history as one document with id `id`.
pub async fn insert(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    id: i64,
    job_id: Uuid,
    chunk_no: i32,
    rows: &HistoryRows,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT INTO chunk_history (advertiser_id, id, job_id, chunk_no, changes) VALUES ($1, $2, $3, $4, $5)")
        .bind(advertiser_id)
        .bind(id)
        .bind(job_id)
        .bind(chunk_no)
        .bind(serde_json::to_string(&rows.entries)?)
        .execute(conn)
        .await?;
    Ok(())
}
