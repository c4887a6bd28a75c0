//! A batch of actions read from a CSV file: a header row naming the columns (any order,
//! any case), then one action per row, separated by `,` or by `;` (what Excel writes
//! where the decimal separator is a comma). Every row is checked before anything is
//! sent, and every bad one is reported with its line number; the rows become the same
//! JSON actions a client would post, with amounts embedded exactly as written. The
//! CLI's own item export (`ratify job … --csv`) reads back: its `index`, `code` and
//! `description` columns are known and ignored.

use std::collections::HashSet;
use std::fmt;

use ratify_wire::{ActionKind, BatchAction, BatchTransaction, PartAmount, TransactionId};
use serde_json::value::RawValue;

use crate::number;

/// A bad row (or header), with the line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

fn at(line: u64, message: impl Into<String>) -> LineError {
    LineError { line, message: message.into() }
}

/// The columns a file may have, by their names in the api.
const COLUMNS: [&str; 11] = [
    "action",
    "transactionId",
    "orderRef",
    "transactionDate",
    "timezone",
    "declineReason",
    "amendReason",
    "approve",
    "currency",
    "saleAmount",
    "parts",
];

/// Columns of the item export (`ratify job … --csv`) that say what happened, not what to
/// do: accepted, so a file of failed items can be corrected and sent again, and ignored.
const IGNORED: [&str; 3] = ["index", "code", "description"];

/// Reads the whole file; returns its actions, each as the JSON text of one array
/// element, or every bad row (the header's problem alone when the header is bad).
pub fn actions(bytes: &[u8]) -> Result<Vec<Box<RawValue>>, Vec<LineError>> {
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter(bytes))
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(bytes);
    let header = csv.headers().map_err(|e| vec![read_error(e, 1)])?.clone();
    let columns = columns(&header).map_err(|e| vec![e])?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            // The reader goes on past text that is not UTF-8; after anything else it
            // cannot be trusted to.
            Err(e) => {
                let utf8 = matches!(e.kind(), ::csv::ErrorKind::Utf8 { .. });
                errors.push(read_error(e, line));
                if utf8 {
                    continue;
                }
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        // Spreadsheets like to end an export with rows of empty cells.
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != header.len() {
            errors.push(at(line, format!("the row has {} fields, the header {}", record.len(), header.len())));
            continue;
        }
        let row = Row { columns: &columns, record: &record };
        match row.item().and_then(|item| serde_json::value::to_raw_value(&item).map_err(|e| e.to_string())) {
            Ok(item) => items.push(item),
            Err(message) => errors.push(at(line, message)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if items.is_empty() {
        return Err(vec![at(1, "the file has no actions: a header row and at least one action row are needed")]);
    }
    Ok(items)
}

/// `;` when the header line has more semicolons than commas outside quotes, else `,`.
/// The header holds no amounts or parts, so its separators are the file's.
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

fn read_error(e: ::csv::Error, line: u64) -> LineError {
    let line = e.position().map_or(line, |p| p.line());
    match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => at(line, "the file is not UTF-8 text: save it as CSV UTF-8"),
        _ => at(line, format!("not readable as CSV: {e}")),
    }
}

/// Maps each header cell to its column (index into [`COLUMNS`]; [`IGNORED`] ones to
/// `None`).
fn columns(header: &::csv::StringRecord) -> Result<Vec<Option<usize>>, LineError> {
    let mut seen = HashSet::new();
    let mut columns = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        // A file saved by Excel as "CSV UTF-8" starts with a byte order mark.
        let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { name };
        let key: String = name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).collect::<String>().to_lowercase();
        if IGNORED.contains(&key.as_str()) {
            columns.push(None);
            continue;
        }
        let column = COLUMNS
            .iter()
            .position(|c| c.to_lowercase() == key)
            .ok_or_else(|| at(1, format!("unknown column {name:?}: the columns are {}", COLUMNS.join(", "))))?;
        if !seen.insert(column) {
            return Err(at(1, format!("column {} appears twice", COLUMNS[column])));
        }
        columns.push(Some(column));
    }
    if !seen.contains(&0) {
        return Err(at(1, "the header has no action column"));
    }
    Ok(columns)
}

struct Row<'a> {
    columns: &'a [Option<usize>],
    record: &'a ::csv::StringRecord,
}

