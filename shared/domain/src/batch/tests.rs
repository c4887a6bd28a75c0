use super::*;

fn parse(json: &str) -> ParsedItem {
    let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
    parse_item(&raw)
}

fn error(json: &str) -> String {
    parse(json).parsed.unwrap_err()
}

#[test]
fn spec_examples_parse() {
    let approve = parse(r#"{"action": "approve", "transaction": {"transactionId": 1234567}}"#);
    assert_eq!(approve.parsed, Ok((Reference::Id(1234567), Command::Approve)));
    assert_eq!(approve.echo.transaction_id, Some(1234567));

    let decline = parse(
        r#"{"action": "decline", "transaction": {"orderRef": "123ABC555", "transactionDate": "2017-02-20T22:04:00", "timezone": "Europe/Paris", "declineReason": "order returned"}}"#,
    );
    let (reference, command) = decline.parsed.unwrap();
    assert!(
        matches!(reference, Reference::Order { ref order_ref, ref instants } if order_ref == "123ABC555" && instants.len() == 1)
    );
    assert_eq!(command, Command::Decline { reason: "order returned".into() });
    assert_eq!(decline.echo.timezone.as_deref(), Some("Europe/Paris"));

    let amend = parse(
        r#"{"action": "amend", "approve": false, "transaction": {"transactionId": "484816099", "amendReason": "partial return", "currency": "EUR", "saleAmount": 55.96,
          "transactionParts": [{"amount": 44.76, "commissionGroupCode": "DEFAULT"}, {"amount": 11.20, "commissionGroupCode": "EXISTING"}]}}"#,
    );
    assert_eq!(
        amend.parsed,
        Ok((
            Reference::Id(484816099),
            Command::Amend {
                approve: false,
                reason: "partial return".into(),
                currency: "EUR".into(),
                sale_amount: 5596,
                parts: vec![("DEFAULT".into(), 4476), ("EXISTING".into(), 1120)],
            }
        ))
    );
}

