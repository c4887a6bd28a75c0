//! Jobs as stored: the items of a job, grouped into chunks, and item outcomes.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::batch::{Command, Echo};

/// An item's outcome, sent as its label (`[404 NOT_FOUND]`; `OutcomeCode::status` is the number).
/// `errorCount` counts 400, 404, 422 and 500; 304 is not an error (the desired state holds).
/// 500 only for an item whose processing kept failing and was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OutcomeCode {
    #[serde(rename = "[200 OK]")]
    Ok,
    #[serde(rename = "[304 NOT_MODIFIED]")]
    NotModified,
    #[serde(rename = "[400 BAD_REQUEST]")]
    BadRequest,
    #[serde(rename = "[404 NOT_FOUND]")]
    NotFound,
    #[serde(rename = "[409 CANCELLED]")]
    Cancelled,
    #[serde(rename = "[422 UNPROCESSABLE_ENTITY]")]
    Unprocessable,
    #[serde(rename = "[500 INTERNAL_SERVER_ERROR]")]
    Internal,
}

impl OutcomeCode {
    pub const ALL: [OutcomeCode; 7] = [
        OutcomeCode::Ok,
        OutcomeCode::NotModified,
        OutcomeCode::BadRequest,
        OutcomeCode::NotFound,
        OutcomeCode::Cancelled,
        OutcomeCode::Unprocessable,
        OutcomeCode::Internal,
    ];

    pub fn status(self) -> i16 {
        match self {
            OutcomeCode::Ok => 200,
            OutcomeCode::NotModified => 304,
            OutcomeCode::BadRequest => 400,
            OutcomeCode::NotFound => 404,
            OutcomeCode::Cancelled => 409,
            OutcomeCode::Unprocessable => 422,
            OutcomeCode::Internal => 500,
        }
    }

    pub fn from_status(status: i16) -> Option<OutcomeCode> {
        OutcomeCode::ALL.into_iter().find(|c| c.status() == status)
    }

    /// The label clients read, e.g. `[404 NOT_FOUND]`.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeCode::Ok => "[200 OK]",
            OutcomeCode::NotModified => "[304 NOT_MODIFIED]",
            OutcomeCode::BadRequest => "[400 BAD_REQUEST]",
            OutcomeCode::NotFound => "[404 NOT_FOUND]",
            OutcomeCode::Cancelled => "[409 CANCELLED]",
            OutcomeCode::Unprocessable => "[422 UNPROCESSABLE_ENTITY]",
            OutcomeCode::Internal => "[500 INTERNAL_SERVER_ERROR]",
        }
    }

    /// Whether the item counts in `errorCount`; a 304 is not an error.
    pub fn is_error(self) -> bool {
        self.status() >= 400
    }
}

/// A job's state: `QUEUED` until a worker starts on it, `DONE` exactly when every item has
/// its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "UPPERCASE"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum JobState {
    Queued,
    Processing,
    Done,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "QUEUED",
            JobState::Processing => "PROCESSING",
            JobState::Done => "DONE",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for OutcomeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

/// How a chunk's stored items name an outcome decided at acceptance: by the variant's name
/// (`"NotFound"`), as chunks have always been written, so chunks stored before the code
/// got its label as a serde name still read.
mod stored_code {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::OutcomeCode;

    fn name(code: OutcomeCode) -> &'static str {
        match code {
            OutcomeCode::Ok => "Ok",
            OutcomeCode::NotModified => "NotModified",
            OutcomeCode::BadRequest => "BadRequest",
            OutcomeCode::NotFound => "NotFound",
            OutcomeCode::Cancelled => "Cancelled",
            OutcomeCode::Unprocessable => "Unprocessable",
            OutcomeCode::Internal => "Internal",
        }
    }

    pub fn serialize<S: Serializer>(code: &OutcomeCode, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(name(*code))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OutcomeCode, D::Error> {
        let stored = String::deserialize(deserializer)?;
        OutcomeCode::ALL
            .into_iter()
            .find(|code| name(*code) == stored)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome code {stored:?}")))
    }
}

/// One item of a job as stored in its chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobItem {
    pub index: i32,
    pub echo: Echo,
    pub plan: Plan,
}

/// What a worker is to do with an item, decided when the job was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "lowercase")]
pub enum Plan {
    /// Apply the command to the transaction with this id, if the advertiser has it.
    Apply { transaction_id: i64, command: Command },
    /// The item already has its outcome; the worker only records it.
    Reject {
        #[serde(with = "stored_code")]
        code: OutcomeCode,
        description: String,
    },
}

impl JobItem {
    pub fn target(&self) -> Option<i64> {
        match &self.plan {
            Plan::Apply { transaction_id, .. } => Some(*transaction_id),
            Plan::Reject { .. } => None,
        }
    }
}

