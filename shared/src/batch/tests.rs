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
        (r#"{"action": 5, "transaction": {"transactionId": 1}}"#, "action is required"),
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
