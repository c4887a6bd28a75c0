//! Merging a job's per-chunk outcome documents into one list in index order.
//!
//! A chunk holds the items of its transactions, so chunks are not ranges of the batch:
//! one may hold item 3 and item 2,500. Each document is in index order and the
//! documents arrive by their first index, so a document need only be opened once the
//! merge reaches its first index; for a batch of distinct transactions that is one
//! document at a time, whatever the job's size.

use std::iter::Peekable;
use std::vec::IntoIter;

use ratify_shared::db::chunks::OutcomeRow;

/// The documents opened so far, each with its remaining outcomes.
#[derive(Default)]
pub struct Merge {
    open: Vec<Peekable<IntoIter<OutcomeRow>>>,
}

impl Merge {
    /// Whether a document starting at `first_index` must be opened before the next
    /// outcome can be taken.
    pub fn needs(&mut self, first_index: i32) -> bool {
        self.head().is_none_or(|(_, index)| first_index <= index)
    }

    /// Opens a document (a JSON array of outcomes in index order).
    pub fn open(&mut self, document: &str) -> serde_json::Result<()> {
        let rows: Vec<OutcomeRow> = serde_json::from_str(document)?;
        if !rows.is_empty() {
            self.open.push(rows.into_iter().peekable());
        }
        Ok(())
    }

    /// The outcome with the lowest index among the open documents.
    pub fn take(&mut self) -> Option<OutcomeRow> {
        let (at, _) = self.head()?;
        let row = self.open[at].next();
        if self.open[at].peek().is_none() {
            drop(self.open.swap_remove(at));
        }
        row
    }

    /// Which open document holds the lowest next index, and that index.
    fn head(&mut self) -> Option<(usize, i32)> {
        self.open
            .iter_mut()
            .enumerate()
            .filter_map(|(at, rows)| rows.peek().map(|r| (at, r.item_index)))
            .min_by_key(|(_, index)| *index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(indexes: &[i32]) -> (i32, String) {
        let rows: Vec<OutcomeRow> = indexes
            .iter()
            .map(|i| OutcomeRow {
                item_index: *i,
                code: 200,
                description: None,
                action: None,
                transaction_id: None,
                order_ref: None,
                transaction_date: None,
                timezone: None,
            })
            .collect();
        (indexes[0], serde_json::to_string(&rows).unwrap())
    }

    /// Drives the merge as the listing does: documents by first index, opened when due.
    fn merged(mut documents: Vec<(i32, String)>) -> (Vec<i32>, usize) {
        documents.sort_by_key(|(first, _)| *first);
        let mut pending = documents.into_iter().peekable();
        let mut merge = Merge::default();
        let (mut out, mut most_open) = (Vec::new(), 0);
        loop {
            while let Some((first, _)) = pending.peek() {
                if !merge.needs(*first) {
                    break;
                }
                let (_, doc) = pending.next().unwrap();
                merge.open(&doc).unwrap();
            }
            most_open = most_open.max(merge.open.len());
            match merge.take() {
                Some(row) => out.push(row.item_index),
                None if pending.peek().is_none() => return (out, most_open),
                None => {}
            }
        }
    }

    #[test]
    fn interleaved_chunks_come_out_in_index_order() {
        let (out, _) = merged(vec![document(&[0, 1, 5, 9]), document(&[2, 3, 4]), document(&[6, 7, 8, 10])]);
        assert_eq!(out, (0..=10).collect::<Vec<_>>());
    }

    #[test]
    fn ranges_open_one_document_at_a_time() {
        let docs: Vec<(i32, String)> = (0..50).map(|c| document(&(c * 10..c * 10 + 10).collect::<Vec<_>>())).collect();
        let (out, most_open) = merged(docs);
        assert_eq!(out, (0..500).collect::<Vec<_>>());
        assert_eq!(most_open, 1);
    }

    #[test]
    fn empty_documents_are_skipped() {
        let (out, _) = merged(vec![(0, "[]".to_owned()), document(&[1, 2]), (3, "[]".to_owned())]);
        assert_eq!(out, [1, 2]);
    }
}
