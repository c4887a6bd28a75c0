//! A batch file turned into what `submit` posts: a JSON array of actions sent as it is,
//! or a CSV file turned into one (checked whole first: every bad row is listed and
//! nothing is sent), split into parts that fit the api's limits, each part with its
//! Idempotency-Key: the caller's, or by default one derived from the bytes sent, so
//! running the same submit again (after a timeout, say) answers the same jobs.

use std::ops::Range;
use std::path::Path;

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::csv_input;
use crate::error::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// What one job may hold: the api's `RATIFY_MAX_BATCH_ITEMS` and `RATIFY_MAX_BATCH_BYTES`.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub items: usize,
    pub bytes: usize,
}

/// One request body: a JSON array of actions.
#[derive(Debug)]
pub struct Part {
    pub body: Vec<u8>,
    pub items: usize,
    pub idempotency_key: String,
}

/// Reads, checks and splits the file. Any problem is [`CliError::BadInput`] naming the
/// file and line.
pub fn read(file: &Path, format: Option<Format>, limits: Limits, key: Option<&str>) -> Result<Vec<Part>, CliError> {
    let name = file.display().to_string();
    let bad = |problem: String| CliError::BadInput { file: name.clone(), problems: vec![problem] };
    let bytes = std::fs::read(file).map_err(|e| bad(format!("cannot read {name}: {e}")))?;
    let is_csv = file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    let owned: Vec<Box<RawValue>>;
    let (items, as_it_is): (Vec<&RawValue>, Option<&[u8]>) =
        match format.unwrap_or(if is_csv { Format::Csv } else { Format::Json }) {
            Format::Csv => {
                owned = csv_input::actions(&bytes).map_err(|errors| CliError::BadInput {
                    file: name.clone(),
                    problems: errors.iter().map(|e| format!("{name}:{e}")).collect(),
                })?;
                (owned.iter().map(AsRef::as_ref).collect(), None)
            }
            Format::Json => {
                let items: Vec<&RawValue> = serde_json::from_slice(&bytes)
                    .map_err(|e| bad(format!("{name}:{}: not a JSON array of actions: {e}", e.line().max(1))))?;
                if items.is_empty() {
                    return Err(bad(format!("{name}: the array has no actions")));
                }
                (items, Some(&bytes))
            }
        };
    let ranges = split(&items, limits).map_err(|(index, len)| {
        bad(format!("{name}: action {index} alone is {len} bytes, over the limit of {} bytes a request", limits.bytes))
    })?;
    let count = ranges.len();
    Ok(ranges
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let body = match as_it_is {
                // A file that fits is sent byte for byte as written.
                Some(bytes) if count == 1 && bytes.len() <= limits.bytes => bytes.to_vec(),
                _ => array(&items[range.clone()]),
            };
            let key = match key {
                Some(key) => key.to_owned(),
                None => format!("sha256-{}", hex::encode(Sha256::digest(&body))),
            };
            // Parts of one file never share a key, even when their bytes are the same.
            let idempotency_key = if count == 1 { key } else { format!("{key}-{}of{count}", i + 1) };
            Part { body, items: range.len(), idempotency_key }
        })
        .collect())
}

/// The items as consecutive ranges within `limits`, greedily; `Err((index, bytes))` for
/// an item that alone is over the byte limit.
fn split(items: &[&RawValue], limits: Limits) -> Result<Vec<Range<usize>>, (usize, usize)> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 2); // `[` and `]`
    for (i, item) in items.iter().enumerate() {
        let len = item.get().len();
        if len + 2 > limits.bytes {
            return Err((i, len));
        }
        let separator = usize::from(i > start);
        if i - start == limits.items || bytes + separator + len > limits.bytes {
            ranges.push(start..i);
            (start, bytes) = (i, 2);
        }
        bytes += usize::from(i > start) + len;
    }
    ranges.push(start..items.len());
    Ok(ranges)
}

fn array(items: &[&RawValue]) -> Vec<u8> {
    let mut body = Vec::with_capacity(items.iter().map(|i| i.get().len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.get().as_bytes());
    }
    body.push(b']');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(n: usize) -> Vec<Box<RawValue>> {
        (0..n).map(|i| RawValue::from_string(format!("{{\"i\":{i}}}")).unwrap()).collect()
    }

    #[test]
    fn parts_hold_at_most_the_item_limit_in_order() {
        let owned = raw(7);
        let items: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
        assert_eq!(split(&items, Limits { items: 3, bytes: 1 << 20 }).unwrap(), [0..3, 3..6, 6..7]);
        assert_eq!(split(&items, Limits { items: 7, bytes: 1 << 20 }).unwrap(), vec![(0..7)]);
        assert_eq!(array(&items[0..2]), br#"[{"i":0},{"i":1}]"#);
    }

    #[test]
    fn parts_hold_at_most_the_byte_limit() {
        let owned = raw(5);
        let items: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
        // Each item is 7 bytes: `[a,b]` is 17, `[a,b,c]` 25.
        let ranges = split(&items, Limits { items: 100, bytes: 24 }).unwrap();
        assert_eq!(ranges, [0..2, 2..4, 4..5]);
        for range in ranges {
            assert_eq!(array(&items[range.clone()]).len(), 2 + 8 * range.len() - 1);
        }
        assert_eq!(split(&items, Limits { items: 100, bytes: 25 }).unwrap(), [0..3, 3..5]);
        assert_eq!(split(&items, Limits { items: 100, bytes: 8 }), Err((0, 7)));
    }
}
