//! Input no stored value may hold — U+0000, other control characters, zero-width
//! characters, a byte-order mark — in every string field of a batch item, a recording and
//! a listing's query: each is refused where it is parsed (the item's `[400]`, or a `400`
//! in the error shape), the job still finishes within seconds with the good items of the
//! same chunk applied, and no answer is a 5xx or a cut stream. Also: huge bodies of tiny
//! elements refused in bounded memory, commission-group values read exactly, and the
//! `304` rule comparing resulting values.

use std::time::Duration;

use ratify_tests::{assert_error, peak_mib, Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADV: i64 = 4242;
use ratify_tests::actions::labels::{NOT_MODIFIED, OK};
const BAD: &str = "[400 BAD_REQUEST]";

/// Text refused in identifiers (references, codes, dates, zones).
const IDENTIFIER_POISON: [&str; 5] = ["x\u{0}y", "x\u{1}y", "x\u{7f}", "x\u{200b}y", "\u{feff}x"];
/// Text refused in prose (reasons): controls other than tab and line breaks, and the BOM.
const PROSE_POISON: [&str; 3] = ["returned\u{0}", "\u{1}returned", "\u{feff}returned"];

/// Advertiser (EUR; DEFAULT 10 %, EXISTING 5 %) with `n` pending transactions of 100.00
/// (`orderRef` `H-{i}`, 2026-11-14T10:15:00 Europe/Stockholm).
async fn setup(stack: &Stack, n: usize) -> (Client, Vec<i64>) {
    let groups = [("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))];
    let client = stack.advertiser(ADV, "EUR", &groups).await;
    let ids = if n == 0 { Vec::new() } else { client.record_simple(ADV, "EUR", "H", n).await };
    (client, ids)
}

fn amend_item(id: i64) -> Value {
    ratify_tests::actions::amend(id, false, 80.0, &[("DEFAULT", 80.0)])
}

fn by_order_ref(i: usize) -> Value {
    json!({"action": "decline", "transaction": {"orderRef": format!("H-{i}"), "transactionDate": "2026-11-14T10:15:00",
           "timezone": "Europe/Stockholm", "declineReason": "order returned"}})
}

/// Sets `field` of an item to `value`: `action` at the top, a part's code, or a field of
/// `transaction`.
fn with(mut item: Value, field: &str, value: &str) -> Value {
    match field {
        "action" => item["action"] = value.into(),
        "commissionGroupCode" => item["transaction"]["transactionParts"][0]["commissionGroupCode"] = value.into(),
        f => item["transaction"][f] = value.into(),
    }
    item
}

#[tokio::test(flavor = "multi_thread")]
async fn unstorable_text_in_any_item_field_is_that_items_400_and_the_chunk_goes_on() {
    let stack = Stack::builder().workers(1).start().await;
    let (client, ids) = setup(&stack, 40).await;
    // (field, a good item to spoil, whether the field is prose)
    let targets: Vec<(&str, Value, bool)> = vec![
        ("action", amend_item(ids[0]), false),
        ("orderRef", amend_item(ids[0]), false), // beside a transactionId: unused, still refused
        ("amendReason", amend_item(ids[0]), true),
        ("currency", amend_item(ids[0]), false),
        ("commissionGroupCode", amend_item(ids[0]), false),
        ("orderRef", by_order_ref(1), false),
        ("transactionDate", by_order_ref(1), false),
        ("timezone", by_order_ref(1), false),
        ("declineReason", by_order_ref(1), true),
    ];
    let mut items = Vec::new();
    let mut hostile = Vec::new();
    for (field, item, prose) in &targets {
        let poison: &[&str] = if *prose { &PROSE_POISON } else { &IDENTIFIER_POISON };
        for bad in poison {
            hostile.push((items.len(), *field));
            items.push(with(item.clone(), field, bad));
        }
    }
    // Good items in the same chunk, each on a transaction of its own.
    let good: Vec<usize> = (10..40)
        .map(|i| {
            items.push(json!({"action": "approve", "transaction": {"transactionId": ids[i]}}));
            items.len() - 1
        })
        .collect();
    let job = client.submit(ADV, &Value::Array(items)).await;
    let job = tokio::time::timeout(Duration::from_secs(30), client.wait_done(ADV, &job))
        .await
        .expect("the job is DONE within seconds");
    for (index, field) in &hostile {
        let item = job.item(*index);
        assert_eq!(item["code"], BAD, "item {index} ({field}): {item}");
        let description = item["description"].as_str().unwrap_or_default();
        assert!(description.contains(field) && description.contains("U+"), "item {index}: {description}");
        for echoed in ["action", "orderRef", "transactionDate", "timezone"] {
            let text = item[echoed].as_str().unwrap_or_default();
            assert!(text.chars().all(|c| !c.is_control() && c != '\u{feff}' && c != '\u{200b}'), "{item}");
        }
    }
    for index in good {
        assert_eq!(job.code(index), OK, "good item {index}");
    }
    assert_eq!(job.body["errorCount"], json!(hostile.len()));
    // None of the spoiled items touched a transaction.
    for id in [ids[0], ids[1]] {
        assert_eq!(client.transaction(ADV, id).await["commissionStatus"], "pending");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prose_reason_may_hold_line_breaks_and_joiners() {
    let stack = Stack::builder().workers(1).start().await;
    let (client, ids) = setup(&stack, 1).await;
    let reason = "returned:\n\tbox damaged 👨\u{200d}👩";
    let item = json!({"action": "decline", "transaction": {"transactionId": ids[0], "declineReason": reason}});
    let job = client.run(ADV, &json!([item])).await;
    assert_eq!(job.code(0), OK);
    assert_eq!(client.transaction(ADV, ids[0]).await["declineReason"], reason);
}

fn recording(field: &str, value: &str) -> Value {
    let mut row = json!({"orderRef": "R-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                         "saleAmount": 100, "currency": "EUR", "clickRef": "c1",
                         "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 100}]});
    match field {
        "commissionGroupCode" => row["transactionParts"][0]["commissionGroupCode"] = value.into(),
        f => row[f] = value.into(),
    }
    json!([row])
}

#[tokio::test(flavor = "multi_thread")]
async fn unstorable_text_in_a_recording_is_400_and_records_nothing() {
    let stack = Stack::builder().workers(0).start().await;
    let (client, _) = setup(&stack, 0).await;
    for field in ["orderRef", "transactionDate", "timezone", "currency", "commissionGroupCode", "clickRef"] {
        for bad in IDENTIFIER_POISON {
            let got = client.post(&format!("/advertisers/{ADV}/transactions"), &recording(field, bad)).await;
            assert_error(&format!("{field} = {bad:?}"), &got, StatusCode::BAD_REQUEST);
            let description = got.1["description"].as_str().unwrap_or_default();
            assert!(description.contains(field), "{field} = {bad:?}: {description}");
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM transactions").fetch_one(&stack.db).await.unwrap();
    assert_eq!(stored, 0);
    // The same rows, clean, are recorded.
    let ok = client.post(&format!("/advertisers/{ADV}/transactions"), &recording("clickRef", "c1")).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unstorable_text_in_a_query_value_is_400_never_a_cut_stream() {
    let stack = Stack::builder().workers(0).start().await;
    let (client, _) = setup(&stack, 3).await;
    let dates = "startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00";
    for encoded in ["%00", "%01", "%E2%80%8B", "%EF%BB%BF"] {
        for query in [
            format!("orderRef=H-1{encoded}"),
            format!("ids=1{encoded}"),
            format!("{dates}&timezone=UTC{encoded}"),
            format!("{dates}&status=pending{encoded}"),
            format!("{dates}&dateType=transaction{encoded}"),
            format!("startDate=2026-11-01T00:00:00{encoded}&endDate=2026-11-30T00:00:00"),
            format!("startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00{encoded}"),
        ] {
            // `get` reads the whole body and fails the test on a cut stream.
            let got = client.get(&format!("/advertisers/{ADV}/transactions?{query}")).await;
            assert_error(&query, &got, StatusCode::BAD_REQUEST);
        }
        let got = client.get(&format!("/advertisers/{ADV}/transactions/jobs?cursor=x{encoded}")).await;
        assert_error("a cursor", &got, StatusCode::BAD_REQUEST);
    }
    let clean = client.get(&format!("/advertisers/{ADV}/transactions?orderRef=H-1")).await;
    assert_eq!((clean.0, clean.1.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

#[tokio::test(flavor = "multi_thread")]
async fn four_huge_bodies_of_tiny_elements_at_once_are_413_in_bounded_memory() {
    let stack = Stack::builder().workers(0).start().await;
    let (client, _) = setup(&stack, 0).await;
    // 64 MiB, exactly the default byte limit: 33 million elements.
    let len = 64 * 1024 * 1024;
    let mut body = Vec::with_capacity(len);
    body.push(b'[');
    while body.len() < len - 2 {
        body.extend_from_slice(b"0,");
    }
    body.truncate(len - 2);
    body.extend_from_slice(b"0]");
    let path = format!("/advertisers/{ADV}/transactions/batch");
    let sends = (0..4).map(|_| client.send_raw(&path, "application/json", body.clone()));
    for got in futures::future::join_all(sends).await {
        assert_eq!(assert_error("a 64 MiB body of zeros", &got, StatusCode::PAYLOAD_TOO_LARGE), "TOO_MANY_ITEMS");
    }
    let peak = peak_mib(stack.api_pid().expect("the api runs")).expect("VmHWM").floor() as u64;
    assert!(peak <= 256, "the api's peak memory was {peak} MiB (limit 256)");
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.unwrap();
    assert_eq!(jobs, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn commission_group_values_are_exact_or_refused() {
    let stack = Stack::builder().workers(0).start().await;
    stack.admin().create_advertiser(ADV, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let (base, token) = (stack.base_url.clone(), stack.admin_token.clone());
    let put = |code: &str, kind: &str, value: &str| {
        let (base, token) = (base.clone(), token.clone());
        let body = format!(r#"{{"name": "G", "type": "{kind}", "value": {value}}}"#);
        let path = format!("/admin/advertisers/{ADV}/commission-groups/{code}");
        async move {
            let response = reqwest::Client::new()
                .put(format!("{base}{path}"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request");
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // 30 significant digits: a decimal type would round it; it is refused instead.
    for (kind, value) in [
        ("percentage", "12.3456789012345678901234567890"),
        ("percentage", "100.0000001"),
        ("fixed", "123456789012345678901234567890"),
        ("fixed", "0.001"),
        ("fixed", "9223372036854775807"),
    ] {
        let got = put("ODD", kind, value).await;
        assert_error(&format!("{kind} {value}"), &got, StatusCode::BAD_REQUEST);
    }
    let got = put("PCT", "percentage", "12.345678").await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["value"], json!(12.345678), "kept exactly: {}", got.1);
    let stored: String = sqlx::query_scalar("SELECT value::text FROM commission_groups WHERE code = 'PCT'")
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(stored.trim_end_matches('0'), "12.345678");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_amend_to_the_stored_values_in_another_shape_is_304() {
    let stack = Stack::builder().workers(1).start().await;
    let (client, ids) = setup(&stack, 1).await;
    let amend = |parts: Value| {
        json!({"action": "amend", "transaction": {"transactionId": ids[0], "amendReason": "split",
               "currency": "EUR", "saleAmount": 100, "transactionParts": parts}})
    };
    // Split 100.00 into EXISTING 40 + DEFAULT 60, then say the same three other ways.
    let job = client
        .run(
            ADV,
            &json!([
                amend(json!([{"amount": 40, "commissionGroupCode": "EXISTING"}, {"amount": 60, "commissionGroupCode": "DEFAULT"}])),
                amend(json!([{"amount": 60, "commissionGroupCode": "DEFAULT"}, {"amount": 40, "commissionGroupCode": "EXISTING"}])),
                amend(json!([{"amount": 40, "commissionGroupCode": "EXISTING"}])),
                amend(json!([{"amount": 40, "commissionGroupCode": "EXISTING"}, {"amount": 1, "commissionGroupCode": "DEFAULT"}])),
            ]),
        )
        .await;
    let codes: Vec<&str> = (0..4).map(|i| job.code(i)).collect();
    assert_eq!(codes, [OK, NOT_MODIFIED, NOT_MODIFIED, NOT_MODIFIED], "{}", job.body);
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM transaction_history WHERE transaction_id = $1")
        .bind(ids[0])
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(history, 1, "only the first amend changed a value");
    let tx = client.transaction(ADV, ids[0]).await;
    // DEFAULT 60.00 at 10 % + EXISTING 40.00 at 5 %.
    assert_eq!(tx["commissionAmount"]["amount"].as_f64(), Some(8.0), "{tx}");
}
