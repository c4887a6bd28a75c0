//! The api's answers are `ratify-wire` types, byte for byte: a walkthrough whose requests
//! are built from the wire types, and whose every answer is read into its wire type and
//! written back to exactly the bytes that were sent.

use std::time::Duration;

use ratify_wire::{
    Accepted, ActionKind, AdvertiserView, Amount, BatchAction, BatchTransaction, CreatedToken, DecimalNumber,
    ErrorBody, GroupView, Health, JobPage, JobStatus, NewAdvertiser, NewGroup, NewToken, NewTransaction, OutcomeCode,
    PartAmount, Reachability, Readiness, Recorded, TransactionId, TransactionView,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::*;

/// Sends `body` (if any) with `token`; checks the status, reads the answer as `T` and
/// checks that `T` writes the answer's very bytes.
async fn answer<T: DeserializeOwned + Serialize>(
    stack: &Stack,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
    expected: StatusCode,
) -> T {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", stack.base_url)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, expected, "{path}: {text}");
    let typed: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: not a {}: {e}: {text}", std::any::type_name::<T>()));
    assert_eq!(serde_json::to_string(&typed).unwrap(), text, "{path}: the wire type writes other bytes");
    typed
}

const NONE: Option<&()> = None;

fn sale(order_ref: &str, amount: &str, parts: Option<Vec<PartAmount>>) -> NewTransaction {
    NewTransaction {
        order_ref: order_ref.to_owned(),
        transaction_date: "2026-11-14T10:15:00".to_owned(),
        timezone: "Europe/Stockholm".to_owned(),
        sale_amount: Amount::parse(amount).unwrap(),
        currency: "SEK".to_owned(),
        transaction_parts: parts,
        publisher_id: Some(7),
        click_ref: None,
    }
}

fn part(code: &str, amount: &str) -> PartAmount {
    PartAmount { commission_group_code: code.to_owned(), amount: Amount::parse(amount).unwrap() }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_is_its_wire_type_byte_for_byte() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let admin = stack.admin_token.clone();

    let health: Health = answer(&stack, "", Method::GET, "/health", NONE, StatusCode::OK).await;
    assert_eq!(health.status, "ok");
    let ready: Readiness = answer(&stack, "", Method::GET, "/ready", NONE, StatusCode::OK).await;
    assert_eq!((ready.postgres, ready.rabbitmq), (Reachability::Up, Reachability::Up));

    let group = |code: Option<&str>, kind: &str, value: &str| NewGroup {
        code: code.map(str::to_owned),
        name: "Group".to_owned(),
        kind: kind.to_owned(),
        value: DecimalNumber::parse(value).unwrap(),
    };
    let advertiser = NewAdvertiser {
        id: 1001,
        name: "Store SE".to_owned(),
        currency: "SEK".to_owned(),
        commission_groups: vec![group(Some("DEFAULT"), "percentage", "10.50")],
    };
    let created: AdvertiserView =
        answer(&stack, &admin, Method::POST, "/admin/advertisers", Some(&advertiser), StatusCode::CREATED).await;
    assert_eq!(created.commission_groups[0].value.as_str(), "10.5", "stored as written, without padding zeros");
    let path = "/admin/advertisers/1001/commission-groups/EXTRA";
    let extra: GroupView =
        answer(&stack, &admin, Method::PUT, path, Some(&group(None, "fixed", "5")), StatusCode::OK).await;
    assert_eq!((extra.code.as_str(), extra.value.as_str()), ("EXTRA", "5"));
    let grant = NewToken { name: "finance-bot".to_owned(), advertiser_ids: vec![1001] };
    let token: CreatedToken =
        answer(&stack, &admin, Method::POST, "/admin/tokens", Some(&grant), StatusCode::CREATED).await;
    let token = token.token;

    let sales = vec![sale("W-1", "125.50", None), sale("W-2", "100", Some(vec![part("EXTRA", "40")]))];
    let path = "/advertisers/1001/transactions";
    let recorded: Recorded = answer(&stack, &token, Method::POST, path, Some(&sales), StatusCode::CREATED).await;
    let [first, second] = recorded.ids[..] else { panic!("two ids: {:?}", recorded.ids) };

    let aimed = |id: i64| BatchTransaction { transaction_id: Some(TransactionId::Number(id)), ..Default::default() };
    let batch = vec![
        BatchAction { action: ActionKind::Approve, approve: None, transaction: aimed(first) },
        BatchAction {
            action: ActionKind::Amend,
            approve: Some(true),
            transaction: BatchTransaction {
                amend_reason: Some("partial return".to_owned()),
                currency: Some("SEK".to_owned()),
                sale_amount: Some(Amount::parse("80.00").unwrap()),
                transaction_parts: Some(vec![part("EXTRA", "30"), part("DEFAULT", "50.00")]),
                ..aimed(second)
            },
        },
        BatchAction { action: ActionKind::Approve, approve: None, transaction: aimed(999_999) },
    ];
    let path = "/advertisers/1001/transactions/batch";
    let accepted: Accepted = answer(&stack, &token, Method::POST, path, Some(&batch), StatusCode::OK).await;
    let job = accepted.job_id.to_string();
    stack.client(&token).wait_until_done(1001, &job, Duration::from_secs(60)).await;

    let path = format!("/advertisers/1001/transactions/jobs/{job}");
    let summary: JobStatus = answer(&stack, &token, Method::GET, &path, NONE, StatusCode::OK).await;
    assert_eq!((summary.job.transaction_count, summary.job.error_count), (3, 1));
    assert!(summary.failed_transactions.is_none() && summary.all_transactions.is_none());
    let all: JobStatus = answer(&stack, &token, Method::GET, &format!("{path}?output=all"), NONE, StatusCode::OK).await;
    let codes: Vec<OutcomeCode> = all.all_transactions.unwrap().iter().map(|o| o.code).collect();
    assert_eq!(codes, [OutcomeCode::Ok, OutcomeCode::Ok, OutcomeCode::NotFound]);
    let path = format!("{path}?output=errors");
    let errors: JobStatus = answer(&stack, &token, Method::GET, &path, NONE, StatusCode::OK).await;
    assert_eq!(errors.failed_transactions.unwrap().len(), 1);
    let path = "/advertisers/1001/transactions/jobs";
    let page: JobPage = answer(&stack, &token, Method::GET, path, NONE, StatusCode::OK).await;
    assert_eq!(page.jobs.len(), 1);

    let path = format!("/advertisers/1001/transactions/{second}");
    let amended: TransactionView = answer(&stack, &token, Method::GET, &path, NONE, StatusCode::OK).await;
    assert_eq!(amended.sale_amount.amount.as_str(), "80.00");
    assert_eq!(amended.old_sale_amount.map(|m| m.amount.as_str().to_owned()).as_deref(), Some("100.00"));
    assert!(amended.history.is_some_and(|h| !h.is_empty()));
    let path = format!("/advertisers/1001/transactions?ids={first},{second}&timezone=Europe/Stockholm");
    let listed: Vec<TransactionView> = answer(&stack, &token, Method::GET, &path, NONE, StatusCode::OK).await;
    assert!(listed.len() == 2 && listed.iter().all(|t| t.history.is_none()));

    let path = "/advertisers/1002/transactions/jobs";
    let refused: ErrorBody = answer(&stack, &token, Method::GET, path, NONE, StatusCode::FORBIDDEN).await;
    assert_eq!(refused.error, "FORBIDDEN");
}