impl Row<'_> {
    /// The cell of a column, `None` when the column is absent or the cell empty.
    fn get(&self, name: &str) -> Option<&str> {
        let column = COLUMNS.iter().position(|c| *c == name)?;
        let i = self.columns.iter().position(|c| *c == Some(column))?;
        self.record.get(i).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str, action: &str) -> Result<String, String> {
        self.get(name).map(str::to_owned).ok_or_else(|| format!("{name} is required for {action}"))
    }

    fn item(&self) -> Result<BatchAction, String> {
        let name = self.get("action").ok_or("action is required: approve, decline or amend")?;
        let (action, name) = match name.to_lowercase().as_str() {
            "approve" => (ActionKind::Approve, "approve"),
            "decline" => (ActionKind::Decline, "decline"),
            "amend" => (ActionKind::Amend, "amend"),
            _ => return Err(format!("action {name:?} is unknown: use approve, decline or amend")),
        };
        let mut transaction = self.reference()?;
        let mut approve = None;
        match action {
            ActionKind::Decline => transaction.decline_reason = Some(self.required("declineReason", name)?),
            ActionKind::Amend => {
                transaction.amend_reason = Some(self.required("amendReason", name)?);
                let currency = self.required("currency", name)?;
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(format!("currency {currency:?} is not a three-letter ISO 4217 code"));
                }
                transaction.currency = Some(currency.to_uppercase());
                let sale = self.required("saleAmount", name)?;
                transaction.sale_amount = Some(number::amount(&sale).map_err(|e| format!("saleAmount {sale:?} {e}"))?);
                transaction.transaction_parts = Some(parts(&self.required("parts", name)?)?);
                approve = self.get("approve").map(boolean).transpose()?;
            }
            ActionKind::Approve => {}
        }
        Ok(BatchAction { action, approve, transaction })
    }

    /// `transactionId`, or else `orderRef` + `transactionDate` + `timezone`.
    fn reference(&self) -> Result<BatchTransaction, String> {
        let mut transaction = BatchTransaction::default();
        if let Some(id) = self.get("transactionId") {
            let id =
                number::transaction_id(id).ok_or_else(|| format!("transactionId {id:?} is not a positive integer"))?;
            transaction.transaction_id = Some(TransactionId::Number(id));
        }
        let order_ref = self.get("orderRef");
        let date = self.get("transactionDate").map(local_date_time).transpose()?;
        let zone = self.get("timezone");
        if transaction.transaction_id.is_none() {
            match (order_ref, &date, zone) {
                (None, _, _) => {
                    return Err("the transaction needs a transactionId, or an orderRef with transactionDate and \
                                timezone"
                        .to_owned())
                }
                (Some(_), None, _) => return Err("transactionDate is required with orderRef".to_owned()),
                (Some(_), _, None) => return Err("timezone is required with orderRef".to_owned()),
                _ => {}
            }
        }
        transaction.order_ref = order_ref.map(str::to_owned);
        transaction.transaction_date = date;
        transaction.timezone = zone.map(str::to_owned);
        Ok(transaction)
    }
}

/// A local date-time `yyyy-MM-ddTHH:mm:ss`; a space for the `T` (as spreadsheets write
/// it) is accepted. Whether the date exists is the api's to judge.
fn local_date_time(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T' || *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(format!("transactionDate {text:?} is not a local date-time of the form yyyy-MM-ddTHH:mm:ss"));
    }
    Ok(text.replacen(' ', "T", 1))
}

fn boolean(text: &str) -> Result<bool, String> {
    match text.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("approve {text:?} must be true or false")),
    }
}

/// `CODE:AMOUNT;CODE:AMOUNT`, e.g. `DEFAULT:44.76;EXISTING:11.20`.
fn parts(text: &str) -> Result<Vec<PartAmount>, String> {
    let mut parts = Vec::new();
    let mut codes = HashSet::new();
    for piece in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, amount) = piece
            .split_once(':')
            .map(|(c, a)| (c.trim(), a.trim()))
            .filter(|(c, _)| !c.is_empty())
            .ok_or_else(|| format!("parts {piece:?}: each part must be CODE:AMOUNT, e.g. DEFAULT:44.76"))?;
        if !codes.insert(code) {
            return Err(format!("parts: commission group {code} appears twice"));
        }
        let amount = number::amount(amount).map_err(|e| format!("parts: amount {amount:?} of {code} {e}"))?;
        parts.push(PartAmount { commission_group_code: code.to_owned(), amount });
    }
    if parts.is_empty() {
        return Err("parts must name at least one CODE:AMOUNT".to_owned());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests;