#[test]
fn transaction_id_wins_over_order_ref() {
    let item = parse(r#"{"action": "approve", "transaction": {"transactionId": 7, "orderRef": "X"}}"#);
    assert_eq!(item.parsed.unwrap().0, Reference::Id(7));
}

#[test]
fn malformed_items_name_the_field() {
    let cases = [
        (r#"[1]"#, "JSON object"),
        (r#""approve""#, "JSON object"),
        (r#"{"transaction": {"transactionId": 1}}"#, "action is required"),
        (r#"{"action": "approved", "transaction": {"transactionId": 1}}"#, "action \"approved\" is unknown"),
        (r#"{"action": 5, "transaction": {"transactionId": 1}}"#, "action must be a string"),
        (r#"{"action": "approve"}"#, "transaction is required"),
        (r#"{"action": "approve", "transaction": 3}"#, "transaction must be a JSON object"),
        (r#"{"action": "approve", "transaction": {}}"#, "must be referenced"),
        (r#"{"action": "approve", "transaction": {"transactionId": 1.5}}"#, "transactionId"),
        (r#"{"action": "approve", "transaction": {"transactionId": -3}}"#, "transactionId"),
        (r#"{"action": "approve", "transaction": {"transactionId": "12a"}}"#, "transactionId"),
        (
            r#"{"action": "approve", "transaction": {"orderRef": "A", "timezone": "UTC"}}"#,
            "transactionDate is required",
        ),
        (
            r#"{"action": "approve", "transaction": {"orderRef": "A", "transactionDate": "2026-01-01T00:00:00"}}"#,
            "timezone is required",
        ),
        (
            r#"{"action": "approve", "transaction": {"orderRef": "A", "transactionDate": "2026-01-01", "timezone": "UTC"}}"#,
            "transactionDate",
        ),
        (
            r#"{"action": "approve", "transaction": {"orderRef": "A", "transactionDate": "2026-01-01T00:00:00", "timezone": "Nowhere/Land"}}"#,
            "transaction.timezone",
        ),
        (r#"{"action": "decline", "transaction": {"transactionId": 1}}"#, "declineReason is required"),
        (
            r#"{"action": "decline", "transaction": {"transactionId": 1, "declineReason": "  "}}"#,
            "declineReason is required",
        ),
        (
            r#"{"action": "decline", "transaction": {"transactionId": 1, "declineReason": 5}}"#,
            "declineReason must be a string",
        ),
        (
            r#"{"action": "amend", "transaction": {"transactionId": 1, "currency": "EUR", "saleAmount": 1, "transactionParts": [{"amount": 1, "commissionGroupCode": "DEFAULT"}]}}"#,
            "amendReason is required",
        ),
        (
            r#"{"action": "amend", "approve": "yes", "transaction": {"transactionId": 1}}"#,
            "approve must be true or false",
        ),
    ];
    for (json, want) in cases {
        let got = error(json);
        assert!(got.contains(want), "{json}: {got}");
    }
}

#[test]
fn amend_amounts_are_checked_against_the_currency() {
    let amend = |currency: &str, sale: &str, parts: &str| {
        error(&format!(
            r#"{{"action": "amend", "transaction": {{"transactionId": 1, "amendReason": "r", "currency": "{currency}", "saleAmount": {sale}, "transactionParts": {parts}}}}}"#
        ))
    };
    let one = r#"[{"amount": 1, "commissionGroupCode": "DEFAULT"}]"#;
    assert!(amend("EUR", "55.961", one).contains("saleAmount has more than 2 fraction digits"));
    assert!(amend("JPY", "5.5", one).contains("more than 0 fraction digits"));
    assert!(amend("EUR", "-1", one).contains("must not be negative"));
    assert!(amend("EUR", "\"12\"", one).contains("must be a JSON number"));
    assert!(amend("EUR", "1e400", one).contains("saleAmount"));
    assert!(amend("EURO", "1", one).contains("transaction.currency"));
    assert!(amend("EUR", "1", "[]").contains("must not be empty"));
    assert!(amend("EUR", "1", "{}").contains("must be an array"));
    assert!(
        amend("EUR", "1", r#"[{"amount": 1.001, "commissionGroupCode": "A"}]"#).contains("transactionParts[0].amount")
    );
    assert!(amend("EUR", "1", r#"[{"amount": 1}]"#).contains("transactionParts[0].commissionGroupCode is required"));
    assert!(amend(
        "EUR",
        "2",
        r#"[{"amount": 1, "commissionGroupCode": "A"}, {"amount": 1, "commissionGroupCode": "A"}]"#
    )
    .contains("appears more than once"));
    let many = format!(
        "[{}]",
        (0..101).map(|i| format!(r#"{{"amount": 0, "commissionGroupCode": "G{i}"}}"#)).collect::<Vec<_>>().join(",")
    );
    assert!(amend("EUR", "1", &many).contains("more than 100 parts"));
}

#[test]
fn bad_items_still_echo_what_they_can() {
    let item = parse(r#"{"action": "decline", "transaction": {"transactionId": "42"}}"#);
    assert!(item.parsed.is_err());
    assert_eq!(item.echo.action.as_deref(), Some("decline"));
    assert_eq!(item.echo.transaction_id, Some(42));
}

#[test]
fn dst_fold_and_gap_references() {
    let at = |date: &str| {
        match parse(&format!(
        r#"{{"action": "approve", "transaction": {{"orderRef": "A", "transactionDate": "{date}", "timezone": "Europe/Stockholm"}}}}"#
    ))
    .parsed
    {
        Ok((Reference::Order { instants, .. }, _)) => instants.len(),
        other => panic!("{other:?}"),
    }
    };
    assert_eq!(at("2026-10-25T02:30:00"), 2);
    assert_eq!(at("2026-03-29T02:30:00"), 0);
    assert_eq!(at("2026-06-01T12:00:00"), 1);
}

/// Found by the `reference` fuzz target (docs/fuzzing.md, F3, fixed in `parse_local`): a
/// leap second and space-padded fields used to pass as a transactionDate.
#[test]
fn fuzz_f3_transaction_dates_must_be_exact() {
    for date in ["2026-05-14T10:40:60", "2003- 2-20T11:59:49", "2026-11-14T 9:15:00"] {
        let got = error(&format!(
            r#"{{"action": "approve", "transaction": {{"orderRef": "A", "transactionDate": "{date}", "timezone": "Europe/Paris"}}}}"#
        ));
        assert!(got.contains("transaction.transactionDate"), "{date}: {got}");
    }
}

/// Found by the `money` fuzz target (docs/fuzzing.md, F2): `Decimal::from_scientific` rounds
/// digits past the 28th, so an amend carries a rounded sale amount or a negative part as 0.
#[test]
fn fuzz_f2_amend_amounts_are_never_rounded() {
    let amend = |sale: &str, part: &str| {
        parse(&format!(
            r#"{{"action": "amend", "transaction": {{"transactionId": 1, "amendReason": "r", "currency": "EUR", "saleAmount": {sale}, "transactionParts": [{{"amount": {part}, "commissionGroupCode": "DEFAULT"}}]}}}}"#
        ))
        .parsed
    };
    let got = amend("1.00000000000000000000000000001e0", "1");
    assert!(matches!(&got, Err(e) if e.contains("saleAmount")), "{got:?}");
    let got = amend("1", "-0.00000000000000000000000000001e0");
    assert!(matches!(&got, Err(e) if e.contains("transactionParts[0].amount")), "{got:?}");
}

/// The edge cases the `batch_body` fuzz target starts from and has turned up, inline (no
/// files are read): parsed as the api does, none may panic, every rejected item has a
/// description, and echoes stay within their limits.
#[test]
fn fuzz_seeds_do_not_panic() {
    let long = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let amend = |sale: &str, currency: &str, parts: &str| {
        format!(
            r#"{{"action": "amend", "approve": true, "transaction": {{"transactionId": 7, "amendReason": "r", "currency": "{currency}", "saleAmount": {sale}, "transactionParts": {parts}}}}}"#
        )
    };
    let by_ref = |order_ref: &str, date: &str, zone: &str| {
        format!(
            r#"{{"action": "decline", "transaction": {{"orderRef": "{order_ref}", "transactionDate": "{date}", "timezone": "{zone}", "declineReason": "x"}}}}"#
        )
    };
    let parts = |n: usize| {
        format!(
            "[{}]",
            (0..n).map(|i| format!(r#"{{"amount": 0, "commissionGroupCode": "G{i}"}}"#)).collect::<Vec<_>>().join(",")
        )
    };
    let one = r#"[{"amount": 1, "commissionGroupCode": "DEFAULT"}]"#;
    let mut elements: Vec<String> = [
        "1",
        "\"x\"",
        "null",
        "[]",
        "{}",
        "true",
        r#"{"action": null}"#,
        r#"{"action": "approve"}"#,
        r#"{"action": "approve", "transaction": null}"#,
        r#"{"action": "approve", "transaction": []}"#,
        r#"{"action": "approve", "action": "decline", "transaction": {"transactionId": 1}}"#,
        r#"{"action": "approve", "transaction": {"transactionId": 1, "transactionId": 2}}"#,
        r#"{"action": "APPROVE", "transaction": {"transactionId": 1}}"#,
        r#"{"action": "approve", "transaction": {"transactionId": "\ud800"}}"#,
        r#"{"action": "approve", "transaction": {"orderRef": "\ud800", "transactionDate": "x", "timezone": "UTC"}}"#,
        r#"{"action": "decline", "transaction": {"transactionId": 1, "declineReason": "\u0000"}}"#,
        r#"{"action": "amend", "approve": "yes", "transaction": {"transactionId": 1}}"#,
        r#"{"action": "amend", "approve": null, "transaction": {"transactionId": 1}}"#,
    ]
    .map(str::to_owned)
    .to_vec();
    for id in [
        "0",
        "-0",
        "\"0\"",
        "\"00012\"",
        "\" 12\"",
        "\"+12\"",
        "1.0",
        "1e3",
        "9223372036854775807",
        "9223372036854775808",
        "\"9223372036854775808\"",
        "[]",
        "{}",
        "true",
    ] {
        elements.push(format!(r#"{{"action": "approve", "transaction": {{"transactionId": {id}}}}}"#));
    }
    for sale in ["55.96", "0", "-0", "1e2", "1E+2", "-1", "55.961", "1e400", "1000000000000.01", "\"12\"", "null"] {
        elements.push(amend(sale, "EUR", one));
    }
    for currency in ["JPY", "KWD", "CLF", "XAU", "XXX", "eur", "EURO", "", "\\u0045UR"] {
        elements.push(amend("1", currency, one));
    }
    for p in [parts(0), parts(1), parts(100), parts(101), "{}".to_owned(), "[1]".to_owned(), "[{}]".to_owned()] {
        elements.push(amend("0", "EUR", &p));
    }
    for (date, zone) in [
        ("2026-10-25T02:30:00", "Europe/Paris"),
        ("2026-03-29T02:30:00", "Europe/Paris"),
        ("2026-10-25T02:30:00", "Europe/Stockholm"),
        ("2026-03-29T02:30:00", "Europe/Stockholm"),
        ("2026-04-05T01:45:00", "Australia/Lord_Howe"),
        ("2026-05-14T10:40:60", "UTC"),
        ("0000-01-01T00:00:00", "Pacific/Kiritimati"),
        ("9999-12-31T23:59:59", "Etc/GMT+12"),
        ("2026-02-29T00:00:00", "UTC"),
        ("2026-11-14T10:15:00", "europe/paris"),
        ("2026-11-14T10:15:00", "Europe/Paris "),
    ] {
        elements.push(by_ref("A1", date, zone));
    }
    for order_ref in [long(255, 'a'), long(256, 'a'), long(255, 'é'), long(256, '€'), String::new(), "  ".to_owned()]
    {
        elements.push(by_ref(&order_ref, "2026-06-01T12:00:00", "UTC"));
    }
    elements.push(by_ref("A", &long(65, '1'), &long(65, 'Z')));
    elements.push(format!(
        r#"{{"action": "decline", "transaction": {{"transactionId": 1, "declineReason": "{}"}}}}"#,
        long(1001, 'r')
    ));
    elements.push(format!(r#"{{"action": "{}", "transaction": {{"transactionId": 1}}}}"#, long(300, 'x')));

    let body = format!("[{}]", elements.join(",\n"));
    let raw: Vec<&RawValue> = serde_json::from_str(&body).unwrap();
    assert_eq!(raw.len(), elements.len());
    for raw in raw {
        let item = parse_item(raw);
        if let Err(description) = &item.parsed {
            assert!(!description.trim().is_empty(), "{raw}");
        }
        if let Ok((Reference::Order { instants, .. }, _)) = &item.parsed {
            assert!(instants.len() <= 2, "{raw}");
        }
        let echo = &item.echo;
        assert!(echo.order_ref.as_ref().is_none_or(|s| s.chars().count() <= MAX_ORDER_REF_LEN), "{raw}");
        assert!(echo.transaction_date.as_ref().is_none_or(|s| s.chars().count() <= 64), "{raw}");
        assert!(echo.timezone.as_ref().is_none_or(|s| s.chars().count() <= 64), "{raw}");
    }
    // Deep nesting, as an element or inside the fields parse_item reads: serde_json skips
    // a RawValue without recursing, so nothing overflows the stack, and the item is a 400.
    let deep = |open: &str, close: &str| format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
    let mut parsed = 0;
    for nested in [deep("[", "]"), deep(r#"{"a":"#, "}")] {
        let bodies = [
            format!("[{nested}]"),
            format!(r#"[{{"action": "approve", "x": {nested}, "transaction": {{"transactionId": {nested}}}}}]"#),
            format!(
                r#"[{{"action": {nested}, "approve": {nested}, "transaction": {{"transactionId": 1, "declineReason": {nested}}}}}]"#
            ),
            format!(
                "[{}]",
                amend(&nested, "EUR", &format!(r#"[{{"amount": {nested}, "commissionGroupCode": {nested}}}]"#))
            ),
        ];
        for body in bodies {
            let Ok(raw) = serde_json::from_str::<Vec<&RawValue>>(&body) else {
                continue;
            };
            for raw in raw {
                assert!(parse_item(raw).parsed.is_err());
                parsed += 1;
            }
        }
    }
    assert_eq!(parsed, 8);
}

#[test]
fn an_overlong_action_is_neither_echoed_nor_repeated() {
    let long = "x".repeat(10_000);
    let item = parse(&format!(r#"{{"action": "{long}", "transaction": {{"transactionId": 1}}}}"#));
    assert_eq!(item.echo.action, None);
    assert!(item.parsed.unwrap_err().len() < 200);
}

/// Every string field of an item, each given text no stored value may hold: the item is
/// a `400` naming that field, and nothing of the bad text is echoed.
#[test]
fn unstorable_text_in_any_field_is_a_bad_item_naming_it() {
    let amend = |field: &str, value: &str| {
        let mut item = serde_json::json!({"action": "amend", "transaction": {"transactionId": 5, "orderRef": "A",
            "amendReason": "r", "currency": "EUR", "saleAmount": 10,
            "transactionParts": [{"amount": 10, "commissionGroupCode": "DEFAULT"}]}});
        match field {
            "action" => item["action"] = value.into(),
            "commissionGroupCode" => item["transaction"]["transactionParts"][0]["commissionGroupCode"] = value.into(),
            f => item["transaction"][f] = value.into(),
        }
        item.to_string()
    };
    let by_order = |field: &str, value: &str| {
        let mut item = serde_json::json!({"action": "decline", "transaction": {"orderRef": "A",
            "transactionDate": "2026-01-01T00:00:00", "timezone": "UTC", "declineReason": "r"}});
        item["transaction"][field] = value.into();
        item.to_string()
    };
    for bad in ["x\0y", "\u{1}x", "x\u{200b}", "\u{feff}x"] {
        for field in ["action", "orderRef", "amendReason", "currency", "commissionGroupCode"] {
            if field == "amendReason" && bad.contains('\u{200b}') {
                continue; // allowed in prose
            }
            let item = parse(&amend(field, bad));
            let description = item.parsed.expect_err(&format!("{field} = {bad:?}"));
            assert!(description.contains(field), "{field} = {bad:?}: {description}");
            assert!(description.contains("U+"), "{field} = {bad:?}: {description}");
            assert!(!description.contains(bad), "the bad text is not repeated: {description:?}");
        }
        for field in ["orderRef", "transactionDate", "timezone", "declineReason"] {
            if field == "declineReason" && bad.contains('\u{200b}') {
                continue; // allowed in prose
            }
            let item = parse(&by_order(field, bad));
            let description = item.parsed.expect_err(&format!("{field} = {bad:?}"));
            assert!(description.contains(field), "{field} = {bad:?}: {description}");
        }
    }
    // Line breaks are fine in a reason; a zero-width joiner too.
    assert!(parse(&by_order("declineReason", "returned\nin part")).parsed.is_ok());
    assert!(parse(&by_order("declineReason", "👨\u{200d}👩")).parsed.is_ok());
}

#[test]
fn unstorable_text_is_never_echoed() {
    let item = parse(r#"{"action": "app\u0000rove", "transaction": {"transactionId": 1, "orderRef": "a\u0000"}}"#);
    assert_eq!(item.echo.action, None);
    assert_eq!(item.echo.order_ref, None);
    assert_eq!(item.echo.transaction_id, Some(1));
    assert!(item.parsed.unwrap_err().contains("U+0000"));
}