/// How large a chunk may grow.
#[derive(Debug, Clone, Copy)]
pub struct ChunkLimits {
    /// Items per chunk, about: a chunk takes more for transactions it already holds.
    pub items: usize,
    /// [`JobItem::weight`] per chunk: a worker holds a chunk whole, so this bounds its
    /// memory whatever the items hold. Only a single item heavier than this exceeds it.
    pub bytes: usize,
}

/// A chunk of a job as split: its items in index order, their weight, and the chunk
/// that must be applied before it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub items: Vec<JobItem>,
    pub bytes: usize,
    /// The position of the chunk this one continues: it holds later items of
    /// transactions that chunk holds too, so it is applied only once that one is done.
    pub after: Option<usize>,
}

impl JobItem {
    /// About how many bytes the item takes, stored or in memory: its text plus a fixed
    /// allowance for its structure.
    pub fn weight(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let e = &self.echo;
        let echo = text(&e.action) + text(&e.order_ref) + text(&e.transaction_date) + text(&e.timezone);
        let plan = match &self.plan {
            Plan::Reject { description, .. } => description.len(),
            Plan::Apply { command: Command::Approve, .. } => 0,
            Plan::Apply { command: Command::Decline { reason }, .. } => reason.len(),
            Plan::Apply { command: Command::Amend { reason, currency, parts, .. }, .. } => {
                reason.len() + currency.len() + parts.iter().map(|(code, _)| code.len() + 48).sum::<usize>()
            }
        };
        128 + echo + plan
    }
}

