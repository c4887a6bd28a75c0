//! Jobs as stored: the items of a job, grouped into chunks, and item outcomes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::batch::{Command, Echo};

/// The outcome codes of SPEC §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutcomeCode {
    Ok,
    NotModified,
    BadRequest,
    NotFound,
    Unprocessable,
    Internal,
}

impl OutcomeCode {
    pub const ALL: [OutcomeCode; 6] = [
        OutcomeCode::Ok,
        OutcomeCode::NotModified,
        OutcomeCode::BadRequest,
        OutcomeCode::NotFound,
        OutcomeCode::Unprocessable,
        OutcomeCode::Internal,
    ];

    pub fn status(self) -> i16 {
        match self {
            OutcomeCode::Ok => 200,
            OutcomeCode::NotModified => 304,
            OutcomeCode::BadRequest => 400,
            OutcomeCode::NotFound => 404,
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
            OutcomeCode::Unprocessable => "[422 UNPROCESSABLE_ENTITY]",
            OutcomeCode::Internal => "[500 INTERNAL_SERVER_ERROR]",
        }
    }

    /// Whether the item counts in `errorCount`; a 304 is not an error.
    pub fn is_error(self) -> bool {
        self.status() >= 400
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
    Reject { code: OutcomeCode, description: String },
}

impl JobItem {
    pub fn target(&self) -> Option<i64> {
        match &self.plan {
            Plan::Apply { transaction_id, .. } => Some(*transaction_id),
            Plan::Reject { .. } => None,
        }
    }
}

/// Splits a job's items (in index order) into chunks of about `chunk_size` items.
///
/// All items that target one transaction land in the same chunk, in index order, so a
/// chunk can be applied by any worker in parallel with the job's other chunks and
/// same-transaction items still apply in array order. A chunk may therefore exceed
/// `chunk_size` by the items of transactions it already holds.
pub fn split_into_chunks(items: Vec<JobItem>, chunk_size: usize) -> Vec<Vec<JobItem>> {
    let chunk_size = chunk_size.max(1);
    let mut chunks: Vec<Vec<JobItem>> = Vec::new();
    let mut home: HashMap<i64, usize> = HashMap::new();
    for item in items {
        let open = chunks.last().is_some_and(|c| c.len() < chunk_size);
        let slot = match item.target().and_then(|t| home.get(&t).copied()) {
            Some(slot) => slot,
            None if open => chunks.len() - 1,
            None => {
                chunks.push(Vec::with_capacity(chunk_size));
                chunks.len() - 1
            }
        };
        if let Some(target) = item.target() {
            home.insert(target, slot);
        }
        chunks[slot].push(item);
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
    fn chunks_keep_a_transaction_together_in_order() {
        // Transaction 1 appears at 0, 5 and 9; with chunks of 3 it must stay in chunk 0.
        let targets = [Some(1), Some(2), Some(3), Some(4), None, Some(1), Some(5), Some(6), Some(7), Some(1)];
        let items: Vec<_> = targets.iter().enumerate().map(|(i, t)| item(i as i32, *t)).collect();
        let chunks = split_into_chunks(items, 3);
        let indexes: Vec<Vec<i32>> = chunks.iter().map(|c| c.iter().map(|i| i.index).collect()).collect();
        assert_eq!(indexes, vec![vec![0, 1, 2, 5, 9], vec![3, 4, 6], vec![7, 8]]);
        for chunk in &chunks {
            assert!(chunk.windows(2).all(|w| w[0].index < w[1].index));
        }
        let total: usize = chunks.iter().map(Vec::len).sum();
        assert_eq!(total, targets.len());
    }

    #[test]
    fn no_transaction_is_split_across_chunks() {
        let items: Vec<_> = (0..5000).map(|i| item(i, Some(i64::from(i % 700)))).collect();
        let chunks = split_into_chunks(items, 1000);
        let mut home = HashMap::new();
        for (n, chunk) in chunks.iter().enumerate() {
            for item in chunk {
                assert_eq!(*home.entry(item.target()).or_insert(n), n);
            }
        }
    }
}
