//! CSV files as finance teams write them: good rows, every kind of bad row, parts,
//! amounts that must arrive exactly as written, `;` separators and the CLI's own export.

use serde_json::{json, Value};

use super::{actions, LineError};

/// The file as the JSON array it becomes, or its first bad row.
fn to_json(bytes: &[u8]) -> Result<String, LineError> {
    match actions(bytes) {
        Ok(items) => Ok(format!("[{}]", items.iter().map(|i| i.get()).collect::<Vec<_>>().join(","))),
        Err(mut errors) => Err(errors.remove(0)),
    }
}

fn parse(text: &str) -> Result<Value, LineError> {
    to_json(text.as_bytes()).map(|json| serde_json::from_str(&json).expect("valid JSON"))
}

fn error(text: &str) -> LineError {
    parse(text).expect_err("the file is bad")
}

/// Every column, in the order of the rows below.
const HEADER: &str = concat!(
    "action,transactionId,orderRef,transactionDate,timezone,",
    "declineReason,amendReason,approve,currency,saleAmount,parts"
);

#[test]
fn good_rows_become_the_api_s_actions() {
    let file = format!(
        "{HEADER}\n\
         approve,1234567,,,,,,,,,\n\
         decline,,123ABC555,2017-02-20T22:04:00,Europe/Paris,order returned,,,,,\n\
         amend,484816099,,,,,partial return,false,EUR,55.96,DEFAULT:44.76;EXISTING:11.20\n\
         AMEND,7,,,,,\"price, corrected\",TRUE,eur,10,DEFAULT:10\n"
    );
    assert_eq!(
        parse(&file).unwrap(),
        json!([
            {"action": "approve", "transaction": {"transactionId": 1234567}},
            {"action": "decline", "transaction": {
                "orderRef": "123ABC555", "transactionDate": "2017-02-20T22:04:00", "timezone": "Europe/Paris",
                "declineReason": "order returned"}},
            {"action": "amend", "approve": false, "transaction": {
                "transactionId": 484816099, "amendReason": "partial return", "currency": "EUR", "saleAmount": 55.96,
                "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 44.76},
                                     {"commissionGroupCode": "EXISTING", "amount": 11.20}]}},
            {"action": "amend", "approve": true, "transaction": {
                "transactionId": 7, "amendReason": "price, corrected", "currency": "EUR", "saleAmount": 10,
                "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 10}]}},
        ])
    );
}

#[test]
fn columns_come_in_any_order_and_case_and_unused_ones_may_be_left_out() {
    let file = "\u{feff}TransactionID , Action,decline_reason\n 42 , decline , fraud \n";
    assert_eq!(
        parse(file).unwrap(),
        json!([{"action": "decline", "transaction": {"transactionId": 42, "declineReason": "fraud"}}])
    );
}

#[test]
fn a_spreadsheet_date_with_a_space_is_sent_with_a_t() {
    let file = "action,orderRef,transactionDate,timezone\napprove,SO-1,2026-11-14 10:15:00,Europe/Stockholm\n";
    assert_eq!(parse(file).unwrap()[0]["transaction"]["transactionDate"], "2026-11-14T10:15:00");
}

#[test]
fn amounts_are_embedded_exactly_as_written() {
    let file = "action,transactionId,amendReason,currency,saleAmount,parts\n\
                amend,1,fix,SEK,0.10,DEFAULT:0.10\n\
                amend,2,fix,KWD,1234567.891,DEFAULT:1234567.891\n";
    let json = to_json(file.as_bytes()).unwrap();
    assert!(json.contains(r#""saleAmount":0.10"#), "{json}");
    assert!(json.contains(r#""amount":0.10"#), "{json}");
    assert!(json.contains(r#""saleAmount":1234567.891"#), "{json}");
    assert!(!json.contains("0.1000"), "{json}");
}

#[test]
fn parts_are_code_amount_pairs() {
    let file = "action,transactionId,amendReason,currency,saleAmount,parts\n\
                amend,1,fix,SEK,55.96, DEFAULT : 44.76 ; EXISTING:11.20 ;\n";
    assert_eq!(
        parse(file).unwrap()[0]["transaction"]["transactionParts"],
        json!([{"commissionGroupCode": "DEFAULT", "amount": 44.76},
               {"commissionGroupCode": "EXISTING", "amount": 11.20}])
    );
}

#[test]
fn blank_rows_are_skipped_and_line_numbers_count_them() {
    let file = "action,transactionId\napprove,1\n\n,\napprove,x\n";
    assert_eq!(error(file), LineError { line: 5, message: "transactionId \"x\" is not a positive integer".into() });
}

#[test]
fn every_bad_row_is_named_by_its_line() {
    let cases: &[(&str, &str)] = &[
        (",1,,,,,,,,,", "action is required"),
        ("refund,1,,,,,,,,,", "action \"refund\" is unknown"),
        ("approve,,,,,,,,,,", "needs a transactionId, or an orderRef"),
        ("approve,abc,,,,,,,,,", "transactionId \"abc\" is not a positive integer"),
        ("approve,-4,,,,,,,,,", "transactionId \"-4\" is not a positive integer"),
        ("approve,,SO-1,,Europe/Paris,,,,,,", "transactionDate is required with orderRef"),
        ("approve,,SO-1,2026-11-14T10:15:00,,,,,,,", "timezone is required with orderRef"),
        ("approve,,SO-1,14/11/2026 10:15,Europe/Paris,,,,,,", "transactionDate \"14/11/2026 10:15\" is not a local"),
        ("decline,1,,,,,,,,,", "declineReason is required for decline"),
        ("amend,1,,,,,,,SEK,10,DEFAULT:10", "amendReason is required for amend"),
        ("amend,1,,,,,fix,,,10,DEFAULT:10", "currency is required for amend"),
        ("amend,1,,,,,fix,,kronor,10,DEFAULT:10", "currency \"kronor\" is not a three-letter"),
        ("amend,1,,,,,fix,,SEK,,DEFAULT:10", "saleAmount is required for amend"),
        ("amend,1,,,,,fix,,SEK,\"12,5\",DEFAULT:12.5", "saleAmount \"12,5\" is not a number"),
        ("amend,1,,,,,fix,,SEK,-3,DEFAULT:3", "saleAmount \"-3\" must not be negative"),
        ("amend,1,,,,,fix,,SEK,1e3,DEFAULT:1000", "saleAmount \"1e3\" is not a number"),
        ("amend,1,,,,,fix,,SEK,10,", "parts is required for amend"),
        ("amend,1,,,,,fix,,SEK,10,;", "parts must name at least one"),
        ("amend,1,,,,,fix,,SEK,10,DEFAULT10", "parts \"DEFAULT10\": each part must be CODE:AMOUNT"),
        ("amend,1,,,,,fix,,SEK,10,:10", "parts \":10\": each part must be CODE:AMOUNT"),
        ("amend,1,,,,,fix,,SEK,10,DEFAULT:ten", "parts: amount \"ten\" of DEFAULT is not a number"),
        ("amend,1,,,,,fix,,SEK,10,DEFAULT:5;DEFAULT:5", "parts: commission group DEFAULT appears twice"),
        ("amend,1,,,,,fix,maybe,SEK,10,DEFAULT:10", "approve \"maybe\" must be true or false"),
        ("approve,1", "the row has 2 fields, the header 11"),
    ];
    for (row, message) in cases {
        // Two good rows first, so the bad one is on line 4.
        let file = format!("{HEADER}\napprove,1,,,,,,,,,\napprove,2,,,,,,,,,\n{row}\napprove,3,,,,,,,,,\n");
        let e = error(&file);
        assert_eq!(e.line, 4, "{row}: {e}");
        assert!(e.message.contains(message), "{row}: {:?} should say {message:?}", e.message);
    }
}

#[test]
fn a_quoted_row_spanning_lines_is_named_by_its_first_line() {
    let file = "action,transactionId,declineReason\napprove,1,\ndecline,2,\"two\nlines\"\ndecline,x,y\n";
    assert_eq!(error(file).line, 5);
}

#[test]
fn bad_headers_are_line_1() {
    for (file, message) in [
        ("action,transactionID,colour\napprove,1,red\n", "unknown column \"colour\""),
        ("action,transactionId,TransactionId\napprove,1,1\n", "column transactionId appears twice"),
        ("transactionId\n1\n", "no action column"),
        ("action,transactionId\n", "the file has no actions"),
        ("", "no action column"),
    ] {
        let e = error(file);
        assert_eq!(e.line, 1, "{file:?}");
        assert!(e.message.contains(message), "{file:?}: {:?} should say {message:?}", e.message);
    }
}

#[test]
fn text_that_is_not_utf8_is_refused_with_its_line() {
    let mut file = b"action,transactionId,declineReason\napprove,1,\ndecline,2,".to_vec();
    file.extend_from_slice(b"r\xe9turn\n");
    let e = to_json(file.as_slice()).expect_err("latin-1");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("UTF-8"), "{e}");
}

#[test]
fn every_bad_row_is_listed_not_only_the_first() {
    let file = "action,transactionId,declineReason\n\
                approve,1,\n\
                approve,x,\n\
                decline,2,\n\
                approve,3\n\
                refund,4,\n";
    let lines: Vec<u64> = actions(file.as_bytes()).expect_err("four bad rows").iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
}

#[test]
fn semicolons_separate_columns_when_the_header_says_so() {
    let file = "action;transactionId;amendReason;currency;saleAmount;parts\n\
                approve;1;;;;\n\
                amend;2;\"fix; again\";SEK;55.96;\"DEFAULT:44.76;EXISTING:11.20\"\n";
    assert_eq!(
        parse(file).unwrap(),
        json!([
            {"action": "approve", "transaction": {"transactionId": 1}},
            {"action": "amend", "transaction": {
                "transactionId": 2, "amendReason": "fix; again", "currency": "SEK", "saleAmount": 55.96,
                "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 44.76},
                                     {"commissionGroupCode": "EXISTING", "amount": 11.20}]}},
        ])
    );
    // A comma file whose cells hold semicolons stays a comma file.
    let file = "action,transactionId,amendReason,currency,saleAmount,parts\n\
                amend,2,fix,SEK,10,DEFAULT:5;EXISTING:5\n";
    assert_eq!(parse(file).unwrap()[0]["transaction"]["transactionParts"][1]["amount"], 5);
}

#[test]
fn the_cli_s_own_item_export_reads_back() {
    // What `ratify job … --errors --csv` writes (output::ITEM_COLUMNS).
    let file = "index,action,transactionId,orderRef,transactionDate,timezone,code,description\n\
                3,approve,999999999,,,,[404 NOT_FOUND],\"no transaction 999999999, sorry\"\n\
                4,approve,,SO-9,2026-11-14T10:15:00,Europe/Stockholm,[404 NOT_FOUND],no match\n";
    assert_eq!(
        parse(file).unwrap(),
        json!([
            {"action": "approve", "transaction": {"transactionId": 999999999}},
            {"action": "approve", "transaction": {
                "orderRef": "SO-9", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm"}},
        ])
    );
    assert_eq!(crate::output::ITEM_COLUMNS.join(","), file.lines().next().unwrap());
}