/// Splits a job's items (in index order) into chunks of about `limits.items` items and
/// at most `limits.bytes` of weight.
///
/// Items that target one transaction stay in one chunk, in index order, so chunks can be
/// applied by any worker in parallel and same-transaction items still apply in array
/// order. When a transaction's items outgrow their chunk's byte bound, the rest go to a
/// new chunk that names the full one in `after`: it is applied only once that one is
/// done, so the order holds across the two. A chunk continues at most one other.
pub fn split_into_chunks(items: Vec<JobItem>, limits: ChunkLimits) -> Vec<Chunk> {
    let max_items = limits.items.max(1);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut home: HashMap<i64, usize> = HashMap::new();
    let fits = |chunk: &Chunk, weight: usize| chunk.items.is_empty() || chunk.bytes + weight <= limits.bytes;
    for item in items {
        let weight = item.weight();
        let last = chunks.len().checked_sub(1);
        let slot = match item.target().and_then(|t| home.get(&t).copied()) {
            Some(slot) if fits(&chunks[slot], weight) => slot,
            // The transaction's chunk is full: continue it in the newest chunk if that one
            // already continues the same chunk and has room, else in a new one.
            Some(slot) => match last {
                Some(l) if chunks[l].after == Some(slot) && fits(&chunks[l], weight) => l,
                _ => {
                    chunks.push(Chunk { items: Vec::new(), bytes: 0, after: Some(slot) });
                    chunks.len() - 1
                }
            },
            None => match last {
                Some(l) if chunks[l].items.len() < max_items && fits(&chunks[l], weight) => l,
                _ => {
                    chunks.push(Chunk { items: Vec::with_capacity(max_items), bytes: 0, after: None });
                    chunks.len() - 1
                }
            },
        };
        if let Some(target) = item.target() {
            home.insert(target, slot);
        }
        chunks[slot].bytes += weight;
        chunks[slot].items.push(item);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(index: i32, target: Option<i64>) -> JobItem {
        let plan = match target {
            Some(t) => Plan::Apply { transaction_id: t, command: Command::Approve },
            None => Plan::Reject { code: OutcomeCode::BadRequest, description: "bad".into() },
        };
        JobItem { index, echo: Echo::default(), plan }
    }

    #[test]
    fn codes_round_trip_and_count_errors() {
        for code in OutcomeCode::ALL {
            assert_eq!(OutcomeCode::from_status(code.status()), Some(code));
            assert_eq!(code.is_error(), !matches!(code, OutcomeCode::Ok | OutcomeCode::NotModified));
            assert!(code.label().starts_with(&format!("[{} ", code.status())));
        }
    }

    #[test]
    fn codes_are_sent_as_labels_and_stored_in_chunks_by_name() {
        for code in OutcomeCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.label());
        }
        let plan = Plan::Reject { code: OutcomeCode::NotFound, description: "no such transaction".into() };
        let stored = serde_json::to_string(&plan).unwrap();
        assert_eq!(stored, r#"{"plan":"reject","code":"NotFound","description":"no such transaction"}"#);
        assert_eq!(serde_json::from_str::<Plan>(&stored).unwrap(), plan);
        assert!(serde_json::from_str::<Plan>(r#"{"plan":"reject","code":"Gone","description":""}"#).is_err());
    }

    #[test]
    fn chunks_keep_a_transaction_together_in_order() {
        // Transaction 1 appears at 0, 5 and 9; with chunks of 3 it must stay in chunk 0.
        let targets = [Some(1), Some(2), Some(3), Some(4), None, Some(1), Some(5), Some(6), Some(7), Some(1)];
        let items: Vec<_> = targets.iter().enumerate().map(|(i, t)| item(i as i32, *t)).collect();
        let chunks = split_into_chunks(items, ChunkLimits { items: 3, bytes: usize::MAX });
        let indexes: Vec<Vec<i32>> = chunks.iter().map(|c| c.items.iter().map(|i| i.index).collect()).collect();
        assert_eq!(indexes, vec![vec![0, 1, 2, 5, 9], vec![3, 4, 6], vec![7, 8]]);
        for chunk in &chunks {
            assert!(chunk.items.windows(2).all(|w| w[0].index < w[1].index));
            assert_eq!(chunk.after, None);
        }
        let total: usize = chunks.iter().map(|c| c.items.len()).sum();
        assert_eq!(total, targets.len());
    }

    #[test]
    fn no_transaction_is_split_across_chunks_within_the_byte_bound() {
        let items: Vec<_> = (0..5000).map(|i| item(i, Some(i64::from(i % 700)))).collect();
        let chunks = split_into_chunks(items, ChunkLimits { items: 1000, bytes: usize::MAX });
        let mut home = HashMap::new();
        for (n, chunk) in chunks.iter().enumerate() {
            for item in &chunk.items {
                assert_eq!(*home.entry(item.target()).or_insert(n), n);
            }
        }
    }

    /// Every chunk within the byte bound, and every transaction's items in index order
    /// along a chain of `after` links.
    fn check_chains(chunks: &[Chunk], bytes: usize) {
        let mut seen: HashMap<i64, (usize, i32)> = HashMap::new();
        for (n, chunk) in chunks.iter().enumerate() {
            assert!(chunk.bytes <= bytes || chunk.items.len() == 1, "chunk {n} weighs {}", chunk.bytes);
            assert_eq!(chunk.bytes, chunk.items.iter().map(JobItem::weight).sum::<usize>());
            if let Some(after) = chunk.after {
                assert!(after < n);
            }
            for item in &chunk.items {
                let Some(t) = item.target() else { continue };
                if let Some((prev, index)) = seen.insert(t, (n, item.index)) {
                    assert!(index < item.index);
                    // The earlier chunk must be an ancestor of this one.
                    let mut at = n;
                    while at != prev {
                        at = chunks[at].after.unwrap_or_else(|| panic!("transaction {t}: chunk {n} not after {prev}"));
                    }
                }
            }
        }
    }

    #[test]
    fn one_heavy_transaction_becomes_a_chain_of_bounded_chunks() {
        let heavy = |i: i32| {
            let mut it = item(i, Some(7));
            it.plan = Plan::Apply { transaction_id: 7, command: Command::Decline { reason: "r".repeat(900) } };
            it
        };
        let items: Vec<_> = (0..10_000).map(heavy).collect();
        let bytes = 100_000;
        let chunks = split_into_chunks(items, ChunkLimits { items: 1000, bytes });
        assert!(chunks.len() >= 100, "{} chunks", chunks.len());
        assert_eq!(chunks[0].after, None);
        for (n, chunk) in chunks.iter().enumerate().skip(1) {
            assert_eq!(chunk.after, Some(n - 1));
        }
        check_chains(&chunks, bytes);
    }

    #[test]
    fn mixed_heavy_and_light_transactions_keep_their_order() {
        let mut items = Vec::new();
        for i in 0..20_000 {
            let target = [1, 2, 3, i64::from(i) + 100][(i % 4) as usize];
            let mut it = item(i, if i % 97 == 0 { None } else { Some(target) });
            if let Plan::Apply { transaction_id, .. } = it.plan {
                let reason = "x".repeat((i as usize * 31) % 700);
                it.plan = Plan::Apply { transaction_id, command: Command::Decline { reason } };
            }
            items.push(it);
        }
        let bytes = 50_000;
        let chunks = split_into_chunks(items, ChunkLimits { items: 300, bytes });
        check_chains(&chunks, bytes);
        let total: usize = chunks.iter().map(|c| c.items.len()).sum();
        assert_eq!(total, 20_000);
    }

    #[test]
    fn an_item_heavier_than_the_bound_is_a_chunk_of_its_own() {
        let mut big = item(0, Some(1));
        big.plan = Plan::Apply { transaction_id: 1, command: Command::Decline { reason: "r".repeat(5000) } };
        let chunks =
            split_into_chunks(vec![big, item(1, Some(1)), item(2, None)], ChunkLimits { items: 10, bytes: 1000 });
        let indexes: Vec<Vec<i32>> = chunks.iter().map(|c| c.items.iter().map(|i| i.index).collect()).collect();
        assert_eq!(indexes, vec![vec![0], vec![1, 2]]);
        assert_eq!(chunks[1].after, Some(0));
    }
}
